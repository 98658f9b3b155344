#pragma once
// One PostgreSQL connection driven by Asio coroutines over libpq's non-blocking API.
//
// libpq's blocking calls (PQconnectdb, PQexec, PQgetResult on a busy connection) would
// stall every request that shares the I/O thread, so nothing here blocks: the connection
// is made with PQconnectStart/PQconnectPoll and queries run in pipeline mode, with the
// coroutine suspended on the socket whenever libpq would have to wait.
//
// A batch of statements goes out in one write and is answered in one read: a whole
// transaction (BEGIN, the statements, COMMIT) costs one round trip. Each distinct SQL text
// is prepared on the connection the first time it runs (in the same pipeline), so the
// server parses and plans the request path's few statements once per connection, not once
// per request. The statements before
// the Sync run in one transaction even without BEGIN, so a batch is all or nothing.
//
// A connection serves one coroutine at a time (libpq keeps one state per connection and
// the pipeline's results are matched to statements by order): its owner serializes calls,
// for example with a pool that lends each connection to one caller. A second concurrent
// call throws std::logic_error rather than corrupting the pipeline.
//
// Host names in the conninfo are resolved by libpq with a blocking getaddrinfo(); use a
// Unix socket directory or a numeric address (hostaddr=) on an I/O thread.

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace threadsd::store::postgres {

/// Anything that made a PostgreSQL call fail; what() never holds a password.
class PgFailure : public std::runtime_error {
  public:
    /// Wraps a description of what failed; the caller has already redacted it.
    explicit PgFailure(const std::string& what) : std::runtime_error(what) {}
};

/// A statement the server refused (constraint, syntax, serialization...): the connection
/// read through to the batch's end, rolled back what the failure left open, and is usable.
class PgError : public PgFailure {
  public:
    /// The server's `sqlstate` and primary `message` for statement `statement_index`.
    PgError(std::string sqlstate, std::string message, std::size_t statement_index);
    /// The five-character SQLSTATE, e.g. "23505" for a unique violation: what code tests.
    const std::string& sqlstate() const { return sqlstate_; }
    /// The server's primary message, for the log.
    const std::string& message() const { return message_; }
    /// The 0-based index in the batch of the statement that failed.
    std::size_t statement_index() const { return statement_index_; }

  private:
    std::string sqlstate_;         ///< PG_DIAG_SQLSTATE of the failure.
    std::string message_;          ///< PG_DIAG_MESSAGE_PRIMARY of the failure.
    std::size_t statement_index_;  ///< Which statement of the batch failed.
};

/// The connection cannot be used (never made, closed by the server, socket error, or an
/// operation interrupted midway): the owner drops it and connects again.
class PgConnectionLost : public PgFailure {
  public:
    /// Wraps a description of how the connection was lost, already redacted.
    explicit PgConnectionLost(const std::string& what) : PgFailure(what) {}
};

/// One statement of a batch: SQL with $1..$n placeholders and their values as text.
struct PgStatement {
    std::string sql;                                 ///< One SQL statement, no trailing ';' needed.
    std::vector<std::optional<std::string>> params;  ///< $1..$n as text; nullopt is NULL.
};

/// A NOTIFY received on a connection that ran LISTEN.
struct PgNotification {
    std::string channel;  ///< The channel named in NOTIFY.
    std::string payload;  ///< The payload, "" when none was given.
};

/// The result of one statement, in text format; owns the PGresult.
class PgResult {
  public:
    /// Takes ownership of `result` (not null).
    explicit PgResult(PGresult* result);

    /// libpq's status of the statement, e.g. PGRES_TUPLES_OK.
    ExecStatusType status() const;
    /// Number of rows returned.
    int rows() const;
    /// Number of columns returned.
    int columns() const;
    /// True when the value at row `row`, column `column` is NULL.
    bool is_null(int row, int column) const;
    /// The value as text ("" for NULL); valid as long as this result lives.
    std::string_view text(int row, int column) const;
    /// The value as text, or nothing for NULL.
    std::optional<std::string> optional_text(int row, int column) const;
    /// The value as a decimal integer; throws PgFailure for NULL or non-integer text.
    std::int64_t integer(int row, int column) const;
    /// Rows inserted, updated, deleted... by the statement (0 when it reports none).
    std::int64_t affected_rows() const;
    /// A diagnostic field of a failed statement (PG_DIAG_SQLSTATE...), "" when absent.
    std::string error_field(int field) const;

  private:
    /// Throws std::out_of_range unless (row, column) is inside the result.
    void check(int row, int column) const;

    /// Frees the PGresult with PQclear.
    struct Clear {
        /// PQclear(result).
        void operator()(PGresult* result) const;
    };
    std::unique_ptr<PGresult, Clear> result_;  ///< The owned libpq result.
};

/// One libpq connection in non-blocking pipeline mode, driven on an Asio executor.
class PgConnection {
  public:
    /// Connects to `conninfo` (a postgresql:// URI or key=value string) without blocking,
    /// failing with PgConnectionLost when it cannot within `timeout`.
    static boost::asio::awaitable<std::unique_ptr<PgConnection>> connect(
        boost::asio::any_io_executor executor, std::string conninfo,
        std::chrono::milliseconds timeout);

    /// Closes the connection (PQfinish: sends Terminate without waiting).
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    /// Runs `batch` as one pipeline and returns one result per statement. Throws PgError
    /// when a statement fails (the rest were skipped; an aborted transaction is rolled
    /// back), PgConnectionLost when the connection breaks (healthy() is then false).
    boost::asio::awaitable<std::vector<PgResult>> run(std::vector<PgStatement> batch);

    /// Runs one statement: run() with a batch of one.
    boost::asio::awaitable<PgResult> query(std::string sql,
                                           std::vector<std::optional<std::string>> params = {});

    /// Waits for the next NOTIFY on a channel this connection LISTENs to; those that came
    /// in during run() are returned first. Throws PgConnectionLost when the connection breaks.
    boost::asio::awaitable<PgNotification> wait_notification();

    /// False once the connection broke or an operation was interrupted: reconnect.
    bool healthy() const;

    /// healthy(), after reading without waiting whatever the server sent while the
    /// connection was idle: a server that stopped or ended the session is noticed before a
    /// statement goes out, when a failure could still mean "nothing was done".
    bool probe_alive();

    /// The server process serving this connection (for pg_terminate_backend and logs).
    int backend_pid() const;

    /// The executor the connection waits on.
    const boost::asio::any_io_executor& executor() const { return executor_; }

    /// Most statements prepared on one connection; beyond them a statement runs unnamed
    /// (parsed each time). The request path has a few dozen distinct texts.
    static constexpr std::size_t kMaxPrepared = 256;
    /// Longest SQL text worth preparing: longer ones are one-off scripts (migrations).
    static constexpr std::size_t kMaxPreparedLength = 4096;

  private:
    /// Frees the PGconn with PQfinish.
    struct Finish {
        /// PQfinish(connection).
        void operator()(PGconn* connection) const;
    };
    /// Owns the PGconn: closed however the connect or the connection ends.
    using Handle = std::unique_ptr<PGconn, Finish>;

    /// Adopts a connected `connection`; `conninfo` is kept redacted for messages.
    PgConnection(boost::asio::any_io_executor executor, Handle connection,
                 std::string redacted_conninfo);

    /// Sends `batch` and a Sync, flushes, and reads through to the Sync's result.
    boost::asio::awaitable<void> exchange(const std::vector<PgStatement>& batch,
                                          std::vector<PgResult>& results);
    /// Writes libpq's output buffer, reading input meanwhile so the server never stalls.
    boost::asio::awaitable<void> flush();
    /// Waits until the socket is readable and hands what arrived to libpq.
    boost::asio::awaitable<void> wait_readable();
    /// Marks the connection broken and returns PgConnectionLost describing `what`.
    PgConnectionLost lost(std::string_view what);
    /// Claims the connection: throws std::logic_error when another coroutine is using it,
    /// PgConnectionLost when it broke earlier.
    void enter();

    /// Marks the connection busy for one operation, and broken unless it completes.
    class Operation;

    boost::asio::any_io_executor executor_;  ///< Where every wait completes.
    Handle connection_;                      ///< The libpq connection.
    std::string conninfo_;                   ///< Redacted: for error messages only.
    /// The server-side name of each SQL text prepared on this connection.
    std::unordered_map<std::string, std::string> prepared_;
    std::uint64_t next_statement_name_ = 0;  ///< Names are never reused, even after a failure.
    bool healthy_ = true;                    ///< False once broken or interrupted.
    bool busy_ = false;                      ///< True while a coroutine is using it.
};

/// `conninfo` with its password replaced by "***", in URI (userinfo or ?password=) and
/// key=value forms: error messages and logs name the server without the secret.
std::string redact_conninfo(std::string_view conninfo);

/// libpq's error text `message` on one line, without the password of `conninfo`, as
/// written or percent-decoded (libpq may quote either), and redacted as above.
std::string scrub_libpq_message(std::string_view message, std::string_view conninfo);

}  // namespace threadsd::store::postgres
