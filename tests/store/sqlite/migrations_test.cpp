#include "threadsd/store/sqlite/migrations.hpp"

#include <boost/test/unit_test.hpp>

#include <barrier>
#include <cstdint>
#include <exception>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/schema_sources.hpp"

namespace {

using threadsd::store::DemoSeed;
using threadsd::store::MigrationResult;
using threadsd::store::sqlite::Connection;
using threadsd::store::sqlite::latest_schema_version;
using threadsd::store::sqlite::migrate;
using threadsd::store::sqlite::OpenMode;
using threadsd::store::sqlite::SqliteError;
using threadsd::test::dump_table;
using threadsd::test::query_int;
using threadsd::test::query_text;
using threadsd::test::TempDir;
namespace demo = threadsd::test::demo;

/// The names of every table in the file.
std::set<std::string> table_names(Connection& connection) {
    auto statement = connection.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    std::set<std::string> names;
    while (statement.step()) {
        names.insert(statement.text(0));
    }
    return names;
}

/// user_version, the schema and every row of every table, as one comparable string.
std::string dump(Connection& connection) {
    std::string out =
        "user_version=" + std::to_string(query_int(connection, "PRAGMA user_version"));
    out += "\n";
    {
        auto schema = connection.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name");
        while (schema.step()) {
            out += schema.text(0) + " " + schema.text(1) + " " + schema.text(2) + "\n";
        }
    }
    for (const auto& table : table_names(connection)) {
        out += dump_table(connection, table);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_migrations)

BOOST_AUTO_TEST_CASE(embedded_migrations_are_numbered_in_order) {
    const auto& migrations = threadsd::store::sqlite::embedded_migrations();
    BOOST_REQUIRE(!migrations.empty());
    int previous = 0;
    for (const auto& migration : migrations) {
        BOOST_TEST(migration.version > previous, migration.name);
        BOOST_TEST(!migration.sql.empty(), migration.name);
        previous = migration.version;
    }
    BOOST_TEST(latest_schema_version() == migrations.back().version);
    BOOST_TEST(!threadsd::store::sqlite::embedded_demo_seed().empty());
}

BOOST_AUTO_TEST_CASE(new_file_gets_the_latest_schema_in_wal_mode_with_foreign_keys) {
    TempDir dir;
    const std::string db = dir.file("new.db");
    Connection connection(db, OpenMode::kReadWrite);
    const MigrationResult result = migrate(connection, DemoSeed::kWhenCreated);
    BOOST_TEST(result.from_version == 0);
    BOOST_TEST(result.to_version == latest_schema_version());
    BOOST_TEST(result.seeded);
    BOOST_TEST(query_int(connection, "PRAGMA user_version") == latest_schema_version());

    const auto tables = table_names(connection);
    for (const char* expected :
         {"organizations", "api_keys", "agents", "agent_versions", "threads"}) {
        BOOST_TEST(tables.count(expected) == 1u, "table " << expected);
    }
    BOOST_TEST(query_text(connection, "PRAGMA journal_mode") == "wal");
    BOOST_TEST(query_int(connection, "PRAGMA foreign_keys") == 1);

    // WAL is a property of the file: a fresh read-only connection sees it too, and
    // enforces foreign keys on its own connection as well.
    Connection reader(db, OpenMode::kReadOnly);
    BOOST_TEST(query_text(reader, "PRAGMA journal_mode") == "wal");
    BOOST_TEST(query_int(reader, "PRAGMA foreign_keys") == 1);
    BOOST_TEST(query_int(reader, "PRAGMA user_version") == latest_schema_version());

    // Foreign keys are really enforced: an agent of an unknown organization is refused.
    BOOST_CHECK_EXCEPTION(
        connection.exec("INSERT INTO agents (id, organization_id, name, agent_type) VALUES"
                        " ('11111111-1111-4111-8111-111111111111',"
                        "  '22222222-2222-4222-8222-222222222222', 'x', 'TEXT')"),
        SqliteError,
        [](const SqliteError& error) { return error.code() == SQLITE_CONSTRAINT_FOREIGNKEY; });
}

BOOST_AUTO_TEST_CASE(migrating_again_is_a_no_op) {
    TempDir dir;
    const std::string db = dir.file("again.db");
    Connection connection(db, OpenMode::kReadWrite);
    migrate(connection, DemoSeed::kWhenCreated);
    const std::string before = dump(connection);

    for (const DemoSeed seed : {DemoSeed::kWhenCreated, DemoSeed::kWhenEmpty, DemoSeed::kNever}) {
        const MigrationResult again = migrate(connection, seed);
        BOOST_TEST(again.from_version == latest_schema_version());
        BOOST_TEST(again.to_version == again.from_version);
        BOOST_TEST(!again.seeded);
    }
    BOOST_TEST(dump(connection) == before);
}

BOOST_AUTO_TEST_CASE(demo_seed_is_inserted_once_and_covers_every_shape) {
    TempDir dir;
    const std::string db = dir.file("seed.db");
    {
        Connection connection(db, OpenMode::kReadWrite);
        BOOST_TEST(migrate(connection, DemoSeed::kWhenCreated).seeded);
    }
    Connection connection(db, OpenMode::kReadWrite);
    BOOST_TEST(!migrate(connection, DemoSeed::kWhenCreated).seeded);
    BOOST_TEST(!migrate(connection, DemoSeed::kWhenEmpty).seeded);

    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 1);
    BOOST_TEST(query_text(connection, "SELECT id FROM organizations") == demo::kOrganization);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents") == 4);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agent_versions") == 5);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents WHERE organization_id = '" +
                                         std::string(demo::kOrganization) + "'") == 4);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM api_keys") == 0);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM threads") == 0);

    // Both agent types, both modes.
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents WHERE agent_type = 'TEXT'") >= 1);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents WHERE agent_type = 'CALL'") >= 1);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agent_versions WHERE mode = 'FLOW'") >=
               1);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agent_versions WHERE mode = 'PROMPT'") >=
               1);
    // A null description and a published version with null sms settings.
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents WHERE description IS NULL") >= 1);
    BOOST_TEST(query_int(connection,
                         "SELECT count(*) FROM agent_versions WHERE published = 1"
                         " AND sms_max_tokens IS NULL AND sms_temperature IS NULL") >= 1);
    // Exactly one agent has no published version: the draft.
    BOOST_TEST(query_text(connection,
                          "SELECT a.id FROM agents a WHERE NOT EXISTS (SELECT 1 FROM"
                          " agent_versions v WHERE v.agent_id = a.id AND v.published = 1)") ==
               demo::kDraftAgent);
    BOOST_TEST(query_int(connection,
                         "SELECT count(*) FROM agents a WHERE NOT EXISTS (SELECT 1 FROM"
                         " agent_versions v WHERE v.agent_id = a.id AND v.published = 1)") == 1);
    // The ids the integration tests rely on.
    BOOST_TEST(query_text(connection,
                          "SELECT id FROM agent_versions WHERE published = 1 AND"
                          " agent_id = '" +
                              std::string(demo::kSupportBot) + "'") == demo::kSupportBotV2);
    BOOST_TEST(query_text(connection,
                          "SELECT id FROM agent_versions WHERE published = 1 AND"
                          " agent_id = '" +
                              std::string(demo::kVoiceAgent) + "'") == demo::kVoiceAgentV1);
    BOOST_TEST(query_text(connection, "SELECT agent_type FROM agents WHERE id = '" +
                                          std::string(demo::kVoiceAgent) + "'") == "CALL");
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents WHERE id = '" +
                                         std::string(demo::kBooker) + "'") == 1);
}

BOOST_AUTO_TEST_CASE(never_seeds_nothing_and_when_created_does_not_seed_later) {
    TempDir dir;
    const std::string db = dir.file("empty.db");
    Connection connection(db, OpenMode::kReadWrite);
    const MigrationResult result = migrate(connection, DemoSeed::kNever);
    BOOST_TEST(result.from_version == 0);
    BOOST_TEST(result.to_version == latest_schema_version());
    BOOST_TEST(!result.seeded);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 0);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents") == 0);

    // kWhenCreated only seeds a store that had no schema yet.
    BOOST_TEST(!migrate(connection, DemoSeed::kWhenCreated).seeded);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 0);
}

BOOST_AUTO_TEST_CASE(when_empty_seeds_an_existing_empty_store_once) {
    TempDir dir;
    const std::string db = dir.file("later.db");
    Connection connection(db, OpenMode::kReadWrite);
    migrate(connection, DemoSeed::kNever);
    BOOST_REQUIRE(query_int(connection, "SELECT count(*) FROM organizations") == 0);

    const MigrationResult seeded = migrate(connection, DemoSeed::kWhenEmpty);
    BOOST_TEST(seeded.seeded);
    BOOST_TEST(seeded.from_version == latest_schema_version());
    BOOST_TEST(seeded.to_version == latest_schema_version());
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 1);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents") == 4);

    BOOST_TEST(!migrate(connection, DemoSeed::kWhenEmpty).seeded);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 1);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents") == 4);
}

BOOST_AUTO_TEST_CASE(when_empty_does_not_seed_a_store_with_another_organization) {
    TempDir dir;
    const std::string db = dir.file("other.db");
    Connection connection(db, OpenMode::kReadWrite);
    migrate(connection, DemoSeed::kNever);
    connection.exec(
        "INSERT INTO organizations (id, name, created_at) VALUES"
        " ('22222222-2222-4222-8222-222222222222', 'Acme', 1)");
    BOOST_TEST(!migrate(connection, DemoSeed::kWhenEmpty).seeded);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 1);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM agents") == 0);
}

BOOST_AUTO_TEST_CASE(a_store_newer_than_this_binary_is_refused_and_left_alone) {
    TempDir dir;
    const std::string db = dir.file("future.db");
    {
        Connection connection(db, OpenMode::kReadWrite);
        connection.exec("CREATE TABLE marker (x INTEGER); INSERT INTO marker VALUES (42);");
        connection.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
    }
    Connection connection(db, OpenMode::kReadWrite);
    const std::string before = dump(connection);
    for (const DemoSeed seed : {DemoSeed::kWhenCreated, DemoSeed::kWhenEmpty, DemoSeed::kNever}) {
        BOOST_CHECK_THROW(migrate(connection, seed), std::runtime_error);
    }
    BOOST_TEST(dump(connection) == before);
    BOOST_TEST(query_int(connection, "PRAGMA user_version") == latest_schema_version() + 1);
    BOOST_TEST(table_names(connection) == std::set<std::string>{"marker"});
}

BOOST_AUTO_TEST_CASE(a_failing_migration_leaves_nothing_half_applied) {
    // A table that the first migration also creates, made last in its script: the
    // migration fails after creating every other table, and all of it must roll back.
    TempDir dir;
    const std::string db = dir.file("clash.db");
    Connection connection(db, OpenMode::kReadWrite);
    connection.exec("CREATE TABLE threads (x INTEGER)");
    BOOST_CHECK_THROW(migrate(connection, DemoSeed::kWhenCreated), SqliteError);
    BOOST_TEST(query_int(connection, "PRAGMA user_version") == 0);
    BOOST_TEST(table_names(connection) == std::set<std::string>{"threads"});

    // Once the obstacle is gone, the same call succeeds from scratch.
    connection.exec("DROP TABLE threads");
    const MigrationResult result = migrate(connection, DemoSeed::kWhenCreated);
    BOOST_TEST(result.from_version == 0);
    BOOST_TEST(result.seeded);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 1);
}

BOOST_AUTO_TEST_CASE(two_connections_migrating_in_sequence_seed_once) {
    TempDir dir;
    const std::string db = dir.file("shared.db");
    Connection first(db, OpenMode::kReadWrite);
    Connection second(db, OpenMode::kReadWrite);
    const MigrationResult a = migrate(first, DemoSeed::kWhenCreated);
    const MigrationResult b = migrate(second, DemoSeed::kWhenCreated);
    BOOST_TEST(a.seeded);
    BOOST_TEST(!b.seeded);
    BOOST_TEST(b.from_version == latest_schema_version());
    BOOST_TEST(b.to_version == latest_schema_version());
    BOOST_TEST(query_int(second, "SELECT count(*) FROM organizations") == 1);
    BOOST_TEST(query_int(first, "SELECT count(*) FROM agents") == 4);
}

BOOST_AUTO_TEST_CASE(two_connections_migrating_at_once_seed_once) {
    // Both threads open their own connection and race into migrate(); whatever the
    // interleaving, the schema is applied once and the demo data is inserted once.
    for (int round = 0; round < 5; ++round) {
        TempDir dir;
        const std::string db = dir.file("race.db");
        Connection connections[2] = {Connection(db, OpenMode::kReadWrite),
                                     Connection(db, OpenMode::kReadWrite)};
        std::barrier start(2);
        MigrationResult results[2];
        std::exception_ptr errors[2];
        auto run = [&](int i) {
            start.arrive_and_wait();
            try {
                results[i] = migrate(connections[i], DemoSeed::kWhenCreated);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        };
        std::thread other(run, 1);
        run(0);
        other.join();
        for (int i = 0; i < 2; ++i) {
            if (errors[i]) {
                try {
                    std::rethrow_exception(errors[i]);
                } catch (const std::exception& error) {
                    BOOST_FAIL("migrate " << i << " threw: " << error.what());
                }
            }
            BOOST_TEST(results[i].to_version == latest_schema_version());
        }
        BOOST_TEST(int{results[0].seeded} + int{results[1].seeded} == 1, "round " << round);
        Connection check(db, OpenMode::kReadOnly);
        BOOST_TEST(query_int(check, "SELECT count(*) FROM organizations") == 1);
        BOOST_TEST(query_int(check, "SELECT count(*) FROM agents") == 4);
        BOOST_TEST(query_int(check, "PRAGMA user_version") == latest_schema_version());
    }
}

BOOST_AUTO_TEST_SUITE_END()
