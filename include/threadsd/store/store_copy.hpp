#pragma once
// `threadsd db copy`: every copied table of one store into another, in batches, resumable.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "threadsd/store/table_rows.hpp"

namespace threadsd::store {

/// A copy that may not start (schema versions differ, the destination holds threads);
/// what() is the one line for stderr.
class CopyRefused : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// How far a copy is, reported after every batch.
struct CopyProgress {
    std::string_view table;    ///< The table the batch belonged to.
    std::int64_t rows_copied;  ///< Rows written by this run so far, every table.
    std::int64_t rows_total;   ///< Rows this run has to write, every table.
};

/// How to copy.
struct CopyOptions {
    /// Continue a copy that stopped: a destination holding threads is accepted, and each
    /// appended table continues after its highest key there.
    bool resume = false;
    std::size_t batch_rows = 10'000;  ///< Rows per write (and per transaction of threads).
    std::function<void(const CopyProgress&)> on_progress;  ///< Called after each batch.
};

/// How many rows of one table a copy wrote.
struct TableCount {
    std::string_view table;  ///< The table.
    std::int64_t rows = 0;   ///< Rows written by this run.
};

/// What a copy did.
struct CopySummary {
    std::vector<TableCount> tables;  ///< Per table, in copy order.
    std::int64_t rows = 0;           ///< Rows written by this run, every table.
    std::int64_t resumed_after = 0;  ///< Appended rows an earlier run had already copied.
};

/// Throws CopyRefused unless both stores are at the schema version of their kind that
/// this threadsd copies; the message names both stores' versions.
void check_schema_versions(TableRows& source, TableRows& destination);

/// Copies every table of copied_tables() from `source` to `destination` (already
/// migrated): first the catalog in one transaction, replacing the destination's catalog
/// on a first copy and updating it on a resumed one, then the appended tables a batch per
/// transaction in key order. Refuses (CopyRefused) a destination that holds threads
/// unless `options.resume`, and stores of different schema versions.
CopySummary copy_store(TableRows& source, TableRows& destination, const CopyOptions& options);

}  // namespace threadsd::store
