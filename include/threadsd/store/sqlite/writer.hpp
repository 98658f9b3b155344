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
//
// The writer also notices, before each transaction, when its database file was deleted or
// replaced under it. A deleted file is written back from the open connection, which still
// holds every committed write; a replaced one is taken as the operator's choice. Either
// way the writer then opens the file at the path again, and the store's read sessions and
// checkpointer follow (file_epoch()).

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "threadsd/store/errors.hpp"
#include "threadsd/store/limits.hpp"
#include "threadsd/store/options.hpp"
#include "threadsd/store/sqlite/checkpointer.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/file_identity.hpp"
#include "threadsd/store/sqlite/message_statements.hpp"
#include "threadsd/store/sqlite/thread_reads.hpp"
#include "threadsd/store/sqlite/thread_writes.hpp"
#include "threadsd/util/latency_histogram.hpp"

namespace threadsd::store::sqlite {

/// What a write job may use: the connection and its prepared statements.
struct WriteContext {
    Connection& connection;       ///< The write connection, inside an open transaction.
    ThreadWrites& threads;        ///< Prepared thread writes.
    ThreadReads& thread_reads;    ///< Thread reads that see this transaction's own changes.
    MessageStatements& messages;  ///< Message reads and writes.
};

/// A unit of work for the writer. It must throw to fail; its changes are then undone.
/// It may run twice (see above), so it must not depend on having run before.
using WriteJob = std::function<void(WriteContext&)>;

/// The write connection and the statements prepared on it, replaced as a whole when the
/// database file has to be opened again.
struct WriteSession {
    /// Opens `path`, brings its schema up to date, and sets `durability`.
    WriteSession(const std::string& path, Durability durability);
    Connection connection;              ///< The write connection; used on the strand only.
    ThreadWrites threads;               ///< Write statements over `connection`.
    ThreadReads thread_reads;           ///< Read statements over `connection`.
    MessageStatements messages;         ///< Message statements over `connection`.
    TransactionStatements transaction;  ///< BEGIN, COMMIT and ROLLBACK, prepared.
    Statement savepoint;                ///< SAVEPOINT job: isolates one job in the batch.
    Statement release;                  ///< RELEASE job.
    Statement rollback_to;              ///< ROLLBACK TO job: undoes one failed job.
};

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

    /// False when writes are waiting and no batch has finished for `limit`: the writer is
    /// stuck (a disk that does not answer). Thread-safe.
    bool making_progress(std::chrono::microseconds limit) const;

    /// Time from BEGIN to the return of COMMIT of each group transaction (for metrics).
    const util::LatencyHistogram& commit_latency() const { return commit_latency_; }

    /// Checkpoints run so far (for tests and metrics).
    std::uint64_t checkpoints() const { return checkpointer_.runs(); }

    /// How many times the database file was opened again after it was deleted or replaced;
    /// connections opened before the current value are to a file that is gone.
    std::uint64_t file_epoch() const { return file_epoch_.load(std::memory_order_acquire); }

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
    /// Before a batch: opens the database again when the file was deleted (writing it back
    /// first) or replaced; throws when that is not possible yet. Strand only.
    void follow_the_file();
    /// Opens session_ on path_ and notes its -wal and -shm files. Strand only.
    void open_session();
    /// Logs a failed batch of `jobs` jobs, at most one line a second while failures last.
    void note_failure(const std::exception_ptr& error, std::size_t jobs);
    /// Logs the first commit after failures.
    void note_success();
    /// SQLite's WAL hook: after each commit, asks the checkpointer to run when the WAL
    /// holds `frames` >= checkpoint_frames_. Replaces the automatic checkpoint.
    static int after_commit(void* writer, sqlite3* db, const char* schema, int frames);
    /// Runs `batch` in one transaction and commits it, recording each job's failure in
    /// `outcomes`. With Isolation::kNone, returns false (rolled back) when a job failed
    /// after changing rows. Throws when the transaction itself fails.
    bool run_batch(std::vector<Pending>& batch, std::vector<std::exception_ptr>& outcomes,
                   Isolation isolation);

    std::string path_;           ///< The database file.
    Durability durability_;      ///< What a commit promises.
    Checkpointer checkpointer_;  ///< Outlives session_, whose commits call it.
    int checkpoint_frames_;      ///< WAL frames that make a commit ask for a checkpoint.
    std::unique_ptr<WriteSession> session_;     ///< Null only after a failed reopen; strand only.
    std::optional<FileId> wal_file_;            ///< The session's -wal file; strand only.
    std::optional<FileId> shm_file_;            ///< The session's -shm file; strand only.
    std::atomic<std::uint64_t> file_epoch_{0};  ///< Bumped whenever session_ is replaced.
    std::chrono::steady_clock::time_point last_failure_log_;  ///< Last failure line; strand only.
    std::uint64_t unlogged_failures_ = 0;  ///< Failed jobs not yet logged; strand only.
    bool failing_ = false;                 ///< The last batch failed; strand only.
    bool file_move_logged_ = false;        ///< The file's disappearance is logged; strand only.
    boost::asio::thread_pool pool_;        ///< The writer's one thread.
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;  ///< Serializes jobs.
    std::size_t max_queued_;                    ///< Jobs that may wait at a time.
    std::atomic<std::size_t> queued_count_{0};  ///< Jobs accepted and not yet completed.
    std::vector<Pending> queued_;               ///< Jobs waiting for the next flush; strand only.
    bool flush_scheduled_ = false;              ///< A flush is already posted; strand only.
    std::atomic<std::uint64_t> committed_batches_{0};  ///< Committed transactions.
    std::atomic<std::uint64_t> retried_batches_{0};    ///< Batches run a second time.
    util::LatencyHistogram commit_latency_;            ///< BEGIN to COMMIT, per batch.
    std::atomic<std::int64_t> last_flush_end_{0};      ///< steady_clock ticks; 0: none yet.
};

}  // namespace threadsd::store::sqlite
