#include "threadsd/store/sqlite/message_statements.hpp"

namespace threadsd::store::sqlite {
namespace {

constexpr std::string_view kMessageColumns =
    "SELECT organization_id, thread_id, sequence, id, direction, body, created_at"
    "  FROM messages";

MessageRecord read_message(const Statement& row) {
    MessageRecord message;
    message.organization_id = row.text(0);
    message.thread_id = row.text(1);
    message.sequence = row.integer(2);
    message.id = row.text(3);
    message.direction =
        row.text(4) == "OUTBOUND" ? MessageDirection::kOutbound : MessageDirection::kInbound;
    message.body_json = row.text(5);
    message.created_at = row.integer(6);
    return message;
}

// Steps `statement` to the end, reading each row as a message; always resets it.
std::vector<MessageRecord> read_messages(Statement& statement, std::size_t expected) {
    std::vector<MessageRecord> messages;
    messages.reserve(expected);
    try {
        while (statement.step()) {
            messages.push_back(read_message(statement));
        }
    } catch (...) {
        statement.reset();
        throw;
    }
    statement.reset();
    return messages;
}

}  // namespace

std::string MessageStatements::page_sql(bool by_direction, bool before) {
    // The index is named outright, as for thread lists: without statistics SQLite may
    // prefer the key and filter the direction row by row.
    std::string sql(kMessageColumns);
    sql += by_direction ? " INDEXED BY messages_by_direction" : "";
    sql += " WHERE organization_id = ?1 AND thread_id = ?2";
    sql += by_direction ? " AND direction = ?3" : "";
    sql += before ? " AND sequence < ?4" : "";
    sql += " ORDER BY sequence DESC LIMIT ?5";
    return sql;
}

MessageStatements::MessageStatements(Connection& connection)
    : progress_(connection.prepare("SELECT is_active, last_sequence, window_started_at FROM threads"
                                   " WHERE organization_id = ?1 AND id = ?2")),
      sequence_of_(connection.prepare(
          "SELECT sequence FROM messages WHERE organization_id = ?1 AND thread_id = ?2"
          " AND id = ?3")),
      outbound_after_(connection.prepare(
          std::string(kMessageColumns) +
          " INDEXED BY messages_by_direction"
          " WHERE organization_id = ?1 AND thread_id = ?2 AND direction = 'OUTBOUND'"
          " AND sequence > ?3 ORDER BY sequence LIMIT ?4")),
      ended_windows_(connection.prepare(
          "SELECT organization_id, id FROM threads INDEXED BY threads_by_window"
          " WHERE is_active = 1 AND window_started_at <= ?1 ORDER BY window_started_at"
          " LIMIT ?2")),
      insert_(connection.prepare(
          "INSERT INTO messages (organization_id, thread_id, sequence, id, direction, body,"
          "  created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")),
      advance_(connection.prepare("UPDATE threads SET last_sequence = ?3, window_started_at = ?4"
                                  " WHERE organization_id = ?1 AND id = ?2")) {
    for (int mask = 0; mask < 4; ++mask) {
        pages_.push_back(connection.prepare(page_sql(mask & 2, mask & 1)));
    }
}

std::optional<ThreadProgress> MessageStatements::progress(std::string_view organization_id,
                                                          std::string_view thread_id) {
    progress_.bind(1, organization_id).bind(2, thread_id);
    std::optional<ThreadProgress> found;
    if (progress_.step()) {
        found =
            ThreadProgress{progress_.integer(0) != 0, progress_.integer(1), progress_.integer(2)};
    }
    progress_.reset();
    return found;
}

std::optional<std::int64_t> MessageStatements::sequence_of(std::string_view organization_id,
                                                           std::string_view thread_id,
                                                           std::string_view message_id) {
    sequence_of_.bind(1, organization_id).bind(2, thread_id).bind(3, message_id);
    std::optional<std::int64_t> sequence;
    if (sequence_of_.step()) {
        sequence = sequence_of_.integer(0);
    }
    sequence_of_.reset();
    return sequence;
}

std::vector<MessageRecord> MessageStatements::page(std::string_view organization_id,
                                                   std::string_view thread_id,
                                                   std::optional<MessageDirection> direction,
                                                   std::optional<std::int64_t> before_sequence,
                                                   std::size_t limit) {
    auto& statement = pages_[(direction ? 2 : 0) + (before_sequence ? 1 : 0)];
    statement.bind(1, organization_id).bind(2, thread_id);
    if (direction) {
        statement.bind(3, direction_name(*direction));
    }
    if (before_sequence) {
        statement.bind(4, *before_sequence);
    }
    statement.bind(5, static_cast<std::int64_t>(limit));
    return read_messages(statement, limit);
}

std::vector<MessageRecord> MessageStatements::outbound_after(std::string_view organization_id,
                                                             std::string_view thread_id,
                                                             std::int64_t after_sequence,
                                                             std::size_t limit) {
    outbound_after_.bind(1, organization_id)
        .bind(2, thread_id)
        .bind(3, after_sequence)
        .bind(4, static_cast<std::int64_t>(limit));
    return read_messages(outbound_after_, limit);
}

std::vector<ThreadKey> MessageStatements::ended_windows(std::int64_t started_before,
                                                        std::size_t limit) {
    ended_windows_.bind(1, started_before).bind(2, static_cast<std::int64_t>(limit));
    std::vector<ThreadKey> keys;
    try {
        while (ended_windows_.step()) {
            keys.push_back(ThreadKey{ended_windows_.text(0), ended_windows_.text(1)});
        }
    } catch (...) {
        ended_windows_.reset();
        throw;
    }
    ended_windows_.reset();
    return keys;
}

void MessageStatements::insert(const MessageRecord& message) {
    insert_.bind(1, message.organization_id)
        .bind(2, message.thread_id)
        .bind(3, message.sequence)
        .bind(4, message.id)
        .bind(5, direction_name(message.direction))
        .bind(6, message.body_json)
        .bind(7, message.created_at);
    insert_.run();
}

void MessageStatements::advance(std::string_view organization_id, std::string_view thread_id,
                                std::int64_t last_sequence, std::int64_t window_started_at) {
    advance_.bind(1, organization_id)
        .bind(2, thread_id)
        .bind(3, last_sequence)
        .bind(4, window_started_at);
    advance_.run();
}

}  // namespace threadsd::store::sqlite
