#include "threadsd/store/postgres/connection_pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "threadsd/store/errors.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::store::postgres {

namespace net = boost::asio;

namespace {

// Backoff after a failed connect: doubled each time, from the first to the last.
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kLastBackoff{2000};

// Every statement threadsd runs is written to be one index range scan whatever its values,
// so a plan made once per connection serves every call. PostgreSQL's default would plan a
// list page anew on every call: with LIMIT $n its generic plan looks costlier than one made
// for the values, though it is the same plan (docs/postgresql.md, Statement plans).
constexpr std::string_view kSessionSetup = "SET plan_cache_mode = force_generic_plan";

}  // namespace

PooledConnection::PooledConnection(ConnectionPool& pool, std::unique_ptr<PgConnection> connection)
    : pool_(&pool), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)) {
    other.pool_ = nullptr;
}

PooledConnection::~PooledConnection() {
    if (pool_ != nullptr) {
        pool_->give_back(std::move(connection_));
    }
}

ConnectionPool::ConnectionPool(net::any_io_executor executor, std::string conninfo,
                               std::size_t size, std::chrono::milliseconds connect_timeout)
    : executor_(executor),
      conninfo_(std::move(conninfo)),
      connect_timeout_(connect_timeout),
      permits_(executor, size) {
    idle_.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
        permits_.try_send(boost::system::error_code{});
    }
}

net::awaitable<std::unique_ptr<PgConnection>> ConnectionPool::connect() {
    {
        std::lock_guard lock(failure_mutex_);
        if (std::chrono::steady_clock::now() < retry_at_) {
            throw StoreUnavailable();
        }
    }
    std::unique_ptr<PgConnection> connection;
    try {
        connection = co_await PgConnection::connect(executor_, conninfo_, connect_timeout_);
        co_await connection->query(std::string(kSessionSetup));
    } catch (const PgFailure& failure) {
        connection.reset();
        std::lock_guard lock(failure_mutex_);
        const auto now = std::chrono::steady_clock::now();
        backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kLastBackoff);
        retry_at_ = now + backoff_;
        if (now - logged_at_ >= std::chrono::seconds(1)) {
            logged_at_ = now;
            // PgFailure's text is redacted: it never holds the password.
            util::log_error(std::string("cannot reach PostgreSQL: ") + failure.what());
        }
    }
    if (!connection) {
        throw StoreUnavailable();
    }
    {
        std::lock_guard lock(failure_mutex_);
        if (backoff_.count() != 0) {
            util::log_info("PostgreSQL is reachable again");
        }
        backoff_ = std::chrono::milliseconds{0};
    }
    connections_made_.fetch_add(1);
    co_return connection;
}

net::awaitable<PooledConnection> ConnectionPool::acquire() {
    if (!permits_.try_receive([](boost::system::error_code) {})) {
        auto [ec] = co_await permits_.async_receive(net::as_tuple(net::use_awaitable));
        if (ec) {
            throw StoreUnavailable();  // the pool is closing
        }
    }
    std::unique_ptr<PgConnection> connection;
    {
        std::lock_guard lock(idle_mutex_);
        if (!idle_.empty()) {
            connection = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    // From here the permit is the caller's: it goes back however this ends.
    PooledConnection lease(*this, std::move(connection));
    if (!lease.connection_ || !lease.connection_->probe_alive()) {
        lease.connection_.reset();
        lease.connection_ = co_await connect();
    }
    co_return lease;
}

void ConnectionPool::give_back(std::unique_ptr<PgConnection> connection) {
    if (connection && connection->healthy()) {
        std::lock_guard lock(idle_mutex_);
        idle_.push_back(std::move(connection));
    }
    connection.reset();  // a broken one is closed before its permit goes back
    // Never full: there are exactly as many permits as places.
    permits_.try_send(boost::system::error_code{});
}

}  // namespace threadsd::store::postgres
