#pragma once
// One connection: a coroutine that reads requests, asks the handler, writes responses.
// It knows nothing of routes; the handler knows nothing of sockets. The stream type is a
// parameter so that tests and fuzzers drive this very code over a unix socket pair.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "threadsd/http/access_log.hpp"
#include "threadsd/http/handler.hpp"
#include "threadsd/http/limits.hpp"

namespace threadsd::http {

/// A connection over a unix socket: what tests and fuzzers serve sessions on.
using LocalStream = boost::beast::basic_stream<boost::asio::local::stream_protocol>;

/// What shutdown needs to know about a live session; read and written on its strand only.
struct SessionState {
    boost::asio::any_io_executor executor;  ///< The session's strand.
    std::function<void()> cancel;           ///< Cuts the connection's pending operation.
    bool idle = false;  ///< Waiting for the first byte of a request: safe to cut.
    /// Waiting for the next piece of an event stream: safe to cut, and cut at once on
    /// shutdown, which makes the session end the stream cleanly.
    bool streaming = false;
};

/// What every session shares.
struct SessionContext {
    Handler& handler;          ///< Produces responses.
    const HttpLimits& limits;  ///< Sizes and timeouts.
    const std::atomic<bool>&
        draining;  ///< Set on shutdown: finish the request at hand, then close.
    const AccessLogSettings& access_log;   ///< Whether to log, and who the client is.
    std::atomic<std::uint64_t>& failures;  ///< Sessions ended by an unexpected exception.
};

/// Serves `stream` until the peer closes, a timeout passes, a request that leaves the
/// connection unusable is answered, or shutdown. A reply with events is sent as an event
/// stream (chunked on HTTP/1.1, until the close on HTTP/1.0) for as long as its source
/// goes on, the client stays and the server is not draining; no request deadline or idle
/// timeout applies while it waits, the write timeout applies to each of its writes. Expected ends
/// are values; an exception (a fault of the server's own) ends this connection alone: it is logged
/// once with the request id and counted in `context.failures`, and never reaches the caller.
template <class Stream>
boost::asio::awaitable<void> run_session(Stream stream, SessionContext context,
                                         std::shared_ptr<SessionState> state);

/// Answers a connection over the connection limit with a 503 envelope (`Retry-After`),
/// then closes it once the peer has, or after a short wait: closing with its request
/// unread would reset the connection before the client read the answer.
template <class Stream>
boost::asio::awaitable<void> refuse_connection(Stream stream, SessionContext context);

extern template boost::asio::awaitable<void> run_session(boost::beast::tcp_stream, SessionContext,
                                                         std::shared_ptr<SessionState>);
extern template boost::asio::awaitable<void> run_session(LocalStream, SessionContext,
                                                         std::shared_ptr<SessionState>);
extern template boost::asio::awaitable<void> refuse_connection(boost::beast::tcp_stream,
                                                               SessionContext);
extern template boost::asio::awaitable<void> refuse_connection(LocalStream, SessionContext);

}  // namespace threadsd::http
