#pragma once
// What one process holds of a key's rate budget when several processes (replicas) share
// one rate: the budget of each one-second window of the store's clock is counted in the
// store, and a process leases shares of it (Store::lease_rate_budget()), so that most
// requests are charged in memory and only a lease costs a round trip.
//
// The deployment admits at most `rate` requests of a key per window of the store's
// clock: every lease is counted there before it is granted. A process never uses a
// share past the window it was granted in; what it leased and did not use is lost, so a
// share is kept small against the rate (lease_size()). This is a plain state machine:
// the caller holds a lock and talks to the store (auth/leased_rate_limiter.hpp).

#include <chrono>
#include <cstdint>

#include "threadsd/auth/rate_limiter.hpp"
#include "threadsd/store/records.hpp"

namespace threadsd::auth {

/// One key's budget in one process, for the store clock's current window.
class LeasedBudget {
  public:
    /// What take() decided.
    enum class Outcome {
        kAdmitted,  ///< Charged to a share held here.
        /// Charged to a share held here, which runs low: start_lease(), then top_up() or
        /// end_lease(), so that the next share is here before this one runs out.
        kAdmittedTopUp,
        kRefused,  ///< The window's budget is spent across the deployment.
        kLease,    ///< Nothing held here: start_lease(), then grant() or end_lease().
        kWait,     ///< Nothing held here and a lease is out: take() again once it ends.
    };

    /// A share is at most this part of the rate. What a process holds is at most a share
    /// and the quarter left of the one before (a top-up), so what replicas hold unused
    /// when the key reaches its limit is at most 1/16 of the rate each.
    static constexpr std::uint32_t kShareDivisor = 20;

    /// Charges one request at `now` to the budget. `arrived` is false when the request
    /// asks again after kWait (it is counted once).
    Outcome take(RateClock::time_point now, bool arrived = true);

    /// Starts the lease that take() asked for (one at a time); how many requests to ask
    /// for for a key of `rate`: a quarter of what this process saw of the key in this
    /// window and the last (so a busy key leases a few times a second, a quiet one a
    /// request at a time), at least 1, at most rate / kShareDivisor.
    std::uint32_t start_lease(std::uint32_t rate);

    /// Ends a lease of `asked` requests, sent at `sent`, with the store's answer `lease`;
    /// true when it admits the request that asked for it. The window's end is reckoned
    /// from `sent`: the store read its clock later, so the end is never placed late.
    bool grant(const store::RateLease& lease, std::uint32_t asked, RateClock::time_point sent);

    /// Ends a lease started for kAdmittedTopUp (its request was admitted already), sent at
    /// `sent`, with the store's answer `lease`.
    void top_up(const store::RateLease& lease, std::uint32_t asked, RateClock::time_point sent);

    /// Ends a lease the store did not answer.
    void end_lease();

    /// Whole seconds (at least 1) until the window ends, for Retry-After.
    std::uint32_t retry_after(RateClock::time_point now) const;

  private:
    /// Forgets the share of a window that has ended.
    void roll(RateClock::time_point now);
    /// Ends a lease sent at `sent` with the store's answer: moves to its window if newer,
    /// notes a spent window. False when it was granted in a window that has ended: it
    /// cannot be held.
    bool absorb(const store::RateLease& lease, std::uint32_t asked, RateClock::time_point sent);

    bool current_ = false;              ///< A window is known and has not ended.
    std::int64_t window_ = 0;           ///< The store's window the share belongs to.
    RateClock::time_point window_end_;  ///< When that window ends, by this process's clock.
    std::uint32_t held_ = 0;            ///< Granted here in the window and not used yet.
    bool spent_ = false;                ///< The store granted less than asked: none left.
    std::uint32_t seen_ = 0;            ///< Requests this process saw in the window.
    std::uint32_t seen_before_ = 0;     ///< Requests it saw in the window before.
    bool leasing_ = false;              ///< A lease is out now.
    std::uint32_t last_share_ = 0;      ///< The size of the last share asked for.
};

}  // namespace threadsd::auth
