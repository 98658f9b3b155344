#pragma once
// Turns a request into a response: route, credentials and rate, then the thread API or an
// operations endpoint. It does no I/O of its own; the session reads and writes, and the
// API and the operations endpoints talk to the store.
//
// The work is split at the end of the head because the contract orders the checks:
// route (404, 405) and credentials (401) answer before the body is looked at, so a
// request that will be refused anyway never has its body read into memory.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <variant>

#include "threadsd/api/message_api.hpp"
#include "threadsd/api/thread_api.hpp"
#include "threadsd/auth/authenticator.hpp"
#include "threadsd/auth/leased_rate_limiter.hpp"
#include "threadsd/auth/rate_limiter.hpp"
#include "threadsd/http/handler.hpp"
#include "threadsd/http/message.hpp"
#include "threadsd/http/metrics.hpp"
#include "threadsd/http/operations.hpp"
#include "threadsd/http/router.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::http {

/// The application as the HTTP layer sees it.
class RequestHandler : public Handler {
  public:
    /// Serves `api` over the routes of `router`, callers checked by `authenticator`; a
    /// caller without a rate limit of its own gets `default_rate_limit` requests per
    /// second (0: unlimited). The operations endpoints report on `store`.
    RequestHandler(Router router, auth::Authenticator& authenticator, api::ThreadApi& api,
                   api::MessageApi& messages, store::Store& store,
                   std::uint32_t default_rate_limit = 0);

    /// Checks the head: route, then credentials, then the caller's rate limit.
    boost::asio::awaitable<std::variant<Admission, Response>> admit(
        const Request& head, std::string_view request_id, std::optional<RouteId>& route) override;

    /// The route `head` matches, if any.
    std::optional<RouteId> route_of(const Request& head) const override;

    /// Counts an answered request in the metrics.
    void record(std::optional<RouteId> route, unsigned status,
                std::chrono::nanoseconds duration) override {
        metrics_.record(route, status, duration);
    }

    /// Lets /readyz and /metrics see the listener; until then they report no connections.
    void attach(const ListenerStatus& listener) { operations_.attach(listener); }

    /// The request metrics (for tests).
    const RequestMetrics& metrics() const { return metrics_; }

    /// Produces the response for an admitted request whose body has been read; unexpected
    /// failures are logged and become a 500 envelope.
    boost::asio::awaitable<Reply> handle(Admission admission, const Request& request) override;

    /// How often a request is checked again when the catalog moves under it
    /// (store::CatalogChanged) before it gets a 503: a catalog changing that fast is an
    /// operator's loop, not traffic.
    static constexpr int kCatalogAttempts = 3;

  private:
    /// The caller named by the credentials in `head`, or the response refusing them (401,
    /// or 503/500 when the store failed).
    boost::asio::awaitable<std::variant<auth::Caller, Response>> check_credentials(
        const Request& head, std::string_view request_id);
    /// Charges a request of `who` (whose limit is `rate`, not 0) to the budget the
    /// deployment shares: empty when admitted, else the seconds for Retry-After; or the
    /// response when the store could not be asked (503/500).
    boost::asio::awaitable<std::variant<std::optional<std::uint32_t>, Response>> charge_shared(
        const auth::Caller& who, std::uint32_t rate, std::string_view request_id);
    /// Runs the endpoint; may throw.
    boost::asio::awaitable<Reply> dispatch(const Admission& admission, const Request& request);

    Router router_;                       ///< Method and path to endpoint.
    auth::Authenticator& authenticator_;  ///< Who a request acts for.
    api::ThreadApi& api_;                 ///< The thread operations.
    api::MessageApi& messages_;           ///< Messages and live streams.
    auth::RateLimiter rate_limiter_;      ///< Token buckets of the callers with a limit.
    /// Leased budgets instead, when processes share the store (Store::shares_rate_limits).
    std::optional<auth::LeasedRateLimiter> shared_rate_limiter_;
    RequestMetrics metrics_;          ///< Counts and latencies of answered requests.
    OperationsEndpoints operations_;  ///< Health, readiness, metrics, OpenAPI.
};

}  // namespace threadsd::http
