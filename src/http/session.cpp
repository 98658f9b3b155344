#include "threadsd/http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>

#include "threadsd/http/request_id.hpp"
#include "threadsd/http/request_reader.hpp"
#include "threadsd/http/response_head.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);
using Clock = std::chrono::steady_clock;

/// Bytes asked of the socket per read. Small, so an idle connection's buffer stays small.
constexpr std::size_t kReadBytes = 4096;
/// A buffer grown past this by a large request is given back once the connection is idle.
constexpr std::size_t kIdleBufferBytes = 8192;
/// How long, and how many bytes, a connection being closed keeps reading what the client
/// still sends: enough for a client to stop and read its answer, no more.
constexpr std::chrono::seconds kLinger{1};
constexpr std::size_t kLingerBytes = 1024 * 1024;
/// The interim answer to `Expect: 100-continue`.
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
/// A piece of an event stream larger than this is not kept between pieces: its string is
/// given back, so that a waiting stream holds no large buffer.
constexpr std::size_t kStreamPieceBytes = 4096;
/// The end of a chunked body: the last chunk and an empty trailer (RFC 9112 7.1).
constexpr std::string_view kLastChunk = "0\r\n\r\n";
/// What follows the data of a chunk.
constexpr std::string_view kChunkEnd = "\r\n";

/// The peer's address, or nothing when the socket no longer knows it (or is not TCP).
template <class Stream>
std::optional<net::ip::address> peer_address(Stream& stream) {
    if constexpr (std::is_same_v<typename Stream::protocol_type, net::ip::tcp>) {
        beast::error_code ec;
        const auto endpoint = stream.socket().remote_endpoint(ec);
        if (!ec) {
            return endpoint.address();
        }
    }
    return std::nullopt;
}

/// The readable bytes of `buffer` as text.
std::string_view view_of(const beast::flat_buffer& buffer) {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

/// What one call of EventSource::next gave.
struct Piece {
    bool done = false;           ///< next() returned: `more` and what it appended count.
    bool more = false;           ///< The stream goes on.
    std::exception_ptr failure;  ///< next() threw (also when it was cancelled).
};

/// Runs `events.next(out)` and keeps its answer in `piece`. It is awaited beside the
/// socket's readiness: whichever completes first, the other one may have completed too,
/// and a piece the source has given must be sent, never dropped with the loser's result.
net::awaitable<void> next_piece(api::EventSource& events, std::string& out, Piece& piece) {
    try {
        const bool more = co_await events.next(out);
        piece.more = more;
        piece.done = true;
    } catch (...) {
        piece.failure = std::current_exception();
    }
}

/// How an event stream ended.
enum class StreamEnd {
    kStreaming,  ///< It has not.
    kEnded,      ///< The source ended it; its last piece went with the end of the body.
    kCut,        ///< The server ends it (shutdown, or a full read buffer): the end of the
                 ///< body is still to be sent.
    kGone,       ///< The client left or stopped reading: nothing more can be sent.
};

/// What the session does after an exchange.
enum class Next {
    kNextRequest,  ///< The connection stays open for the next request.
    kClose,        ///< An answer said goodbye: close, after the linger.
    kGone,         ///< The peer left, or timed out: nothing more to say.
};

/// One connection's coroutine state and the steps of its request loop.
template <class Stream>
class Session {
  public:
    /// Serves `stream`, which outlives the session.
    Session(Stream& stream, SessionContext context, SessionState& state)
        : stream_(stream), context_(context), state_(state), peer_(peer_address(stream)) {
        buffer_.max_size(context.limits.max_header_bytes + kReadBytes);
        if (peer_) {
            client_ = address_text(*peer_);
        }
    }

    /// The request loop, until an exchange ends the connection; its one way out.
    net::awaitable<void> serve();

    /// Answers `response` to a connection it will not serve, then closes it.
    net::awaitable<void> turn_away(Response response);

    /// The X-Request-Id of the request being served, for a log line about it.
    const std::string& request_id() const { return request_id_; }

  private:
    /// Waits for the first byte of the next request; false when the connection ends.
    net::awaitable<bool> wait_for_request();
    /// Reads, decides and answers one request.
    net::awaitable<Next> exchange();
    /// Feeds `reader` from the buffer and the socket until its state changes; false when
    /// the peer left or the request's deadline passed first.
    net::awaitable<bool> read(RequestReader& reader);
    /// Reads as `read` does; nothing when `reader` has what it waited for, or else what
    /// follows: the peer is gone, or the reader's refusal has been answered.
    net::awaitable<std::optional<Next>> read_or_refuse(RequestReader& reader);
    /// Sends `100 Continue`; false when the peer is gone.
    net::awaitable<bool> send_continue();
    /// Every reply and every refusal ends here: writes `response` and says what follows.
    net::awaitable<Next> answer(Response response, bool keep_alive);
    /// A reply with events: writes its head and first events, then each piece its source
    /// gives, until the source ends it, the client leaves or stops reading, or shutdown;
    /// then writes its access log line and says what follows, as answer() does.
    net::awaitable<Next> stream(Reply reply, bool keep_alive);
    /// Writes `prefix` (a head, or nothing), then `piece` (one chunk when `chunked`, none
    /// when empty) and, when `last` and `chunked`, the end of the body, within the write
    /// timeout; adds the bytes written to `sent`. False when the peer is gone or too slow.
    net::awaitable<bool> send_piece(std::string_view prefix, std::string_view piece, bool chunked,
                                    bool last, std::size_t& sent);
    /// After a goodbye: no more sending, then read what the client still sends until it
    /// closes (within kLinger and kLingerBytes), since closing on unread bytes resets the
    /// connection and can destroy the answer before the client reads it.
    net::awaitable<void> linger();
    /// Counts the answered request in the metrics and writes its access log line.
    void finish_exchange(unsigned status, std::size_t response_bytes);

    /// What the current exchange has learned, for its metrics and log line.
    struct Exchange {
        bool started = false;           ///< A byte of a request was read.
        const Request* head = nullptr;  ///< Its head, once parsed.
        std::optional<RouteId> route;   ///< The matched route, if any.
        std::size_t request_bytes = 0;  ///< Body bytes received.
    };

    Stream& stream_;             ///< The connection.
    SessionContext context_;     ///< Handler and limits.
    SessionState& state_;        ///< What shutdown sees.
    beast::flat_buffer buffer_;  ///< Persists across requests: it may hold pipelined bytes.
    std::string head_;           ///< A response's status line and headers; capacity is reused.
    std::string piece_;          ///< A stream's next piece; large capacity is given back.
    std::optional<net::ip::address> peer_;  ///< The other end of the connection.
    std::string client_;  ///< The peer's address as text: the client unless a proxy says else.
    Clock::time_point started_;   ///< When the current request's first byte was there.
    Clock::time_point deadline_;  ///< When the current request must be complete.
    std::string request_id_;      ///< X-Request-Id of the current request.
    Exchange exchange_;           ///< The current request, as far as it is known.
};

template <class Stream>
net::awaitable<void> Session<Stream>::serve() {
    for (;;) {
        if (buffer_.size() == 0) {
            const bool more = co_await wait_for_request();
            if (!more) {
                break;
            }
        }
        const Next next = co_await exchange();
        if (next == Next::kNextRequest) {
            continue;
        }
        if (next == Next::kClose) {
            co_await linger();
        }
        break;
    }
}

template <class Stream>
net::awaitable<void> Session<Stream>::turn_away(Response response) {
    const Next next = co_await answer(std::move(response), false);
    if (next == Next::kClose) {
        co_await linger();
    }
}

template <class Stream>
net::awaitable<bool> Session<Stream>::wait_for_request() {
    // A large request grew the buffer; an idle connection keeps only a small one.
    if (buffer_.capacity() > kIdleBufferBytes) {
        buffer_.shrink_to_fit();
    }
    // Idle between requests: shutdown may cut this wait, and only this one.
    state_.idle = true;
    if (context_.draining.load()) {
        co_return false;
    }
    stream_.expires_after(context_.limits.idle_timeout);
    auto [ec, bytes] = co_await stream_.async_read_some(buffer_.prepare(kReadBytes), kAsTuple);
    state_.idle = false;
    if (ec) {
        co_return false;  // Closed by the peer, idle timeout, or shutdown.
    }
    buffer_.commit(bytes);
    co_return true;
}

template <class Stream>
net::awaitable<bool> Session<Stream>::read(RequestReader& reader) {
    const ReadState waiting = reader.state();
    if (waiting != ReadState::kHead && waiting != ReadState::kBody) {
        co_return true;  // Nothing to read: no body, or refused before reading it.
    }
    for (;;) {
        if (buffer_.size() > 0) {
            buffer_.consume(reader.feed(view_of(buffer_)));
        }
        if (reader.state() != waiting) {
            co_return true;
        }
        // The reader refuses a head before it fills the buffer, and takes every body byte
        // it is given, so there is always room; the check only guards the invariant.
        const std::size_t room = buffer_.max_size() - buffer_.size();
        if (room == 0) {
            co_return false;
        }
        stream_.expires_at(deadline_);
        auto [ec, bytes] =
            co_await stream_.async_read_some(buffer_.prepare(std::min(kReadBytes, room)), kAsTuple);
        if (ec) {
            co_return false;
        }
        buffer_.commit(bytes);
    }
}

template <class Stream>
net::awaitable<std::optional<Next>> Session<Stream>::read_or_refuse(RequestReader& reader) {
    const bool read_all = co_await read(reader);
    exchange_.request_bytes = reader.body_bytes();
    if (!read_all) {
        co_return Next::kGone;
    }
    if (reader.state() != ReadState::kFailed) {
        co_return std::nullopt;
    }
    Response refusal = error_response(reader.error());
    const Next next = co_await answer(std::move(refusal), false);
    co_return next;
}

template <class Stream>
net::awaitable<bool> Session<Stream>::send_continue() {
    // Within the request's own deadline: waiting for permission does not extend it.
    stream_.expires_at(std::min(deadline_, Clock::now() + context_.limits.write_timeout));
    auto [ec, bytes] = co_await net::async_write(stream_, net::buffer(kContinue), kAsTuple);
    (void)bytes;
    co_return !ec;
}

template <class Stream>
net::awaitable<Next> Session<Stream>::exchange() {
    const auto& limits = context_.limits;
    // One deadline for the whole request, counted from its first byte.
    started_ = Clock::now();
    deadline_ = started_ + limits.request_timeout;
    exchange_ = Exchange{};
    exchange_.started = true;
    request_id_.clear();
    // A request that begins after shutdown began is told to retry elsewhere.
    const bool arrived_while_draining = context_.draining.load();

    RequestReader reader(limits);  // Fresh per request: never reused.
    const std::optional<Next> no_head = co_await read_or_refuse(reader);
    if (no_head) {
        co_return *no_head;
    }
    const Request& head = reader.request();
    exchange_.head = &head;
    request_id_ = request_id_for(head["X-Request-Id"]);
    const bool keep_alive = head.version() >= 11 && head.keep_alive() && !arrived_while_draining;

    if (arrived_while_draining) {
        exchange_.route = context_.handler.route_of(head);
        Response refusal = retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the server is shutting down"}, 1);
        const Next next = co_await answer(std::move(refusal), false);
        co_return next;
    }

    auto admission = co_await context_.handler.admit(head, request_id_, exchange_.route);
    if (auto* refused = std::get_if<Response>(&admission)) {
        Response refusal = std::move(*refused);
        // A client waiting for permission to send its body is answered at once, and the
        // connection closed, since its body may or may not follow.
        if (reader.expects_continue()) {
            const Next next = co_await answer(std::move(refusal), false);
            co_return next;
        }
        // Otherwise the body is read and dropped, which keeps the connection usable.
        reader.start_body(false);
        const bool read_all = co_await read(reader);
        exchange_.request_bytes = reader.body_bytes();
        if (!read_all) {
            co_return Next::kGone;
        }
        const bool usable = reader.state() == ReadState::kDone;
        const Next next = co_await answer(std::move(refusal), keep_alive && usable);
        co_return next;
    }

    reader.start_body(true);
    if (reader.state() == ReadState::kBody && reader.expects_continue()) {
        const bool sent = co_await send_continue();
        if (!sent) {
            co_return Next::kGone;
        }
    }
    const std::optional<Next> no_body = co_await read_or_refuse(reader);
    if (no_body) {
        co_return *no_body;
    }
    Admission admitted = std::get<Admission>(std::move(admission));
    Reply reply = co_await context_.handler.handle(std::move(admitted), reader.request());
    const bool still_alive = keep_alive && !context_.draining.load();
    // A HEAD request gets the head alone (answer() sends no body), so no stream starts.
    if (reply.events && head.method() != bhttp::verb::head) {
        const Next next = co_await stream(std::move(reply), still_alive);
        co_return next;
    }
    Response response = std::move(reply.response);
    const Next next = co_await answer(std::move(response), still_alive);
    co_return next;
}

// Serializes the head of `response` into `head` (a buffer the caller reuses) and writes
// head and body in one gathered write within `timeout`; false when the peer is gone.
template <class Stream>
net::awaitable<bool> send_response(Stream& stream, std::string& head, const Response& response,
                                   const std::string& request_id, bool keep_alive, bool head_only,
                                   std::chrono::milliseconds timeout) {
    serialize_response_head(head, response, current_http_date(), request_id, keep_alive);
    // A response to HEAD carries the headers of the full response but no body
    // (RFC 9110 9.3.2); sending one would desynchronise a keep-alive client.
    const std::string_view body = head_only ? std::string_view{} : response.body();
    const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
    stream.expires_after(timeout);
    auto [ec, bytes] = co_await net::async_write(stream, buffers, kAsTuple);
    (void)bytes;
    co_return !ec;
}

template <class Stream>
net::awaitable<Next> Session<Stream>::answer(Response response, bool keep_alive) {
    if (request_id_.empty()) {
        request_id_ = request_id_for({});
    }
    const bool head_only =
        exchange_.head != nullptr && exchange_.head->method() == bhttp::verb::head;
    const unsigned status = response.result_int();
    const std::size_t body_size = head_only ? 0 : response.body().size();
    const bool sent = co_await send_response(stream_, head_, response, request_id_, keep_alive,
                                             head_only, context_.limits.write_timeout);
    if (!sent) {
        co_return Next::kGone;
    }
    finish_exchange(status, head_.size() + body_size);
    co_return keep_alive ? Next::kNextRequest : Next::kClose;
}

template <class Stream>
net::awaitable<Next> Session<Stream>::stream(Reply reply, bool keep_alive) {
    using namespace net::experimental::awaitable_operators;
    // HTTP/1.1 frames each piece as a chunk, so that the connection can serve another
    // request after the stream; HTTP/1.0 has no framing: the body ends with the connection.
    const bool chunked = exchange_.head->version() >= 11;
    keep_alive = keep_alive && chunked;
    std::size_t sent = 0;
    serialize_stream_head(head_, reply.response, current_http_date(), request_id_, chunked,
                          keep_alive);
    const bool started = co_await send_piece(head_, reply.response.body(), chunked, false, sent);
    // From here on only the source is needed: its head and first events are given back.
    reply.response = Response{};
    const std::shared_ptr<api::EventSource> events = std::move(reply.events);
    StreamEnd end = started ? StreamEnd::kStreaming : StreamEnd::kGone;
    // A waiting stream keeps no read buffer, unless the client already sent bytes of its
    // next request.
    buffer_.shrink_to_fit();

    while (end == StreamEnd::kStreaming) {
        if (context_.draining.load()) {
            end = StreamEnd::kCut;
            break;
        }
        // Wait for the source's next piece or for the client (bytes, or its leaving), with
        // no deadline: the source sends its keep-alives itself. Shutdown may cut this wait.
        Piece piece;
        piece_.clear();
        state_.streaming = true;
        stream_.expires_never();
        auto either = next_piece(*events, piece_, piece) ||
                      stream_.socket().async_wait(net::socket_base::wait_read, kAsTuple);
        const auto woken = co_await std::move(either);
        state_.streaming = false;

        if (piece.done) {
            const bool wrote = co_await send_piece({}, piece_, chunked, !piece.more, sent);
            if (piece_.capacity() > kStreamPieceBytes) {
                piece_.clear();
                piece_.shrink_to_fit();
            }
            if (!wrote) {
                end = StreamEnd::kGone;
            } else if (!piece.more) {
                end = StreamEnd::kEnded;
            }
            if (end != StreamEnd::kStreaming) {
                break;
            }
        } else if (piece.failure && woken.index() == 0) {
            // The source failed on its own (not cancelled by the session): the stream ends
            // without the end of its body, so the client sees it cut off.
            finish_exchange(200, sent);
            std::rethrow_exception(piece.failure);
        }
        if (woken.index() != 1) {
            continue;
        }
        const auto [wait_error] = std::get<1>(woken);
        if (wait_error) {
            // Cancelled by shutdown (or the socket failed): end cleanly if it can be done.
            end = context_.draining.load() ? StreamEnd::kCut : StreamEnd::kGone;
            break;
        }
        // The client sent bytes (its next request, pipelined) or left. Its bytes wait in the
        // buffer, within the buffer's bound; a full buffer ends the stream.
        const std::size_t room = buffer_.max_size() - buffer_.size();
        stream_.expires_after(context_.limits.request_timeout);
        auto [read_error, bytes] =
            co_await stream_.async_read_some(buffer_.prepare(std::min(kReadBytes, room)), kAsTuple);
        if (read_error) {
            end = StreamEnd::kGone;  // Closed or reset: the connection is freed at once.
            break;
        }
        buffer_.commit(bytes);
        buffer_.shrink_to_fit();
        if (buffer_.size() >= buffer_.max_size()) {
            end = StreamEnd::kCut;
        }
    }

    if (end == StreamEnd::kCut) {
        const bool wrote = co_await send_piece({}, {}, chunked, true, sent);
        if (!wrote) {
            end = StreamEnd::kGone;
        }
    }
    piece_.clear();
    piece_.shrink_to_fit();
    // One line for the whole stream, however it ended: its bytes and its duration.
    finish_exchange(200, sent);
    if (end == StreamEnd::kGone) {
        co_return Next::kGone;
    }
    // The head said nothing of closing; a stream that shutdown cut ends with the connection.
    co_return keep_alive && !context_.draining.load() ? Next::kNextRequest : Next::kClose;
}

template <class Stream>
net::awaitable<bool> Session<Stream>::send_piece(std::string_view prefix, std::string_view piece,
                                                 bool chunked, bool last, std::size_t& sent) {
    const bool framed = chunked && !piece.empty();  // An empty chunk would end the body.
    const ChunkSizeLine size_line(piece.size());
    const std::array<net::const_buffer, 5> buffers{
        net::buffer(prefix), net::buffer(framed ? size_line.text() : std::string_view{}),
        net::buffer(piece), net::buffer(framed ? kChunkEnd : std::string_view{}),
        net::buffer(chunked && last ? kLastChunk : std::string_view{})};
    if (net::buffer_size(buffers) == 0) {
        co_return true;
    }
    stream_.expires_after(context_.limits.write_timeout);
    auto [ec, bytes] = co_await net::async_write(stream_, buffers, kAsTuple);
    sent += bytes;
    co_return !ec;
}

template <class Stream>
net::awaitable<void> Session<Stream>::linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(net::socket_base::shutdown_send, ignored);
    stream_.expires_after(kLinger);
    char sink[4096];
    const net::mutable_buffer into = net::buffer(sink);
    for (std::size_t drained = 0; drained < kLingerBytes;) {
        auto [ec, bytes] = co_await stream_.async_read_some(into, kAsTuple);
        if (ec) {
            co_return;
        }
        drained += bytes;
    }
}

template <class Stream>
void Session<Stream>::finish_exchange(unsigned status, std::size_t response_bytes) {
    if (!exchange_.started) {
        return;  // A connection turned away before it sent a request.
    }
    const auto duration = Clock::now() - started_;
    context_.handler.record(exchange_.route, status, duration);
    const auto& settings = context_.access_log;
    if (!settings.enabled) {
        return;
    }
    AccessRecord record;
    record.request_id = request_id_;
    record.route = route_name(exchange_.route);
    record.client = client_;
    record.status = status;
    record.duration = duration;
    record.request_bytes = exchange_.request_bytes;
    record.response_bytes = response_bytes;
    std::string forwarded_client;
    if (const Request* head = exchange_.head) {
        record.method = head->method_string();
        const std::string_view target = head->target();
        record.path = target.substr(0, target.find('?'));
        if (peer_ && !settings.trusted_proxies.empty()) {
            std::vector<std::string_view> forwarded_for;
            const auto [first, last] = head->equal_range("X-Forwarded-For");
            for (auto field = first; field != last; ++field) {
                forwarded_for.push_back(field->value());
            }
            forwarded_client = settings.trusted_proxies.client_address(*peer_, forwarded_for);
            record.client = forwarded_client;
        }
    }
    write_access_log(access_log_line(record, util::unix_millis_now()));
}

}  // namespace

template <class Stream>
net::awaitable<void> refuse_connection(Stream stream, SessionContext context) {
    SessionState state;
    Session<Stream> session(stream, context, state);
    Response refusal = retry_later_response(
        {api::ErrorCode::kServiceUnavailable, "the server is at its connection limit"}, 1);
    co_await session.turn_away(std::move(refusal));
}

template <class Stream>
net::awaitable<void> run_session(Stream stream, SessionContext context,
                                 std::shared_ptr<SessionState> state) {
    state->cancel = [&stream] { stream.cancel(); };
    Session<Stream> session(stream, context, *state);
    std::exception_ptr failure;
    try {
        co_await session.serve();
    } catch (...) {
        failure = std::current_exception();
    }
    state->cancel = nullptr;
    if (failure) {
        // A fault of the server's own, not of the client: this connection alone ends.
        context.failures.fetch_add(1, std::memory_order_relaxed);
        std::string what = "a non-standard exception";
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& error) {
            what = error.what();
        } catch (...) {
        }
        const std::string& id = session.request_id();
        util::log_error("connection closed: serving request " + (id.empty() ? "-" : id) +
                        " failed: " + what);
    }
    // Tell the peer we are done; errors here only mean it already left.
    beast::error_code ignored;
    stream.socket().shutdown(net::socket_base::shutdown_send, ignored);
}

template net::awaitable<void> run_session(beast::tcp_stream, SessionContext,
                                          std::shared_ptr<SessionState>);
template net::awaitable<void> run_session(LocalStream, SessionContext,
                                          std::shared_ptr<SessionState>);
template net::awaitable<void> refuse_connection(beast::tcp_stream, SessionContext);
template net::awaitable<void> refuse_connection(LocalStream, SessionContext);

}  // namespace threadsd::http
