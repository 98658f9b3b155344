#include "threadsd/store/sqlite/writer.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

#include "threadsd/store/sqlite/migrations.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::store::sqlite {

namespace net = boost::asio;

namespace {

/// What an operator should check for a store fault with SQLite result `code`.
std::string_view fault_hint(int code) {
    switch (code & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
            return "; the disk refused a write or a read: is it full, failing, or over a file-size "
                   "limit?";
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return "; another process holds the database's write lock";
        case SQLITE_READONLY:
            return "; the database file or its directory is not writable";
        case SQLITE_CANTOPEN:
            return "; the database file or its directory is missing or not accessible";
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return "; the database file is damaged: restore it from a backup";
        default:
            return "";
    }
}

/// What the log says about a failed batch: SQLite's words for the cause and a hint, never
/// shown to a client.
std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const SqliteError& failure) {
        return std::string(failure.what()) + " (SQLite code " + std::to_string(failure.code()) +
               ")" + std::string(fault_hint(failure.code()));
    } catch (const std::exception& failure) {
        return failure.what();
    } catch (...) {
        return "a non-standard exception";
    }
}

}  // namespace

WriteSession::WriteSession(const std::string& path, Durability durability)
    : connection(path, OpenMode::kReadWrite),
      threads(connection),
      thread_reads(connection),
      messages(connection),
      // Prepared once: parsing them again for every job cost 14% of a create (callgrind).
      transaction(connection),
      savepoint(connection.prepare("SAVEPOINT job")),
      release(connection.prepare("RELEASE job")),
      rollback_to(connection.prepare("ROLLBACK TO job")) {
    // A file put back by an operator may be an older backup; a current one is untouched.
    migrate(connection, DemoSeed::kNever);
    set_durability(connection, durability);
}

Writer::Writer(const std::string& path, Durability durability, int checkpoint_frames,
               std::size_t max_queued)
    : path_(path),
      durability_(durability),
      checkpointer_(path, durability),
      checkpoint_frames_(checkpoint_frames),
      pool_(1),
      strand_(net::make_strand(pool_.get_executor())),
      max_queued_(max_queued) {
    open_session();
}

void Writer::open_session() {
    session_ = std::make_unique<WriteSession>(path_, durability_);
    sqlite3_wal_hook(session_->connection.handle(), &Writer::after_commit, this);
    // journal_mode = WAL on opening has created both by now.
    wal_file_ = file_id(path_ + "-wal");
    shm_file_ = file_id(path_ + "-shm");
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

void Writer::follow_the_file() {
    if (session_ && !session_->connection.file_moved()) {
        return;
    }
    if (session_) {
        const bool deleted = !file_exists(path_);
        if (!file_move_logged_) {
            util::log_error("database file " + path_ + " was " +
                            (deleted ? "deleted" : "replaced by another file") +
                            " while threadsd had it open");
            file_move_logged_ = true;
        }
        // The -wal and -shm at the path are the old file's: left there, SQLite would
        // replay the old WAL into whatever file is opened at the path next.
        remove_if_same(path_ + "-wal", wal_file_);
        remove_if_same(path_ + "-shm", shm_file_);
        if (deleted) {
            // The open connection still reads the deleted file with every committed
            // write in it: write that back. Throws while the directory is gone or full;
            // the next batch tries again.
            auto restore = session_->connection.prepare("VACUUM INTO ?1");
            restore.bind(1, path_);
            restore.run();
            util::log_info("wrote " + path_ + " back from the open connection, with every " +
                           "committed write");
        } else {
            util::log_info("switching to the new file at " + path_);
        }
        session_->connection.keep_wal_files_on_close();
        session_.reset();
    }
    open_session();
    file_move_logged_ = false;
    file_epoch_.fetch_add(1, std::memory_order_acq_rel);
    checkpointer_.reopen();
    util::log_info("database file " + path_ + " is open again; writes go on");
}

void Writer::flush() {
    flush_scheduled_ = false;
    std::vector<Pending> batch;
    batch.swap(queued_);
    std::vector<std::exception_ptr> outcomes(batch.size());
    std::exception_ptr batch_error;
    try {
        follow_the_file();
        if (!run_batch(batch, outcomes, Isolation::kNone)) {
            // A job failed after changing rows, which only a rollback of the whole
            // transaction could undo. Run the batch again, each job in its own savepoint.
            retried_batches_.fetch_add(1, std::memory_order_relaxed);
            std::fill(outcomes.begin(), outcomes.end(), nullptr);
            run_batch(batch, outcomes, Isolation::kSavepointPerJob);
        }
        note_success();
    } catch (...) {
        note_failure(std::current_exception(), batch.size());
        batch_error = std::make_exception_ptr(StoreFailure());
    }
    queued_count_.fetch_sub(batch.size(), std::memory_order_relaxed);
    last_flush_end_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                          std::memory_order_relaxed);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].complete(outcomes[i] ? outcomes[i] : batch_error);
    }
}

bool Writer::making_progress(std::chrono::microseconds limit) const {
    if (queued_count_.load(std::memory_order_relaxed) == 0) {
        return true;
    }
    const auto last = std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_flush_end_.load(std::memory_order_relaxed)));
    return std::chrono::steady_clock::now() - last < limit;
}

void Writer::note_failure(const std::exception_ptr& error, std::size_t jobs) {
    unlogged_failures_ += jobs;
    const auto now = std::chrono::steady_clock::now();
    if (failing_ && now - last_failure_log_ < std::chrono::seconds(1)) {
        return;  // a disk that stays full would otherwise log once per batch
    }
    util::log_error("store: " + std::to_string(unlogged_failures_) +
                    " write(s) failed and were answered 500: " + describe(error));
    unlogged_failures_ = 0;
    last_failure_log_ = now;
    failing_ = true;
}

void Writer::note_success() {
    if (!failing_) {
        return;
    }
    if (unlogged_failures_ != 0) {
        util::log_error("store: " + std::to_string(unlogged_failures_) +
                        " more write(s) failed and were answered 500");
        unlogged_failures_ = 0;
    }
    util::log_info("store: writes succeed again");
    failing_ = false;
}

bool Writer::run_batch(std::vector<Pending>& batch, std::vector<std::exception_ptr>& outcomes,
                       Isolation isolation) {
    WriteSession& session = *session_;
    sqlite3* const db = session.connection.handle();
    const bool savepoints = isolation == Isolation::kSavepointPerJob;
    const auto started = std::chrono::steady_clock::now();
    Transaction transaction(session.connection, &session.transaction);
    WriteContext context{session.connection, session.threads, session.thread_reads,
                         session.messages};
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (savepoints) {
            session.savepoint.run();
        }
        const auto changes_before = sqlite3_total_changes64(db);
        try {
            batch[i].job(context);
            if (savepoints) {
                session.release.run();
            }
        } catch (...) {
            outcomes[i] = std::current_exception();
            if (sqlite3_get_autocommit(db) != 0) {
                // SQLite rolled back the whole transaction (disk full, I/O error): every
                // job of the batch is lost, so every one must fail.
                throw;
            }
            if (savepoints) {
                session.rollback_to.run();
                session.release.run();
            } else if (sqlite3_total_changes64(db) != changes_before) {
                return false;  // The Transaction rolls back as it goes out of scope.
            }
            // Otherwise the job failed before it changed a row (a 404, a constraint that
            // SQLite undid with its statement): nothing to undo, its neighbours go on.
        }
    }
    transaction.commit();
    commit_latency_.record(std::chrono::steady_clock::now() - started);
    committed_batches_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

}  // namespace threadsd::store::sqlite
