#include "threadsd/auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace threadsd::auth {

std::optional<std::uint32_t> take_token(TokenBucket& bucket, std::uint32_t rate,
                                        RateClock::time_point now) {
    const double capacity = rate;
    const std::chrono::duration<double> elapsed = now - bucket.updated;
    // A clock that did not move (or a bucket stamped later by another thread) adds nothing.
    bucket.tokens = std::min(capacity, bucket.tokens + std::max(0.0, elapsed.count()) * rate);
    bucket.updated = std::max(bucket.updated, now);
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::nullopt;
    }
    const double wait = (1.0 - bucket.tokens) / rate;
    return static_cast<std::uint32_t>(std::max(1.0, std::ceil(wait)));
}

std::uint32_t RateLimiter::rate_for(std::optional<std::int64_t> key_rate) const {
    if (key_rate && *key_rate > 0) {
        return static_cast<std::uint32_t>(std::min<std::int64_t>(*key_rate, UINT32_MAX));
    }
    return default_rate_;
}

std::optional<std::uint32_t> RateLimiter::admit(const std::string& key_id, std::uint32_t rate,
                                                RateClock::time_point now) {
    if (rate == 0) {
        return std::nullopt;
    }
    std::lock_guard lock(mutex_);
    auto [bucket, inserted] = buckets_.try_emplace(key_id);
    if (inserted) {
        // A key's first request finds its bucket full.
        bucket->second = TokenBucket{static_cast<double>(rate), now};
    }
    return take_token(bucket->second, rate, now);
}

}  // namespace threadsd::auth
