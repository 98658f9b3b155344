#pragma once
// A test's coroutine run to its end on an io_context of its own, on the test's thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>

#include "support/require.hpp"

namespace threadsd::test {

/// Runs `body` on a single-threaded io_context of its own until it and everything it
/// spawned end (at most `limit`, else SupportFailure), and rethrows what it threw.
inline void run_on_io(
    const std::function<boost::asio::awaitable<void>(boost::asio::any_io_executor)>& body,
    std::chrono::seconds limit = std::chrono::seconds(60)) {
    boost::asio::io_context io;
    bool finished = false;
    std::exception_ptr failure;
    boost::asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr error) {
        finished = true;
        failure = error;
    });
    io.run_for(limit);
    require(finished, "the test's coroutine did not finish in time");
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace threadsd::test
