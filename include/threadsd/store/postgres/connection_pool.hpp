#pragma once
// A few PostgreSQL connections, each lent to one coroutine at a time, made on demand and
// made again when one breaks.
//
// The pool is a channel of permits, one per connection it may hold, and a stack of idle
// connections. Borrowing receives a permit (waiting while all are lent) and takes the
// most recently returned connection, or makes one; returning pushes the connection and
// sends the permit back. No lock is held across a wait, a connection that broke costs only
// a reconnection by the next borrower, and a light load keeps reusing one warm connection
// (its prepared statements, its server process in cache) instead of cycling through all. While the
// server cannot be reached, borrowers are refused at once (StoreUnavailable) until a backoff has
// passed, instead of each waiting out a connect timeout.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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

    /// What the pool connects to, password included: for a connection of one's own that
    /// must outlive the pool (LISTEN), never for a message.
    const std::string& conninfo() const { return conninfo_; }

    /// Connections made since start (for tests and metrics).
    std::uint64_t connections_made() const { return connections_made_.load(); }

  private:
    friend class PooledConnection;
    /// Keeps the connection when it is still healthy, and returns its permit.
    void give_back(std::unique_ptr<PgConnection> connection);

    /// The right to hold one connection.
    using Permits = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

    boost::asio::any_io_executor executor_;      ///< Where connections wait.
    std::string conninfo_;                       ///< What to connect to (may hold a password).
    std::chrono::milliseconds connect_timeout_;  ///< Per attempt.
    Permits permits_;                            ///< One per connection the pool may hold.
    std::mutex idle_mutex_;                      ///< Guards idle_.
    std::vector<std::unique_ptr<PgConnection>> idle_;  ///< Returned connections, newest last.
    std::mutex failure_mutex_;                         ///< Guards the backoff state below.
    std::chrono::steady_clock::time_point retry_at_;   ///< No attempt before; failure_mutex_.
    std::chrono::milliseconds backoff_{0};             ///< Current backoff; failure_mutex_.
    std::chrono::steady_clock::time_point logged_at_;  ///< Last failure line; failure_mutex_.
    std::atomic<std::uint64_t> connections_made_{0};   ///< Successful connects.
};

}  // namespace threadsd::store::postgres
