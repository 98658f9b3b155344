#pragma once
// The single writer: one SQLite write connection owned by a strand on its own thread.
//
// Requests never touch the write connection. They hand a job to the writer and wait;
// the writer runs every job that is waiting in one transaction (group commit) and
// completes each job only after COMMIT has returned. The writer's thread is not an I/O
// thread, so an fsync never stalls a socket.
//
// One failing job never fails its neighbours. A job that fails before changing a row
// (the common case: a 404, a constraint SQLite undid with its statement) is simply left
// out. One that fails after changing rows makes the writer roll back and run the batch
// again, each job in its own savepoint. Savepoints are not the default because SQLite
// copies every page that a savepoint touches.

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "threadsd/store/checkpointer.hpp"
#include "threadsd/store/limits.hpp"
#include "threadsd/store/sqlite.hpp"
#include "threadsd/store/thread_reads.hpp"
#include "threadsd/store/thread_writes.hpp"

namespace threadsd::store {

/// What a write job may use: the connection and its prepared statements.
struct WriteContext {
    Connection& connection;     ///< The write connection, inside an open transaction.
    ThreadWrites& threads;      ///< Prepared thread writes.
    ThreadReads& thread_reads;  ///< Thread reads that see this transaction's own changes.
};

/// Thrown by Writer::write() when max_queued_writes jobs are already waiting: the request is
/// refused (503) rather than queued without bound.
class WriteQueueFull : public std::runtime_error {
  public:
    WriteQueueFull() : std::runtime_error("write queue full") {}
};

/// A unit of work for the writer. It must throw to fail; its changes are then undone.
/// It may run twice (see above), so it must not depend on having run before.
using WriteJob = std::function<void(WriteContext&)>;

/// Owns the write connection and serializes every write through one strand.
class Writer {
  public:
    /// WAL frames after a commit beyond which the checkpointer is asked to run (SQLite's
    /// own automatic checkpoint uses the same number).
    static constexpr int kCheckpointFrames = 1000;

    /// Opens the write connection to `path` with `durability` and starts the writer
    /// thread; commits that leave `checkpoint_frames` or more in the WAL ask for a
    /// checkpoint; at most `max_queued` jobs wait at a time.
    Writer(const std::string& path, Durability durability,
           int checkpoint_frames = kCheckpointFrames,
           std::size_t max_queued = kDefaultMaxQueuedWrites);
    /// Finishes every queued job, then closes the connection.
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    /// Runs `job` in the next group transaction; resumes the caller on its own executor
    /// once COMMIT has returned, or rethrows what made the job or the commit fail. Throws
    /// WriteQueueFull, without queueing, when max_queued jobs are already waiting.
    boost::asio::awaitable<void> write(WriteJob job);

    /// Jobs queued or running now (for tests and metrics).
    std::size_t queued_writes() const { return queued_count_.load(); }

    /// Number of group transactions committed so far (for tests and metrics).
    std::uint64_t committed_batches() const { return committed_batches_.load(); }

    /// Number of batches run again with a savepoint per job (for tests and metrics).
    std::uint64_t retried_batches() const { return retried_batches_.load(); }

    /// Checkpoints run so far (for tests and metrics).
    std::uint64_t checkpoints() const { return checkpointer_.runs(); }

  private:
    /// Called once with the job's outcome; type-erases the awaiting coroutine's handler.
    using Completion = std::function<void(std::exception_ptr)>;

    /// A job waiting for the next transaction, and how to tell its owner.
    struct Pending {
        WriteJob job;         ///< The work.
        Completion complete;  ///< Resumes the owner.
    };

    /// How run_batch() keeps the jobs of a batch apart.
    enum class Isolation {
        kNone,             ///< Jobs run back to back; the fast path.
        kSavepointPerJob,  ///< Each job in a savepoint, so a failed one can be undone alone.
    };

    /// Queues `pending` on the strand and schedules a flush if none is scheduled.
    void enqueue(Pending pending);
    /// Runs every queued job in one transaction; on the strand only.
    void flush();
    /// SQLite's WAL hook: after each commit, asks the checkpointer to run when the WAL
    /// holds `frames` >= checkpoint_frames_. Replaces the automatic checkpoint.
    static int after_commit(void* writer, sqlite3* db, const char* schema, int frames);
    /// Runs `batch` in one transaction and commits it, recording each job's failure in
    /// `outcomes`. With Isolation::kNone, returns false (rolled back) when a job failed
    /// after changing rows. Throws when the transaction itself fails.
    bool run_batch(std::vector<Pending>& batch, std::vector<std::exception_ptr>& outcomes,
                   Isolation isolation);

    Checkpointer checkpointer_;          ///< Outlives connection_, whose commits call it.
    int checkpoint_frames_;              ///< WAL frames that make a commit ask for a checkpoint.
    Connection connection_;              ///< The write connection; used on the strand only.
    ThreadWrites threads_;               ///< Write statements over connection_.
    ThreadReads thread_reads_;           ///< Read statements over connection_.
    TransactionStatements transaction_;  ///< BEGIN, COMMIT and ROLLBACK, prepared.
    Statement savepoint_;                ///< SAVEPOINT job: isolates one job in the batch.
    Statement release_;                  ///< RELEASE job.
    Statement rollback_to_;              ///< ROLLBACK TO job: undoes one failed job.
    boost::asio::thread_pool pool_;      ///< The writer's one thread.
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;  ///< Serializes jobs.
    std::size_t max_queued_;                    ///< Jobs that may wait at a time.
    std::atomic<std::size_t> queued_count_{0};  ///< Jobs accepted and not yet completed.
    std::vector<Pending> queued_;               ///< Jobs waiting for the next flush; strand only.
    bool flush_scheduled_ = false;              ///< A flush is already posted; strand only.
    std::atomic<std::uint64_t> committed_batches_{0};  ///< Committed transactions.
    std::atomic<std::uint64_t> retried_batches_{0};    ///< Batches run a second time.
};

}  // namespace threadsd::store
