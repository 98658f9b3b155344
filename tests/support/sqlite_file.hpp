#pragma once
// A store file read with the SQLite C API, as an operator with the sqlite3 shell would.

#include <map>
#include <optional>
#include <string>

struct sqlite3;

namespace threadsd::test {

/// How SqliteFile opens the file.
enum class SqliteAccess {
    kReadOnly,   ///< Only reads.
    kReadWrite,  ///< Also recovers the WAL a killed server left behind.
};

/// A SQLite connection to a store file, closed at scope end.
class SqliteFile {
  public:
    /// Opens `path` (fails the test when it cannot), waiting up to 5 s for locks.
    explicit SqliteFile(const std::string& path, SqliteAccess access = SqliteAccess::kReadOnly);
    ~SqliteFile();
    SqliteFile(const SqliteFile&) = delete;
    SqliteFile& operator=(const SqliteFile&) = delete;

    /// The connection.
    sqlite3* handle() const { return db_; }

    /// The first column of the first row of `sql` as text ("" when NULL or no row).
    std::string scalar(const std::string& sql);

    /// The threads row with `id`, column name -> value as text (nullopt for NULL); empty map
    /// when there is no such row.
    std::map<std::string, std::optional<std::string>> thread_row(const std::string& id);

  private:
    sqlite3* db_ = nullptr;  ///< The connection.
};

}  // namespace threadsd::test
