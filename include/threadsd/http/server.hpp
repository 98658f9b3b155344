#pragma once
// The listener: accepts connections and runs one session coroutine for each, and stops
// them all on shutdown.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "threadsd/http/handler.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/http/operations.hpp"
#include "threadsd/http/session.hpp"

namespace threadsd::http {

/// Accepts on one endpoint and serves every connection with `handler`.
class Server : public ListenerStatus {
  public:
    /// Binds and listens on `endpoint` (port 0 picks a free port); throws on failure.
    /// With `access_log.enabled`, each answered request gets a JSON line on stdout.
    Server(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint, Handler& handler,
           HttpLimits limits, AccessLogSettings access_log = {});

    /// Listens on `listening_fd`, a socket already bound and listening (systemd's socket
    /// activation); the server owns it from now on.
    Server(boost::asio::io_context& io, int listening_fd, Handler& handler, HttpLimits limits,
           AccessLogSettings access_log = {});

    /// The address actually bound, with the real port.
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    /// Starts the accept loop on the io_context.
    void start();

    /// Stops accepting, lets each session finish the request it is on (answered with
    /// `Connection: close`), answers a request that begins from now on with a 503, ends
    /// event streams at once (each with the end of its body, then the connection closes),
    /// closes idle connections after kDrainLinger, and calls `done` once every session has
    /// ended or `grace` has passed (then the remaining sessions are abandoned with the
    /// io_context).
    void shutdown(std::chrono::milliseconds grace, std::function<void(bool clean)> done);

    /// Sessions alive now.
    std::size_t open_sessions() const;

    /// True once shutdown() has begun.
    bool draining() const override { return draining_.load(); }
    /// Same as open_sessions().
    std::size_t open_connections() const override { return open_sessions(); }
    /// Connections accepted so far.
    std::uint64_t accepted_connections() const override { return accepted_.load(); }
    /// Connections ended by an exception in their session.
    std::uint64_t failed_sessions() const override { return failures_.load(); }

  private:
    /// Accepts until the acceptor is closed.
    boost::asio::awaitable<void> accept_loop();
    /// What every session gets.
    SessionContext session_context() {
        return SessionContext{handler_, limits_, draining_, access_log_, failures_};
    }
    /// How long idle keep-alive connections stay open once shutdown begins (at most the
    /// grace period), for requests already on their way.
    static constexpr std::chrono::milliseconds kDrainLinger{1000};

    /// Closes the sessions that are idle after `linger`; part of shutdown.
    boost::asio::awaitable<void> close_idle_sessions_after(std::chrono::milliseconds linger);
    /// Cancels the wait of every session waiting for the next piece of an event stream
    /// and, with `idle_too`, of every idle one: they see `draining_` and end.
    void cut_sessions(bool idle_too);
    /// Polls until no session is left or the deadline passes.
    boost::asio::awaitable<void> wait_for_sessions(std::chrono::steady_clock::time_point deadline,
                                                   std::function<void(bool)> done);

    boost::asio::io_context& io_;              ///< Runs everything.
    boost::asio::ip::tcp::acceptor acceptor_;  ///< The listening socket.
    Handler& handler_;                         ///< Shared by all sessions.
    HttpLimits limits_;                        ///< Shared by all sessions.
    AccessLogSettings access_log_;             ///< Whether and how sessions log requests.
    std::atomic<bool> draining_{false};        ///< Set once shutdown starts.
    std::atomic<std::uint64_t> accepted_{0};   ///< Connections accepted.
    std::atomic<std::uint64_t> failures_{0};   ///< Sessions ended by an exception.
    mutable std::mutex sessions_mutex_;        ///< Guards sessions_ (not the sessions).
    std::unordered_set<std::shared_ptr<SessionState>> sessions_;  ///< Live sessions.
};

}  // namespace threadsd::http
