#include "threadsd/http/metrics.hpp"

namespace threadsd::http {

std::size_t RequestMetrics::row(std::optional<RouteId> route) {
    return route ? static_cast<std::size_t>(*route) : kRouteCount;
}

std::optional<RouteId> RequestMetrics::route_of_row(std::size_t row) {
    return row < kRouteCount ? std::optional(static_cast<RouteId>(row)) : std::nullopt;
}

std::size_t RequestMetrics::column(unsigned status) {
    for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i) {
        if (kStatuses[i] == status) {
            return i;
        }
    }
    return kStatuses.size() - 1;
}

void RequestMetrics::record(std::optional<RouteId> route, unsigned status,
                            std::chrono::nanoseconds duration) {
    counts_[row(route)][column(status)].fetch_add(1, std::memory_order_relaxed);
    latency_[row(route)].record(duration);
}

std::uint64_t RequestMetrics::count(std::optional<RouteId> route, unsigned status) const {
    return counts_[row(route)][column(status)].load(std::memory_order_relaxed);
}

void RequestMetrics::render(std::string& out) const {
    out += "# HELP threadsd_http_requests_total Requests answered, by route and status.\n";
    out += "# TYPE threadsd_http_requests_total counter\n";
    for (std::size_t r = 0; r < kRows; ++r) {
        const auto name = route_name(route_of_row(r));
        for (std::size_t c = 0; c < kStatuses.size(); ++c) {
            const auto value = counts_[r][c].load(std::memory_order_relaxed);
            if (value == 0) {
                continue;
            }
            const std::string status = kStatuses[c] != 0 ? std::to_string(kStatuses[c]) : "other";
            out.append("threadsd_http_requests_total{route=\"").append(name);
            out.append("\",status=\"").append(status).append("\"} ");
            out.append(std::to_string(value)).append("\n");
        }
    }
    out +=
        "# HELP threadsd_http_request_duration_seconds From a request's first byte to its "
        "response's last, by route.\n";
    out += "# TYPE threadsd_http_request_duration_seconds histogram\n";
    for (std::size_t r = 0; r < kRows; ++r) {
        if (latency_[r].count() == 0) {
            continue;
        }
        const auto name = route_name(route_of_row(r));
        latency_[r].render(out, "threadsd_http_request_duration_seconds",
                           "route=\"" + std::string(name) + "\"");
    }
}

}  // namespace threadsd::http
