#pragma once
// Reads the Prometheus text that /metrics serves.

#include <map>
#include <string>

namespace threadsd::test {

/// Every sample line of a Prometheus text body: series (name and labels) to value. Fails
/// the test on a line that is not a sample.
std::map<std::string, double> parse_prometheus_samples(const std::string& text);

}  // namespace threadsd::test
