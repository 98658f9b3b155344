#pragma once
// A latency histogram with fixed buckets, updated lock-free from any thread, in the shape
// Prometheus wants (cumulative buckets, a count and a sum).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace threadsd::util {

/// Counts durations into fixed buckets; record() is safe from any thread.
class LatencyHistogram {
  public:
    /// Upper bounds of the buckets, in seconds (+Inf is implied).
    static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

    /// Counts one duration.
    void record(std::chrono::nanoseconds duration);

    /// Appends `name_bucket{labels,le="..."}`, `name_sum{labels}` and `name_count{labels}`
    /// lines; `labels` is empty or like `route="create"`.
    void render(std::string& out, std::string_view name, std::string_view labels) const;

    /// Durations counted so far.
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

  private:
    std::array<std::atomic<std::uint64_t>, kBounds.size()> buckets_{};  ///< Not cumulative.
    std::atomic<std::uint64_t> count_{0};      ///< All durations, the +Inf bucket.
    std::atomic<std::uint64_t> sum_nanos_{0};  ///< Their sum.
};

}  // namespace threadsd::util
