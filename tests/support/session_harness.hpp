#pragma once
// Runs the real session (http::run_session) over a unix socket pair in this process: the
// client side writes the given bytes, half-closes, and reads until the server closes. For
// unit tests and the fuzzer, which drive exactly the code a TCP connection runs.
// Header-only, so the fuzz targets (which link only the library) can use it too.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "threadsd/http/access_log.hpp"
#include "threadsd/http/handler.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/http/session.hpp"

namespace threadsd::test {

/// What one connection through the session gave.
struct SessionRun {
    std::string received;        ///< Every byte the session wrote.
    std::uint64_t failures = 0;  ///< Sessions ended by an exception (0 or 1).
    bool ended = false;          ///< The session coroutine finished without escaping.
};

/// Serves `input` as one connection's bytes with `handler` within `limits`.
inline SessionRun serve_bytes(http::Handler& handler, const http::HttpLimits& limits,
                              std::string_view input) {
    namespace net = boost::asio;
    using local = net::local::stream_protocol;
    net::io_context io;
    local::socket client(io);
    local::socket server(io);
    net::local::connect_pair(client, server);

    SessionRun run;
    std::atomic<bool> draining{false};
    std::atomic<std::uint64_t> failures{0};
    http::AccessLogSettings no_log;
    http::SessionContext context{handler, limits, draining, no_log, failures};
    auto state = std::make_shared<http::SessionState>();
    net::co_spawn(io, http::run_session(http::LocalStream(std::move(server)), context, state),
                  [&run](std::exception_ptr error) { run.ended = !error; });

    const std::string bytes(input);
    auto write_all = [&client, &bytes]() -> net::awaitable<void> {
        auto [ec, written] = co_await net::async_write(client, net::buffer(bytes),
                                                       net::as_tuple(net::use_awaitable));
        (void)ec;
        (void)written;
        boost::system::error_code ignored;
        client.shutdown(net::socket_base::shutdown_send, ignored);
    };
    auto read_all = [&client, &run]() -> net::awaitable<void> {
        char chunk[4096];
        for (;;) {
            auto [ec, n] = co_await client.async_read_some(net::buffer(chunk),
                                                           net::as_tuple(net::use_awaitable));
            run.received.append(chunk, n);
            if (ec) {
                co_return;
            }
        }
    };
    net::co_spawn(io, write_all(), net::detached);
    net::co_spawn(io, read_all(), net::detached);
    io.run();
    run.failures = failures.load();
    return run;
}

}  // namespace threadsd::test
