#pragma once
// A few PostgreSQL connections, each lent to one coroutine at a time, made on demand and
// made again when one breaks.
//
// The pool is a channel of permits: an idle connection, or an empty permit to make one.
// Borrowing receives a permit (waiting while all are lent), returning sends it back, so
// no lock is held across a wait and a connection that broke costs only its permit's
// reconnection by the next borrower. While the server cannot be reached, borrowers are
// refused at once (StoreUnavailable) until a backoff has passed, instead of each waiting
// out a connect timeout.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "threadsd/store/postgres/pg_connection.hpp"

namespace threadsd::store::postgres {

class ConnectionPool;

/// A connection borrowed from a pool; returned when this goes out of scope.
class PooledConnection {
  public:
    /// Holds `connection` on behalf of `pool`.
    PooledConnection(ConnectionPool& pool, std::unique_ptr<PgConnection> connection);
    ~PooledConnection();
    PooledConnection(PooledConnection&& other) noexcept;
    PooledConnection(const PooledConnection&) = delete;
    PooledConnection& operator=(const PooledConnection&) = delete;
    PooledConnection& operator=(PooledConnection&&) = delete;

    /// The borrowed connection.
    PgConnection* operator->() const { return connection_.get(); }
    /// The borrowed connection.
    PgConnection& operator*() const { return *connection_; }

  private:
    friend class ConnectionPool;
    ConnectionPool* pool_;                      ///< Where it goes back to.
    std::unique_ptr<PgConnection> connection_;  ///< Null once moved from.
};

/// Up to `size` connections to one server; thread-safe.
class ConnectionPool {
  public:
    /// Connections to `conninfo`, made on `executor` within `connect_timeout` each.
    ConnectionPool(boost::asio::any_io_executor executor, std::string conninfo, std::size_t size,
                   std::chrono::milliseconds connect_timeout);

    /// A connection for the caller alone: an idle one, or a new one when a permit to make
    /// one is free. Throws StoreUnavailable when none can be made (logged once a second
    /// at most).
    boost::asio::awaitable<PooledConnection> acquire();

    /// Connects once outside the pool, for a connection of its own (the writer, LISTEN).
    /// Throws StoreUnavailable like acquire().
    boost::asio::awaitable<std::unique_ptr<PgConnection>> connect();

    /// Connections made since start (for tests and metrics).
    std::uint64_t connections_made() const { return connections_made_.load(); }

  private:
    friend class PooledConnection;
    /// Returns a permit: the connection when it is still healthy, else an empty one.
    void give_back(std::unique_ptr<PgConnection> connection);

    /// A permit: an idle connection, or null for the right to make one.
    using Permits = boost::asio::experimental::concurrent_channel<void(
        boost::system::error_code, std::unique_ptr<PgConnection>)>;

    boost::asio::any_io_executor executor_;           ///< Where connections wait.
    std::string conninfo_;                            ///< What to connect to (may hold a password).
    std::chrono::milliseconds connect_timeout_;       ///< Per attempt.
    Permits permits_;                                 ///< One per connection the pool may hold.
    std::mutex failure_mutex_;                        ///< Guards the backoff state below.
    std::chrono::steady_clock::time_point retry_at_;  ///< No attempt before; failure_mutex_.
    std::chrono::milliseconds backoff_{0};            ///< Current backoff; failure_mutex_.
    std::chrono::steady_clock::time_point logged_at_;  ///< Last failure line; failure_mutex_.
    std::atomic<std::uint64_t> connections_made_{0};   ///< Successful connects.
};

}  // namespace threadsd::store::postgres
