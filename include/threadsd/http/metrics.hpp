#pragma once
// What GET /metrics reports about requests: counts by route and status, and latency by
// route. Updated by every session, read by the metrics endpoint; lock-free.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "threadsd/http/router.hpp"
#include "threadsd/util/latency_histogram.hpp"

namespace threadsd::http {

/// Request counters and latency histograms, by route.
class RequestMetrics {
  public:
    /// The statuses threadsd answers with; anything else is counted as "other".
    static constexpr std::array<unsigned, 14> kStatuses = {200, 400, 401, 404, 405, 408, 409,
                                                           413, 415, 429, 431, 500, 503, 0};

    /// Counts one answered request of `route` (none: unmatched) with `status`, which took
    /// `duration` from its first byte to its last byte written.
    void record(std::optional<RouteId> route, unsigned status, std::chrono::nanoseconds duration);

    /// Requests of `route` answered with `status` so far.
    std::uint64_t count(std::optional<RouteId> route, unsigned status) const;

    /// Appends the Prometheus text of threadsd_http_requests_total and
    /// threadsd_http_request_duration_seconds (only series that have counted something).
    void render(std::string& out) const;

  private:
    /// Routes plus "unmatched".
    static constexpr std::size_t kRows = kRouteCount + 1;
    /// Row of `route`.
    static std::size_t row(std::optional<RouteId> route);
    /// The route of `row` (the last row is "unmatched").
    static std::optional<RouteId> route_of_row(std::size_t row);
    /// Column of `status` in kStatuses.
    static std::size_t column(unsigned status);

    std::array<std::array<std::atomic<std::uint64_t>, kStatuses.size()>, kRows>
        counts_{};                                       ///< By route, then status.
    std::array<util::LatencyHistogram, kRows> latency_;  ///< By route.
};

}  // namespace threadsd::http
