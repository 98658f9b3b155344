#include "threadsd/store/sqlite/thread_reads.hpp"

#include "threadsd/store/sqlite/catalog.hpp"

#include <stdexcept>

namespace threadsd::store::sqlite {
namespace {

// Thread columns, with the ids of the agent and version that add_details() fills in.
constexpr std::string_view kSelectColumns =
    "SELECT t.id, t.organization_id, t.to_phone_number, t.from_phone_number,"
    "       t.from_phone_number_id, t.lead_id, t.is_active, t.created_at, t.updated_at,"
    "       t.closed_at, t.closed_reason, t.metadata, t.variables, t.agent_id,"
    "       t.agent_version_id"
    "  FROM threads t";

// The index whose range a filtered page scans, named outright: without statistics
// SQLite prefers the table's own (organization_id, id) order and filters row by row.
// is_active comes last because it splits an organization's threads in two at best.
std::string_view index_for(const ThreadFilter& filter) {
    if (filter.agent_id) {
        return " INDEXED BY threads_by_agent";
    }
    if (filter.closed_reason) {
        return " INDEXED BY threads_by_closed_reason";
    }
    if (filter.to_phone_number) {
        return " INDEXED BY threads_by_to_phone_number";
    }
    if (filter.is_active) {
        return " INDEXED BY threads_by_activity";
    }
    return {};
}

// Reads the row into `thread`, reusing its strings' storage.
void read_thread_into(const Statement& row, ThreadRecord& thread) {
    thread.id = row.text(0);
    thread.organization_id = row.text(1);
    thread.to_phone_number = row.text(2);
    thread.from_phone_number = row.optional_text(3);
    thread.from_phone_number_id = row.optional_text(4);
    thread.lead_id = row.optional_text(5);
    thread.is_active = row.integer(6) != 0;
    thread.created_at = row.integer(7);
    thread.updated_at = row.integer(8);
    thread.closed_at = row.optional_integer(9);
    thread.closed_reason = row.optional_text(10);
    thread.metadata_json = row.optional_text(11);
    thread.variables_json = row.optional_text(12);
    thread.agent.id = row.text(13);
    thread.agent_version.id = row.text(14);
}

ThreadRecord read_thread(const Statement& row) {
    ThreadRecord thread;
    read_thread_into(row, thread);
    return thread;
}

// Steps `statement` to the end, reading each row as a thread; always resets it.
std::vector<ThreadRecord> read_threads(Statement& statement, std::size_t expected) {
    std::vector<ThreadRecord> threads;
    threads.reserve(expected);
    try {
        while (statement.step()) {
            threads.push_back(read_thread(statement));
        }
    } catch (...) {
        statement.reset();
        throw;
    }
    statement.reset();
    return threads;
}

// Bit i set: filter i is present. The order matches the ?2..?7 parameters.
unsigned filter_mask(const ThreadFilter& filter) {
    return (filter.agent_id ? 1u : 0u) | (filter.is_active ? 2u : 0u) |
           (filter.closed_reason ? 4u : 0u) | (filter.to_phone_number ? 8u : 0u) |
           (filter.id_below ? 16u : 0u) | (filter.id_at_or_above ? 32u : 0u);
}

}  // namespace

ThreadReads::ThreadReads(Connection& connection)
    : connection_(connection),
      find_(connection.prepare(
          std::string(kSelectColumns).append(" WHERE t.organization_id = ?2 AND t.id = ?1"))),
      agent_by_id_(connection.prepare(
          "SELECT id, organization_id, name, description, agent_type, deleted FROM agents"
          " WHERE id = ?1")),
      version_by_id_(
          connection.prepare("SELECT id, version, name, mode, sms_max_tokens, sms_temperature,"
                             "       discard_inbound_sms FROM agent_versions WHERE id = ?1")) {}

std::optional<AgentRecord> ThreadReads::agent_by_id(const std::string& agent_id) {
    agent_by_id_.bind(1, agent_id);
    std::optional<AgentRecord> agent;
    if (agent_by_id_.step()) {
        agent = read_agent(agent_by_id_, 0);
    }
    agent_by_id_.reset();
    return agent;
}

std::optional<AgentVersionRecord> ThreadReads::version_by_id(const std::string& version_id) {
    version_by_id_.bind(1, version_id);
    std::optional<AgentVersionRecord> version;
    if (version_by_id_.step()) {
        version = read_version(version_by_id_, 0);
    }
    version_by_id_.reset();
    return version;
}

void ThreadReads::add_details(ThreadRecord& thread, const AgentDetailsSource* details) {
    auto agent =
        details != nullptr ? details->agent(thread.agent.id) : agent_by_id(thread.agent.id);
    if (!agent) {
        // The foreign key makes this impossible short of a damaged store.
        throw std::runtime_error("thread " + thread.id + " names a missing agent");
    }
    auto version = details != nullptr ? details->version(thread.agent_version.id)
                                      : version_by_id(thread.agent_version.id);
    if (!version) {
        throw std::runtime_error("thread " + thread.id + " names a missing version");
    }
    thread.agent = std::move(*agent);
    thread.agent_version = std::move(*version);
}

void ThreadReads::add_details(std::vector<ThreadRecord>& threads,
                              const AgentDetailsSource* details) {
    // A page names few agents; each is looked up once.
    std::map<std::string, AgentRecord, std::less<>> agents;
    std::map<std::string, AgentVersionRecord, std::less<>> versions;
    for (auto& thread : threads) {
        auto agent = agents.find(thread.agent.id);
        if (agent == agents.end()) {
            auto found =
                details != nullptr ? details->agent(thread.agent.id) : agent_by_id(thread.agent.id);
            if (!found) {
                // The foreign key makes this impossible short of a damaged store.
                throw std::runtime_error("thread " + thread.id + " names a missing agent");
            }
            agent = agents.emplace(thread.agent.id, std::move(*found)).first;
        }
        auto version = versions.find(thread.agent_version.id);
        if (version == versions.end()) {
            auto found = details != nullptr ? details->version(thread.agent_version.id)
                                            : version_by_id(thread.agent_version.id);
            if (!found) {
                throw std::runtime_error("thread " + thread.id + " names a missing version");
            }
            version = versions.emplace(thread.agent_version.id, std::move(*found)).first;
        }
        thread.agent = agent->second;
        thread.agent_version = version->second;
    }
}

bool ThreadReads::find(std::string_view organization_id, std::string_view thread_id,
                       ThreadRecord& thread, const AgentDetailsSource* details) {
    find_.bind(1, thread_id).bind(2, organization_id);
    bool found = false;
    try {
        found = find_.step();
        if (found) {
            read_thread_into(find_, thread);
        }
    } catch (...) {
        find_.reset();
        throw;
    }
    find_.reset();
    if (found) {
        add_details(thread, details);
    }
    return found;
}

std::optional<ThreadRecord> ThreadReads::find(std::string_view organization_id,
                                              std::string_view thread_id,
                                              const AgentDetailsSource* details) {
    std::optional<ThreadRecord> thread(std::in_place);
    if (!find(organization_id, thread_id, *thread, details)) {
        thread.reset();
    }
    return thread;
}

std::string ThreadReads::list_sql(const ThreadFilter& filter) {
    std::string sql(kSelectColumns);
    sql += index_for(filter);
    sql += " WHERE t.organization_id = ?1";
    if (filter.agent_id) {
        sql += " AND t.agent_id = ?2";
    }
    if (filter.is_active) {
        sql += " AND t.is_active = ?3";
    }
    if (filter.closed_reason) {
        sql += " AND t.closed_reason = ?4";
    }
    if (filter.to_phone_number) {
        sql += " AND t.to_phone_number = ?5";
    }
    if (filter.id_below) {
        sql += " AND t.id < ?6";
    }
    if (filter.id_at_or_above) {
        sql += " AND t.id >= ?7";
    }
    sql += " ORDER BY t.id DESC LIMIT ?8";
    return sql;
}

std::vector<ThreadRecord> ThreadReads::list(std::string_view organization_id,
                                            const ThreadFilter& filter, std::size_t limit,
                                            const AgentDetailsSource* details) {
    const unsigned mask = filter_mask(filter);
    auto it = list_by_filters_.find(mask);
    if (it == list_by_filters_.end()) {
        it = list_by_filters_.emplace(mask, connection_.prepare(list_sql(filter))).first;
    }
    Statement& statement = it->second;
    statement.bind(1, organization_id);
    if (filter.agent_id) {
        statement.bind(2, *filter.agent_id);
    }
    if (filter.is_active) {
        statement.bind(3, std::int64_t{*filter.is_active ? 1 : 0});
    }
    if (filter.closed_reason) {
        statement.bind(4, *filter.closed_reason);
    }
    if (filter.to_phone_number) {
        statement.bind(5, *filter.to_phone_number);
    }
    if (filter.id_below) {
        statement.bind(6, *filter.id_below);
    }
    if (filter.id_at_or_above) {
        statement.bind(7, *filter.id_at_or_above);
    }
    statement.bind(8, static_cast<std::int64_t>(limit));
    auto threads = read_threads(statement, limit);
    add_details(threads, details);
    return threads;
}

}  // namespace threadsd::store::sqlite
