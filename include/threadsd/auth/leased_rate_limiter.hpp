#pragma once
// Per-key rate limits for a deployment of several processes on one store: each process
// charges requests to shares of the key's budget that it leases from the store
// (auth/leased_budget.hpp). Used when the store says it is shared
// (Store::shares_rate_limits()); a store one process owns keeps the token buckets of
// auth/rate_limiter.hpp.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

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
    store::Store& store_;                                    ///< Counts the shares leased.
    std::mutex mutex_;                                       ///< Guards budgets_.
    std::unordered_map<std::string, LeasedBudget> budgets_;  ///< By key id.
};

}  // namespace threadsd::auth
