#pragma once
// Thin RAII over the SQLite C API: connections, prepared statements, transactions.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "threadsd/store/options.hpp"

namespace threadsd::store::sqlite {

/// A failed SQLite call. `what()` is for the log only, never for a client.
class SqliteError : public std::runtime_error {
  public:
    /// Wraps SQLite's extended result `code` with a description of what was attempted.
    SqliteError(int code, const std::string& message);
    /// SQLite's extended result code, e.g. SQLITE_CONSTRAINT_UNIQUE.
    int code() const { return code_; }

  private:
    int code_;  ///< SQLite's extended result code.
};

/// One prepared statement; reset and reused, never shared between threads.
class Statement {
  public:
    /// Prepares `sql` on `db`.
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;

    /// Binds a text parameter (1-based); the text is copied.
    Statement& bind(int index, std::string_view value);
    /// Binds a text parameter; spelled out so std::string is not ambiguous.
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    /// Binds a text parameter from a literal.
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    /// Binds an integer parameter.
    Statement& bind(int index, std::int64_t value);
    /// Binds a floating-point parameter.
    Statement& bind(int index, double value);
    /// Binds a blob parameter.
    Statement& bind_blob(int index, const void* data, std::size_t size);
    /// Binds NULL.
    Statement& bind_null(int index);
    /// Binds text, or NULL when empty.
    Statement& bind(int index, const std::optional<std::string>& value);
    /// Binds a number, or NULL when empty.
    Statement& bind(int index, const std::optional<double>& value);

    /// Runs one step: true when a row is available, false when done.
    bool step();
    /// Runs the statement to completion, ignoring rows, then resets it.
    void run();
    /// Resets the statement and clears its bindings, ready for reuse.
    void reset();

    /// True when column `index` (0-based) is NULL.
    bool is_null(int index) const;
    /// Column as text (empty for NULL).
    std::string text(int index) const;
    /// Column as text, or nothing for NULL.
    std::optional<std::string> optional_text(int index) const;
    /// Column as bytes (a blob; empty for NULL).
    std::string blob(int index) const;
    /// Column as an integer.
    std::int64_t integer(int index) const;
    /// Column as an integer, or nothing for NULL.
    std::optional<std::int64_t> optional_integer(int index) const;
    /// Column as a double, or nothing for NULL.
    std::optional<double> optional_real(int index) const;

  private:
    sqlite3* db_;         ///< Owning connection, for error messages.
    sqlite3_stmt* stmt_;  ///< The prepared statement.
};

/// How a connection is opened.
enum class OpenMode {
    kReadWrite,  ///< Creates the file when missing.
    kReadOnly,   ///< For request-path reads; never blocks the writer in WAL mode.
};

/// One SQLite connection configured the way threadsd needs it (WAL, foreign keys,
/// a busy timeout so that the CLI and the server can share the file).
class Connection {
  public:
    /// Opens `path`; throws SqliteError when it cannot.
    Connection(const std::string& path, OpenMode mode);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs one or more statements that take no parameters.
    void exec(std::string_view sql);
    /// Prepares a statement.
    Statement prepare(std::string_view sql);
    /// Rows changed by the last statement.
    int changes() const;
    /// True when the path it was opened with no longer names its file: the file was
    /// deleted, renamed or replaced while open (one stat).
    bool file_moved() const;
    /// Makes closing this connection leave the -wal and -shm files at its path alone. Set
    /// on a connection to a deleted or replaced file before closing it: those paths may
    /// belong to the new file by then, and SQLite would remove them by name.
    void keep_wal_files_on_close();
    /// The raw handle, for the few calls this wrapper does not cover.
    sqlite3* handle() const { return db_; }

  private:
    sqlite3* db_ = nullptr;  ///< The connection.
};

/// True for the SQLite result codes that mean the store itself failed (disk full, I/O
/// error, locked, read-only, missing or corrupt file) rather than a request being wrong.
bool is_store_fault(int code);

/// Sets `synchronous` on a read-write connection; the writer sets it once, before any write.
void set_durability(Connection& connection, Durability durability);

/// BEGIN IMMEDIATE, COMMIT and ROLLBACK prepared once, for a connection that runs a
/// transaction per group commit (the writer) instead of parsing them every time.
struct TransactionStatements {
    /// Prepares the three statements on `connection`.
    explicit TransactionStatements(Connection& connection);
    Statement begin;     ///< BEGIN IMMEDIATE.
    Statement commit;    ///< COMMIT.
    Statement rollback;  ///< ROLLBACK.
};

/// A transaction that rolls back unless committed; begins IMMEDIATE so that a writer
/// takes the write lock up front instead of failing halfway with SQLITE_BUSY.
class Transaction {
  public:
    /// Begins the transaction, with `prepared` statements when given.
    explicit Transaction(Connection& connection, TransactionStatements* prepared = nullptr);
    /// Rolls back when commit() was not reached.
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    /// Commits; after it returns the changes are durable per the connection's settings.
    void commit();

  private:
    Connection& connection_;           ///< The connection the transaction runs on.
    TransactionStatements* prepared_;  ///< Prepared statements, or null to parse them.
    bool done_ = false;                ///< Set once committed.
};

}  // namespace threadsd::store::sqlite
