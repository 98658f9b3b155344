#pragma once
// The group-commit writer's metrics, the same on every store.

#include <cstdint>
#include <string>

#include "threadsd/util/latency_histogram.hpp"

namespace threadsd::store {

/// Appends the writer's batches committed, its queue, and its commit latency to `out`.
void render_write_metrics(std::string& out, std::uint64_t committed_batches,
                          std::uint64_t queued_writes,
                          const util::LatencyHistogram& commit_latency);

}  // namespace threadsd::store
