#pragma once
// Talking to systemd, through libsystemd: readiness, stopping and watchdog notifications
// (sd_notify), and the listening socket it passes in (sd_listen_fds). Without systemd
// (no NOTIFY_SOCKET, no LISTEN_FDS) every call here does nothing.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>

namespace threadsd::app {

/// The listening socket systemd passed in (socket activation), if there is exactly one.
/// Throws when it passed more than one, which threadsd would not know how to use.
std::optional<int> inherited_listening_socket();

/// READY=1: the store is open and the listener accepts.
void notify_ready();

/// STOPPING=1: shutdown has begun.
void notify_stopping();

/// The watchdog interval systemd asks for (WatchdogSec=), if any.
std::optional<std::chrono::microseconds> watchdog_interval();

/// Sends WATCHDOG=1 at half of `interval` for as long as `healthy()` says so and the
/// io_context runs; a hung event loop or an unhealthy store stops the pings, and systemd
/// restarts the service.
boost::asio::awaitable<void> keep_watchdog_fed(std::chrono::microseconds interval,
                                               std::function<bool()> healthy);

}  // namespace threadsd::app
