#pragma once
// Turns a request into a response: route, credentials, body framing, then the API.
// It does no I/O of its own; the session reads and writes, the store persists.
//
// The work is split at the end of the head because the contract orders the checks:
// route (404, 405) and credentials (401) answer before the body is looked at, so a
// request that will be refused anyway never has its body read into memory.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <variant>

#include "threadsd/api/thread_api.hpp"
#include "threadsd/auth/api_key.hpp"
#include "threadsd/auth/bearer_token.hpp"
#include "threadsd/auth/rate_limiter.hpp"
#include "threadsd/http/handler.hpp"
#include "threadsd/http/message.hpp"
#include "threadsd/http/metrics.hpp"
#include "threadsd/http/router.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::http {

/// What the readiness and metrics endpoints ask of the listener.
class ListenerStatus {
  public:
    virtual ~ListenerStatus() = default;
    /// True once shutdown has begun.
    virtual bool draining() const = 0;
    /// Connections open now.
    virtual std::size_t open_connections() const = 0;
    /// Connections accepted since start, refused ones included.
    virtual std::uint64_t accepted_connections() const = 0;
    /// Connections ended by a fault of the server's own (an exception in a session).
    virtual std::uint64_t failed_sessions() const = 0;
};

/// The application as the HTTP layer sees it.
class RequestHandler : public Handler {
  public:
    /// Serves `api` over the routes of `router`; keys are checked against `store`, and a
    /// key without a rate limit of its own gets `default_rate_limit` requests per second
    /// (0: unlimited). Bearer tokens are checked by `bearer`, or refused when it is null.
    RequestHandler(Router router, store::Store& store, api::ThreadApi& api,
                   std::uint32_t default_rate_limit = 0,
                   auth::BearerAuthenticator* bearer = nullptr);

    /// Checks the head: route, then credentials, then the key's rate limit.
    std::variant<Admission, Response> admit(const Request& head, std::string_view request_id,
                                            std::optional<RouteId>& route) override;

    /// The route `head` matches, if any.
    std::optional<RouteId> route_of(const Request& head) const override;

    /// Counts an answered request in the metrics.
    void record(std::optional<RouteId> route, unsigned status,
                std::chrono::nanoseconds duration) override {
        metrics_.record(route, status, duration);
    }

    /// Lets /readyz and /metrics see the listener; until then they report no connections.
    void attach(const ListenerStatus& listener) { listener_ = &listener; }

    /// The request metrics (for tests).
    const RequestMetrics& metrics() const { return metrics_; }

    /// Produces the response for an admitted request whose body has been read; unexpected
    /// failures are logged and become a 500 envelope.
    boost::asio::awaitable<Response> handle(Admission admission, const Request& request) override;

  private:
    /// The caller named by X-API-Key, else by a bearer token; may throw on store failure.
    std::variant<auth::Caller, api::ApiError> authenticate(const Request& head) const;
    /// Runs the endpoint; may throw.
    boost::asio::awaitable<Response> dispatch(const Admission& admission, const Request& request);
    /// GET /readyz: 200 when a write transaction can be begun and committed, else 503.
    boost::asio::awaitable<Response> readiness();
    /// GET /metrics in the Prometheus text format.
    Response metrics_response() const;

    Router router_;                             ///< Method and path to endpoint.
    store::Store& store_;                       ///< For credential lookups.
    api::ThreadApi& api_;                       ///< The thread operations.
    auth::BearerAuthenticator* bearer_;         ///< Verifies bearer tokens; null: refused.
    auth::RateLimiter rate_limiter_;            ///< Token buckets of the keys with a limit.
    RequestMetrics metrics_;                    ///< Counts and latencies of answered requests.
    const ListenerStatus* listener_ = nullptr;  ///< The server, once attached.
};

}  // namespace threadsd::http
