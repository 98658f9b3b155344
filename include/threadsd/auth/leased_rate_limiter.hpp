#pragma once
// Per-key rate limits for a deployment of several processes on one store: each process
// charges requests to shares of the key's budget that it leases from the store
// (auth/leased_budget.hpp). Used when the store says it is shared
// (Store::shares_rate_limits()); a store one process owns keeps the token buckets of
// auth/rate_limiter.hpp.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "threadsd/auth/leased_budget.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::auth {

/// The leased budgets of every key with a limit; shared by the I/O threads.
class LeasedRateLimiter {
  public:
    /// Leases budgets from `store`, which must outlive this.
    explicit LeasedRateLimiter(store::Store& store) : store_(store) {}

    /// Charges one request to `key_id` at `rate` (not 0). Empty when admitted, else the
    /// seconds to put in Retry-After. Throws what Store::lease_rate_budget() throws.
    boost::asio::awaitable<std::optional<std::uint32_t>> admit(const std::string& key_id,
                                                               std::uint32_t rate);

  private:
    /// A waiting request's timer: cancelled when the lease it waits for ends. Shared, so
    /// that a cancel posted late finds it alive.
    using Waiter = std::shared_ptr<boost::asio::steady_timer>;

    /// One key's budget and the requests waiting for its lease.
    struct KeyBudget {
        LeasedBudget budget;          ///< The share held here.
        std::vector<Waiter> waiters;  ///< Requests that found nothing held, a lease out.
    };

    /// Leases for a request of `key_id` (`admitted` already, for a top-up) and takes in
    /// the answer; empty when admitted, else the seconds for Retry-After.
    boost::asio::awaitable<std::optional<std::uint32_t>> lease(const std::string& key_id,
                                                               std::uint32_t rate,
                                                               std::uint32_t asked, bool admitted);
    /// Wakes the requests waiting on `key`'s lease; under mutex_.
    static void wake(KeyBudget& key);

    store::Store& store_;                              ///< Counts the shares leased.
    std::mutex mutex_;                                 ///< Guards keys_.
    std::unordered_map<std::string, KeyBudget> keys_;  ///< By key id.
};

}  // namespace threadsd::auth
