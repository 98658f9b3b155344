#pragma once
// Write statements for threads; used only on the writer's strand.

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

/// Prepared thread writes over the one write connection.
class ThreadWrites {
  public:
    /// Prepares the statements on `connection`, which must outlive this object.
    explicit ThreadWrites(Connection& connection);

    /// Inserts a new thread row (the agent and version must exist: foreign keys check it).
    void insert(const ThreadRecord& thread);

    /// Stores the thread's maps (JSON text or null) and updated_at, and nothing else: the
    /// common change, which leaves the indexes of the closing columns alone.
    void update_maps(const ThreadRecord& thread);

    /// Stores what a thread's life changes: its maps (JSON text or null), whether it is
    /// active, closed_at, closed_reason and updated_at.
    void update(const ThreadRecord& thread);

  private:
    Statement insert_;       ///< INSERT INTO threads.
    Statement update_maps_;  ///< UPDATE of metadata, variables, updated_at.
    Statement update_;       ///< UPDATE of the columns update() stores.
};

}  // namespace threadsd::store::sqlite
