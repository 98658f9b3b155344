#pragma once
// One connection: a coroutine that reads requests, asks the handler, writes responses.
// It knows nothing of routes; the handler knows nothing of sockets.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>

#include "threadsd/http/access_log.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/http/request_handler.hpp"

namespace threadsd::http {

/// What shutdown needs to know about a live session; read and written on its strand only.
struct SessionState {
    boost::asio::any_io_executor executor;       ///< The session's strand.
    boost::beast::tcp_stream* stream = nullptr;  ///< The connection, while the session runs.
    bool idle = false;  ///< Waiting for the first byte of a request: safe to cut.
};

/// What every session shares.
struct SessionContext {
    RequestHandler& handler;   ///< Produces responses.
    const HttpLimits& limits;  ///< Sizes and timeouts.
    const std::atomic<bool>&
        draining;  ///< Set on shutdown: finish the request at hand, then close.
    const AccessLogSettings& access_log;  ///< Whether to log, and who the client is.
};

/// Serves `stream` until the peer closes, a timeout passes, an unrecoverable framing
/// error is answered, or shutdown. Expected ends are values, not exceptions; anything
/// thrown is unexpected and is logged where the session was spawned.
boost::asio::awaitable<void> run_session(boost::beast::tcp_stream stream, SessionContext context,
                                         std::shared_ptr<SessionState> state);

/// Answers a connection over the connection limit with a 503 envelope (`Retry-After`),
/// then closes it once the peer has, or after a short wait: closing with its request
/// unread would reset the connection before the client read the answer.
boost::asio::awaitable<void> refuse_connection(boost::beast::tcp_stream stream,
                                               SessionContext context);

}  // namespace threadsd::http
