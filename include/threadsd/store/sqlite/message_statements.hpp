#pragma once
// Message statements (contract section 9) over one connection: reads on any, writes on the
// writer's only. Not thread-safe, like the connection.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

/// What a post needs of its thread, read inside the writer's transaction.
struct ThreadProgress {
    bool is_active = true;               ///< False once closed.
    std::int64_t last_sequence = 0;      ///< The newest message's sequence; 0: none.
    std::int64_t window_started_at = 0;  ///< When the conversation window began.
};

/// Prepared message statements over one connection.
class MessageStatements {
  public:
    /// Prepares the statements on `connection`, which must outlive this object.
    explicit MessageStatements(Connection& connection);

    /// The thread's progress, or nothing when the organization has no such thread.
    std::optional<ThreadProgress> progress(std::string_view organization_id,
                                           std::string_view thread_id);

    /// The sequence of message `message_id` of the thread, or nothing.
    std::optional<std::int64_t> sequence_of(std::string_view organization_id,
                                            std::string_view thread_id,
                                            std::string_view message_id);

    /// Up to `limit` messages of the thread below `before_sequence` (when given), of
    /// `direction` (when given), highest sequence first: one range scan of the table's key
    /// or of messages_by_direction.
    std::vector<MessageRecord> page(std::string_view organization_id, std::string_view thread_id,
                                    std::optional<MessageDirection> direction,
                                    std::optional<std::int64_t> before_sequence, std::size_t limit);

    /// Up to `limit` outbound messages with a sequence above `after_sequence`, oldest first.
    std::vector<MessageRecord> outbound_after(std::string_view organization_id,
                                              std::string_view thread_id,
                                              std::int64_t after_sequence, std::size_t limit);

    /// Up to `limit` open threads whose window began at or before `started_before`.
    std::vector<ThreadKey> ended_windows(std::int64_t started_before, std::size_t limit);

    /// Writer only: inserts `message` (its sequence set).
    void insert(const MessageRecord& message);

    /// Writer only: stores the thread's new last sequence and window start.
    void advance(std::string_view organization_id, std::string_view thread_id,
                 std::int64_t last_sequence, std::int64_t window_started_at);

    /// The SQL that page() runs (for EXPLAIN QUERY PLAN in tests).
    static std::string page_sql(bool by_direction, bool before);

  private:
    Statement progress_;            ///< A thread's is_active, last_sequence, window start.
    Statement sequence_of_;         ///< A message's sequence by id.
    std::vector<Statement> pages_;  ///< page() by [by_direction * 2 + before].
    Statement outbound_after_;      ///< A stream's catch-up.
    Statement ended_windows_;       ///< The expiry sweep's candidates.
    Statement insert_;              ///< INSERT INTO messages.
    Statement advance_;             ///< UPDATE threads' last_sequence, window start.
};

}  // namespace threadsd::store::sqlite
