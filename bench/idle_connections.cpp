// threadsd-bench-idle: opens N keep-alive connections to threadsd, completes one request on
// each, then holds them all idle so that bench/run can read the server's RSS around them.
//   threadsd-bench-idle --port P --count N --key KEY [--host 127.0.0.1]
// Prints `READY <n>` once every connection is idle, then waits until stdin gives a line or
// is closed. Any failure prints one line on stderr and exits 1, so a figure is never
// measured over connections that silently went away.
//
// A pure client on plain POSIX sockets and epoll: it needs nothing from threadsd_core.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Connects in flight at once: well under the server's listen backlog (SOMAXCONN, 4096), so
// no SYN is dropped and retried a second later, yet enough to open 10,000 in about a second.
constexpr std::size_t kMaxInFlight = 512;
// Descriptors kept free beyond the connections: stdio, epoll and whatever libc opens.
constexpr long kSpareDescriptors = 16;
// A response head larger than this is not what the server sends; stop rather than buffer.
constexpr std::size_t kMaxResponseBytes = 1 << 20;
// Opening stalls this long without any event: fail instead of hanging bench/run.
constexpr auto kStallTimeout = std::chrono::seconds(30);
// epoll's user data for stdin; connections use their index, which never reaches it.
constexpr std::uint64_t kStdinTag = UINT64_MAX;

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    long count = 0;
    std::string key;
};

// Any failure; main prints it as the one-line error and exits 1.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Formats `what: <strerror(err)>` for a failed system call.
std::string sys_error(const std::string& what, int err) {
    return what + ": " + std::strerror(err);
}

// Reads a whole decimal argument within [low, high], or fails naming the option.
long parse_number(const char* option, const char* text, long low, long high) {
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high) {
        throw Failure(std::string(option) + " wants a number from " + std::to_string(low) + " to " +
                      std::to_string(high) + ", got '" + text + "'");
    }
    return value;
}

// Parses the command line; every option but --host is required.
Options parse_options(int argc, char** argv) {
    const std::string usage =
        "usage: threadsd-bench-idle --port P --count N --key KEY [--host 127.0.0.1]";
    Options options;
    for (int i = 1; i < argc; i += 2) {
        const std::string_view option = argv[i];
        if (i + 1 >= argc) {
            throw Failure(usage);
        }
        const char* value = argv[i + 1];
        if (option == "--port") {
            options.port = static_cast<int>(parse_number("--port", value, 1, 65535));
        } else if (option == "--count") {
            options.count = parse_number("--count", value, 1, 1'000'000);
        } else if (option == "--key") {
            options.key = value;
        } else if (option == "--host") {
            options.host = value;
        } else {
            throw Failure(usage);
        }
    }
    if (options.port == 0 || options.count == 0 || options.key.empty()) {
        throw Failure(usage);
    }
    return options;
}

// Raises the soft descriptor limit to the hard one; fails when N connections cannot fit.
void raise_descriptor_limit(long count) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        throw Failure(sys_error("getrlimit(RLIMIT_NOFILE)", errno));
    }
    const auto needed = static_cast<rlim_t>(count + kSpareDescriptors);
    if (limit.rlim_max != RLIM_INFINITY && needed > limit.rlim_max) {
        throw Failure("--count " + std::to_string(count) + " needs " + std::to_string(needed) +
                      " descriptors, but the hard limit (ulimit -Hn) is " +
                      std::to_string(limit.rlim_max));
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= needed) {
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        throw Failure(sys_error("setrlimit(RLIMIT_NOFILE) to the hard limit", errno));
    }
}

// Case-insensitive ASCII comparison, for header names.
bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// Strips spaces and tabs around a header value.
std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

enum class Phase {
    kConnecting,  ///< Non-blocking connect in flight; waiting for writability.
    kSending,     ///< Connected; the request is (partly) written.
    kReceiving,   ///< Request written; reading the response.
    kIdle,        ///< One request done; kept open and silent, as a keep-alive client would.
};

struct Connection {
    int fd = -1;
    Phase phase = Phase::kConnecting;
    std::size_t sent = 0;  ///< Request bytes written so far.
    std::string received;  ///< Response bytes so far; released once idle.
};

/// All the connections, driven by one epoll instance.
class Client {
  public:
    // Prepares the target address and the request every connection sends.
    explicit Client(const Options& options);
    // Closes every connection, which is how the server learns the benchmark is over.
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Opens all connections and completes one request on each; returns once all are idle.
    void open_all();
    // Holds the idle connections until stdin gives a line or closes; fails if one drops.
    void hold();
    // How many connections are idle in keep-alive.
    std::size_t idle() const { return idle_; }

  private:
    // Starts a non-blocking connect for connection `index`.
    void start(std::size_t index);
    // Advances connection `index` on an epoll event.
    void on_event(std::size_t index, std::uint32_t events);
    // Writes what is left of the request; switches to reading once it is all out.
    void send_request(std::size_t index);
    // Reads what is available; marks the connection idle once the response is complete.
    void receive_response(std::size_t index);
    // True once `received` holds one full 200 response; fails on anything else.
    bool response_complete(std::size_t index) const;
    // Fails with the socket's pending error, or as closed by the server when there is none.
    [[noreturn]] void fail_socket(std::size_t index, const char* when) const;
    // Changes which events epoll reports for connection `index`.
    void watch(std::size_t index, std::uint32_t events);
    // Names connection `index` in error messages.
    static std::string name(std::size_t index) { return "connection " + std::to_string(index); }

    sockaddr_in address_{};
    std::string request_;
    int epoll_ = -1;
    std::vector<Connection> connections_;
    std::size_t started_ = 0;  ///< Connections whose connect has begun.
    std::size_t idle_ = 0;     ///< Connections done with their request.
};

Client::Client(const Options& options) : connections_(static_cast<std::size_t>(options.count)) {
    address_.sin_family = AF_INET;
    address_.sin_port = htons(static_cast<std::uint16_t>(options.port));
    if (inet_pton(AF_INET, options.host.c_str(), &address_.sin_addr) != 1) {
        throw Failure("--host wants an IPv4 address such as 127.0.0.1, got '" + options.host + "'");
    }
    // HTTP/1.1 keeps the connection open by default, as the server's idle sessions need.
    request_ = "GET /api/v1/threads?limit=1 HTTP/1.1\r\nHost: " + options.host + ":" +
               std::to_string(options.port) + "\r\nX-API-Key: " + options.key + "\r\n\r\n";
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
        throw Failure(sys_error("epoll_create1", errno));
    }
}

Client::~Client() {
    for (const auto& connection : connections_) {
        if (connection.fd >= 0) {
            close(connection.fd);
        }
    }
    if (epoll_ >= 0) {
        close(epoll_);
    }
}

void Client::start(std::size_t index) {
    Connection& connection = connections_[index];
    connection.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0) {
        throw Failure(sys_error(name(index) + ": socket", errno));
    }
    const int rc =
        connect(connection.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
    if (rc != 0 && errno != EINPROGRESS) {
        throw Failure(sys_error(name(index) + ": connect", errno));
    }
    // Writability reports the connect's outcome (also when it completed at once).
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, connection.fd, &event) != 0) {
        throw Failure(sys_error(name(index) + ": epoll_ctl", errno));
    }
    ++started_;
}

void Client::watch(std::size_t index, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_MOD, connections_[index].fd, &event) != 0) {
        throw Failure(sys_error(name(index) + ": epoll_ctl", errno));
    }
}

void Client::fail_socket(std::size_t index, const char* when) const {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(connections_[index].fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        throw Failure(sys_error(name(index) + " " + when, error));
    }
    throw Failure(name(index) + " was closed by the server " + when);
}

void Client::on_event(std::size_t index, std::uint32_t events) {
    Connection& connection = connections_[index];
    switch (connection.phase) {
        case Phase::kConnecting: {
            int error = 0;
            socklen_t length = sizeof error;
            if (getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
                error = errno;
            }
            if (error != 0) {
                throw Failure(sys_error(name(index) + ": connect", error));
            }
            connection.phase = Phase::kSending;
            send_request(index);
            break;
        }
        case Phase::kSending:
            send_request(index);
            break;
        case Phase::kReceiving:
            receive_response(index);
            break;
        case Phase::kIdle: {
            // An idle connection has nothing to say: any event means it is gone or the
            // server spoke out of turn, and the measurement would no longer be of N.
            char byte = 0;
            const ssize_t n = recv(connection.fd, &byte, 1, MSG_DONTWAIT);
            if (n > 0) {
                throw Failure(name(index) + " received bytes while idle in keep-alive");
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) == 0) {
                return;  // Spurious wake-up.
            }
            fail_socket(index, "while idle in keep-alive");
        }
    }
}

void Client::send_request(std::size_t index) {
    Connection& connection = connections_[index];
    while (connection.sent < request_.size()) {
        const ssize_t n = send(connection.fd, request_.data() + connection.sent,
                               request_.size() - connection.sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;  // Still watching EPOLLOUT; the rest goes out on the next event.
        }
        if (n < 0) {
            throw Failure(sys_error(name(index) + ": send", errno));
        }
        connection.sent += static_cast<std::size_t>(n);
    }
    connection.phase = Phase::kReceiving;
    watch(index, EPOLLIN | EPOLLRDHUP);
}

void Client::receive_response(std::size_t index) {
    Connection& connection = connections_[index];
    char buffer[16 * 1024];
    for (;;) {
        const ssize_t n = recv(connection.fd, buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n < 0) {
            throw Failure(sys_error(name(index) + ": recv", errno));
        }
        if (n == 0) {
            throw Failure(name(index) + " was closed by the server before a full response (" +
                          std::to_string(connection.received.size()) + " bytes read)");
        }
        connection.received.append(buffer, static_cast<std::size_t>(n));
        if (response_complete(index)) {
            // Free the client's buffer: only the server's memory is being measured, but
            // 10,000 copies of the response would still be needless.
            std::string().swap(connection.received);
            connection.phase = Phase::kIdle;
            ++idle_;
            return;  // Still watching EPOLLIN|EPOLLRDHUP: that is how a drop is noticed.
        }
    }
}

bool Client::response_complete(std::size_t index) const {
    const std::string& received = connections_[index].received;
    const auto head_end = received.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (received.size() > kMaxResponseBytes) {
            throw Failure(name(index) + ": no end of the response head in " +
                          std::to_string(received.size()) + " bytes");
        }
        return false;
    }
    const std::string_view head(received.data(), head_end);
    const auto status_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, status_end);
    if (status_line.substr(0, 13) != "HTTP/1.1 200 " && status_line != "HTTP/1.1 200") {
        throw Failure(name(index) + ": expected 200, got '" + std::string(status_line) + "'");
    }
    std::size_t content_length = 0;
    bool has_length = false;
    std::size_t at = status_end == std::string_view::npos ? head.size() : status_end + 2;
    while (at < head.size()) {
        const auto line_end = std::min(head.find("\r\n", at), head.size());
        const std::string_view line = head.substr(at, line_end - at);
        at = line_end + 2;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const std::string_view field = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(field, "Content-Length")) {
            const std::string digits(value);
            content_length = static_cast<std::size_t>(
                parse_number("the response's Content-Length", digits.c_str(), 0, 1L << 30));
            has_length = true;
        } else if (iequals(field, "Connection") && iequals(value, "close")) {
            // The server would close it right after: it could not be held idle.
            throw Failure(name(index) + ": the server answered with Connection: close");
        }
    }
    if (!has_length) {
        throw Failure(name(index) + ": the 200 response has no Content-Length");
    }
    const std::size_t total = head_end + 4 + content_length;
    if (received.size() > total) {
        throw Failure(name(index) + ": " + std::to_string(received.size() - total) +
                      " unexpected bytes after the response");
    }
    return received.size() == total;
}

void Client::open_all() {
    using Clock = std::chrono::steady_clock;
    const std::size_t count = connections_.size();
    std::vector<epoll_event> events(kMaxInFlight);
    auto last_progress = Clock::now();
    while (idle_ < count) {
        // Keep a bounded window of connections between connect and idle.
        while (started_ < count && started_ - idle_ < kMaxInFlight) {
            start(started_);
        }
        const int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 1000);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            throw Failure(sys_error("epoll_wait", errno));
        }
        if (ready > 0) {
            last_progress = Clock::now();
        } else if (Clock::now() - last_progress > kStallTimeout) {
            throw Failure("no progress for 30 s with " + std::to_string(idle_) + " of " +
                          std::to_string(count) + " connections done");
        }
        for (int i = 0; i < ready; ++i) {
            on_event(static_cast<std::size_t>(events[i].data.u64), events[i].events);
        }
    }
}

void Client::hold() {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kStdinTag;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, STDIN_FILENO, &event) != 0) {
        if (errno != EPERM) {
            throw Failure(sys_error("epoll_ctl(stdin)", errno));
        }
        // A regular file or /dev/null: epoll refuses it, but it never blocks either, so
        // reading it at once yields the line or the end it holds.
        char byte = 0;
        (void)read(STDIN_FILENO, &byte, 1);
        return;
    }
    std::vector<epoll_event> events(64);
    for (;;) {
        const int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            throw Failure(sys_error("epoll_wait", errno));
        }
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.u64 != kStdinTag) {
                on_event(static_cast<std::size_t>(events[i].data.u64), events[i].events);
                continue;
            }
            char buffer[256];
            const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            // End of input, an error, or a complete line: all mean stop.
            if (n <= 0 || std::memchr(buffer, '\n', static_cast<std::size_t>(n)) != nullptr) {
                return;
            }
        }
    }
}

}  // namespace

// Opens the connections, reports READY, holds them until told to stop; exit 1 on failure.
int main(int argc, char** argv) {
    try {
        const Options options = parse_options(argc, argv);
        raise_descriptor_limit(options.count);
        Client client(options);
        client.open_all();
        std::printf("READY %zu\n", client.idle());
        std::fflush(stdout);
        client.hold();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "threadsd-bench-idle: %s\n", e.what());
        return 1;
    }
}
