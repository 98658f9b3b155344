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

  private:
    Statement insert_;  ///< INSERT INTO threads.
};

}  // namespace threadsd::store
