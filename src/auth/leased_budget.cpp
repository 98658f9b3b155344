#include "threadsd/auth/leased_budget.hpp"

#include <algorithm>
#include <cmath>

namespace threadsd::auth {

void LeasedBudget::roll(RateClock::time_point now) {
    // A window that ended a while ago says nothing of the key's pace now.
    seen_before_ = now - window_end_ < std::chrono::seconds(1) ? seen_ : 0;
    seen_ = 0;
    held_ = 0;
    spent_ = false;
    current_ = false;
}

LeasedBudget::Outcome LeasedBudget::take(RateClock::time_point now) {
    if (current_ && now >= window_end_) {
        roll(now);
    }
    ++seen_;
    if (held_ > 0) {
        --held_;
        return Outcome::kAdmitted;
    }
    return current_ && spent_ ? Outcome::kRefused : Outcome::kLease;
}

std::uint32_t LeasedBudget::start_lease(std::uint32_t rate) {
    if (leasing_++ > 0) {
        return 1;
    }
    const std::uint32_t most = std::max<std::uint32_t>(1, rate / kShareDivisor);
    const std::uint32_t pace = std::max(seen_, seen_before_) / 4;
    return std::clamp<std::uint32_t>(pace, 1, most);
}

void LeasedBudget::end_lease() {
    if (leasing_ > 0) {
        --leasing_;
    }
}

bool LeasedBudget::grant(const store::RateLease& lease, std::uint32_t asked,
                         RateClock::time_point now) {
    end_lease();
    if (lease.window < window_) {
        // Granted in a window that has since ended (another lease already brought the
        // next one): it admits the request it was asked for, which arrived in that
        // window, and the rest cannot be used now.
        return lease.granted > 0;
    }
    if (!current_ || lease.window > window_) {
        if (current_) {
            roll(now);  // the store's window moved on before this process's clock said so
        }
        current_ = true;
        window_ = lease.window;
        window_end_ = now + lease.left;
    }
    if (lease.granted < asked) {
        spent_ = true;
    }
    if (lease.granted == 0) {
        return false;
    }
    held_ += lease.granted - 1;
    return true;
}

std::uint32_t LeasedBudget::retry_after(RateClock::time_point now) const {
    const std::chrono::duration<double> left = window_end_ - now;
    return static_cast<std::uint32_t>(std::max(1.0, std::ceil(left.count())));
}

}  // namespace threadsd::auth
