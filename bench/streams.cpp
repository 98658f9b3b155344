// threadsd-bench-streams: live streams (GET /api/v1/threads/{id}/stream, Server-Sent Events)
// against threadsd, for bench/run. Three modes:
//
//   threadsd-bench-streams --create N --port P --key KEY --agent ID
//       creates N web threads and prints their ids, one a line (so that bench/run can read
//       the server's RSS after the threads exist and before any stream does).
//   threadsd-bench-streams --hold N --port P --key KEY (--threads FILE | --agent ID)
//                          [--per-thread K]
//       opens N streams, K of them on each thread (default 1: every stream follows a thread
//       of its own), waits until every one has its 200 head, prints `READY <n>`, then holds
//       them until stdin gives a line or closes.
//   threadsd-bench-streams --latency --port P --key KEY (--threads FILE | --agent ID)
//                          [--streams 1000] [--duration 10] [--post-port P2]
//                          [--post-connections 16]
//       opens S streams, one thread each; then for D seconds posts one OUTBOUND reply per
//       stream per second, evenly spread, over a few keep-alive connections (to --post-port,
//       another replica, when given); records when each POST's 200 arrived and when its
//       event arrived on the stream (matched by messageId), and prints one line:
//       `RESULT streams= posts= ok= non2xx= events= p50_ms= p99_ms= max_ms= lost= duplicated=
//        early= wrong_stream= unmatched= post_p50_ms= post_p99_ms= lag_max_ms=`
//       where the latency is event time - 200 time, an event before its 200 counts as 0 and
//       in `early`, `lost` is a 200 whose event did not arrive within 5 s, `duplicated` the
//       events beyond the first for one message, `lag_max_ms` how late the busiest post went
//       out against the schedule.
//
// Any failure (a stream refused or ended, a connection dropped) prints one line on stderr and
// exits 1, so that no figure is measured over streams that silently went away.
//
// A pure client on plain POSIX sockets and epoll, one thread: it needs nothing from
// threadsd_core. Times are taken right after the recv() that brought the bytes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

// Streams whose connect or head is in flight at once: well under the listen backlog.
constexpr std::size_t kMaxInFlight = 512;
// Descriptors kept free beyond the sockets: stdio, epoll and whatever libc opens.
constexpr long kSpareDescriptors = 64;
// A response (head or JSON body) larger than this is not what the server sends.
constexpr std::size_t kMaxResponseBytes = 1 << 20;
// Opening stalls this long without any event: fail instead of hanging bench/run.
constexpr auto kStallTimeout = std::chrono::seconds(30);
// An event that has not arrived this long after its 200 is lost.
constexpr auto kLostAfter = std::chrono::seconds(5);
// Once every event is in, read this much longer: a duplicate would come right after.
constexpr auto kLinger = std::chrono::milliseconds(500);
// Keep-alive connections that create the threads.
constexpr std::size_t kCreateConnections = 8;

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string sys_error(const std::string& what, int err) {
    return what + ": " + std::strerror(err);
}

double to_ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

long parse_number(const std::string& option, const char* text, long low, long high) {
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high) {
        throw Failure(option + " wants a number from " + std::to_string(low) + " to " +
                      std::to_string(high) + ", got '" + text + "'");
    }
    return value;
}

enum class Mode { kNone, kCreate, kHold, kLatency };

struct Options {
    Mode mode = Mode::kNone;
    std::string host = "127.0.0.1";
    int port = 0;
    int post_port = 0;  ///< Where threads are created and replies posted; 0: --port.
    std::string key;
    std::string agent;
    std::string threads_file;
    long count = 0;  ///< --create N, --hold N, or --streams S.
    long per_thread = 1;
    long duration = 10;
    long post_connections = 16;  ///< Enough for 1,000 posts/s at 10 ms each.
};

Options parse_options(int argc, char** argv) {
    const std::string usage =
        "usage: threadsd-bench-streams --create N | --hold N [--per-thread K] | --latency "
        "[--streams 1000] [--duration 10] [--post-port P] [--post-connections 16]; with --port P "
        "--key KEY (--threads FILE | --agent ID) [--host 127.0.0.1]";
    Options options;
    options.count = -1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view option = argv[i];
        if (option == "--latency") {
            options.mode = Mode::kLatency;
            continue;
        }
        if (i + 1 >= argc) {
            throw Failure(usage);
        }
        const char* value = argv[++i];
        const std::string name(option);
        if (option == "--create") {
            options.mode = Mode::kCreate;
            options.count = parse_number(name, value, 1, 1'000'000);
        } else if (option == "--hold") {
            options.mode = Mode::kHold;
            options.count = parse_number(name, value, 1, 1'000'000);
        } else if (option == "--streams") {
            options.count = parse_number(name, value, 1, 1'000'000);
        } else if (option == "--per-thread") {
            options.per_thread = parse_number(name, value, 1, 1'000'000);
        } else if (option == "--duration") {
            options.duration = parse_number(name, value, 1, 86'400);
        } else if (option == "--post-connections") {
            options.post_connections = parse_number(name, value, 1, 1'000);
        } else if (option == "--port") {
            options.port = static_cast<int>(parse_number(name, value, 1, 65535));
        } else if (option == "--post-port") {
            options.post_port = static_cast<int>(parse_number(name, value, 1, 65535));
        } else if (option == "--key") {
            options.key = value;
        } else if (option == "--agent") {
            options.agent = value;
        } else if (option == "--threads") {
            options.threads_file = value;
        } else if (option == "--host") {
            options.host = value;
        } else {
            throw Failure(usage);
        }
    }
    if (options.mode == Mode::kLatency && options.count < 0) {
        options.count = 1000;
    }
    if (options.mode == Mode::kNone || options.count <= 0 || options.port == 0 ||
        options.key.empty() || (options.agent.empty() && options.threads_file.empty()) ||
        (options.mode == Mode::kCreate && options.agent.empty())) {
        throw Failure(usage);
    }
    if (options.post_port == 0) {
        options.post_port = options.port;
    }
    return options;
}

void raise_descriptor_limit(long needed_sockets) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        throw Failure(sys_error("getrlimit(RLIMIT_NOFILE)", errno));
    }
    const auto needed = static_cast<rlim_t>(needed_sockets + kSpareDescriptors);
    if (limit.rlim_max != RLIM_INFINITY && needed > limit.rlim_max) {
        throw Failure(std::to_string(needed_sockets) + " sockets need " + std::to_string(needed) +
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

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

/// A response head: the status and the headers this client cares about.
struct Head {
    int status = 0;
    std::string status_line;
    std::optional<std::size_t> content_length;
    bool chunked = false;
    bool close = false;
    std::string content_type;
};

// Parses the head in `text` (up to, not including, the blank line).
Head parse_head(std::string_view text, const std::string& who) {
    Head head;
    const auto status_end = std::min(text.find("\r\n"), text.size());
    head.status_line = std::string(text.substr(0, status_end));
    if (head.status_line.size() < 12 || head.status_line.compare(0, 9, "HTTP/1.1 ") != 0) {
        throw Failure(who + ": not an HTTP/1.1 status line: '" + head.status_line + "'");
    }
    head.status = std::atoi(head.status_line.c_str() + 9);
    std::size_t at = status_end + 2;
    while (at < text.size()) {
        const auto line_end = std::min(text.find("\r\n", at), text.size());
        const std::string_view line = text.substr(at, line_end - at);
        at = line_end + 2;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const std::string_view field = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(field, "Content-Length")) {
            const std::string digits(value);
            head.content_length = static_cast<std::size_t>(
                parse_number(who + "'s Content-Length", digits.c_str(), 0, 1L << 30));
        } else if (iequals(field, "Transfer-Encoding")) {
            head.chunked = iequals(value, "chunked");
            if (!head.chunked) {
                throw Failure(who + ": unexpected Transfer-Encoding '" + std::string(value) + "'");
            }
        } else if (iequals(field, "Connection")) {
            head.close = iequals(value, "close");
        } else if (iequals(field, "Content-Type")) {
            head.content_type = std::string(value);
        }
    }
    return head;
}

// The string value of `"name":"..."` in a JSON body (the first one), or empty.
std::string json_string(std::string_view body, std::string_view name) {
    const std::string pattern = "\"" + std::string(name) + "\":\"";
    const auto at = body.find(pattern);
    if (at == std::string_view::npos) {
        return {};
    }
    const auto start = at + pattern.size();
    const auto end = body.find('"', start);
    return end == std::string_view::npos ? std::string{}
                                         : std::string(body.substr(start, end - start));
}

/// Something epoll reports on; its address is the event's user data.
class Handler {
  public:
    virtual ~Handler() = default;
    virtual void on_event(std::uint32_t events) = 0;
};

/// The epoll instance and the target addresses.
class Loop {
  public:
    Loop() {
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) {
            throw Failure(sys_error("epoll_create1", errno));
        }
    }
    ~Loop() { close(epoll_); }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    void add(int fd, std::uint32_t events, Handler* handler) {
        control(EPOLL_CTL_ADD, fd, events, handler);
    }
    void modify(int fd, std::uint32_t events, Handler* handler) {
        control(EPOLL_CTL_MOD, fd, events, handler);
    }
    void remove(int fd) { epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr); }

    // Waits up to `timeout_ms` (-1: forever) and dispatches; returns the number of events.
    int run_once(int timeout_ms) {
        epoll_event events[256];
        const int ready = epoll_wait(epoll_, events, 256, timeout_ms);
        if (ready < 0 && errno == EINTR) {
            return 0;
        }
        if (ready < 0) {
            throw Failure(sys_error("epoll_wait", errno));
        }
        for (int i = 0; i < ready; ++i) {
            static_cast<Handler*>(events[i].data.ptr)->on_event(events[i].events);
        }
        return ready;
    }

  private:
    void control(int op, int fd, std::uint32_t events, Handler* handler) {
        epoll_event event{};
        event.events = events;
        event.data.ptr = handler;
        if (epoll_ctl(epoll_, op, fd, &event) != 0) {
            throw Failure(sys_error("epoll_ctl", errno));
        }
    }

    int epoll_ = -1;
};

sockaddr_in make_address(const std::string& host, int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
        throw Failure("--host wants an IPv4 address such as 127.0.0.1, got '" + host + "'");
    }
    return address;
}

// Starts a non-blocking connect; writability then reports its outcome.
int start_connect(const sockaddr_in& address, const std::string& who) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw Failure(sys_error(who + ": socket", errno));
    }
    const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    if (rc != 0 && errno != EINPROGRESS) {
        const int err = errno;
        close(fd);
        throw Failure(sys_error(who + ": connect", err));
    }
    return fd;
}

// The pending error of a socket, for the message when it fails.
[[noreturn]] void fail_socket(int fd, const std::string& who, const std::string& when) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        throw Failure(sys_error(who + " " + when, error));
    }
    throw Failure(who + " was closed by the server " + when);
}

/// One keep-alive connection for JSON requests, one at a time (no pipelining): a request's
/// 200 time is when its whole response had been read.
class RequestConnection final : public Handler {
  public:
    using Done = std::function<void(const Head& head, std::string_view body, Time at)>;

    RequestConnection(Loop& loop, const sockaddr_in& address, std::string name)
        : loop_(loop), name_(std::move(name)) {
        fd_ = start_connect(address, name_);
        const int on = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        loop_.add(fd_, EPOLLOUT, this);
    }
    ~RequestConnection() override {
        if (fd_ >= 0) {
            close(fd_);
        }
    }
    RequestConnection(const RequestConnection&) = delete;
    RequestConnection& operator=(const RequestConnection&) = delete;

    /// Queues a request; `sent` (optional) learns when its first byte went out.
    void submit(std::string request, Done done, std::function<void(Time)> sent = {}) {
        queue_.push_back({std::move(request), std::move(done), std::move(sent)});
        if (connected_ && !busy_) {
            send_next();
        }
    }
    /// Requests queued or in flight.
    std::size_t backlog() const { return queue_.size() + (busy_ ? 1 : 0); }

    void on_event(std::uint32_t events) override {
        if (!connected_) {
            int error = 0;
            socklen_t length = sizeof error;
            if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
                error = errno;
            }
            if (error != 0) {
                throw Failure(sys_error(name_ + ": connect", error));
            }
            connected_ = true;
            loop_.modify(fd_, EPOLLIN | EPOLLRDHUP, this);
            if (!queue_.empty()) {
                send_next();
            }
            return;
        }
        if ((events & EPOLLOUT) != 0) {
            write_pending();
        }
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            read_available();
        }
    }

  private:
    struct Pending {
        std::string text;
        Done done;
        std::function<void(Time)> sent;
    };

    void send_next() {
        busy_ = true;
        written_ = 0;
        if (queue_.front().sent) {
            queue_.front().sent(Clock::now());
        }
        write_pending();
    }

    void write_pending() {
        const std::string& text = queue_.front().text;
        while (written_ < text.size()) {
            const ssize_t n =
                send(fd_, text.data() + written_, text.size() - written_, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | EPOLLOUT, this);
                return;
            }
            if (n < 0) {
                throw Failure(sys_error(name_ + ": send", errno));
            }
            written_ += static_cast<std::size_t>(n);
        }
        loop_.modify(fd_, EPOLLIN | EPOLLRDHUP, this);
    }

    void read_available() {
        char buffer[16 * 1024];
        for (;;) {
            const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return;
            }
            if (n < 0) {
                throw Failure(sys_error(name_ + ": recv", errno));
            }
            if (n == 0) {
                fail_socket(fd_, name_, busy_ ? "before a full response" : "while idle");
            }
            const Time at = Clock::now();
            in_.append(buffer, static_cast<std::size_t>(n));
            while (complete_response(at)) {
            }
        }
    }

    // Hands over one complete response at the front of `in_`, if there is one.
    bool complete_response(Time at) {
        const auto head_end = in_.find("\r\n\r\n");
        if (head_end == std::string::npos) {
            if (in_.size() > kMaxResponseBytes) {
                throw Failure(name_ + ": no end of the response head");
            }
            return false;
        }
        if (!busy_) {
            throw Failure(name_ + ": a response to no request");
        }
        const Head head = parse_head(std::string_view(in_).substr(0, head_end), name_);
        if (!head.content_length) {
            throw Failure(name_ + ": a response without Content-Length: " + head.status_line);
        }
        const std::size_t total = head_end + 4 + *head.content_length;
        if (in_.size() < total) {
            return false;
        }
        Pending done = std::move(queue_.front());
        queue_.pop_front();
        busy_ = false;
        done.done(head, std::string_view(in_).substr(head_end + 4, *head.content_length), at);
        in_.erase(0, total);
        if (head.close) {
            throw Failure(name_ + ": the server answered with Connection: close");
        }
        if (!queue_.empty()) {
            send_next();
        }
        return true;
    }

    Loop& loop_;
    std::string name_;
    int fd_ = -1;
    bool connected_ = false;
    bool busy_ = false;
    std::size_t written_ = 0;
    std::deque<Pending> queue_;
    std::string in_;
};

std::string post_request(const std::string& host, int port, const std::string& key,
                         const std::string& target, const std::string& body) {
    return "POST " + target + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
           "\r\nX-API-Key: " + key +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

// Creates `count` web threads over a few keep-alive connections; returns their ids.
std::vector<std::string> create_threads(const Options& options, long count) {
    Loop loop;
    const sockaddr_in address = make_address(options.host, options.post_port);
    std::vector<std::unique_ptr<RequestConnection>> connections;
    for (std::size_t i = 0; i < kCreateConnections; ++i) {
        connections.push_back(std::make_unique<RequestConnection>(
            loop, address, "create connection " + std::to_string(i)));
    }
    std::vector<std::string> ids(static_cast<std::size_t>(count));
    std::size_t done = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::string body = "{\"agentId\":\"" + options.agent +
                                 "\",\"metadata\":{\"source\":\"streams\",\"n\":\"" +
                                 std::to_string(i) + "\"},\"variables\":{\"firstName\":\"Ada\"}}";
        connections[i % connections.size()]->submit(
            post_request(options.host, options.post_port, options.key, "/api/v1/threads/web", body),
            [&ids, &done, i](const Head& head, std::string_view response, Time) {
                if (head.status != 200) {
                    throw Failure("creating a thread: " + head.status_line + " " +
                                  std::string(response.substr(0, 300)));
                }
                ids[i] = json_string(response, "id");
                if (ids[i].empty()) {
                    throw Failure("creating a thread: no id in " +
                                  std::string(response.substr(0, 300)));
                }
                ++done;
            });
    }
    auto last_progress = Clock::now();
    while (done < ids.size()) {
        if (loop.run_once(1000) > 0) {
            last_progress = Clock::now();
        } else if (Clock::now() - last_progress > kStallTimeout) {
            throw Failure("creating threads: no progress for 30 s with " + std::to_string(done) +
                          " of " + std::to_string(ids.size()) + " done");
        }
    }
    return ids;
}

// The thread ids: the first `count` lines of --threads, or as many new threads.
std::vector<std::string> thread_ids(const Options& options, long count) {
    if (options.threads_file.empty()) {
        return create_threads(options, count);
    }
    std::ifstream file(options.threads_file);
    if (!file) {
        throw Failure("cannot read --threads " + options.threads_file);
    }
    std::vector<std::string> ids;
    std::string line;
    while (static_cast<long>(ids.size()) < count && std::getline(file, line)) {
        if (!line.empty()) {
            ids.push_back(line);
        }
    }
    if (static_cast<long>(ids.size()) < count) {
        throw Failure("--threads " + options.threads_file + " holds " + std::to_string(ids.size()) +
                      " ids; " + std::to_string(count) + " are needed");
    }
    return ids;
}

/// What a stream tells its owner.
class StreamListener {
  public:
    virtual ~StreamListener() = default;
    virtual void on_head(std::size_t stream) = 0;
    virtual void on_message(std::size_t stream, const std::string& id, Time at) = 0;
};

/// One live stream: the GET, its head, then a chunked (or, without framing, read-to-close)
/// body of Server-Sent Events.
class StreamConnection final : public Handler {
  public:
    StreamConnection(Loop& loop, StreamListener& listener, std::size_t index, std::string request)
        : loop_(loop), listener_(listener), index_(index), request_(std::move(request)) {}
    ~StreamConnection() override {
        if (fd_ >= 0) {
            close(fd_);
        }
    }
    StreamConnection(const StreamConnection&) = delete;
    StreamConnection& operator=(const StreamConnection&) = delete;

    void start(const sockaddr_in& address) {
        fd_ = start_connect(address, name());
        loop_.add(fd_, EPOLLOUT, this);
    }
    bool streaming() const { return phase_ == Phase::kBody; }
    std::uint64_t keepalives() const { return keepalives_; }

    void on_event(std::uint32_t) override {
        switch (phase_) {
            case Phase::kConnecting: {
                int error = 0;
                socklen_t length = sizeof error;
                if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
                    error = errno;
                }
                if (error != 0) {
                    throw Failure(sys_error(name() + ": connect", error));
                }
                phase_ = Phase::kSending;
                send_request();
                break;
            }
            case Phase::kSending:
                send_request();
                break;
            case Phase::kHead:
            case Phase::kBody:
                receive();
                break;
        }
    }

  private:
    enum class Phase { kConnecting, kSending, kHead, kBody };
    enum class Chunk { kSize, kData, kDataEnd, kTrailers };

    std::string name() const { return "stream " + std::to_string(index_); }

    void send_request() {
        while (sent_ < request_.size()) {
            const ssize_t n =
                send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return;
            }
            if (n < 0) {
                throw Failure(sys_error(name() + ": send", errno));
            }
            sent_ += static_cast<std::size_t>(n);
        }
        std::string().swap(request_);
        phase_ = Phase::kHead;
        loop_.modify(fd_, EPOLLIN | EPOLLRDHUP, this);
    }

    void receive() {
        char buffer[16 * 1024];
        for (;;) {
            const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return;
            }
            if (n < 0) {
                throw Failure(sys_error(name() + ": recv", errno));
            }
            if (n == 0) {
                fail_socket(
                    fd_, name(),
                    phase_ == Phase::kHead ? "before the stream's head" : "while streaming");
            }
            const Time at = Clock::now();
            std::string_view data(buffer, static_cast<std::size_t>(n));
            if (phase_ == Phase::kHead) {
                head_.append(data);
                const auto head_end = head_.find("\r\n\r\n");
                if (head_end == std::string::npos) {
                    if (head_.size() > kMaxResponseBytes) {
                        throw Failure(name() + ": no end of the response head");
                    }
                    continue;
                }
                const Head head = parse_head(std::string_view(head_).substr(0, head_end), name());
                if (head.status != 200) {
                    throw Failure(name() + ": expected 200, got '" + head.status_line + "' " +
                                  head_.substr(head_end + 4, 300));
                }
                if (head.content_type.rfind("text/event-stream", 0) != 0) {
                    throw Failure(name() + ": Content-Type is '" + head.content_type +
                                  "', not text/event-stream");
                }
                if (head.content_length) {
                    throw Failure(name() + ": the stream's head has Content-Length: " +
                                  std::to_string(*head.content_length) +
                                  ", so it does not stream (is the session's streaming there?)");
                }
                chunked_ = head.chunked;
                const std::string rest = head_.substr(head_end + 4);
                std::string().swap(head_);
                phase_ = Phase::kBody;
                listener_.on_head(index_);
                body(rest, at);
            } else {
                body(data, at);
            }
        }
    }

    // Undoes the chunked framing (when there is one) and feeds the events.
    void body(std::string_view data, Time at) {
        if (!chunked_) {
            events(data, at);
            return;
        }
        while (!data.empty()) {
            switch (chunk_) {
                case Chunk::kSize:
                case Chunk::kDataEnd:
                case Chunk::kTrailers: {
                    const auto newline = data.find('\n');
                    line_.append(data.substr(0, newline));
                    if (line_.size() > 1024) {
                        throw Failure(name() + ": a chunk-size line over 1 KiB");
                    }
                    if (newline == std::string_view::npos) {
                        return;
                    }
                    data.remove_prefix(newline + 1);
                    std::string line;
                    line.swap(line_);
                    if (!line.empty() && line.back() == '\r') {
                        line.pop_back();
                    }
                    if (chunk_ == Chunk::kDataEnd) {
                        if (!line.empty()) {
                            throw Failure(name() + ": a chunk not followed by CRLF");
                        }
                        chunk_ = Chunk::kSize;
                    } else if (chunk_ == Chunk::kTrailers) {
                        if (line.empty()) {
                            throw Failure(name() + ": the stream ended (last chunk)");
                        }
                    } else {
                        char* end = nullptr;
                        const unsigned long size = std::strtoul(line.c_str(), &end, 16);
                        if (end == line.c_str() || (*end != '\0' && *end != ';' && *end != ' ')) {
                            throw Failure(name() + ": a bad chunk size '" + line + "'");
                        }
                        chunk_left_ = size;
                        chunk_ = size == 0 ? Chunk::kTrailers : Chunk::kData;
                    }
                    break;
                }
                case Chunk::kData: {
                    const std::size_t take = std::min<std::size_t>(chunk_left_, data.size());
                    events(data.substr(0, take), at);
                    data.remove_prefix(take);
                    chunk_left_ -= take;
                    if (chunk_left_ == 0) {
                        chunk_ = Chunk::kDataEnd;
                    }
                    break;
                }
            }
        }
    }

    // Parses Server-Sent Events: fields up to a blank line, comments ignored.
    void events(std::string_view data, Time at) {
        while (!data.empty()) {
            const auto newline = data.find('\n');
            sse_line_.append(data.substr(0, newline));
            if (newline == std::string_view::npos) {
                if (sse_line_.size() > kMaxResponseBytes) {
                    throw Failure(name() + ": an event line over 1 MiB");
                }
                return;
            }
            data.remove_prefix(newline + 1);
            std::string_view line = sse_line_;
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (line.empty()) {
                if (event_type_ == "message" && !event_id_.empty()) {
                    listener_.on_message(index_, event_id_, at);
                } else if (event_type_ == "closed") {
                    throw Failure(name() + ": the thread was closed (event: closed)");
                }
                event_type_.clear();
                event_id_.clear();
            } else if (line.front() == ':') {
                ++keepalives_;
            } else {
                const auto colon = line.find(':');
                const std::string_view field = line.substr(0, colon);
                std::string_view value =
                    colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
                if (!value.empty() && value.front() == ' ') {
                    value.remove_prefix(1);
                }
                if (field == "id") {
                    event_id_ = std::string(value);
                } else if (field == "event") {
                    event_type_ = std::string(value);
                }
            }
            sse_line_.clear();
        }
    }

    Loop& loop_;
    StreamListener& listener_;
    std::size_t index_;
    std::string request_;
    int fd_ = -1;
    Phase phase_ = Phase::kConnecting;
    std::size_t sent_ = 0;
    std::string head_;
    bool chunked_ = false;
    Chunk chunk_ = Chunk::kSize;
    std::size_t chunk_left_ = 0;
    std::string line_;      ///< A chunk-size or trailer line so far.
    std::string sse_line_;  ///< An event line so far.
    std::string event_id_;
    std::string event_type_;
    std::uint64_t keepalives_ = 0;
};

std::string stream_request(const Options& options, const std::string& thread_id) {
    return "GET /api/v1/threads/" + thread_id + "/stream HTTP/1.1\r\nHost: " + options.host + ":" +
           std::to_string(options.port) + "\r\nX-API-Key: " + options.key +
           "\r\nAccept: text/event-stream\r\n\r\n";
}

/// Streams, opened a bounded window at a time, on one loop.
class Streams : public StreamListener {
  public:
    Streams(Loop& loop, const Options& options, const std::vector<std::string>& threads,
            std::size_t count, std::size_t per_thread)
        : loop_(loop), address_(make_address(options.host, options.port)) {
        streams_.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            streams_.push_back(std::make_unique<StreamConnection>(
                loop, *this, i, stream_request(options, threads[i / per_thread])));
        }
    }

    // Opens every stream; returns once each has its 200 head.
    void open_all() {
        auto last_progress = Clock::now();
        while (heads_ < streams_.size()) {
            while (started_ < streams_.size() && started_ - heads_ < kMaxInFlight) {
                streams_[started_++]->start(address_);
            }
            if (loop_.run_once(1000) > 0) {
                last_progress = Clock::now();
            } else if (Clock::now() - last_progress > kStallTimeout) {
                throw Failure("no progress for 30 s with " + std::to_string(heads_) + " of " +
                              std::to_string(streams_.size()) + " streams open");
            }
        }
    }
    std::size_t open() const { return heads_; }

    void on_head(std::size_t) override { ++heads_; }
    void on_message(std::size_t, const std::string&, Time) override {}

  protected:
    Loop& loop_;

  private:
    sockaddr_in address_;
    std::vector<std::unique_ptr<StreamConnection>> streams_;
    std::size_t started_ = 0;
    std::size_t heads_ = 0;
};

/// stdin as a handler: a line or the end of input means stop.
class StdinWatch final : public Handler {
  public:
    void on_event(std::uint32_t) override {
        char buffer[256];
        const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            return;
        }
        if (n <= 0 || std::memchr(buffer, '\n', static_cast<std::size_t>(n)) != nullptr) {
            stop = true;
        }
    }
    bool stop = false;
};

int run_create(const Options& options) {
    raise_descriptor_limit(static_cast<long>(kCreateConnections));
    for (const auto& id : create_threads(options, options.count)) {
        std::printf("%s\n", id.c_str());
    }
    return 0;
}

int run_hold(const Options& options) {
    const auto per_thread = static_cast<std::size_t>(options.per_thread);
    const auto count = static_cast<std::size_t>(options.count);
    const auto threads =
        thread_ids(options, static_cast<long>((count + per_thread - 1) / per_thread));
    raise_descriptor_limit(options.count);
    Loop loop;
    Streams streams(loop, options, threads, count, per_thread);
    streams.open_all();
    std::printf("READY %zu\n", streams.open());
    std::fflush(stdout);
    StdinWatch watch;
    try {
        loop.add(STDIN_FILENO, EPOLLIN, &watch);
    } catch (const Failure&) {
        // A regular file or /dev/null: epoll refuses it, but reading it never blocks.
        char byte = 0;
        (void)read(STDIN_FILENO, &byte, 1);
        return 0;
    }
    while (!watch.stop) {
        loop.run_once(-1);  // Streams fail loudly if one ends; keep-alive comments are read.
    }
    return 0;
}

/// The latency run: streams, the post schedule, and one record per posted reply.
class LatencyRun final : public Streams {
  public:
    LatencyRun(Loop& loop, const Options& options, const std::vector<std::string>& threads)
        : Streams(loop, options, threads, threads.size(), 1), options_(options), threads_(threads) {
        const sockaddr_in post_address = make_address(options.host, options.post_port);
        for (long i = 0; i < options.post_connections; ++i) {
            posters_.push_back(std::make_unique<RequestConnection>(
                loop, post_address, "post connection " + std::to_string(i)));
        }
    }

    void run() {
        open_all();
        const std::size_t streams = threads_.size();
        const std::size_t total = streams * static_cast<std::size_t>(options_.duration);
        const auto interval = std::chrono::nanoseconds(1'000'000'000 / static_cast<long>(streams));
        const Time start = Clock::now();
        std::size_t next = 0;
        while (next < total) {
            const Time now = Clock::now();
            while (next < total && start + interval * static_cast<long>(next) <= now) {
                post(next, start + interval * static_cast<long>(next));
                ++next;
            }
            if (next < total) {
                const auto wait = start + interval * static_cast<long>(next) - Clock::now();
                loop_.run_once(std::max<int>(
                    0,
                    static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count())));
            }
        }
        // Every answer, then every event (or 5 s after the last 200), then a short linger.
        const Time posted = Clock::now();
        while (answered_ < total) {
            loop_.run_once(100);
            if (Clock::now() - posted > std::chrono::seconds(60)) {
                throw Failure(std::to_string(total - answered_) + " posts got no answer in 60 s");
            }
        }
        while (pending_events() > 0 && Clock::now() - last_ok_ < kLostAfter) {
            loop_.run_once(10);
        }
        const Time linger_end = Clock::now() + kLinger;
        while (Clock::now() < linger_end) {
            loop_.run_once(10);
        }
        report(total);
    }

    void on_message(std::size_t stream, const std::string& id, Time at) override {
        ++events_;
        auto [found, created] = records_.try_emplace(id);
        Record& record = found->second;
        if (record.events++ == 0) {
            record.event_at = at;
            record.event_stream = stream;
        }
        (void)created;
    }

  private:
    struct Record {
        bool ok = false;
        std::size_t stream = 0;        ///< Where the event belongs (from the post).
        std::size_t event_stream = 0;  ///< Where it arrived first.
        Time sent_at{};
        Time ok_at{};
        Time event_at{};
        std::uint32_t events = 0;
    };

    std::size_t pending_events() const {
        std::size_t pending = 0;
        for (const auto& [id, record] : records_) {
            pending += record.ok && record.events == 0 ? 1 : 0;
        }
        return pending;
    }

    void post(std::size_t n, Time due) {
        const std::size_t stream = n % threads_.size();
        char text[128];
        std::snprintf(text, sizeof text,
                      "reply %zu to stream %zu: a line of an agent's answer, padded to about a "
                      "hundred bytes.",
                      n, stream);
        const std::string body =
            std::string("{\"message\":\"") + text + "\",\"direction\":\"OUTBOUND\"}";
        auto sent = std::make_shared<Time>();
        auto least = std::min_element(
            posters_.begin(), posters_.end(),
            [](const auto& a, const auto& b) { return a->backlog() < b->backlog(); });
        (*least)->submit(
            post_request(options_.host, options_.post_port, options_.key,
                         "/api/v1/threads/" + threads_[stream] + "/messages", body),
            [this, stream, sent](const Head& head, std::string_view response, Time at) {
                ++answered_;
                if (head.status != 200) {
                    if (non2xx_++ == 0) {
                        std::fprintf(stderr, "threadsd-bench-streams: a post got '%s' %.*s\n",
                                     head.status_line.c_str(),
                                     static_cast<int>(std::min<std::size_t>(response.size(), 300)),
                                     response.data());
                    }
                    return;
                }
                const std::string id = json_string(response, "messageId");
                if (id.empty()) {
                    throw Failure("a post's 200 has no messageId: " +
                                  std::string(response.substr(0, 300)));
                }
                Record& record = records_[id];
                record.ok = true;
                record.stream = stream;
                record.ok_at = at;
                record.sent_at = *sent;
                last_ok_ = at;
                ++ok_;
            },
            [this, due, sent](Time at) {
                *sent = at;
                lag_max_ = std::max(lag_max_, at - due);
            });
    }

    static double percentile(std::vector<double>& values, double q) {
        if (values.empty()) {
            return 0;
        }
        const auto rank =
            static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
        return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
    }

    void report(std::size_t total) {
        std::vector<double> latencies;
        std::vector<double> post_latencies;
        std::size_t lost = 0, duplicated = 0, early = 0, wrong_stream = 0, unmatched = 0;
        for (const auto& [id, record] : records_) {
            if (!record.ok) {
                unmatched += record.events;  // An event for no post this run answered.
                continue;
            }
            post_latencies.push_back(to_ms(record.ok_at - record.sent_at));
            if (record.events == 0 || record.event_at - record.ok_at > kLostAfter) {
                ++lost;
                continue;
            }
            duplicated += record.events - 1;
            if (record.event_stream != record.stream) {
                ++wrong_stream;
            }
            if (record.event_at < record.ok_at) {
                ++early;
                latencies.push_back(0);
            } else {
                latencies.push_back(to_ms(record.event_at - record.ok_at));
            }
        }
        std::sort(latencies.begin(), latencies.end());
        std::sort(post_latencies.begin(), post_latencies.end());
        std::printf(
            "RESULT streams=%zu posts=%zu ok=%zu non2xx=%zu events=%zu p50_ms=%.3f p99_ms=%.3f "
            "max_ms=%.3f lost=%zu duplicated=%zu early=%zu wrong_stream=%zu unmatched=%zu "
            "post_p50_ms=%.3f post_p99_ms=%.3f lag_max_ms=%.3f\n",
            threads_.size(), total, ok_, non2xx_, events_, percentile(latencies, 0.50),
            percentile(latencies, 0.99), latencies.empty() ? 0.0 : latencies.back(), lost,
            duplicated, early, wrong_stream, unmatched, percentile(post_latencies, 0.50),
            percentile(post_latencies, 0.99), to_ms(lag_max_));
        std::fflush(stdout);
    }

    const Options& options_;
    const std::vector<std::string>& threads_;
    std::vector<std::unique_ptr<RequestConnection>> posters_;
    std::unordered_map<std::string, Record> records_;
    std::size_t answered_ = 0;
    std::size_t ok_ = 0;
    std::size_t non2xx_ = 0;
    std::size_t events_ = 0;
    Time last_ok_ = Clock::now();
    Clock::duration lag_max_{};
};

int run_latency(const Options& options) {
    const auto threads = thread_ids(options, options.count);
    raise_descriptor_limit(options.count + options.post_connections);
    Loop loop;
    LatencyRun run(loop, options, threads);
    run.run();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse_options(argc, argv);
        switch (options.mode) {
            case Mode::kCreate:
                return run_create(options);
            case Mode::kHold:
                return run_hold(options);
            case Mode::kLatency:
                return run_latency(options);
            case Mode::kNone:
                break;
        }
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "threadsd-bench-streams: %s\n", e.what());
        return 1;
    }
}
