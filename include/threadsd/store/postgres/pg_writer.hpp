#pragma once
// Group commit on PostgreSQL: one connection of the writer's own takes every write that is
// waiting into one transaction, sent as one pipeline (BEGIN, the writes, COMMIT: one round
// trip), and completes each only after COMMIT has returned.
//
// PostgreSQL aborts a whole transaction on any error, so the writes are made so that they
// cannot fail (server-made ids; INSERT ... SELECT ... WHERE that skips what a key would
// refuse). Should a batch fail anyway, each of its writes is run again alone, so one bad
// write never fails its neighbours. No savepoints: beyond 64 per transaction PostgreSQL
// slows down sharply.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "threadsd/store/postgres/connection_pool.hpp"
#include "threadsd/store/postgres/pg_connection.hpp"
#include "threadsd/util/latency_histogram.hpp"

namespace threadsd::store::postgres {

/// A write one of whose statements changed no row (its WHERE found what it needs missing):
/// nothing of it was stored, and its neighbours in the batch were not affected.
class WriteSkipped : public std::runtime_error {
  public:
    WriteSkipped() : std::runtime_error("a write changed no row") {}
};

/// The process's single writer to one PostgreSQL store; thread-safe.
class PgWriter {
  public:
    /// Writes through a connection that `pool` makes for it, on `executor`, with at most
    /// `max_queued` writes accepted and not yet completed (waiting or being committed, as
    /// on SQLite). The loop starts with the first write, so a process
    /// that never writes (the command line) has nothing running.
    PgWriter(boost::asio::any_io_executor executor, ConnectionPool& pool, std::size_t max_queued);
    /// Stops taking writes; the loop ends once the queue is empty.
    ~PgWriter();
    PgWriter(const PgWriter&) = delete;
    PgWriter& operator=(const PgWriter&) = delete;

    /// Runs `statements` in the next group transaction, each of which must change at least
    /// one row; completes once COMMIT has returned. Throws WriteQueueFull (not queued),
    /// StoreUnavailable (the server cannot be reached; nothing was written), WriteSkipped
    /// or StoreFailure (refused, or the connection broke during the transaction: it may
    /// have committed).
    boost::asio::awaitable<void> write(std::vector<PgStatement> statements);

    /// Writes queued or being committed now.
    std::size_t queued_writes() const { return queued_.load(); }
    /// Group transactions committed so far.
    std::uint64_t committed_batches() const { return committed_batches_.load(); }
    /// Time from sending BEGIN to COMMIT's answer, per group transaction.
    const util::LatencyHistogram& commit_latency() const { return commit_latency_; }
    /// False when writes are waiting and no batch has finished for `limit`.
    bool making_progress(std::chrono::microseconds limit) const;

  private:
    /// How a write's owner hears its outcome: one message, the exception or null.
    using Outcome = boost::asio::experimental::concurrent_channel<void(boost::system::error_code,
                                                                       std::exception_ptr)>;

    /// A write waiting for the loop.
    struct Job {
        std::vector<PgStatement> statements;  ///< What to run.
        std::shared_ptr<Outcome> outcome;     ///< Where to say how it went.
    };

    /// Writes waiting for the loop, bounded by max_queued.
    using Queue =
        boost::asio::experimental::concurrent_channel<void(boost::system::error_code, Job)>;

    /// Takes every waiting job, commits them together, tells their owners; until closed.
    boost::asio::awaitable<void> run();
    /// Commits `batch` in one transaction; on a refusal, each job alone.
    boost::asio::awaitable<void> commit(std::vector<Job>& batch);
    /// Runs `jobs` in one transaction on the writer's connection (made when needed); for
    /// each job, whether every one of its statements changed a row. Throws what failed.
    boost::asio::awaitable<std::vector<bool>> run_transaction(const std::vector<Job*>& jobs);
    /// Tells `job`'s owner how it went.
    static void complete(Job& job, std::exception_ptr error);

    boost::asio::any_io_executor executor_;            ///< Where the loop runs.
    std::once_flag started_;                           ///< The loop is spawned once.
    ConnectionPool& pool_;                             ///< Makes the writer's connection.
    std::unique_ptr<PgConnection> connection_;         ///< The loop's alone; null until made.
    std::size_t max_queued_;                           ///< Bound on queued_.
    Queue queue_;                                      ///< Waiting writes.
    std::atomic<std::size_t> queued_{0};               ///< Accepted and not yet completed.
    std::atomic<std::uint64_t> committed_batches_{0};  ///< Committed transactions.
    std::atomic<std::int64_t> last_batch_end_{0};      ///< steady_clock ticks; 0: none yet.
    util::LatencyHistogram commit_latency_;            ///< BEGIN to COMMIT, per batch.
};

}  // namespace threadsd::store::postgres
