#include "threadsd/http/server.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "threadsd/util/log.hpp"

namespace threadsd::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using net::ip::tcp;

namespace {

// Completion for co_spawn: an exception escaping a coroutine is logged, never lost.
auto log_failure(std::string what) {
    return [what = std::move(what)](std::exception_ptr error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            util::log_error(what + " failed: " + e.what());
        } catch (...) {
            util::log_error(what + " failed with a non-standard exception");
        }
    };
}

}  // namespace

Server::Server(net::io_context& io, tcp::endpoint endpoint, Handler& handler, HttpLimits limits,
               AccessLogSettings access_log)
    : io_(io),
      acceptor_(io),
      handler_(handler),
      limits_(limits),
      access_log_(std::move(access_log)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
}

tcp::endpoint Server::local_endpoint() const {
    return acceptor_.local_endpoint();
}

Server::Server(net::io_context& io, int listening_fd, Handler& handler, HttpLimits limits,
               AccessLogSettings access_log)
    : io_(io),
      acceptor_(io),
      handler_(handler),
      limits_(limits),
      access_log_(std::move(access_log)) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw boost::system::system_error(errno, boost::system::system_category(), "getsockname");
    }
    acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
}

void Server::start() {
    net::co_spawn(acceptor_.get_executor(), accept_loop(), log_failure("accept loop"));
}

std::size_t Server::open_sessions() const {
    std::lock_guard lock(sessions_mutex_);
    return sessions_.size();
}

net::awaitable<void> Server::accept_loop() {
    for (;;) {
        // Each connection gets its own strand, so shutdown can reach it safely.
        auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_),
                                                            net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
            co_return;
        }
        if (ec) {
            // Out of descriptors or a connection reset before accept: keep serving.
            util::log_error("accept failed: " + ec.message());
            net::steady_timer pause(io_, std::chrono::milliseconds(50));
            co_await pause.async_wait(net::as_tuple(net::use_awaitable));
            continue;
        }
        accepted_.fetch_add(1, std::memory_order_relaxed);
        beast::tcp_stream stream(std::move(socket));
        if (open_sessions() >= limits_.max_connections) {
            // Over the limit: a short answer on the connection's own strand; the accept
            // loop and the sessions already open carry on.
            auto executor = stream.get_executor();
            auto refusal = refuse_connection(std::move(stream), session_context());
            net::co_spawn(executor, std::move(refusal), log_failure("refusal"));
            continue;
        }
        auto state = std::make_shared<SessionState>();
        state->executor = stream.get_executor();
        {
            std::lock_guard lock(sessions_mutex_);
            sessions_.insert(state);
        }
        auto session = run_session(std::move(stream), session_context(), state);
        auto on_end = [this, state, report = log_failure("session")](std::exception_ptr error) {
            {
                std::lock_guard lock(sessions_mutex_);
                sessions_.erase(state);
            }
            report(error);
        };
        net::co_spawn(state->executor, std::move(session), std::move(on_end));
    }
}

void Server::shutdown(std::chrono::milliseconds grace, std::function<void(bool)> done) {
    draining_.store(true);
    net::post(acceptor_.get_executor(), [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
    });
    // Event streams waiting for their next event end now, each with the end of its body.
    cut_sessions(false);
    // Idle keep-alive connections stay open a moment, so that a request a client (or a
    // proxy reusing its connection) sends right now gets a 503 instead of a reset.
    net::co_spawn(io_, close_idle_sessions_after(std::min(grace, kDrainLinger)),
                  log_failure("shutdown"));
    net::co_spawn(io_, wait_for_sessions(std::chrono::steady_clock::now() + grace, std::move(done)),
                  log_failure("shutdown"));
}

net::awaitable<void> Server::close_idle_sessions_after(std::chrono::milliseconds linger) {
    net::steady_timer timer(io_);
    timer.expires_after(linger);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    cut_sessions(true);
}

void Server::cut_sessions(bool idle_too) {
    std::vector<std::shared_ptr<SessionState>> live;
    {
        std::lock_guard lock(sessions_mutex_);
        live.assign(sessions_.begin(), sessions_.end());
    }
    for (const auto& state : live) {
        // On the session's strand, so `idle`, `streaming` and `stream` are read
        // consistently: a busy session finishes its request (or the piece of its stream it
        // is writing) and then sees `draining_`.
        net::post(state->executor, [state, idle_too] {
            if (state->cancel && (state->streaming || (idle_too && state->idle))) {
                state->cancel();
            }
        });
    }
}

net::awaitable<void> Server::wait_for_sessions(std::chrono::steady_clock::time_point deadline,
                                               std::function<void(bool)> done) {
    net::steady_timer timer(io_);
    while (open_sessions() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
    done(open_sessions() == 0);
}

}  // namespace threadsd::http
