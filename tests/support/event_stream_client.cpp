#include "support/event_stream_client.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/algorithm/string/predicate.hpp>

#include "support/require.hpp"

namespace threadsd::test {

using Clock = std::chrono::steady_clock;

EventStreamClient::EventStreamClient(
    unsigned short port, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    require(fd_ >= 0, "cannot open a socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    require(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0,
            "cannot connect to port " + std::to_string(port));
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) {
        request += name + ": " + value + "\r\n";
    }
    request += "\r\n";
    require(::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(request.size()),
            "cannot send the stream request");
    const auto deadline = Clock::now() + timeout;
    std::size_t end = std::string::npos;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        require(left.count() > 0 && fill(left), "no response head for " + target);
    }
    const std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    require(head.size() > 12, "a short status line");
    status_ = static_cast<unsigned>(std::stoi(head.substr(9, 3)));
    std::size_t line = head.find("\r\n");
    while (line != std::string::npos) {
        const std::size_t next = head.find("\r\n", line + 2);
        const std::string field =
            head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
        const auto colon = field.find(':');
        if (colon != std::string::npos) {
            std::string value = field.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            headers_.emplace_back(field.substr(0, colon), value);
        }
        line = next;
    }
    chunked_ = boost::algorithm::iequals(header("Transfer-Encoding"), "chunked");
}

EventStreamClient::~EventStreamClient() {
    ::close(fd_);
}

std::string EventStreamClient::header(const std::string& name) const {
    for (const auto& [field, value] : headers_) {
        if (boost::algorithm::iequals(field, name)) {
            return value;
        }
    }
    return {};
}

std::string EventStreamClient::body() {
    const std::size_t length =
        std::stoul(header("Content-Length").empty() ? std::string("0") : header("Content-Length"));
    while (raw_.size() < length && fill(std::chrono::seconds(15))) {
    }
    return raw_.substr(0, length);
}

bool EventStreamClient::fill(std::chrono::milliseconds timeout) {
    if (closed_) {
        return false;
    }
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(timeout.count())) <= 0) {
        return false;
    }
    char buffer[16384];
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
        closed_ = true;
        ended_ = true;
        return false;
    }
    raw_.append(buffer, static_cast<std::size_t>(n));
    return true;
}

void EventStreamClient::decode() {
    if (!chunked_) {
        text_ += raw_;
        raw_.clear();
        return;
    }
    for (;;) {
        const auto line_end = raw_.find("\r\n");
        if (line_end == std::string::npos) {
            return;
        }
        const std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
        if (size == 0) {
            if (raw_.size() >= line_end + 4) {
                ended_ = true;
                raw_.erase(0, line_end + 4);
            }
            return;
        }
        if (raw_.size() < line_end + 2 + size + 2) {
            return;
        }
        text_.append(raw_, line_end + 2, size);
        raw_.erase(0, line_end + 2 + size + 2);
    }
}

std::optional<StreamEvent> EventStreamClient::next(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        decode();
        const auto end = text_.find("\n\n");
        if (end != std::string::npos) {
            const std::string block = text_.substr(0, end);
            text_.erase(0, end + 2);
            StreamEvent event;
            std::size_t start = 0;
            while (start <= block.size()) {
                auto stop = block.find('\n', start);
                if (stop == std::string::npos) {
                    stop = block.size();
                }
                const std::string line = block.substr(start, stop - start);
                start = stop + 1;
                if (line.empty()) {
                    continue;
                }
                if (line.front() == ':') {
                    event.comment = true;
                    event.data = line.substr(1);
                    continue;
                }
                const auto colon = line.find(':');
                const std::string name = line.substr(0, colon);
                std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
                if (!value.empty() && value.front() == ' ') {
                    value.erase(0, 1);
                }
                if (name == "id") {
                    event.id = value;
                } else if (name == "event") {
                    event.event = value;
                } else if (name == "data") {
                    event.data += event.data.empty() ? value : "\n" + value;
                }
            }
            return event;
        }
        if (ended_) {
            return std::nullopt;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || !fill(left)) {
            if (closed_) {
                decode();
                continue;
            }
            return std::nullopt;
        }
    }
}

std::optional<StreamEvent> EventStreamClient::next_event(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        auto event = next(std::max(left, std::chrono::milliseconds(0)));
        if (!event || !event->comment) {
            return event;
        }
    }
}

bool EventStreamClient::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return false;
        }
        if (!fill(left) && !closed_) {
            return false;
        }
    }
    return true;
}

}  // namespace threadsd::test
