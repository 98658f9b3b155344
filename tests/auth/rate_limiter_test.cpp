#include "threadsd/auth/rate_limiter.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>

namespace {

using std::chrono::milliseconds;
using threadsd::auth::RateClock;
using threadsd::auth::RateLimiter;
using threadsd::auth::take_token;
using threadsd::auth::TokenBucket;

const RateClock::time_point kStart{std::chrono::hours(1)};

/// How many of `attempts` requests at the same instant `limiter` admits for `key`.
int admitted_at(RateLimiter& limiter, const std::string& key, std::uint32_t rate, int attempts,
                RateClock::time_point now) {
    int admitted = 0;
    for (int i = 0; i < attempts; ++i) {
        admitted += limiter.admit(key, rate, now) ? 0 : 1;
    }
    return admitted;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(a_full_bucket_admits_one_seconds_worth_then_refuses) {
    RateLimiter limiter;
    BOOST_TEST(admitted_at(limiter, "k", 5, 20, kStart) == 5);
    const auto retry = limiter.admit("k", 5, kStart);
    BOOST_TEST_REQUIRE(retry.has_value());
    BOOST_TEST(*retry == 1u);  // a token is 200 ms away: rounded up to a whole second
}

BOOST_AUTO_TEST_CASE(tokens_come_back_at_the_rate_and_never_beyond_the_burst) {
    RateLimiter limiter;
    BOOST_TEST(admitted_at(limiter, "k", 10, 10, kStart) == 10);
    BOOST_TEST(admitted_at(limiter, "k", 10, 10, kStart + milliseconds(99)) == 0);
    BOOST_TEST(admitted_at(limiter, "k", 10, 10, kStart + milliseconds(100)) == 1);
    BOOST_TEST(admitted_at(limiter, "k", 10, 10, kStart + milliseconds(350)) == 2);
    // An hour idle fills the bucket to its size, not to 36,000 tokens.
    BOOST_TEST(admitted_at(limiter, "k", 10, 100, kStart + std::chrono::hours(1)) == 10);
}

BOOST_AUTO_TEST_CASE(keys_have_their_own_buckets) {
    RateLimiter limiter;
    BOOST_TEST(admitted_at(limiter, "a", 2, 5, kStart) == 2);
    BOOST_TEST(admitted_at(limiter, "b", 2, 5, kStart) == 2);
    BOOST_TEST(admitted_at(limiter, "a", 2, 5, kStart) == 0);
}

BOOST_AUTO_TEST_CASE(rate_zero_is_unlimited) {
    RateLimiter limiter;
    BOOST_TEST(admitted_at(limiter, "k", 0, 10'000, kStart) == 10'000);
}

BOOST_AUTO_TEST_CASE(a_keys_own_rate_wins_over_the_default) {
    BOOST_TEST(RateLimiter(0).rate_for(std::nullopt) == 0u);
    BOOST_TEST(RateLimiter(7).rate_for(std::nullopt) == 7u);
    BOOST_TEST(RateLimiter(7).rate_for(3) == 3u);
    BOOST_TEST(RateLimiter(0).rate_for(3) == 3u);
    BOOST_TEST(RateLimiter(7).rate_for(0) == 7u);  // not a valid stored limit: the default
}

BOOST_AUTO_TEST_CASE(a_clock_that_goes_back_adds_no_tokens) {
    TokenBucket bucket{0.0, kStart};
    BOOST_TEST(take_token(bucket, 1, kStart - std::chrono::seconds(5)).has_value());
    BOOST_TEST(take_token(bucket, 1, kStart + milliseconds(999)).has_value());
    BOOST_TEST(!take_token(bucket, 1, kStart + milliseconds(1000)).has_value());
}

BOOST_AUTO_TEST_CASE(retry_after_is_the_whole_seconds_until_the_next_token) {
    TokenBucket bucket{0.0, kStart};
    const auto retry = take_token(bucket, 1, kStart);
    BOOST_TEST_REQUIRE(retry.has_value());
    BOOST_TEST(*retry == 1u);
    TokenBucket half{0.5, kStart};
    BOOST_TEST(take_token(half, 1, kStart).value_or(0) == 1u);  // 0.5 s: at least 1
}

BOOST_AUTO_TEST_SUITE_END()
