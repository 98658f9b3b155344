#include "threadsd/store/sqlite/migrations.hpp"

#include "threadsd/store/sqlite/schema_sources.hpp"

namespace threadsd::store::sqlite {
namespace {

int user_version(Connection& connection) {
    auto statement = connection.prepare("PRAGMA user_version");
    statement.step();
    return static_cast<int>(statement.integer(0));
}

bool has_organizations(Connection& connection) {
    auto statement = connection.prepare("SELECT EXISTS (SELECT 1 FROM organizations)");
    statement.step();
    return statement.integer(0) != 0;
}

}  // namespace

int latest_schema_version() {
    const auto& migrations = embedded_migrations();
    return migrations.empty() ? 0 : migrations.back().version;
}

MigrationResult migrate(Connection& connection, DemoSeed seed) {
    MigrationResult result;
    // Cheap check first, so an up-to-date store takes no write lock.
    result.from_version = user_version(connection);
    if (result.from_version > latest_schema_version()) {
        throw std::runtime_error("the database has schema version " +
                                 std::to_string(result.from_version) +
                                 ", newer than this threadsd understands (" +
                                 std::to_string(latest_schema_version()) + ")");
    }
    if (result.from_version == latest_schema_version() &&
        (seed != DemoSeed::kWhenEmpty || has_organizations(connection))) {
        result.to_version = result.from_version;
        return result;
    }

    Transaction transaction(connection);
    // Re-read under the write lock: another process may have migrated meanwhile.
    result.from_version = user_version(connection);
    for (const auto& migration : embedded_migrations()) {
        if (migration.version <= result.from_version) {
            continue;
        }
        try {
            connection.exec(migration.sql);
        } catch (const SqliteError& error) {
            throw SqliteError(error.code(), std::string("migration ") +
                                                std::string(migration.name) + ": " + error.what());
        }
        connection.exec("PRAGMA user_version = " + std::to_string(migration.version));
    }
    const bool seed_now = (seed == DemoSeed::kWhenCreated && result.from_version == 0) ||
                          (seed == DemoSeed::kWhenEmpty && !has_organizations(connection));
    if (seed_now) {
        connection.exec(embedded_demo_seed());
        result.seeded = true;
    }
    transaction.commit();
    result.to_version = user_version(connection);
    return result;
}

}  // namespace threadsd::store::sqlite
