#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {
namespace {

[[noreturn]] void fail(sqlite3* db, int code, std::string_view what) {
    std::string message(what);
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    throw SqliteError(db != nullptr ? sqlite3_extended_errcode(db) : code, message);
}

}  // namespace

SqliteError::SqliteError(int code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), stmt_(nullptr) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
        fail(db, rc, "prepare");
    }
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
}

Statement& Statement::bind(int index, std::string_view value) {
    const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "bind text");
    }
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "bind integer");
    }
    return *this;
}

Statement& Statement::bind(int index, double value) {
    const int rc = sqlite3_bind_double(stmt_, index, value);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "bind real");
    }
    return *this;
}

Statement& Statement::bind_blob(int index, const void* data, std::size_t size) {
    const int rc = sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "bind blob");
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    const int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "bind null");
    }
    return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
    return value ? bind(index, std::string_view(*value)) : bind_null(index);
}

Statement& Statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    // Reset so that the statement can be reused after the caller handles the error.
    sqlite3_reset(stmt_);
    fail(db_, rc, "step");
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int index) const {
    return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::string Statement::text(int index) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
    const int size = sqlite3_column_bytes(stmt_, index);
    return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string Statement::blob(int index) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
    const int size = sqlite3_column_bytes(stmt_, index);
    return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> Statement::optional_text(int index) const {
    if (is_null(index)) {
        return std::nullopt;
    }
    return text(index);
}

std::int64_t Statement::integer(int index) const {
    return sqlite3_column_int64(stmt_, index);
}

std::optional<std::int64_t> Statement::optional_integer(int index) const {
    if (is_null(index)) {
        return std::nullopt;
    }
    return integer(index);
}

std::optional<double> Statement::optional_real(int index) const {
    if (is_null(index)) {
        return std::nullopt;
    }
    return sqlite3_column_double(stmt_, index);
}

Connection::Connection(const std::string& path, OpenMode mode) {
    const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
                      (mode == OpenMode::kReadOnly ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = std::string("open: ") + sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw SqliteError(rc, message);
    }
    if (mode == OpenMode::kReadWrite && sqlite3_db_readonly(db_, "main") == 1) {
        // SQLite quietly opens a file it may not write read-only; every write would then
        // fail. Better to say so at once.
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw SqliteError(SQLITE_READONLY, "open: the database file is read-only");
    }
    // Another process (the CLI) may hold the write lock briefly; wait rather than fail.
    sqlite3_busy_timeout(db_, 5000);
    try {
        if (mode == OpenMode::kReadWrite) {
            exec("PRAGMA journal_mode = WAL");
            // FULL: a COMMIT that returned survives power loss, which is what a 200 promises.
            exec("PRAGMA synchronous = FULL");
            // Savepoints and statement journals would otherwise keep their undo pages in
            // a temporary file: 15 pwrite calls per create (strace) when every writer job
            // had a savepoint. Memory is enough.
            exec("PRAGMA temp_store = MEMORY");
        }
        exec("PRAGMA foreign_keys = ON");
    } catch (...) {
        // A file that is not a database fails here; the destructor will not run.
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw;
    }
}

Connection::~Connection() {
    sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
    char* error = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string message = error != nullptr ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw SqliteError(sqlite3_extended_errcode(db_), "exec: " + message);
    }
}

Statement Connection::prepare(std::string_view sql) {
    return Statement(db_, sql);
}

int Connection::changes() const {
    return sqlite3_changes(db_);
}

bool Connection::file_moved() const {
    int moved = 0;
    return sqlite3_file_control(db_, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
           moved != 0;
}

void Connection::keep_wal_files_on_close() {
    int keep = 1;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &keep);
}

bool is_store_fault(int code) {
    switch (code & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN:
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_NOMEM:
        case SQLITE_PROTOCOL:
            return true;
        default:
            return false;
    }
}

void set_durability(Connection& connection, Durability durability) {
    connection.exec(durability == Durability::kFull ? "PRAGMA synchronous = FULL"
                                                    : "PRAGMA synchronous = NORMAL");
}

TransactionStatements::TransactionStatements(Connection& connection)
    : begin(connection.prepare("BEGIN IMMEDIATE")),
      commit(connection.prepare("COMMIT")),
      rollback(connection.prepare("ROLLBACK")) {}

Transaction::Transaction(Connection& connection, TransactionStatements* prepared)
    : connection_(connection), prepared_(prepared) {
    if (prepared_ != nullptr) {
        prepared_->begin.run();
    } else {
        connection_.exec("BEGIN IMMEDIATE");
    }
}

Transaction::~Transaction() {
    if (!done_) {
        try {
            if (prepared_ != nullptr) {
                prepared_->rollback.run();
            } else {
                connection_.exec("ROLLBACK");
            }
        } catch (const SqliteError&) {
            // SQLite already rolled back (e.g. after SQLITE_FULL); nothing left to undo.
        }
    }
}

void Transaction::commit() {
    if (prepared_ != nullptr) {
        prepared_->commit.run();
    } else {
        connection_.exec("COMMIT");
    }
    done_ = true;
}

}  // namespace threadsd::store::sqlite
