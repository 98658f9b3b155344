#pragma once
// Per-key rate limits: a token bucket for each API key; beyond it a 429.
//
// A bucket holds at most `rate` tokens, one second's worth, and refills at `rate` tokens
// per second; each request takes one. So a key may burst up to its rate at once and keeps
// its rate on average, and a refused request learns when the next token will be there.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace threadsd::auth {

/// The clock buckets are measured on; monotonic, so a wall-clock step changes nothing.
using RateClock = std::chrono::steady_clock;

/// One key's bucket.
struct TokenBucket {
    double tokens = 0;              ///< Tokens left, at `updated`.
    RateClock::time_point updated;  ///< When `tokens` was last brought up to date.
};

/// Takes a token from `bucket` refilled at `rate` per second up to `rate`, as of `now`. Empty
/// when one was taken, else the whole seconds (at least 1) until one will be there.
std::optional<std::uint32_t> take_token(TokenBucket& bucket, std::uint32_t rate,
                                        RateClock::time_point now);

/// The buckets of every key that has a limit; shared by the I/O threads.
class RateLimiter {
  public:
    /// `default_rate` applies to keys without their own limit; 0 leaves them unlimited.
    explicit RateLimiter(std::uint32_t default_rate = 0) : default_rate_(default_rate) {}

    /// The rate that applies to a key whose own limit is `key_rate` (0 means none).
    std::uint32_t rate_for(std::optional<std::int64_t> key_rate) const;

    /// Charges one request to `key_id` at `rate` (0: unlimited, nothing is recorded). Empty
    /// when admitted, else the seconds to put in Retry-After.
    std::optional<std::uint32_t> admit(const std::string& key_id, std::uint32_t rate,
                                       RateClock::time_point now = RateClock::now());

  private:
    std::uint32_t default_rate_;                            ///< For keys without their own.
    std::mutex mutex_;                                      ///< Guards buckets_.
    std::unordered_map<std::string, TokenBucket> buckets_;  ///< By key id; one per limited key.
};

}  // namespace threadsd::auth
