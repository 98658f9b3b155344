#include "threadsd/store/sqlite/thread_writes.hpp"

namespace threadsd::store::sqlite {

ThreadWrites::ThreadWrites(Connection& connection)
    : insert_(connection.prepare(
          "INSERT INTO threads (id, organization_id, agent_id, agent_version_id, to_phone_number,"
          "  from_phone_number, from_phone_number_id, lead_id, is_active, created_at, updated_at,"
          "  closed_at, closed_reason, metadata, variables, window_started_at)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?10)")),
      update_maps_(
          connection.prepare("UPDATE threads SET metadata = ?2, variables = ?3, updated_at = ?4"
                             " WHERE organization_id = ?5 AND id = ?1")),
      // Only what a thread's life changes: its id, owner, agent, version and creation
      // instant are written once, by insert().
      update_(connection.prepare(
          "UPDATE threads SET metadata = ?2, variables = ?3, is_active = ?4, closed_at = ?5,"
          "  closed_reason = ?6, updated_at = ?7"
          " WHERE organization_id = ?8 AND id = ?1")) {}

void ThreadWrites::insert(const ThreadRecord& thread) {
    insert_.bind(1, thread.id)
        .bind(2, thread.organization_id)
        .bind(3, thread.agent.id)
        .bind(4, thread.agent_version.id)
        .bind(5, thread.to_phone_number)
        .bind(6, thread.from_phone_number)
        .bind(7, thread.from_phone_number_id)
        .bind(8, thread.lead_id)
        .bind(9, std::int64_t{thread.is_active ? 1 : 0})
        .bind(10, thread.created_at)
        .bind(11, thread.updated_at);
    if (thread.closed_at) {
        insert_.bind(12, *thread.closed_at);
    } else {
        insert_.bind_null(12);
    }
    insert_.bind(13, thread.closed_reason)
        .bind(14, thread.metadata_json)
        .bind(15, thread.variables_json);
    insert_.run();
}

void ThreadWrites::update_maps(const ThreadRecord& thread) {
    update_maps_.bind(1, thread.id)
        .bind(2, thread.metadata_json)
        .bind(3, thread.variables_json)
        .bind(4, thread.updated_at)
        .bind(5, thread.organization_id);
    update_maps_.run();
}

void ThreadWrites::update(const ThreadRecord& thread) {
    update_.bind(1, thread.id)
        .bind(2, thread.metadata_json)
        .bind(3, thread.variables_json)
        .bind(4, std::int64_t{thread.is_active ? 1 : 0});
    if (thread.closed_at) {
        update_.bind(5, *thread.closed_at);
    } else {
        update_.bind_null(5);
    }
    update_.bind(6, thread.closed_reason)
        .bind(7, thread.updated_at)
        .bind(8, thread.organization_id);
    update_.run();
}

}  // namespace threadsd::store::sqlite
