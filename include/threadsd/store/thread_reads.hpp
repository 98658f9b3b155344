#pragma once
// Thread queries, on any connection: read-only ones for GET, the write connection for the
// read half of a read-merge-write.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite.hpp"

namespace threadsd::store {

/// Which threads a list page may hold; empty members do not filter.
struct ThreadFilter {
    std::optional<std::string> agent_id;         ///< Canonical UUID.
    std::optional<bool> is_active;               ///< Open or closed threads only.
    std::optional<std::string> closed_reason;    ///< Exact reason.
    std::optional<std::string> to_phone_number;  ///< Exact number.
    std::optional<std::string> id_below;  ///< Exclusive upper bound on id (cursor, createdBefore).
    std::optional<std::string> id_at_or_above;  ///< Inclusive lower bound on id (createdAfter).
};

/// Prepared thread queries over one connection; not thread-safe, like the connection.
class ThreadReads {
  public:
    /// Prepares the fixed statements on `connection`, which must outlive this object.
    explicit ThreadReads(Connection& connection);

    /// The thread `thread_id` of `organization_id`, with agent and version details.
    std::optional<ThreadRecord> find(std::string_view organization_id, std::string_view thread_id);

    /// Up to `limit` threads of `organization_id` matching `filter`, newest (highest id)
    /// first. Each combination of filters has its own statement, prepared once, so that
    /// SQLite plans it as a range scan of the index made for it.
    std::vector<ThreadRecord> list(std::string_view organization_id, const ThreadFilter& filter,
                                   std::size_t limit);

    /// The SQL that list() runs for `filter` (for EXPLAIN QUERY PLAN in tests).
    static std::string list_sql(const ThreadFilter& filter);

  private:
    Connection& connection_;                         ///< Where statements are prepared.
    Statement find_;                                 ///< One thread by organization and id.
    std::map<unsigned, Statement> list_by_filters_;  ///< List statements by filter mask.
};

}  // namespace threadsd::store
