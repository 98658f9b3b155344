#pragma once
// Copies the WAL back into the database file on a thread and connection of its own.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, so
// every write queued behind that commit waited for it: a checkpoint copies and fsyncs
// up to a thousand pages. Here the writer only asks for one, and a PASSIVE checkpoint,
// which never blocks the writer or the readers, runs beside it.

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

/// Runs PASSIVE checkpoints on request, one at a time, off the writer's thread.
class Checkpointer {
  public:
    /// Opens its own connection to `path`, which syncs as `durability` says.
    Checkpointer(const std::string& path, Durability durability);
    /// Finishes a checkpoint in progress, then closes the connection.
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    /// Starts a checkpoint unless one is already waiting to start; thread-safe and cheap,
    /// so the writer may call it after every commit.
    void request();

    /// Makes the next checkpoint open the database file again first: the writer has opened a
    /// new file at the path. Thread-safe.
    void reopen();

    /// Checkpoints run so far, complete or not (for tests and metrics).
    std::uint64_t runs() const { return runs_.load(); }

  private:
    /// Runs one checkpoint; on the checkpointer's thread only.
    void run();

    std::string path_;                        ///< The database file.
    Durability durability_;                   ///< How its connection syncs.
    std::unique_ptr<Connection> connection_;  ///< Checkpointer's thread only; null after a
                                              ///< failed reopen.
    std::atomic<bool> reopen_{false};         ///< Open the file again before the next checkpoint.
    std::atomic<bool> waiting_{false};        ///< A checkpoint is queued but has not started.
    std::atomic<std::uint64_t> runs_{0};      ///< Checkpoints run.
    boost::asio::thread_pool pool_{1};        ///< The checkpointer's one thread; last, so it
                                              ///< stops before the members it uses go away.
};

}  // namespace threadsd::store::sqlite
