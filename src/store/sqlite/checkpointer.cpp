#include "threadsd/store/sqlite/checkpointer.hpp"

#include <boost/asio/post.hpp>

#include "threadsd/util/log.hpp"

namespace threadsd::store::sqlite {

namespace {

std::unique_ptr<Connection> open_connection(const std::string& path, Durability durability) {
    auto connection = std::make_unique<Connection>(path, OpenMode::kReadWrite);
    set_durability(*connection, durability);
    return connection;
}

}  // namespace

Checkpointer::Checkpointer(const std::string& path, Durability durability)
    : path_(path), durability_(durability), connection_(open_connection(path, durability)) {}

void Checkpointer::reopen() {
    reopen_.store(true);
}

Checkpointer::~Checkpointer() {
    pool_.join();
    if (reopen_.load() && connection_) {
        connection_->keep_wal_files_on_close();  // still on the old file: see Connection
    }
}

void Checkpointer::request() {
    if (!waiting_.exchange(true)) {
        boost::asio::post(pool_, [this] { run(); });
    }
}

void Checkpointer::run() {
    // Cleared first: a request made while this one copies pages queues the next one.
    waiting_.store(false);
    if (reopen_.exchange(false) || !connection_) {
        if (connection_) {
            connection_->keep_wal_files_on_close();  // see Connection
            connection_.reset();
        }
        try {
            connection_ = open_connection(path_, durability_);
        } catch (const std::exception& error) {
            util::log_error(std::string("checkpointer cannot open the database: ") + error.what());
            return;
        }
    }
    int wal_frames = 0;
    int copied_frames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(
        connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied_frames);
    runs_.fetch_add(1, std::memory_order_relaxed);
    // BUSY only means another checkpoint (the CLI's, say) is running; the next one will
    // catch up. Anything else leaves the WAL growing, which an operator should hear of.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        util::log_error(std::string("checkpoint failed: ") + sqlite3_errmsg(connection_->handle()));
    }
}

}  // namespace threadsd::store::sqlite
