#include "threadsd/http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <chrono>
#include <optional>

#include "threadsd/http/access_log.hpp"
#include "threadsd/http/request_id.hpp"
#include "threadsd/http/response_head.hpp"
#include "threadsd/util/clock.hpp"

namespace threadsd::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);
using Parser = bhttp::request_parser<bhttp::string_body>;

/// How reading the rest of a request ended.
enum class BodyOutcome {
    kRead,       ///< The whole request is in the parser.
    kTooLarge,   ///< Over the body limit: answer 413 and close.
    kMalformed,  ///< Bad chunk framing: answer 400 and close.
    kGone,       ///< Peer closed, timed out or reset: nothing to answer.
};

// Errors of Beast's HTTP category that mean "these bytes are not HTTP" rather than
// "the connection ended".
bool is_syntax_error(const beast::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
           ec != bhttp::error::need_more;
}

// A request that frames its body with something other than chunked is refused outright:
// guessing its length is how request smuggling starts.
bool has_unsupported_transfer_coding(const Request& head) {
    return head.find(bhttp::field::transfer_encoding) != head.end() && !head.chunked();
}

using Clock = std::chrono::steady_clock;

/// The peer's address, or nothing when the socket no longer knows it.
std::optional<net::ip::address> peer_address(beast::tcp_stream& stream) {
    beast::error_code ec;
    const auto endpoint = stream.socket().remote_endpoint(ec);
    if (ec) {
        return std::nullopt;
    }
    return endpoint.address();
}

/// One answered request, as metrics and the access log see it.
struct Exchange {
    std::optional<RouteId> route;    ///< Matched route, if any.
    const Request* head = nullptr;   ///< The request's head; null when it was not HTTP.
    std::string_view request_id;     ///< Sent back in X-Request-Id.
    unsigned status = 0;             ///< Status sent.
    std::size_t response_bytes = 0;  ///< Head and body sent.
};

// Says goodbye after a final answer: no more sending, then wait (briefly) for the client
// to close.
net::awaitable<void> drain_then_close(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    // Read what the client still sends until it closes, for at most a second: closing
    // with unread bytes would reset the connection and could lose the answer.
    stream.expires_after(std::chrono::seconds(1));
    char sink[1024];
    const net::mutable_buffer into = net::buffer(sink);
    for (;;) {
        auto [read_ec, bytes] = co_await stream.async_read_some(into, kAsTuple);
        (void)bytes;
        if (read_ec) {
            co_return;
        }
    }
}

/// One connection's coroutine state and the steps of its request loop.
class Session {
  public:
    /// Serves `stream`, which outlives the session.
    Session(beast::tcp_stream& stream, SessionContext context)
        : stream_(stream), context_(context), peer_(peer_address(stream)) {
        if (peer_) {
            client_ = address_text(*peer_);
        }
    }

    /// The request loop: read, admit, read the body, handle, write; until the end.
    net::awaitable<void> serve(SessionState& state);

  private:
    /// Reads the body of an admitted (or refused) request within the body limit.
    net::awaitable<BodyOutcome> read_body(Parser& parser);
    /// Finishes the response's headers and writes it; false when the peer is gone.
    net::awaitable<bool> write(Response response, const std::string& request_id, bool keep_alive,
                               bool head_only = false);
    /// Answers bytes that are not a usable request; the caller closes afterwards.
    net::awaitable<void> refuse(const api::ApiError& error);
    /// Counts an answered request in the metrics and writes its access log line.
    void finish_exchange(const Exchange& exchange);

    beast::tcp_stream& stream_;  ///< The connection.
    SessionContext context_;     ///< Handler and limits.
    beast::flat_buffer buffer_;  ///< Persists across requests: it may hold pipelined bytes.
    std::string head_;           ///< A response's status line and headers; capacity is reused.
    std::optional<boost::asio::ip::address> peer_;  ///< The other end of the connection.
    std::string client_;  ///< The peer's address as text: the client unless a proxy says else.
    Clock::time_point started_;  ///< When the current request's first byte was there.
};

net::awaitable<BodyOutcome> Session::read_body(Parser& parser) {
    if (parser.is_done()) {
        co_return BodyOutcome::kRead;
    }
    const auto declared = parser.content_length();
    if (declared && *declared > context_.limits.max_body_bytes) {
        co_return BodyOutcome::kTooLarge;
    }
    // Enforced by Beast for chunked bodies, whose size is learned while reading.
    parser.body_limit(context_.limits.max_body_bytes);
    auto [ec, bytes] = co_await bhttp::async_read(stream_, buffer_, parser, kAsTuple);
    (void)bytes;
    if (!ec) {
        co_return BodyOutcome::kRead;
    }
    if (ec == bhttp::error::body_limit) {
        co_return BodyOutcome::kTooLarge;
    }
    co_return is_syntax_error(ec) ? BodyOutcome::kMalformed : BodyOutcome::kGone;
}

// Serializes the head of `response` into `head` (a buffer the caller reuses) and writes
// head and body in one gathered write within `timeout`; false when the peer is gone.
net::awaitable<bool> send_response(beast::tcp_stream& stream, std::string& head,
                                   const Response& response, const std::string& request_id,
                                   bool keep_alive, bool head_only,
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

net::awaitable<bool> Session::write(Response response, const std::string& request_id,
                                    bool keep_alive, bool head_only) {
    const bool sent = co_await send_response(stream_, head_, response, request_id, keep_alive,
                                             head_only, context_.limits.write_timeout);
    co_return sent;
}

void Session::finish_exchange(const Exchange& exchange) {
    const auto duration = Clock::now() - started_;
    context_.handler.record(exchange.route, exchange.status, duration);
    const auto& settings = context_.access_log;
    if (!settings.enabled) {
        return;
    }
    AccessRecord record;
    record.request_id = exchange.request_id;
    record.route = route_name(exchange.route);
    std::string forwarded_client;
    record.client = client_;
    record.status = exchange.status;
    record.duration = duration;
    record.response_bytes = exchange.response_bytes;
    if (exchange.head != nullptr) {
        record.method = exchange.head->method_string();
        const std::string_view target = exchange.head->target();
        record.path = target.substr(0, target.find('?'));
        record.request_bytes = exchange.head->body().size();
        if (peer_ && !settings.trusted_proxies.empty()) {
            std::vector<std::string_view> forwarded_for;
            const auto [first, last] = exchange.head->equal_range("X-Forwarded-For");
            for (auto field = first; field != last; ++field) {
                forwarded_for.push_back(field->value());
            }
            forwarded_client = settings.trusted_proxies.client_address(*peer_, forwarded_for);
            record.client = forwarded_client;
        }
    }
    write_access_log(access_log_line(record, util::unix_millis_now()));
}

// Answers a request whose bytes could not be used, then the caller closes.
net::awaitable<void> Session::refuse(const api::ApiError& error) {
    // Named locals, never temporaries, in a co_await full-expression: g++ 12 destroys such
    // temporaries twice (a double free that aborts the process).
    Response response = error_response(error);
    const std::string request_id = request_id_for({});
    const unsigned status = response.result_int();
    co_await write(std::move(response), request_id, false);
    finish_exchange({std::nullopt, nullptr, request_id, status, head_.size()});
}

net::awaitable<void> Session::serve(SessionState& state) {
    const auto& limits = context_.limits;
    for (;;) {
        if (buffer_.size() == 0) {
            // Idle between requests: shutdown may cut this wait, and only this one.
            state.idle = true;
            if (context_.draining.load()) {
                co_return;
            }
            stream_.expires_after(limits.idle_timeout);
            auto [ec, bytes] = co_await stream_.async_read_some(buffer_.prepare(4096), kAsTuple);
            state.idle = false;
            if (ec) {
                co_return;  // Closed by the peer, idle timeout, or shutdown.
            }
            buffer_.commit(bytes);
        }

        // One deadline for the whole request, counted from its first byte.
        started_ = Clock::now();
        // A request that begins after shutdown began is told to retry elsewhere.
        const bool arrived_while_draining = context_.draining.load();
        stream_.expires_after(limits.request_timeout);
        Parser parser;  // Fresh per request: a parser is never reused.
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        parser.body_limit(boost::none);  // Checked after routing; see read_body.
        auto [ec, bytes] = co_await bhttp::async_read_header(stream_, buffer_, parser, kAsTuple);
        (void)bytes;
        if (ec == bhttp::error::header_limit) {
            const api::ApiError too_large{api::ErrorCode::kHeaderFieldsTooLarge,
                                          "request line and headers exceed " +
                                              std::to_string(limits.max_header_bytes) + " bytes"};
            co_await refuse(too_large);
            co_return;
        }
        if (ec) {
            if (is_syntax_error(ec)) {
                const api::ApiError not_http{api::ErrorCode::kBadRequest,
                                             "the request is not valid HTTP/1.1"};
                co_await refuse(not_http);
            }
            co_return;
        }
        const Request& head = parser.get();
        const std::string request_id = request_id_for(head["X-Request-Id"]);
        if (arrived_while_draining) {
            Response refused = retry_later_response(
                {api::ErrorCode::kServiceUnavailable, "the server is shutting down"}, 1);
            const std::size_t size = refused.body().size();
            const bool sent = co_await write(std::move(refused), request_id, false);
            if (sent) {
                finish_exchange(
                    {context_.handler.route_of(head), &head, request_id, 503, head_.size() + size});
                co_await drain_then_close(stream_);
            }
            co_return;
        }
        if (has_unsupported_transfer_coding(head)) {
            Response refused =
                error_response({api::ErrorCode::kBadRequest,
                                "Transfer-Encoding other than chunked is not supported"});
            const std::size_t size = refused.body().size();
            co_await write(std::move(refused), request_id, false);
            finish_exchange(
                {context_.handler.route_of(head), &head, request_id, 400, head_.size() + size});
            co_return;
        }
        const bool wants_continue =
            beast::iequals(trim_header_value(head[bhttp::field::expect]), "100-continue");

        std::optional<RouteId> route;
        auto admission = context_.handler.admit(head, request_id, route);
        Response response;
        BodyOutcome body = BodyOutcome::kGone;
        if (auto* refused = std::get_if<Response>(&admission)) {
            response = std::move(*refused);
            // Reading a refused body keeps the connection usable, unless the client is
            // waiting for permission to send it.
            if (!wants_continue || parser.is_done()) {
                body = co_await read_body(parser);
            }
            if (body == BodyOutcome::kGone && !wants_continue) {
                co_return;
            }
        } else {
            if (wants_continue && !parser.is_done()) {
                const auto declared = parser.content_length();
                if (!declared || *declared <= limits.max_body_bytes) {
                    bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
                    stream_.expires_after(limits.write_timeout);
                    auto [write_ec, written] =
                        co_await bhttp::async_write(stream_, go_on, kAsTuple);
                    (void)written;
                    if (write_ec) {
                        co_return;
                    }
                    // Back to the request's own deadline for the body.
                    stream_.expires_after(limits.request_timeout);
                }
            }
            body = co_await read_body(parser);
            switch (body) {
                case BodyOutcome::kRead: {
                    Admission admitted = std::get<Admission>(std::move(admission));
                    response = co_await context_.handler.handle(std::move(admitted), parser.get());
                    break;
                }
                case BodyOutcome::kTooLarge:
                    response =
                        error_response({api::ErrorCode::kPayloadTooLarge,
                                        "request body exceeds " +
                                            std::to_string(limits.max_body_bytes) + " bytes"});
                    break;
                case BodyOutcome::kMalformed:
                    response = error_response({api::ErrorCode::kBadRequest,
                                               "the request body's chunked framing is invalid"});
                    break;
                case BodyOutcome::kGone:
                    co_return;
            }
        }

        const bool keep_alive = body == BodyOutcome::kRead && parser.get().version() >= 11 &&
                                parser.get().keep_alive() && !context_.draining.load();
        const bool head_only = parser.get().method() == bhttp::verb::head;
        const unsigned status = response.result_int();
        const std::size_t body_size = head_only ? 0 : response.body().size();
        const bool written = co_await write(std::move(response), request_id, keep_alive, head_only);
        if (written) {
            finish_exchange({route, &parser.get(), request_id, status, head_.size() + body_size});
        }
        if (!written || !keep_alive) {
            co_return;
        }
    }
}

}  // namespace

net::awaitable<void> refuse_connection(beast::tcp_stream stream, SessionContext context) {
    Response response = retry_later_response(
        {api::ErrorCode::kServiceUnavailable, "the server is at its connection limit"}, 1);
    std::string head;
    const std::string request_id = request_id_for({});
    const bool sent = co_await send_response(stream, head, response, request_id, false, false,
                                             context.limits.write_timeout);
    if (sent) {
        co_await drain_then_close(stream);
    }
}

net::awaitable<void> run_session(beast::tcp_stream stream, SessionContext context,
                                 std::shared_ptr<SessionState> state) {
    state->stream = &stream;
    Session session(stream, context);
    try {
        co_await session.serve(*state);
    } catch (...) {
        state->stream = nullptr;
        throw;
    }
    state->stream = nullptr;
    // Tell the peer we are done; errors here only mean it already left.
    beast::error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace threadsd::http
