#pragma once
// The endpoints for operators and load balancers, not for API clients: /healthz,
// /readyz, /metrics and /openapi.json. They need no credentials.

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>

#include "threadsd/api/message_api.hpp"
#include "threadsd/http/message.hpp"
#include "threadsd/http/metrics.hpp"
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

/// Answers the operations endpoints from the store, the request metrics and the listener.
class OperationsEndpoints {
  public:
    /// Reports on `store` and `metrics`, which must outlive this object.
    OperationsEndpoints(store::Store& store, const RequestMetrics& metrics,
                        const api::MessageApi* messages = nullptr)
        : store_(store), metrics_(metrics), messages_(messages) {}

    /// Lets /readyz and /metrics see the listener; until then they report no connections.
    void attach(const ListenerStatus& listener) { listener_ = &listener; }

    /// GET /healthz: the process answers.
    Response health() const;

    /// GET /readyz: 200 when the store can commit a write now, else 503 (also while the
    /// server drains), so that a balancer sends requests elsewhere.
    boost::asio::awaitable<Response> readiness();

    /// GET /metrics in the Prometheus text format.
    Response metrics() const;

    /// GET /openapi.json: docs/openapi.yaml as JSON.
    Response openapi() const;

  private:
    store::Store& store_;                       ///< Probed and reported on.
    const RequestMetrics& metrics_;             ///< Counts and latencies of answered requests.
    const ListenerStatus* listener_ = nullptr;  ///< The server, once attached.
    const api::MessageApi* messages_;           ///< Messages and streams, when served.
};

}  // namespace threadsd::http
