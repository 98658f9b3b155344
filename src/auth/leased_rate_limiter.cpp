#include "threadsd/auth/leased_rate_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace threadsd::auth {

namespace net = boost::asio;

namespace {

/// How long a request waits for another's lease before it looks again by itself: a lease
/// ends (answered or failed) long before, so this only bounds a lost wake-up.
constexpr std::chrono::milliseconds kLongestWait{500};

}  // namespace

void LeasedRateLimiter::wake(KeyBudget& key) {
    for (auto& waiter : key.waiters) {
        // On the waiter's own executor (its connection's strand), where it waits.
        net::post(waiter->get_executor(), [waiter] { waiter->cancel(); });
    }
    key.waiters.clear();
}

net::awaitable<std::optional<std::uint32_t>> LeasedRateLimiter::admit(const std::string& key_id,
                                                                      std::uint32_t rate) {
    const auto executor = co_await net::this_coro::executor;  // does not suspend
    for (bool arrived = true;; arrived = false) {
        std::uint32_t asked = 0;
        bool admitted = false;
        Waiter waiter;
        {
            std::lock_guard lock(mutex_);
            auto& key = keys_[key_id];
            const auto now = RateClock::now();
            switch (key.budget.take(now, arrived)) {
                case LeasedBudget::Outcome::kAdmitted:
                    co_return std::nullopt;
                case LeasedBudget::Outcome::kRefused:
                    co_return key.budget.retry_after(now);
                case LeasedBudget::Outcome::kAdmittedTopUp:
                    admitted = true;
                    asked = key.budget.start_lease(rate);
                    break;
                case LeasedBudget::Outcome::kLease:
                    asked = key.budget.start_lease(rate);
                    break;
                case LeasedBudget::Outcome::kWait:
                    waiter = std::make_shared<net::steady_timer>(executor, kLongestWait);
                    key.waiters.push_back(waiter);
                    break;
            }
        }
        if (!waiter) {
            co_return co_await lease(key_id, rate, asked, admitted);
        }
        // Until the lease ends (wake() cancels the timer), then looks again.
        co_await waiter->async_wait(net::as_tuple(net::use_awaitable));
    }
}

net::awaitable<std::optional<std::uint32_t>> LeasedRateLimiter::lease(const std::string& key_id,
                                                                      std::uint32_t rate,
                                                                      std::uint32_t asked,
                                                                      bool admitted) {
    std::optional<store::RateLease> answer;
    const auto sent = RateClock::now();
    try {
        answer = co_await store_.lease_rate_budget(key_id, rate, asked);
    } catch (...) {
        std::lock_guard lock(mutex_);
        auto& key = keys_[key_id];
        key.budget.end_lease();
        wake(key);
        if (!admitted) {
            throw;
        }
    }
    std::lock_guard lock(mutex_);
    auto& key = keys_[key_id];
    const auto now = RateClock::now();
    wake(key);
    if (admitted) {
        // Admitted already; a top-up the store did not answer is asked for again later.
        if (answer) {
            key.budget.top_up(*answer, asked, sent);
        }
        co_return std::nullopt;
    }
    if (key.budget.grant(*answer, asked, sent)) {
        co_return std::nullopt;
    }
    co_return key.budget.retry_after(now);
}

}  // namespace threadsd::auth
