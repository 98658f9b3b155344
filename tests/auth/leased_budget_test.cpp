#include "threadsd/auth/leased_budget.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

namespace {

using std::chrono::milliseconds;
using threadsd::auth::LeasedBudget;
using threadsd::auth::RateClock;
using threadsd::store::RateLease;
using Outcome = LeasedBudget::Outcome;

const RateClock::time_point kWindowStart{std::chrono::hours(1)};

/// The store's side of a lease for one key: counts claims per window, as the SQL does.
struct StoreWindow {
    std::int64_t window = 1000;  ///< The store clock's current second.
    std::int64_t claimed = 0;    ///< Claimed in that window by every process.
    milliseconds left{1000};     ///< What the window still runs.

    RateLease lease(std::uint32_t rate, std::uint32_t want) {
        claimed += want;
        const std::int64_t before = claimed - want;
        const auto granted = std::clamp<std::int64_t>(rate - before, 0, want);
        return RateLease{window, static_cast<std::uint32_t>(granted), left};
    }
    void next() {
        ++window;
        claimed = 0;
    }
};

/// Sends `count` requests through `budget` at `now` against `store`; how many were admitted.
int admitted(LeasedBudget& budget, StoreWindow& store, std::uint32_t rate, int count,
             RateClock::time_point now) {
    int ok = 0;
    for (int i = 0; i < count; ++i) {
        switch (budget.take(now)) {
            case Outcome::kAdmitted:
                ++ok;
                break;
            case Outcome::kAdmittedTopUp: {
                ++ok;
                const auto asked = budget.start_lease(rate);
                budget.top_up(store.lease(rate, asked), asked, now);
                break;
            }
            case Outcome::kRefused:
            case Outcome::kWait:  // never here: every lease ends before the next take()
                break;
            case Outcome::kLease: {
                const auto asked = budget.start_lease(rate);
                ok += budget.grant(store.lease(rate, asked), asked, now) ? 1 : 0;
                break;
            }
        }
    }
    return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(leased_budget)

BOOST_AUTO_TEST_CASE(processes_together_never_pass_the_rate_in_a_window) {
    StoreWindow store;
    LeasedBudget a, b, c;
    int total = 0;
    // Interleaved, as three replicas behind one balancer.
    for (int round = 0; round < 100; ++round) {
        total += admitted(a, store, 50, 1, kWindowStart);
        total += admitted(b, store, 50, 1, kWindowStart);
        total += admitted(c, store, 50, 1, kWindowStart);
    }
    BOOST_TEST(total <= 50);
    // What the three hold unused is at most a sixteenth of the rate each.
    BOOST_TEST(total >= 50 - 3 * (50 / 16));
    // Once spent, nobody asks the store again in the window.
    const auto claims = store.claimed;
    BOOST_TEST(admitted(a, store, 50, 10, kWindowStart + milliseconds(10)) == 0);
    BOOST_TEST(store.claimed == claims);
}

BOOST_AUTO_TEST_CASE(a_spent_window_refuses_until_it_ends_then_the_next_grants_again) {
    StoreWindow store;
    store.left = milliseconds(400);
    LeasedBudget budget;
    BOOST_TEST(admitted(budget, store, 5, 20, kWindowStart) == 5);
    BOOST_TEST((budget.take(kWindowStart + milliseconds(399)) == Outcome::kRefused));
    BOOST_TEST(budget.retry_after(kWindowStart + milliseconds(399)) == 1u);
    store.next();
    BOOST_TEST(admitted(budget, store, 5, 20, kWindowStart + milliseconds(400)) == 5);
}

BOOST_AUTO_TEST_CASE(a_share_is_small_against_the_rate_and_grows_with_the_pace) {
    StoreWindow store;
    LeasedBudget budget;
    // A quiet key leases one request at a time.
    BOOST_TEST((budget.take(kWindowStart) == Outcome::kLease));
    BOOST_TEST(budget.start_lease(1600) == 1u);
    BOOST_TEST(budget.grant(store.lease(1600, 1), 1, kWindowStart));
    // A busy one leases more, up to a twentieth of its rate.
    BOOST_TEST(admitted(budget, store, 1600, 1000, kWindowStart) == 1000);
    auto outcome = budget.take(kWindowStart);
    while (outcome == Outcome::kAdmitted || outcome == Outcome::kAdmittedTopUp) {
        outcome = budget.take(kWindowStart);  // what is held runs out, no top-up asked
    }
    BOOST_TEST((outcome == Outcome::kLease));
    const auto asked = budget.start_lease(1600);
    BOOST_TEST(asked == 1600 / LeasedBudget::kShareDivisor);
    // Requests arriving while that lease is out wait for it, and are not counted twice.
    BOOST_TEST((budget.take(kWindowStart) == Outcome::kWait));
    BOOST_TEST((budget.take(kWindowStart, false) == Outcome::kWait));
    BOOST_TEST(budget.grant(store.lease(1600, asked), asked, kWindowStart));
    BOOST_TEST((budget.take(kWindowStart, false) == Outcome::kAdmitted));
}

BOOST_AUTO_TEST_CASE(a_share_of_an_ended_window_admits_only_its_own_request) {
    StoreWindow store;
    LeasedBudget budget;
    BOOST_TEST(admitted(budget, store, 100, 40, kWindowStart) == 40);
    const auto old = store.lease(100, 6);
    store.next();
    // A lease of the next window comes back first...
    BOOST_TEST((budget.take(kWindowStart + milliseconds(1000)) == Outcome::kLease));
    const auto asked = budget.start_lease(100);
    BOOST_TEST(budget.grant(store.lease(100, asked), asked, kWindowStart + milliseconds(1000)));
    // ...then the old one: its request is admitted, its other five are not kept.
    BOOST_TEST(budget.grant(old, 6, kWindowStart + milliseconds(1001)));
    int held = 0;
    for (auto outcome = budget.take(kWindowStart + milliseconds(1002));
         outcome == Outcome::kAdmitted || outcome == Outcome::kAdmittedTopUp;
         outcome = budget.take(kWindowStart + milliseconds(1002))) {
        ++held;
    }
    BOOST_TEST(held == static_cast<int>(asked) - 1);
}

BOOST_AUTO_TEST_CASE(the_store_moving_to_a_new_window_first_drops_the_old_share) {
    StoreWindow store;
    LeasedBudget budget;
    BOOST_TEST(admitted(budget, store, 160, 100, kWindowStart) == 100);
    store.next();
    // This process's clock still says the old window runs, but a lease says it ended.
    const auto asked = budget.start_lease(160);
    BOOST_TEST(budget.grant(store.lease(160, asked), asked, kWindowStart + milliseconds(10)));
    BOOST_TEST(admitted(budget, store, 160, 500, kWindowStart + milliseconds(20)) == 159);
}

BOOST_AUTO_TEST_CASE(a_busy_process_leases_its_next_share_before_the_last_runs_out) {
    StoreWindow store;
    LeasedBudget budget;
    BOOST_TEST(admitted(budget, store, 16000, 400, kWindowStart) == 400);
    // From here, with the store answering at once, no request finds nothing held: the next
    // share is asked for while a quarter of the last is left.
    int top_ups = 0;
    int empty_handed = 0;
    for (int i = 0; i < 5000; ++i) {
        switch (budget.take(kWindowStart)) {
            case Outcome::kAdmitted:
                break;
            case Outcome::kAdmittedTopUp: {
                ++top_ups;
                const auto asked = budget.start_lease(16000);
                budget.top_up(store.lease(16000, asked), asked, kWindowStart);
                break;
            }
            case Outcome::kRefused:
            case Outcome::kLease:
            case Outcome::kWait:
                ++empty_handed;
                break;
        }
    }
    BOOST_TEST(empty_handed == 0);
    // Shares grew with the pace, up to a twentieth of the rate: a few leases, not 5000.
    BOOST_TEST(top_ups > 0);
    BOOST_TEST(top_ups < 20);
}

BOOST_AUTO_TEST_SUITE_END()
