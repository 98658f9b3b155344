#include "threadsd/store/writer.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

namespace threadsd::store {

namespace net = boost::asio;

Writer::Writer(const std::string& path, Durability durability, int checkpoint_frames,
               std::size_t max_queued)
    : checkpointer_(path, durability),
      checkpoint_frames_(checkpoint_frames),
      connection_(path, OpenMode::kReadWrite),
      threads_(connection_),
      thread_reads_(connection_),
      // Prepared once: parsing them again for every job cost 14% of a create (callgrind).
      transaction_(connection_),
      savepoint_(connection_.prepare("SAVEPOINT job")),
      release_(connection_.prepare("RELEASE job")),
      rollback_to_(connection_.prepare("ROLLBACK TO job")),
      pool_(1),
      strand_(net::make_strand(pool_.get_executor())),
      max_queued_(max_queued) {
    set_durability(connection_, durability);
    sqlite3_wal_hook(connection_.handle(), &Writer::after_commit, this);
}

int Writer::after_commit(void* writer, sqlite3*, const char*, int frames) {
    auto* self = static_cast<Writer*>(writer);
    if (frames >= self->checkpoint_frames_) {
        self->checkpointer_.request();
    }
    return SQLITE_OK;
}

Writer::~Writer() {
    // Jobs already queued still run: each holds a waiting request.
    pool_.join();
}

net::awaitable<void> Writer::write(WriteJob job) {
    // Counted here, on the caller's thread, so the refusal needs no trip to the strand.
    if (queued_count_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
        queued_count_.fetch_sub(1, std::memory_order_relaxed);
        throw WriteQueueFull();
    }
    auto initiate = [this](auto handler, WriteJob work) {
        using Handler = decltype(handler);
        // The handler is move-only; Completion is copyable, so share it.
        auto shared = std::make_shared<Handler>(std::move(handler));
        // Keep the caller's executor (its io_context) alive until the job completes.
        auto caller = net::prefer(net::get_associated_executor(*shared),
                                  net::execution::outstanding_work.tracked);
        enqueue(Pending{std::move(work), [shared, caller](std::exception_ptr error) {
                            net::post(caller, [shared, error] { std::move (*shared)(error); });
                        }});
    };
    co_await net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr)>(
        initiate, net::use_awaitable, std::move(job));
}

void Writer::enqueue(Pending pending) {
    net::post(strand_, [this, pending = std::move(pending)]() mutable {
        queued_.push_back(std::move(pending));
        if (!flush_scheduled_) {
            // Posted behind whatever is already queued on the strand, so every job that
            // arrived meanwhile joins this transaction.
            flush_scheduled_ = true;
            net::post(strand_, [this] { flush(); });
        }
    });
}

void Writer::flush() {
    flush_scheduled_ = false;
    std::vector<Pending> batch;
    batch.swap(queued_);
    std::vector<std::exception_ptr> outcomes(batch.size());
    std::exception_ptr batch_error;
    try {
        if (!run_batch(batch, outcomes, Isolation::kNone)) {
            // A job failed after changing rows, which only a rollback of the whole
            // transaction could undo. Run the batch again, each job in its own savepoint.
            retried_batches_.fetch_add(1, std::memory_order_relaxed);
            std::fill(outcomes.begin(), outcomes.end(), nullptr);
            run_batch(batch, outcomes, Isolation::kSavepointPerJob);
        }
    } catch (...) {
        batch_error = std::current_exception();
    }
    queued_count_.fetch_sub(batch.size(), std::memory_order_relaxed);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].complete(outcomes[i] ? outcomes[i] : batch_error);
    }
}

bool Writer::run_batch(std::vector<Pending>& batch, std::vector<std::exception_ptr>& outcomes,
                       Isolation isolation) {
    sqlite3* const db = connection_.handle();
    const bool savepoints = isolation == Isolation::kSavepointPerJob;
    Transaction transaction(connection_, &transaction_);
    WriteContext context{connection_, threads_, thread_reads_};
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (savepoints) {
            savepoint_.run();
        }
        const auto changes_before = sqlite3_total_changes64(db);
        try {
            batch[i].job(context);
            if (savepoints) {
                release_.run();
            }
        } catch (...) {
            outcomes[i] = std::current_exception();
            if (sqlite3_get_autocommit(db) != 0) {
                // SQLite rolled back the whole transaction (disk full, I/O error): every
                // job of the batch is lost, so every one must fail.
                throw;
            }
            if (savepoints) {
                rollback_to_.run();
                release_.run();
            } else if (sqlite3_total_changes64(db) != changes_before) {
                return false;  // The Transaction rolls back as it goes out of scope.
            }
            // Otherwise the job failed before it changed a row (a 404, a constraint that
            // SQLite undid with its statement): nothing to undo, its neighbours go on.
        }
    }
    transaction.commit();
    committed_batches_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

}  // namespace threadsd::store
