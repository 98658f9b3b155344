#include "support/sqlite_file.hpp"

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

namespace threadsd::test {

SqliteFile::SqliteFile(const std::string& path, SqliteAccess access) {
    const bool writable = access == SqliteAccess::kReadWrite;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db_, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, nullptr);
    BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, "cannot open " << path << (writable ? "" : " read-only")
                                                          << ": " << sqlite3_errstr(rc));
    sqlite3_busy_timeout(db_, 5000);
}

SqliteFile::~SqliteFile() {
    sqlite3_close_v2(db_);
}

std::string SqliteFile::scalar(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    BOOST_REQUIRE_MESSAGE(
        sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK,
        sqlite3_errmsg(db_));
    std::string value;
    if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
        value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return value;
}

std::map<std::string, std::optional<std::string>> SqliteFile::thread_row(const std::string& id) {
    sqlite3_stmt* statement = nullptr;
    BOOST_REQUIRE(sqlite3_prepare_v2(db_, "SELECT * FROM threads WHERE id = ?1", -1, &statement,
                                     nullptr) == SQLITE_OK);
    sqlite3_bind_text(statement, 1, id.c_str(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    std::map<std::string, std::optional<std::string>> row;
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(statement); ++i) {
            const std::string name = sqlite3_column_name(statement, i);
            if (sqlite3_column_type(statement, i) == SQLITE_NULL) {
                row[name] = std::nullopt;
            } else {
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
                row[name] =
                    std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, i)));
            }
        }
    }
    const int second = rc == SQLITE_ROW ? sqlite3_step(statement) : rc;
    sqlite3_finalize(statement);
    BOOST_REQUIRE_MESSAGE(second == SQLITE_DONE, "query failed: " << sqlite3_errmsg(db_));
    return row;
}

}  // namespace threadsd::test
