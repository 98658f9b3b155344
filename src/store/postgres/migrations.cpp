#include "threadsd/store/postgres/migrations.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "threadsd/store/postgres/schema_sources.hpp"
#include "threadsd/store/postgres/sql_script.hpp"

namespace threadsd::store::postgres {

namespace net = boost::asio;

namespace {

// The advisory lock that serializes migrations: any fixed number no other lock uses
// ("threadsd" in ASCII).
constexpr const char* kMigrationLock = "7521983990232315236";

// Every statement of `script`, parameterless, appended to `batch`.
void append_script(std::vector<PgStatement>& batch, std::string_view script) {
    for (auto& sql : split_sql_script(script)) {
        batch.push_back({std::move(sql), {}});
    }
}

}  // namespace

int latest_schema_version() {
    const auto& migrations = embedded_migrations();
    return migrations.empty() ? 0 : migrations.back().version;
}

net::awaitable<MigrationResult> migrate(PgConnection& connection, DemoSeed seed) {
    std::vector<PgStatement> lock{
        {"BEGIN", {}},
        {"SELECT pg_advisory_xact_lock($1::bigint)", {kMigrationLock}},
        {"CREATE TABLE IF NOT EXISTS threadsd_schema ("
         " id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
         {}},
        {"SELECT version FROM threadsd_schema WHERE id = 1", {}},
    };
    auto locked = co_await connection.run(std::move(lock));
    MigrationResult result;
    result.from_version = locked[3].rows() == 0 ? 0 : static_cast<int>(locked[3].integer(0, 0));
    result.to_version = latest_schema_version();
    if (result.from_version > result.to_version) {
        std::vector<PgStatement> rollback{{"ROLLBACK", {}}};
        co_await connection.run(std::move(rollback));
        throw std::runtime_error("the store's schema is version " +
                                 std::to_string(result.from_version) +
                                 ", newer than this threadsd's " +
                                 std::to_string(result.to_version) + "; run the newer threadsd");
    }

    std::vector<PgStatement> upgrade;
    for (const auto& migration : embedded_migrations()) {
        if (migration.version > result.from_version) {
            append_script(upgrade, migration.sql);
        }
    }
    upgrade.push_back(
        {"INSERT INTO threadsd_schema (id, version) VALUES (1, $1::integer)"
         " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
         {std::to_string(result.to_version)}});
    upgrade.push_back({"SELECT count(*) FROM organizations", {}});
    auto upgraded = co_await connection.run(std::move(upgrade));
    const bool empty = upgraded.back().integer(0, 0) == 0;

    result.seeded = (seed == DemoSeed::kWhenCreated && result.from_version == 0) ||
                    (seed == DemoSeed::kWhenEmpty && empty);
    std::vector<PgStatement> finish;
    if (result.seeded) {
        append_script(finish, embedded_demo_seed());
    }
    finish.push_back({"COMMIT", {}});
    co_await connection.run(std::move(finish));
    co_return result;
}

}  // namespace threadsd::store::postgres
