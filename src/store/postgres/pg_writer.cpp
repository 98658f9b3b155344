#include "threadsd/store/postgres/pg_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "threadsd/store/errors.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::store::postgres {

namespace net = boost::asio;

namespace {

// Most writes in one transaction: a pipeline this long is one round trip, and a batch
// that must be retried one by one stays short.
constexpr std::size_t kMaxBatch = 256;

std::int64_t now_ticks() {
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

}  // namespace

PgWriter::PgWriter(net::any_io_executor executor, ConnectionPool& pool, std::size_t max_queued)
    : executor_(executor),
      pool_(pool),
      max_queued_(std::max<std::size_t>(max_queued, 1)),
      queue_(executor, max_queued_) {}

PgWriter::~PgWriter() {
    queue_.close();
}

bool PgWriter::making_progress(std::chrono::microseconds limit) const {
    if (queued_.load() == 0) {
        return true;
    }
    const auto last = last_batch_end_.load();
    if (last == 0) {
        return true;
    }
    const auto since = std::chrono::steady_clock::duration(now_ticks() - last);
    return since < limit;
}

net::awaitable<void> PgWriter::write(std::vector<PgStatement> statements) {
    std::call_once(started_, [this] {
        net::co_spawn(executor_, run(), [](std::exception_ptr error) {
            if (!error) {
                return;
            }
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& failure) {
                util::log_error(std::string("the PostgreSQL writer stopped: ") + failure.what());
            }
        });
    });
    // The count, not the channel, is the bound: the batch being committed has left the
    // channel but still counts.
    if (queued_.fetch_add(1) >= max_queued_) {
        queued_.fetch_sub(1);
        throw WriteQueueFull();
    }
    auto outcome = std::make_shared<Outcome>(executor_, 1);
    if (!queue_.try_send(boost::system::error_code{}, Job{std::move(statements), outcome})) {
        queued_.fetch_sub(1);
        throw WriteQueueFull();
    }
    auto [ec, error] = co_await outcome->async_receive(net::as_tuple(net::use_awaitable));
    queued_.fetch_sub(1);
    if (ec) {
        throw StoreFailure();  // the writer went away with the write in its hands
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

void PgWriter::complete(Job& job, std::exception_ptr error) {
    job.outcome->try_send(boost::system::error_code{}, std::move(error));
}

net::awaitable<void> PgWriter::run() {
    for (;;) {
        auto [ec, first] = co_await queue_.async_receive(net::as_tuple(net::use_awaitable));
        if (ec) {
            co_return;  // closed
        }
        std::vector<Job> batch;
        batch.push_back(std::move(first));
        while (batch.size() < kMaxBatch &&
               queue_.try_receive([&batch](boost::system::error_code, Job job) {
                   batch.push_back(std::move(job));
               })) {
        }
        co_await commit(batch);
        last_batch_end_.store(now_ticks());
    }
}

net::awaitable<void> PgWriter::commit(std::vector<Job>& batch) {
    std::vector<Job*> all;
    all.reserve(batch.size());
    for (auto& job : batch) {
        all.push_back(&job);
    }
    std::exception_ptr failure;
    std::vector<bool> changed;
    try {
        changed = co_await run_transaction(all);
    } catch (const PgError&) {
        failure = std::current_exception();
    } catch (...) {
        // Unreachable server or a broken connection: every job gets the same answer.
        const auto error = std::current_exception();
        for (auto& job : batch) {
            complete(job, error);
        }
        co_return;
    }
    if (!failure) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            // A write that changed nothing found what it needed missing: it failed alone.
            complete(batch[i], changed[i] ? nullptr : std::make_exception_ptr(WriteSkipped()));
        }
        co_return;
    }
    // Refused: each job alone, so that only the ones at fault fail.
    for (auto& job : batch) {
        std::exception_ptr error;
        try {
            const std::vector<Job*> alone_job{&job};
            const auto alone = co_await run_transaction(alone_job);
            if (!alone[0]) {
                error = std::make_exception_ptr(WriteSkipped());
            }
        } catch (const PgError& refused) {
            util::log_error(std::string("PostgreSQL refused a write: ") + refused.what());
            error = std::make_exception_ptr(StoreFailure());
        } catch (...) {
            error = std::current_exception();
        }
        complete(job, error);
    }
}

net::awaitable<std::vector<bool>> PgWriter::run_transaction(const std::vector<Job*>& jobs) {
    if (!connection_ || !connection_->probe_alive()) {
        connection_.reset();
        connection_ = co_await pool_.connect();  // StoreUnavailable when it cannot
    }
    std::vector<PgStatement> statements;
    statements.push_back({"BEGIN", {}});
    for (const auto* job : jobs) {
        statements.insert(statements.end(), job->statements.begin(), job->statements.end());
    }
    statements.push_back({"COMMIT", {}});
    const auto began = std::chrono::steady_clock::now();
    std::vector<PgResult> results;
    try {
        results = co_await connection_->run(std::move(statements));
    } catch (const PgConnectionLost& lost) {
        // COMMIT may or may not have reached the server: not "nothing was done".
        util::log_error(std::string("the PostgreSQL writer lost its connection: ") + lost.what());
        throw StoreFailure();
    }
    commit_latency_.record(std::chrono::steady_clock::now() - began);
    committed_batches_.fetch_add(1);
    std::vector<bool> changed;
    changed.reserve(jobs.size());
    std::size_t index = 1;  // results[0] is BEGIN's
    for (const auto* job : jobs) {
        bool all = true;
        for (std::size_t i = 0; i < job->statements.size(); ++i, ++index) {
            all = all && results[index].affected_rows() > 0;
        }
        changed.push_back(all);
    }
    co_return changed;
}

}  // namespace threadsd::store::postgres
