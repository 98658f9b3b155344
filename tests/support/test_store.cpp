#include "support/test_store.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "support/postgres_cluster.hpp"
#include "support/require.hpp"

namespace threadsd::test {
namespace {

bool is_uri(const std::string& db) {
    return db.rfind("postgresql://", 0) == 0;
}

/// Every row of `sql` on the SQLite file `path`, waiting up to 5 s for locks. Opened
/// read-write, so that a WAL a killed server left behind is recovered first.
std::vector<Row> sqlite_rows(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_close_v2(db);
        throw SupportFailure("cannot open " + path + ": " + sqlite3_errstr(rc));
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* statement = nullptr;
    rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr);
    std::vector<Row> rows;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(statement);
        if (rc != SQLITE_ROW) {
            break;
        }
        Row row;
        for (int i = 0; i < sqlite3_column_count(statement); ++i) {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
            if (text == nullptr) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(
                    text, static_cast<std::size_t>(sqlite3_column_bytes(statement, i))));
            }
        }
        rows.push_back(std::move(row));
    }
    const std::string error = sqlite3_errmsg(db);
    sqlite3_finalize(statement);
    sqlite3_close_v2(db);
    require(rc == SQLITE_DONE, "`" + sql + "` failed on " + path + ": " + error);
    return rows;
}

/// Every row of `sql` on the PostgreSQL database at `uri`, over a connection of its own.
std::vector<Row> postgres_rows(const std::string& uri, const std::string& sql) {
    PGconn* connection = PQconnectdb(uri.c_str());
    std::vector<Row> rows;
    std::string error;
    if (PQstatus(connection) != CONNECTION_OK) {
        error = std::string("cannot connect: ") + PQerrorMessage(connection);
    } else {
        PGresult* result = PQexec(connection, sql.c_str());
        const auto status = PQresultStatus(result);
        if (status == PGRES_TUPLES_OK) {
            for (int r = 0; r < PQntuples(result); ++r) {
                Row row;
                for (int c = 0; c < PQnfields(result); ++c) {
                    if (PQgetisnull(result, r, c) != 0) {
                        row.emplace_back(std::nullopt);
                    } else {
                        row.emplace_back(
                            std::string(PQgetvalue(result, r, c),
                                        static_cast<std::size_t>(PQgetlength(result, r, c))));
                    }
                }
                rows.push_back(std::move(row));
            }
        } else if (status != PGRES_COMMAND_OK) {
            error = PQresultErrorMessage(result);
        }
        PQclear(result);
    }
    PQfinish(connection);
    require(error.empty(), "`" + sql + "` failed: " + error);
    return rows;
}

}  // namespace

StoreKind store_under_test() {
    static const StoreKind kind = [] {
        const char* name = std::getenv("THREADSD_TEST_STORE");
        if (name == nullptr || *name == '\0' || std::strcmp(name, "sqlite") == 0) {
            return StoreKind::kSqlite;
        }
        require(std::strcmp(name, "postgres") == 0,
                std::string("THREADSD_TEST_STORE is sqlite or postgres, not ") + name);
        return StoreKind::kPostgres;
    }();
    return kind;
}

std::string new_store(const TempDir& dir, const std::string& name) {
    if (on_postgres()) {
        return postgres_cluster().create_database();
    }
    return dir.file(name);
}

bool store_created(const std::string& db) {
    if (!is_uri(db)) {
        return std::filesystem::exists(db);
    }
    return StoreRows(db).scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'threads'") ==
           "1";
}

boost::unit_test::precondition only_on(StoreKind kind, const char* why) {
    return boost::unit_test::precondition(
        [kind, why](boost::unit_test::test_unit_id) -> boost::test_tools::assertion_result {
            boost::test_tools::assertion_result result(store_under_test() == kind);
            result.message() << why;
            return result;
        });
}

StoreRows::StoreRows(std::string db) : db_(std::move(db)) {}

std::vector<Row> StoreRows::rows(const std::string& sql) const {
    if (!is_uri(db_)) {
        return sqlite_rows(db_, sql);
    }
    return postgres_rows(db_, sql);
}

std::string StoreRows::scalar(const std::string& sql) const {
    const auto all = rows(sql);
    if (all.empty() || all.front().empty() || !all.front().front()) {
        return "";
    }
    return *all.front().front();
}

std::map<std::string, std::optional<std::string>> StoreRows::thread_row(
    const std::string& id) const {
    static const char* const kColumns[] = {"organization_id",
                                           "id",
                                           "agent_id",
                                           "agent_version_id",
                                           "to_phone_number",
                                           "from_phone_number",
                                           "from_phone_number_id",
                                           "lead_id",
                                           "is_active",
                                           "created_at",
                                           "updated_at",
                                           "closed_at",
                                           "closed_reason",
                                           "metadata",
                                           "variables"};
    std::string sql = "SELECT ";
    for (const char* column : kColumns) {
        sql += std::string(sql.size() > 7 ? ", " : "") + column;
    }
    // Ids come from the server's answers: canonical UUIDs, nothing to escape.
    sql += " FROM threads WHERE id = '" + id + "'";
    std::map<std::string, std::optional<std::string>> row;
    const auto found = rows(sql);
    if (!found.empty()) {
        for (std::size_t i = 0; i < std::size(kColumns); ++i) {
            row[kColumns[i]] = found.front().at(i);
        }
    }
    return row;
}

bool StoreRows::intact() const {
    if (!is_uri(db_)) {
        return scalar("PRAGMA integrity_check") == "ok";
    }
    return scalar("SELECT 1") == "1";
}

struct WriteLockHolder::Connection {
    sqlite3* sqlite = nullptr;   ///< On SQLite.
    PGconn* postgres = nullptr;  ///< On PostgreSQL.
    ~Connection() {
        if (sqlite != nullptr) {
            sqlite3_exec(sqlite, "ROLLBACK", nullptr, nullptr, nullptr);
            sqlite3_close_v2(sqlite);
        }
        if (postgres != nullptr) {
            PQfinish(postgres);  // the server rolls the transaction back
        }
    }
};

WriteLockHolder::WriteLockHolder(const std::string& db)
    : connection_(std::make_unique<Connection>()) {
    if (is_uri(db)) {
        connection_->postgres = PQconnectdb(db.c_str());
        require(PQstatus(connection_->postgres) == CONNECTION_OK,
                std::string("cannot connect: ") + PQerrorMessage(connection_->postgres));
        PGresult* result =
            PQexec(connection_->postgres, "BEGIN; LOCK TABLE threads IN EXCLUSIVE MODE");
        const bool locked = PQresultStatus(result) == PGRES_COMMAND_OK;
        PQclear(result);
        require(locked,
                std::string("cannot lock threads: ") + PQerrorMessage(connection_->postgres));
        return;
    }
    require(sqlite3_open_v2(db.c_str(), &connection_->sqlite, SQLITE_OPEN_READWRITE, nullptr) ==
                SQLITE_OK,
            "cannot open " + db);
    sqlite3_busy_timeout(connection_->sqlite, 5000);
    require(sqlite3_exec(connection_->sqlite, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
                SQLITE_OK,
            std::string("cannot take the write lock: ") + sqlite3_errmsg(connection_->sqlite));
}

WriteLockHolder::~WriteLockHolder() = default;

void WriteLockHolder::release() {
    connection_.reset();
}

}  // namespace threadsd::test
