#include "threadsd/auth/leased_rate_limiter.hpp"

namespace threadsd::auth {

namespace net = boost::asio;

net::awaitable<std::optional<std::uint32_t>> LeasedRateLimiter::admit(const std::string& key_id,
                                                                      std::uint32_t rate) {
    std::uint32_t asked = 0;
    {
        std::lock_guard lock(mutex_);
        auto& budget = budgets_[key_id];
        const auto now = RateClock::now();
        switch (budget.take(now)) {
            case LeasedBudget::Outcome::kAdmitted:
                co_return std::nullopt;
            case LeasedBudget::Outcome::kRefused:
                co_return budget.retry_after(now);
            case LeasedBudget::Outcome::kLease:
                asked = budget.start_lease(rate);
                break;
        }
    }
    // Requests of the key that arrive while this lease is out lease one request each:
    // simpler than making them wait, and it happens only while nothing is held here.
    store::RateLease lease;
    try {
        lease = co_await store_.lease_rate_budget(key_id, rate, asked);
    } catch (...) {
        std::lock_guard lock(mutex_);
        budgets_[key_id].end_lease();
        throw;
    }
    std::lock_guard lock(mutex_);
    auto& budget = budgets_[key_id];
    const auto now = RateClock::now();
    if (budget.grant(lease, asked, now)) {
        co_return std::nullopt;
    }
    co_return budget.retry_after(now);
}

}  // namespace threadsd::auth
