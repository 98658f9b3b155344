#include "threadsd/util/latency_histogram.hpp"

#include <algorithm>
#include <cstdio>

namespace threadsd::util {

void LatencyHistogram::record(std::chrono::nanoseconds duration) {
    const double seconds = std::chrono::duration<double>(duration).count();
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        if (seconds <= kBounds[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_nanos_.fetch_add(static_cast<std::uint64_t>(duration.count() > 0 ? duration.count() : 0),
                         std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string& out, std::string_view name,
                              std::string_view labels) const {
    const std::string prefix = std::string(labels) + (labels.empty() ? "" : ",");
    std::uint64_t cumulative = 0;
    char bound[32];
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        std::snprintf(bound, sizeof bound, "%g", kBounds[i]);
        out.append(name).append("_bucket{").append(prefix).append("le=\"").append(bound);
        out.append("\"} ").append(std::to_string(cumulative)).append("\n");
    }
    const auto total = std::max(count(), cumulative);  // a record() may be half done
    out.append(name).append("_bucket{").append(prefix).append("le=\"+Inf\"} ");
    out.append(std::to_string(total)).append("\n");
    char sum[48];
    std::snprintf(sum, sizeof sum, "%.9f",
                  static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9);
    // Appended, not concatenated: g++ 12 at -O3 takes `"{" + std::string(labels)` for an
    // overlapping memcpy (a false -Wrestrict, an error under -Werror).
    std::string braces;
    if (!labels.empty()) {
        braces.append("{").append(labels).append("}");
    }
    out.append(name).append("_sum").append(braces).append(" ").append(sum).append("\n");
    out.append(name).append("_count").append(braces).append(" ");
    out.append(std::to_string(total)).append("\n");
}

}  // namespace threadsd::util
