#pragma once
// The store an integration run tests. The integration suite is one suite run twice by
// ctest: on SQLite (the default) and, with THREADSD_TEST_STORE=postgres, on PostgreSQL,
// where every test gets a fresh database on the run's throwaway cluster. Cases that look
// inside a SQLite file, or fault a PostgreSQL server, say so with a decorator.

#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace threadsd::test {

/// The two stores threadsd runs on.
enum class StoreKind {
    kSqlite,    ///< A file (the embedded default).
    kPostgres,  ///< A database on a PostgreSQL server.
};

/// The store of this run: $THREADSD_TEST_STORE, `sqlite` (also when unset) or `postgres`.
StoreKind store_under_test();

/// True when this run tests PostgreSQL.
inline bool on_postgres() {
    return store_under_test() == StoreKind::kPostgres;
}

/// A new, empty store for one test, as `--db` takes it: the file `name` in `dir` on SQLite
/// (created by the first command that uses it), a fresh database on PostgreSQL.
std::string new_store(const TempDir& dir, const std::string& name);

/// True once a command has created the store `db` (the file exists; on PostgreSQL, the
/// database holds threadsd's tables).
bool store_created(const std::string& db);

/// A Boost.Test decorator: the case or suite runs only on `kind`, and is reported as
/// skipped, with `why`, on the other store.
boost::unit_test::precondition only_on(StoreKind kind, const char* why);

/// One row of a query, each column as text (nullopt for NULL).
using Row = std::vector<std::optional<std::string>>;

/// A store opened from outside the server, as an operator's sqlite3 or psql would: for the
/// tests that check what actually lies on disk. Queries must be valid on both stores
/// (values come back as text; PostgreSQL's uuid prints in the same lower case).
class StoreRows {
  public:
    /// Opens the store `db` (a path or a postgresql:// URI of new_store()).
    explicit StoreRows(std::string db);

    /// Every row of `sql`.
    std::vector<Row> rows(const std::string& sql) const;

    /// The first column of the first row of `sql` ("" when NULL or no row).
    std::string scalar(const std::string& sql) const;

    /// The threads row with `id`, column name -> value as text (nullopt for NULL); an empty
    /// map when there is no such row.
    std::map<std::string, std::optional<std::string>> thread_row(const std::string& id) const;

    /// Where it is: on SQLite `PRAGMA integrity_check` must say ok; on PostgreSQL, whose
    /// server recovers its own WAL, the store answers a query.
    bool intact() const;

  private:
    std::string db_;  ///< The path or URI.
};

/// Holds the store's write lock from outside, as an operator's long transaction would,
/// until release() or scope end: on SQLite `BEGIN IMMEDIATE`, on PostgreSQL a transaction
/// holding `threads` in EXCLUSIVE mode (reads go on, every thread write waits).
class WriteLockHolder {
  public:
    /// Takes the lock on `db` (throws SupportFailure when it cannot).
    explicit WriteLockHolder(const std::string& db);
    /// Releases it if still held.
    ~WriteLockHolder();
    WriteLockHolder(const WriteLockHolder&) = delete;
    WriteLockHolder& operator=(const WriteLockHolder&) = delete;

    /// Rolls the holding transaction back: the waiting writes go on.
    void release();

  private:
    struct Connection;                        ///< The SQLite or libpq connection.
    std::unique_ptr<Connection> connection_;  ///< Null once released.
};

}  // namespace threadsd::test
