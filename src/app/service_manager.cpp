#include "threadsd/app/service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>
#include <string>

namespace threadsd::app {

namespace net = boost::asio;

std::optional<int> inherited_listening_socket() {
    // 1: unset LISTEN_FDS and LISTEN_PID, so that children do not see them.
    const int count = sd_listen_fds(1);
    if (count <= 0) {
        return std::nullopt;
    }
    if (count > 1) {
        throw std::runtime_error("systemd passed " + std::to_string(count) +
                                 " sockets; threadsd.socket should have one ListenStream");
    }
    if (sd_is_socket(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
        throw std::runtime_error("the socket systemd passed is not a listening stream socket");
    }
    return SD_LISTEN_FDS_START;
}

void notify_ready() {
    sd_notify(0, "READY=1\nSTATUS=serving");
}

void notify_stopping() {
    sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
        return std::nullopt;
    }
    return std::chrono::microseconds(usec);
}

net::awaitable<void> keep_watchdog_fed(std::chrono::microseconds interval,
                                       std::function<bool()> healthy) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        if (healthy()) {
            sd_notify(0, "WATCHDOG=1");
        }
        timer.expires_after(interval / 2);
        co_await timer.async_wait(net::use_awaitable);
    }
}

}  // namespace threadsd::app
