#include "threadsd/store/write_metrics.hpp"

#include "threadsd/util/prometheus.hpp"

namespace threadsd::store {

void render_write_metrics(std::string& out, std::uint64_t committed_batches,
                          std::uint64_t queued_writes,
                          const util::LatencyHistogram& commit_latency) {
    util::append_metric(out, "threadsd_store_commit_batches_total", "Group transactions committed.",
                        "counter", committed_batches);
    util::append_metric(out, "threadsd_store_queued_writes",
                        "Writes queued or being committed now.", "gauge", queued_writes);
    out +=
        "# HELP threadsd_store_commit_duration_seconds From BEGIN to the return of COMMIT, "
        "per group transaction.\n";
    out += "# TYPE threadsd_store_commit_duration_seconds histogram\n";
    commit_latency.render(out, "threadsd_store_commit_duration_seconds", "");
}

}  // namespace threadsd::store
