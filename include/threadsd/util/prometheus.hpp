#pragma once
// Prometheus text exposition (format 0.0.4) of one sample, for /metrics.

#include <cstdint>
#include <string>
#include <string_view>

namespace threadsd::util {

/// Appends `name`'s HELP and TYPE lines and its one unlabelled sample `value` to `out`.
/// `type` is "counter" or "gauge".
void append_metric(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type, std::uint64_t value);

}  // namespace threadsd::util
