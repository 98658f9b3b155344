#pragma once
// Closes the threads whose conversation window ended (contract section 9): every
// --expiry-sweep-interval, the store closes them with closedReason "EXPIRED", each once
// however many processes sweep, and their live streams here end with `event: closed`.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>

#include "threadsd/api/message_api.hpp"
#include "threadsd/api/thread_feed.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::api {

/// The server's sweep for ended conversation windows.
class ExpirySweeper {
  public:
    /// Threads closed per transaction: a backlog is swept in several, so that no single
    /// transaction holds the writer long.
    static constexpr std::size_t kBatch = 500;

    /// Sweeps `store` on `executor` as the settings of `messages` say, and tells it (its
    /// metrics, its live streams) what it closed.
    ExpirySweeper(store::Store& store, MessageApi& messages, boost::asio::any_io_executor executor);

    /// Starts sweeping (the first sweep at once).
    void start();
    /// Stops after the sweep under way, if any.
    void stop();

  private:
    /// The sweep loop.
    boost::asio::awaitable<void> run();

    store::Store& store_;                               ///< Closes the threads.
    MessageApi& messages_;                              ///< Counts; its feed ends streams.
    MessageSettings settings_;                          ///< Window and interval.
    std::shared_ptr<boost::asio::steady_timer> timer_;  ///< Between sweeps.
    std::atomic<bool> stopped_{false};                  ///< stop() was called.
};

}  // namespace threadsd::api
