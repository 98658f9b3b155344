#include "support/raw_connection.hpp"

#include "support/require.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <cerrno>
#include <utility>

namespace threadsd::test {

namespace http = boost::beast::http;

RawConnection::RawConnection(unsigned short port, int timeout_seconds) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    require(fd_ >= 0, "cannot open a socket");
    timeval tv{};
    tv.tv_sec = timeout_seconds;
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    require(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0,
            "cannot connect to port " + std::to_string(port));
}

RawConnection::~RawConnection() {
    ::close(fd_);
}

bool RawConnection::write(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool RawConnection::read_until(std::string& into, std::string_view marker) {
    char buffer[4096];
    while (into.find(marker) == std::string::npos) {
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) {
            return false;
        }
        into.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
}

bool RawConnection::closed_by_peer() {
    char byte = 0;
    const auto n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) {
        return true;
    }
    if (n > 0) {
        // An answer (a 408, say) waits in front of the end of the stream: look past it.
        Received rest = read_until_closed();
        return rest.closed;
    }
    return errno == ECONNRESET || errno == EPIPE;
}

RawConnection::Received RawConnection::read_until_closed() {
    Received received;
    char chunk[4096];
    for (;;) {
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            received.bytes.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        received.closed = n == 0 || errno == ECONNRESET;
        return received;
    }
}

std::optional<HttpResult> parse_response(std::string_view bytes, bool head, std::size_t* used) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(head);
    parser.body_limit(16 * 1024 * 1024);
    std::size_t offset = 0;
    while (!parser.is_done()) {
        boost::beast::error_code ec;
        const auto n =
            parser.put(boost::asio::buffer(bytes.data() + offset, bytes.size() - offset), ec);
        offset += n;
        if (ec == http::error::need_more && n > 0) {
            continue;
        }
        if (ec || n == 0) {
            return std::nullopt;
        }
    }
    if (used != nullptr) {
        *used = offset;
    }
    HttpResult result;
    result.message = parser.release();
    return result;
}

std::vector<HttpResult> parse_responses(std::string_view bytes, std::size_t* left) {
    std::vector<HttpResult> results;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        std::size_t used = 0;
        auto result = parse_response(bytes.substr(offset), false, &used);
        if (!result) {
            break;
        }
        offset += used;
        results.push_back(std::move(*result));
    }
    if (left != nullptr) {
        *left = bytes.size() - offset;
    }
    return results;
}

}  // namespace threadsd::test
