#include "threadsd/store/writer.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

namespace threadsd::store {

namespace net = boost::asio;

Writer::Writer(const std::string& path, Durability durability)
    : connection_(path, OpenMode::kReadWrite),
      threads_(connection_),
      thread_reads_(connection_),
      // Prepared once: parsing them again for every job cost 14% of a create (callgrind).
      savepoint_(connection_.prepare("SAVEPOINT job")),
      release_(connection_.prepare("RELEASE job")),
      rollback_to_(connection_.prepare("ROLLBACK TO job")),
      pool_(1),
      strand_(net::make_strand(pool_.get_executor())) {
    set_durability(connection_, durability);
}

Writer::~Writer() {
    // Jobs already queued still run: each holds a waiting request.
    pool_.join();
}

net::awaitable<void> Writer::write(WriteJob job) {
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
        Transaction transaction(connection_);
        WriteContext context{connection_, threads_, thread_reads_};
        for (std::size_t i = 0; i < batch.size(); ++i) {
            savepoint_.run();
            try {
                batch[i].job(context);
                release_.run();
            } catch (...) {
                outcomes[i] = std::current_exception();
                if (sqlite3_get_autocommit(connection_.handle()) != 0) {
                    // SQLite rolled back the whole transaction (disk full, I/O error):
                    // every job of the batch is lost, so every one must fail.
                    throw;
                }
                rollback_to_.run();
                release_.run();
            }
        }
        transaction.commit();
        committed_batches_.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
        batch_error = std::current_exception();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].complete(outcomes[i] ? outcomes[i] : batch_error);
    }
}

}  // namespace threadsd::store
