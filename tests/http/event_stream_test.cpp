// Event streams through the real session: over a unix socket pair (run_session, as the
// session tests do) and over TCP with a real Server, with a handler whose streams the test
// scripts. Framing on HTTP/1.1 and 1.0, the connection after a stream, clients that leave
// or stop reading, timeouts that must not apply, shutdown, the connection limit, and what a
// waiting stream holds in memory.

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's own count (GCC ships the function, not its header): under it, malloc
// is not glibc's, so mallinfo2 would see nothing.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

#include "support/access_log.hpp"
#include "support/echo_handler.hpp"
#include "support/raw_connection.hpp"
#include "threadsd/api/event_source.hpp"
#include "threadsd/http/server.hpp"
#include "threadsd/http/session.hpp"

namespace threadsd::test {
namespace {

namespace net = boost::asio;
using local = net::local::stream_protocol;
using net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

/// A stream request as a browser's EventSource sends it (with the echo handler's key).
const std::string kStreamRequest =
    "GET /api/v1/threads/t1/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: good\r\n"
    "Accept: text/event-stream\r\n\r\n";
/// Any other request, answered whole.
const std::string kHealthRequest = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
/// What the test handler's streams start with.
constexpr std::string_view kFirstEvents = "retry: 1000\n\n";

/// `data` as one chunk of chunked transfer coding.
std::string chunk_of(std::string_view data) {
    std::ostringstream out;
    out << std::hex << data.size() << "\r\n" << data << "\r\n";
    return out.str();
}

/// What one scripted source did, kept apart from it: the source goes with its session.
struct SourceRecord {
    int calls = 0;         ///< next() calls.
    int cancelled = 0;     ///< Waits that the session cancelled.
    bool waiting = false;  ///< next() is waiting for a piece now.
};

/// An event source that gives what the test pushes, one piece per next(), or with
/// `flood_bytes` a large piece at every call without waiting. Its wait honours terminal
/// cancellation by throwing, as an EventSource built on use_awaitable does.
class ScriptedSource : public api::EventSource {
  public:
    ScriptedSource(net::any_io_executor executor, std::shared_ptr<SourceRecord> record,
                   std::size_t flood_bytes)
        : wake_(std::move(executor)), record_(std::move(record)), flood_bytes_(flood_bytes) {}

    /// Queues a piece; with `last`, the source's last words: next() then says it ended.
    void push(std::string piece, bool last = false) {
        pieces_.emplace_back(std::move(piece), last);
        wake_.cancel();
    }

    net::awaitable<bool> next(std::string& out) override {
        ++record_->calls;
        if (flood_bytes_ > 0) {
            out.append("data: ").append(flood_bytes_, 'x').append("\n\n");
            co_return true;
        }
        while (pieces_.empty()) {
            record_->waiting = true;
            wake_.expires_at(net::steady_timer::time_point::max());
            auto [ec] = co_await wake_.async_wait(kTuple);
            (void)ec;  // A push cancels the wait too; only the session's cancellation counts.
            record_->waiting = false;
            const net::cancellation_state state = co_await net::this_coro::cancellation_state;
            if (state.cancelled() != net::cancellation_type::none) {
                ++record_->cancelled;
                throw boost::system::system_error(net::error::operation_aborted);
            }
        }
        auto [piece, last] = std::move(pieces_.front());
        pieces_.erase(pieces_.begin());
        out += piece;
        co_return !last;
    }

  private:
    net::steady_timer wake_;                            ///< Waits for a push.
    std::shared_ptr<SourceRecord> record_;              ///< What the test reads.
    std::size_t flood_bytes_;                           ///< See the class comment.
    std::vector<std::pair<std::string, bool>> pieces_;  ///< Pushed, not yet given.
};

/// The echo handler, whose stream route answers with a scripted event stream.
class StreamingHandler : public EchoHandler {
  public:
    std::size_t flood_bytes = 0;  ///< Given to each new source.
    /// The sources made, in order; a source lives as long as its session.
    std::vector<std::weak_ptr<ScriptedSource>> sources;
    std::vector<std::shared_ptr<SourceRecord>> records;  ///< What each source did.

    /// Source `i`, which must still be streaming.
    ScriptedSource& source(std::size_t i) {
        BOOST_TEST_REQUIRE(i < sources.size());
        auto alive = sources[i].lock();
        BOOST_TEST_REQUIRE(alive != nullptr);
        return *alive;
    }

    /// Sources waiting for a piece now.
    std::size_t waiting() const {
        std::size_t count = 0;
        for (const auto& record : records) {
            count += record->waiting ? 1 : 0;
        }
        return count;
    }

    net::awaitable<http::Reply> handle(http::Admission admission,
                                       const http::Request& request) override {
        if (admission.route.id != http::RouteId::kStreamThread) {
            http::Reply whole = co_await EchoHandler::handle(std::move(admission), request);
            co_return whole;
        }
        const net::any_io_executor executor = co_await net::this_coro::executor;
        auto record = std::make_shared<SourceRecord>();
        auto source = std::make_shared<ScriptedSource>(executor, record, flood_bytes);
        records.push_back(std::move(record));
        sources.push_back(source);
        http::Response head{boost::beast::http::status::ok, 11};
        head.set(boost::beast::http::field::content_type, "text/event-stream");
        head.set(boost::beast::http::field::cache_control, "no-cache");
        head.body() = kFirstEvents;
        co_return http::Reply(std::move(head), std::move(source));
    }
};

/// Runs `io` until `done()` or `timeout`; false on the timeout.
template <class Done>
bool run_until(net::io_context& io, Done done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        io.run_one_for(10ms);
        if (io.stopped()) {
            io.restart();
        }
    }
    return true;
}

/// Runs `io` for `duration`.
void run_for(net::io_context& io, std::chrono::milliseconds duration) {
    run_until(
        io, [] { return false; }, duration);
}

/// The client end of a connection, on the test's io_context. Its reads go on while the
/// io_context runs, also after the Peer is gone, so what they touch is shared with them.
template <class Socket>
class Peer {
  public:
    explicit Peer(Socket socket) : end_(std::make_shared<End>(std::move(socket))) {}
    ~Peer() { close(); }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    /// Writes `bytes` as the io_context runs.
    void send(std::string bytes) {
        auto data = std::make_shared<std::string>(std::move(bytes));
        net::async_write(end_->socket, net::buffer(*data),
                         [data](boost::system::error_code, std::size_t) {});
    }
    /// Reads everything from now on, until the server closes; then closes too.
    void read() { net::co_spawn(end_->socket.get_executor(), read_all(end_), net::detached); }
    /// Closes the connection.
    void close() {
        boost::system::error_code ignored;
        end_->socket.close(ignored);
    }
    /// Every byte read so far.
    const std::string& received() const { return end_->received; }
    /// The server closed the connection (or reset it).
    bool closed() const { return end_->closed; }

  private:
    /// The connection and what was read on it.
    struct End {
        explicit End(Socket s) : socket(std::move(s)) {}
        Socket socket;
        std::string received;
        bool closed = false;
    };

    static net::awaitable<void> read_all(std::shared_ptr<End> end) {
        char chunk[4096];
        for (;;) {
            auto [ec, bytes] = co_await end->socket.async_read_some(net::buffer(chunk), kTuple);
            end->received.append(chunk, bytes);
            if (ec) {
                end->closed = true;
                boost::system::error_code ignored;
                end->socket.close(ignored);
                co_return;
            }
        }
    }

    std::shared_ptr<End> end_;  ///< Shared with the reads.
};

/// One connection served by the real session over a unix socket pair.
class PairRig {
  public:
    explicit PairRig(http::Handler& handler, http::HttpLimits limits = {}, bool access_log = false)
        : limits_(limits), server_end_(io_), client_(paired_with(server_end_)) {
        access_log_.enabled = access_log;
        http::SessionContext context{handler, limits_, draining_, access_log_, failures_};
        net::co_spawn(io_,
                      http::run_session(http::LocalStream(std::move(server_end_)), context,
                                        std::make_shared<http::SessionState>()),
                      [this](std::exception_ptr error) {
                          ended_ = true;
                          escaped_ = error != nullptr;
                      });
    }
    ~PairRig() {
        client_.close();
        run_until(
            io_, [this] { return ended_; }, 5s);
    }

    net::io_context& io() { return io_; }
    Peer<local::socket>& client() { return client_; }
    /// The session coroutine has finished.
    bool ended() const { return ended_ && !escaped_; }
    /// Sessions ended by an exception of the server's own.
    std::uint64_t failures() const { return failures_.load(); }

  private:
    /// A socket connected to `other`, which is opened too.
    static local::socket paired_with(local::socket& other) {
        local::socket mine(other.get_executor());
        net::local::connect_pair(mine, other);
        return mine;
    }

    net::io_context io_;
    http::HttpLimits limits_;
    local::socket server_end_;  ///< Until the session takes it.
    std::atomic<bool> draining_{false};
    std::atomic<std::uint64_t> failures_{0};
    http::AccessLogSettings access_log_;
    Peer<local::socket> client_;
    bool ended_ = false;
    bool escaped_ = false;
};

/// A real Server on 127.0.0.1 with the streaming handler, on the test's io_context.
struct ServerRig {
    explicit ServerRig(http::HttpLimits limits = {})
        : server(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), handler, limits) {
        server.start();
    }
    ~ServerRig() {
        run_until(
            io, [this] { return server.open_sessions() == 0; }, 5s);
    }

    /// A new client connection, reading.
    std::unique_ptr<Peer<tcp::socket>> connect() {
        tcp::socket socket(io);
        socket.connect(server.local_endpoint());
        auto peer = std::make_unique<Peer<tcp::socket>>(std::move(socket));
        peer->read();
        return peer;
    }

    net::io_context io;
    StreamingHandler handler;
    http::Server server;
};

/// What the process writes on stdout while it lives goes to a file instead: the access
/// log. Boost.Test's own output goes there too, so checks belong after finish().
class StdoutCapture {
  public:
    StdoutCapture() : file_(std::tmpfile()) {
        std::fflush(stdout);
        saved_ = ::dup(STDOUT_FILENO);
        ::dup2(::fileno(file_), STDOUT_FILENO);
    }
    ~StdoutCapture() {
        finish();
        std::fclose(file_);
    }
    StdoutCapture(const StdoutCapture&) = delete;
    StdoutCapture& operator=(const StdoutCapture&) = delete;

    /// Restores stdout; returns what was written meanwhile.
    std::string finish() {
        if (saved_ >= 0) {
            std::fflush(stdout);
            ::dup2(saved_, STDOUT_FILENO);
            ::close(saved_);
            saved_ = -1;
            std::rewind(file_);
            char buffer[4096];
            for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) {
                text_.append(buffer, n);
            }
        }
        return text_;
    }

  private:
    std::FILE* file_;
    int saved_ = -1;
    std::string text_;
};

/// Heap bytes in use by the whole process.
std::size_t heap_bytes() {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

/// The head of the first response in `bytes` (through its empty line), and what follows.
std::pair<std::string, std::string> split_head(const std::string& bytes) {
    const auto end = bytes.find("\r\n\r\n");
    if (end == std::string::npos) {
        return {bytes, {}};
    }
    return {bytes.substr(0, end + 4), bytes.substr(end + 4)};
}

/// True once `text` ends with `tail`.
bool ends_with(const std::string& text, std::string_view tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_stream)

BOOST_AUTO_TEST_CASE(http_1_1_sends_each_piece_as_one_chunk_and_logs_the_stream_once) {
    StreamingHandler handler;
    StdoutCapture capture;
    std::string head, after_start, after_push, received;
    std::size_t recorded_while_open = 0;
    int calls = 0;
    bool ended_early = true;
    {
        PairRig rig(handler, {}, true);
        rig.client().read();
        rig.client().send(kStreamRequest);
        const auto& bytes = rig.client().received();
        const std::string first = chunk_of(kFirstEvents);
        run_until(rig.io(), [&] { return ends_with(bytes, first); });
        std::tie(head, after_start) = split_head(bytes);
        recorded_while_open = handler.recorded.size();

        handler.source(0).push(": keep-alive\n\n");
        run_until(rig.io(), [&] { return ends_with(bytes, chunk_of(": keep-alive\n\n")); });
        after_push = split_head(bytes).second;

        handler.source(0).push("event: closed\ndata: {}\n\n", true);
        run_until(rig.io(), [&] { return ends_with(bytes, "0\r\n\r\n"); });
        run_for(rig.io(), 50ms);
        received = bytes;
        ended_early = rig.ended() || rig.client().closed();
        calls = handler.records.at(0)->calls;
    }
    const std::string log = capture.finish();

    BOOST_TEST(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0u, head);
    for (const char* field : {"\r\nContent-Type: text/event-stream\r\n",
                              "\r\nCache-Control: no-cache\r\n", "\r\nX-Accel-Buffering: no\r\n",
                              "\r\nTransfer-Encoding: chunked\r\n", "\r\nX-Request-Id: "}) {
        BOOST_TEST(head.find(field) != std::string::npos, field << " missing in " << head);
    }
    BOOST_TEST(head.find("Content-Length") == std::string::npos, head);
    BOOST_TEST(head.find("Connection: close") == std::string::npos, head);
    // The first events go with the head, each later piece is a chunk of its own, and the
    // source's last words go with the end of the body.
    BOOST_TEST(after_start == chunk_of(kFirstEvents));
    BOOST_TEST(after_push == chunk_of(kFirstEvents) + chunk_of(": keep-alive\n\n"));
    BOOST_TEST(split_head(received).second ==
               chunk_of(kFirstEvents) + chunk_of(": keep-alive\n\n") +
                   chunk_of("event: closed\ndata: {}\n\n") + "0\r\n\r\n");
    const auto parsed = parse_response(received);
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(parsed->message.body() ==
               std::string(kFirstEvents) + ": keep-alive\n\nevent: closed\ndata: {}\n\n");
    // A stream that ended leaves an HTTP/1.1 connection open, and next() was not called
    // after it said the stream had ended.
    BOOST_TEST(!ended_early);
    BOOST_TEST(calls == 2);
    // One count and one log line, once the stream ended, with every byte sent.
    BOOST_TEST(recorded_while_open == 0u);
    BOOST_TEST(handler.recorded[200] == 1u);
    const auto entries = access_log_entries(log);
    BOOST_TEST_REQUIRE(entries.size() == 1u, log);
    BOOST_TEST(entries[0].at("route").as_string() == "stream");
    BOOST_TEST(entries[0].at("status").as_int64() == 200);
    BOOST_TEST(entries[0].at("responseBytes").as_int64() ==
               static_cast<std::int64_t>(received.size()));
}

BOOST_AUTO_TEST_CASE(http_1_0_gets_the_stream_unframed_until_the_connection_closes) {
    StreamingHandler handler;
    PairRig rig(handler);
    rig.client().read();
    rig.client().send("GET /api/v1/threads/t1/stream HTTP/1.0\r\nX-API-Key: good\r\n\r\n");
    const auto& bytes = rig.client().received();
    BOOST_TEST_REQUIRE(run_until(rig.io(), [&] { return ends_with(bytes, kFirstEvents); }));
    handler.source(0).push("data: a\n\n");
    handler.source(0).push("event: closed\n\n", true);
    BOOST_TEST_REQUIRE(run_until(rig.io(), [&] { return rig.client().closed() && rig.ended(); }));
    const auto [head, body] = split_head(bytes);
    BOOST_TEST(head.find("\r\nConnection: close\r\n") != std::string::npos, head);
    BOOST_TEST(head.find("Transfer-Encoding") == std::string::npos, head);
    BOOST_TEST(head.find("Content-Length") == std::string::npos, head);
    BOOST_TEST(body == std::string(kFirstEvents) + "data: a\n\nevent: closed\n\n");
    BOOST_TEST(handler.recorded[200] == 1u);
}

BOOST_AUTO_TEST_CASE(a_request_sent_during_a_stream_is_answered_after_it_ends) {
    StreamingHandler handler;
    PairRig rig(handler);
    rig.client().read();
    rig.client().send(kStreamRequest);
    const auto& bytes = rig.client().received();
    BOOST_TEST_REQUIRE(
        run_until(rig.io(), [&] { return ends_with(bytes, chunk_of(kFirstEvents)); }));
    // The next request arrives while the stream waits: it is kept for later, and the stream
    // goes on.
    rig.client().send(kHealthRequest);
    run_for(rig.io(), 50ms);
    handler.source(0).push("data: b\n\n");
    BOOST_TEST_REQUIRE(
        run_until(rig.io(), [&] { return ends_with(bytes, chunk_of("data: b\n\n")); }));
    handler.source(0).push("", true);
    BOOST_TEST_REQUIRE(run_until(rig.io(), [&] { return parse_responses(bytes).size() == 2; }));
    const auto responses = parse_responses(bytes);
    BOOST_TEST(responses[0].status() == 200u);
    BOOST_TEST(responses[0].message.body() == std::string(kFirstEvents) + "data: b\n\n");
    BOOST_TEST(responses[1].status() == 200u);
    BOOST_TEST(responses[1].header("Content-Type") == "application/json");
    // The connection is still there for a third.
    rig.client().send(kHealthRequest);
    BOOST_TEST(run_until(rig.io(), [&] { return parse_responses(bytes).size() == 3; }));
    BOOST_TEST(!rig.ended());
    BOOST_TEST(handler.recorded[200] == 3u);
}

BOOST_AUTO_TEST_CASE(a_client_that_leaves_mid_stream_ends_its_session_at_once) {
    ServerRig rig;
    auto client = rig.connect();
    client->send(kStreamRequest);
    BOOST_TEST_REQUIRE(run_until(rig.io, [&] { return rig.handler.waiting() == 1; }));
    BOOST_TEST(rig.server.open_sessions() == 1u);
    // No timeout is near (the defaults: 75 s idle, 10 s per write): only the client's close
    // can end this session now.
    client->close();
    BOOST_TEST(run_until(rig.io, [&] { return rig.server.open_sessions() == 0; }));
    BOOST_TEST(rig.handler.records.at(0)->cancelled == 1);
    BOOST_TEST(rig.handler.sources.at(0).expired());
    BOOST_TEST(rig.handler.recorded[200] == 1u);
    BOOST_TEST(rig.server.failed_sessions() == 0u);
}

BOOST_AUTO_TEST_CASE(a_client_that_stops_reading_is_cut_off_by_the_write_timeout) {
    StreamingHandler handler;
    handler.flood_bytes = 64 * 1024;
    http::HttpLimits limits;
    limits.write_timeout = 200ms;
    PairRig rig(handler, limits);
    // The client sends its request and never reads: the socket's buffers fill up.
    rig.client().send(kStreamRequest);
    BOOST_TEST(run_until(rig.io(), [&] { return rig.ended(); }));
    BOOST_TEST(handler.records.at(0)->calls > 1);
    BOOST_TEST(handler.recorded[200] == 1u);
    BOOST_TEST(rig.failures() == 0u);
}

BOOST_AUTO_TEST_CASE(a_quiet_stream_outlives_the_request_deadline_and_the_idle_timeout) {
    StreamingHandler handler;
    http::HttpLimits limits;
    limits.request_timeout = 100ms;
    limits.idle_timeout = 100ms;
    PairRig rig(handler, limits);
    rig.client().read();
    rig.client().send(kStreamRequest);
    const auto& bytes = rig.client().received();
    BOOST_TEST_REQUIRE(run_until(rig.io(), [&] { return handler.waiting() == 1; }));
    run_for(rig.io(), 600ms);
    BOOST_TEST(!rig.ended());
    BOOST_TEST(!rig.client().closed());
    handler.source(0).push("data: late\n\n", true);
    BOOST_TEST(run_until(rig.io(), [&] { return ends_with(bytes, "0\r\n\r\n"); }));
    // After the stream, the connection is idle and the idle timeout applies again.
    BOOST_TEST(run_until(rig.io(), [&] { return rig.ended() && rig.client().closed(); }));
    BOOST_TEST(handler.records.at(0)->cancelled == 0);
}

BOOST_AUTO_TEST_CASE(shutdown_ends_open_streams_with_the_end_of_their_body) {
    ServerRig rig;
    auto first = rig.connect();
    auto second = rig.connect();
    first->send(kStreamRequest);
    second->send(kStreamRequest);
    // An idle keep-alive connection, whose next request comes after shutdown began.
    auto idle = rig.connect();
    idle->send(kHealthRequest);
    BOOST_TEST_REQUIRE(run_until(rig.io, [&] {
        return rig.handler.waiting() == 2 && parse_responses(idle->received()).size() == 1;
    }));

    std::optional<bool> clean;
    const auto began = std::chrono::steady_clock::now();
    rig.server.shutdown(60s, [&clean](bool ended) { clean = ended; });
    idle->send(kStreamRequest);
    BOOST_TEST_REQUIRE(run_until(
        rig.io, [&] { return clean.has_value(); }, 30s));
    const auto took = std::chrono::steady_clock::now() - began;
    BOOST_TEST(*clean);
    // Far from the grace period: streams do not hold shutdown up.
    BOOST_TEST(took < 20s);
    for (const auto* client : {first.get(), second.get()}) {
        BOOST_TEST(client->closed());
        BOOST_TEST(ends_with(client->received(), chunk_of(kFirstEvents) + "0\r\n\r\n"),
                   client->received());
        const auto response = parse_response(client->received());
        BOOST_TEST_REQUIRE(response.has_value());
        BOOST_TEST(response->message.body() == kFirstEvents);
    }
    BOOST_TEST(rig.handler.records.at(0)->cancelled == 1);
    BOOST_TEST(rig.handler.records.at(1)->cancelled == 1);
    // A stream asked for after shutdown began is refused like any request.
    const auto answers = parse_responses(idle->received());
    BOOST_TEST_REQUIRE(answers.size() == 2u);
    BOOST_TEST(answers[1].status() == 503u);
    BOOST_TEST(answers[1].header("Retry-After") == "1");
    BOOST_TEST(rig.handler.sources.size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_open_stream_counts_against_max_connections) {
    http::HttpLimits limits;
    limits.max_connections = 1;
    ServerRig rig(limits);
    auto streaming = rig.connect();
    streaming->send(kStreamRequest);
    BOOST_TEST_REQUIRE(run_until(rig.io, [&] { return rig.handler.waiting() == 1; }));

    auto over = rig.connect();
    over->send(kHealthRequest);
    BOOST_TEST_REQUIRE(run_until(rig.io, [&] { return over->closed(); }));
    const auto refused = parse_response(over->received());
    BOOST_TEST_REQUIRE(refused.has_value());
    BOOST_TEST(refused->status() == 503u);
    BOOST_TEST(refused->header("Retry-After") == "1");

    // The stream goes on, still the one session.
    rig.handler.source(0).push("data: c\n\n");
    BOOST_TEST(run_until(
        rig.io, [&] { return ends_with(streaming->received(), chunk_of("data: c\n\n")); }));
    BOOST_TEST(rig.server.open_sessions() == 1u);
}

BOOST_AUTO_TEST_CASE(a_waiting_stream_holds_at_most_16_KiB_and_nothing_grows_per_event) {
    constexpr std::size_t kStreams = 64;
    constexpr int kRound = 10;  // Events per round.
    ServerRig rig;
    rig.handler.sources.reserve(kStreams + 1);
    rig.handler.records.reserve(kStreams + 1);
    // Plain sockets for the clients, which allocate nothing on the heap; they never read.
    const auto open_stream = [&rig] {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const auto endpoint = rig.server.local_endpoint();
        BOOST_TEST_REQUIRE(::connect(fd, endpoint.data(), endpoint.size()) == 0);
        BOOST_TEST_REQUIRE(::send(fd, kStreamRequest.data(), kStreamRequest.size(), 0) ==
                           static_cast<ssize_t>(kStreamRequest.size()));
        return fd;
    };
    // Waits until every stream has had `calls` calls of next() and waits in the last one.
    const auto all_waiting = [&rig](int calls) {
        BOOST_TEST_REQUIRE(run_until(rig.io, [&] {
            if (rig.handler.records.size() < kStreams + 1) {
                return false;
            }
            for (std::size_t i = 1; i <= kStreams; ++i) {
                const auto& record = *rig.handler.records[i];
                if (record.calls < calls || !record.waiting) {
                    return false;
                }
            }
            return true;
        }));
    };
    // Heap in use once what was on its way (cancelled timers, say) has been run.
    const auto settled_heap = [&rig] {
        run_for(rig.io, 100ms);
        return heap_bytes();
    };
    // A round of events to every stream, a large one among them.
    int calls = 1;
    const auto send_round = [&] {
        for (int event = 0; event < kRound; ++event) {
            const std::string piece =
                "data: " + std::string(event == 0 ? 8 * 1024 : 100, 'e') + "\n\n";
            for (std::size_t i = 1; i <= kStreams; ++i) {
                rig.handler.source(i).push(piece);
            }
            all_waiting(++calls);
        }
        return settled_heap();
    };

    // One stream first, so that what the server allocates once is there before counting.
    const int warm = open_stream();
    BOOST_TEST_REQUIRE(run_until(rig.io, [&] { return rig.handler.waiting() == 1; }));
    ::close(warm);
    BOOST_TEST_REQUIRE(run_until(rig.io, [&] { return rig.server.open_sessions() == 0; }));
    run_for(rig.io, 100ms);

    const std::size_t before = heap_bytes();
    std::vector<int> clients;
    for (std::size_t i = 0; i < kStreams; ++i) {
        clients.push_back(open_stream());
    }
    all_waiting(calls);
    const std::size_t opened = settled_heap();
    const std::size_t first_round = send_round();
    const std::size_t second_round = send_round();
    const auto per_stream = [](std::size_t from, std::size_t to) {
        return (static_cast<double>(to) - static_cast<double>(from)) / kStreams;
    };
    // Everything a waiting stream holds (connection, strand, session, frames, buffers, this
    // test's source), as it starts and after events.
    BOOST_TEST_MESSAGE("heap per waiting stream: " << per_stream(before, opened)
                                                   << " bytes, after events: "
                                                   << per_stream(before, first_round));
    BOOST_TEST(per_stream(before, opened) <= 16.0 * 1024);
    BOOST_TEST(per_stream(before, first_round) <= 16.0 * 1024);
    // A second round of the same events holds nothing more.
    BOOST_TEST_MESSAGE("growth per stream over "
                       << kRound << " more events: " << per_stream(first_round, second_round));
    BOOST_TEST(per_stream(first_round, second_round) <= 16.0);

    for (const int fd : clients) {
        ::close(fd);
    }
    BOOST_TEST(run_until(rig.io, [&] { return rig.server.open_sessions() == 0; }));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
