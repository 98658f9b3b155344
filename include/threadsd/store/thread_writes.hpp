#pragma once
// Write statements for threads; used only on the writer's strand.

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite.hpp"

namespace threadsd::store {

/// Prepared thread writes over the one write connection.
class ThreadWrites {
  public:
    /// Prepares the statements on `connection`, which must outlive this object.
    explicit ThreadWrites(Connection& connection);

    /// Inserts a new thread row (the agent and version must exist: foreign keys check it).
    void insert(const ThreadRecord& thread);

    /// Stores the thread's maps (JSON text or null) and updated_at.
    void update_maps(const ThreadRecord& thread);

    /// Stores the thread's closing: inactive, closed_at, closed_reason, updated_at.
    void close(const ThreadRecord& thread);

  private:
    Statement insert_;       ///< INSERT INTO threads.
    Statement update_maps_;  ///< UPDATE of metadata, variables, updated_at.
    Statement close_;        ///< UPDATE of the closing columns.
};

}  // namespace threadsd::store
