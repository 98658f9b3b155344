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

LeasedBudget::Outcome LeasedBudget::take(RateClock::time_point now, bool arrived) {
    if (current_ && now >= window_end_) {
        roll(now);
    }
    if (arrived) {
        ++seen_;
    }
    if (held_ > 0) {
        --held_;
        // A quarter of the last share left: lease the next while this one lasts, so that
        // requests do not find nothing held and wait.
        const bool low = held_ < last_share_ / 4;
        return low && !leasing_ && !spent_ ? Outcome::kAdmittedTopUp : Outcome::kAdmitted;
    }
    if (current_ && spent_) {
        return Outcome::kRefused;
    }
    // One lease at a time: requests arriving together wait for it rather than each
    // taking a share (one process would hold most of the rate) or one request at a time
    // (each request a round trip).
    return leasing_ ? Outcome::kWait : Outcome::kLease;
}

std::uint32_t LeasedBudget::start_lease(std::uint32_t rate) {
    leasing_ = true;
    const std::uint32_t most = std::max<std::uint32_t>(1, rate / kShareDivisor);
    const std::uint32_t pace = std::max(seen_, seen_before_) / 4;
    last_share_ = std::clamp<std::uint32_t>(pace, 1, most);
    return last_share_;
}

void LeasedBudget::end_lease() {
    leasing_ = false;
}

bool LeasedBudget::absorb(const store::RateLease& lease, std::uint32_t asked,
                          RateClock::time_point sent) {
    end_lease();
    if (lease.window < window_) {
        // Granted in a window that has since ended (another lease already brought the
        // next one).
        return false;
    }
    if (!current_ || lease.window > window_) {
        if (current_) {
            roll(sent);  // the store's window moved on before this process's clock said so
        }
        current_ = true;
        window_ = lease.window;
        window_end_ = sent + lease.left;
    }
    if (lease.granted < asked) {
        spent_ = true;
    }
    return true;
}

bool LeasedBudget::grant(const store::RateLease& lease, std::uint32_t asked,
                         RateClock::time_point sent) {
    if (!absorb(lease, asked, sent)) {
        // The request that asked arrived in that window and is admitted in it; the rest
        // cannot be used now.
        return lease.granted > 0;
    }
    if (lease.granted == 0) {
        return false;
    }
    held_ += lease.granted - 1;
    return true;
}

void LeasedBudget::top_up(const store::RateLease& lease, std::uint32_t asked,
                          RateClock::time_point sent) {
    if (absorb(lease, asked, sent)) {
        held_ += lease.granted;
    }
}

std::uint32_t LeasedBudget::retry_after(RateClock::time_point now) const {
    const std::chrono::duration<double> left = window_end_ - now;
    return static_cast<std::uint32_t>(std::max(1.0, std::ceil(left.count())));
}

}  // namespace threadsd::auth
