#pragma once
// Thread queries, on any connection: read-only ones for GET, the write connection for the
// read half of a read-merge-write.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

/// Where a thread's agent and version details come from. The server passes its catalog
/// cache, so that a read touches the threads table alone; without a source, ThreadReads
/// reads them on its own connection (the writer does, inside its transaction).
struct AgentDetailsSource {
    /// The agent with this id, deleted or not.
    std::function<std::optional<AgentRecord>(const std::string& agent_id)> agent;
    /// The agent version with this id.
    std::function<std::optional<AgentVersionRecord>(const std::string& version_id)> version;
};

/// Prepared thread queries over one connection; not thread-safe, like the connection.
class ThreadReads {
  public:
    /// Prepares the fixed statements on `connection`, which must outlive this object.
    explicit ThreadReads(Connection& connection);

    /// Reads the thread `thread_id` of `organization_id` into `thread`, with agent and
    /// version details from `details` (or this connection when null); false when there is
    /// no such thread. Into a record of the caller's, so that a GET moves no copy of it.
    bool find(std::string_view organization_id, std::string_view thread_id, ThreadRecord& thread,
              const AgentDetailsSource* details = nullptr);

    /// The same thread as a value, or nothing.
    std::optional<ThreadRecord> find(std::string_view organization_id, std::string_view thread_id,
                                     const AgentDetailsSource* details = nullptr);

    /// Up to `limit` threads of `organization_id` matching `filter`, newest (highest id)
    /// first, with details as find() has them. Each combination of filters has its own
    /// statement, prepared once, so that SQLite plans it as a range scan of the index
    /// made for it.
    std::vector<ThreadRecord> list(std::string_view organization_id, const ThreadFilter& filter,
                                   std::size_t limit, const AgentDetailsSource* details = nullptr);

    /// The agent `agent_id`, deleted or not, read on this connection.
    std::optional<AgentRecord> agent_by_id(const std::string& agent_id);

    /// The agent version `version_id`, read on this connection.
    std::optional<AgentVersionRecord> version_by_id(const std::string& version_id);

    /// The SQL that list() runs for `filter` (for EXPLAIN QUERY PLAN in tests).
    static std::string list_sql(const ThreadFilter& filter);

  private:
    /// Fills in the agent and version that each of `threads` names (ids already set).
    void add_details(std::vector<ThreadRecord>& threads, const AgentDetailsSource* details);
    /// The same for one thread.
    void add_details(ThreadRecord& thread, const AgentDetailsSource* details);

    Connection& connection_;                         ///< Where statements are prepared.
    Statement find_;                                 ///< One thread by organization and id.
    Statement agent_by_id_;                          ///< An agent by id.
    Statement version_by_id_;                        ///< An agent version by id.
    std::map<unsigned, Statement> list_by_filters_;  ///< List statements by filter mask.
};

}  // namespace threadsd::store::sqlite
