#include "threadsd/store/thread_reads.hpp"

namespace threadsd::store {
namespace {

// Thread columns, then the agent as it is now, then the version the thread is bound to.
constexpr std::string_view kSelectColumns =
    "SELECT t.id, t.organization_id, t.to_phone_number, t.from_phone_number,"
    "       t.from_phone_number_id, t.lead_id, t.is_active, t.created_at, t.updated_at,"
    "       t.closed_at, t.closed_reason, t.metadata, t.variables,"
    "       a.id, a.organization_id, a.name, a.description, a.agent_type, a.deleted,"
    "       v.id, v.version, v.name, v.mode, v.sms_max_tokens, v.sms_temperature,"
    "       v.discard_inbound_sms"
    "  FROM threads t";
constexpr std::string_view kJoinAgent =
    "  JOIN agents a ON a.id = t.agent_id"
    "  JOIN agent_versions v ON v.id = t.agent_version_id";

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

ThreadRecord read_thread(const Statement& row) {
    ThreadRecord thread;
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
    thread.agent = AgentRecord{row.text(13),          row.text(14), row.text(15),
                               row.optional_text(16), row.text(17), row.integer(18) != 0};
    thread.agent_version = AgentVersionRecord{
        row.text(19),          row.integer(20),       row.text(21),        row.text(22),
        row.optional_real(23), row.optional_real(24), row.integer(25) != 0};
    return thread;
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
      find_(connection.prepare(std::string(kSelectColumns)
                                   .append(kJoinAgent)
                                   .append(" WHERE t.organization_id = ?2 AND t.id = ?1"))) {}

std::optional<ThreadRecord> ThreadReads::find(std::string_view organization_id,
                                              std::string_view thread_id) {
    find_.bind(1, thread_id).bind(2, organization_id);
    std::optional<ThreadRecord> thread;
    if (find_.step()) {
        thread = read_thread(find_);
    }
    find_.reset();
    return thread;
}

std::string ThreadReads::list_sql(const ThreadFilter& filter) {
    std::string sql(kSelectColumns);
    sql += index_for(filter);
    sql += kJoinAgent;
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
                                            const ThreadFilter& filter, std::size_t limit) {
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
    std::vector<ThreadRecord> threads;
    threads.reserve(limit);
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

}  // namespace threadsd::store
