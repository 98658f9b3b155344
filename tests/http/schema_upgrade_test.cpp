// A store made by schema version 1 (before the thread list's indexes), with threads and a
// key in it, upgrades in place when `threadsd serve` starts on it, and then serves every
// endpoint of the thread resource, old threads included.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cinttypes>
#include <cstdio>
#include <optional>
#include <regex>
#include <set>
#include <string>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/sqlite_file.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"
#include "threadsd/store/api_key_secret.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"
#include "threadsd/store/sqlite/schema_sources.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;

// The old threads: an open one, and one closed a second after the other was made.
constexpr std::int64_t kOpenCreated = 1764633600123;  // 2025-12-02T00:00:00.123Z
constexpr std::int64_t kClosedCreated = kOpenCreated + 1000;
constexpr std::int64_t kClosedAt = kOpenCreated + 2000;

/// A UUIDv7 whose timestamp is `unix_ms`, as version 1 of threadsd made them.
std::string uuid7_at(std::int64_t unix_ms, int tail) {
    char text[64];
    std::snprintf(text, sizeof text, "%08" PRIx64 "-%04" PRIx64 "-7abc-8def-%012x",
                  static_cast<std::uint64_t>(unix_ms) >> 16,
                  static_cast<std::uint64_t>(unix_ms) & 0xffff, static_cast<unsigned>(tail));
    return text;
}

const std::string kOpenThread = uuid7_at(kOpenCreated, 1);
const std::string kClosedThread = uuid7_at(kClosedCreated, 2);

/// Makes `path` a store of schema version 1 with the demo data, the two old threads and
/// one key, with the store library itself; returns the key.
std::string make_version_1_store(const std::string& path) {
    const auto& migrations = store::sqlite::embedded_migrations();
    BOOST_REQUIRE(!migrations.empty());
    BOOST_REQUIRE(migrations.front().version == 1);
    store::sqlite::Connection connection(path, store::sqlite::OpenMode::kReadWrite);
    connection.exec(migrations.front().sql);
    connection.exec("PRAGMA user_version = 1");
    connection.exec(store::sqlite::embedded_demo_seed());
    auto insert = connection.prepare(
        "INSERT INTO threads (id, organization_id, agent_id, agent_version_id, to_phone_number,"
        " is_active, created_at, updated_at, closed_at, closed_reason, metadata, variables)"
        " VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    insert.bind(1, kOpenThread)
        .bind(2, demo::kOrganization)
        .bind(3, demo::kSupportBot)
        .bind(4, demo::kSupportBotV2)
        .bind(5, std::int64_t{1})
        .bind(6, kOpenCreated)
        .bind(7, kOpenCreated)
        .bind_null(8)
        .bind_null(9)
        .bind(10, R"({"z":"1","a":"2"})")
        .bind_null(11);
    insert.run();
    insert.bind(1, kClosedThread)
        .bind(2, demo::kOrganization)
        .bind(3, demo::kVoiceAgent)
        .bind(4, demo::kVoiceAgentV1)
        .bind(5, std::int64_t{0})
        .bind(6, kClosedCreated)
        .bind(7, kClosedAt)
        .bind(8, kClosedAt)
        .bind(9, "ENDED")
        .bind_null(10)
        .bind(11, R"({"v":"x"})");
    insert.run();
    // With version 1's columns: today's create_api_key also writes later ones.
    const auto key = store::generate_api_key();
    auto insert_key = connection.prepare(
        "INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, created_at)"
        " VALUES (?1, ?2, 'made by version 1', ?3, ?4, ?5)");
    insert_key.bind(1, uuid7_at(kOpenCreated, 9))
        .bind(2, demo::kOrganization)
        .bind(3, key.prefix)
        .bind_blob(4, key.hash.data(), key.hash.size())
        .bind(5, kOpenCreated);
    insert_key.run();
    return key.secret;
}

/// The index names that migrations after version 1 create.
/// The schema of `db`: every table, index and trigger with its SQL, one per line, sorted.
std::string schema_of(const std::string& db) {
    SqliteFile database(db);
    return database.scalar(
        "SELECT group_concat(type || ' ' || name || ': ' || ifnull(sql, ''), char(10))"
        "  FROM (SELECT type, name, sql FROM sqlite_master ORDER BY type, name)");
}

/// The schema of a store that `threadsd migrate` makes from nothing: an upgraded store must
/// end up with exactly this one.
std::string schema_of_a_new_store() {
    TempDir dir;
    const std::string db = new_store(dir, "new.db");
    run_ok({"migrate", "--no-demo", "--db", db});
    return schema_of(db);
}

/// A version 1 store, upgraded by the server that starts on it and serves the suite.
struct UpgradeState {
    TempDir dir;
    std::string db = new_store(dir, "old.db");
    std::string key = make_version_1_store(db);
    ServerProcess server{db};
};

using UpgradeServer = SuiteState<UpgradeState>;

UpgradeState& upgrade_fixture() {
    return UpgradeServer::get();
}

std::vector<std::string> ids_of(const ThreadPage& page) {
    std::vector<std::string> ids;
    for (const auto& item : page.threads) {
        ids.push_back(text_field(item, "id"));
    }
    return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schema_upgrade_http,
                      *boost::unit_test::fixture<UpgradeServer>() *
                          only_on(StoreKind::kSqlite,
                                  "upgrades of SQLite files made by older releases"))

BOOST_AUTO_TEST_CASE(serve_upgrades_the_store_in_place) {
    auto& fixture = upgrade_fixture();
    BOOST_REQUIRE(store::sqlite::latest_schema_version() > 1);
    SqliteFile database(fixture.db);
    BOOST_TEST(database.scalar("PRAGMA user_version") ==
               std::to_string(store::sqlite::latest_schema_version()));
    const std::string expected = schema_of_a_new_store();
    BOOST_TEST(expected.find("index threads_by_agent") != std::string::npos, expected);
    BOOST_TEST(schema_of(fixture.db) == expected);
    // Nothing was seeded twice, and the old rows are as they were.
    BOOST_TEST(database.scalar("SELECT count(*) FROM organizations") == "1");
    BOOST_TEST(database.scalar("SELECT count(*) FROM agents") == "4");
    BOOST_TEST(database.scalar("SELECT count(*) FROM api_keys") == "1");
    const auto row = database.thread_row(kOpenThread);
    BOOST_REQUIRE(!row.empty());
    BOOST_TEST(row.at("created_at").value_or("") == std::to_string(kOpenCreated));
    BOOST_TEST(row.at("metadata").value_or("") == R"({"z":"1","a":"2"})");
}

BOOST_AUTO_TEST_CASE(old_threads_are_served_as_thread_objects) {
    auto& fixture = upgrade_fixture();
    HttpClient client(fixture.server.port());
    const auto open = get_thread_ok(client, fixture.key, kOpenThread);
    BOOST_TEST(text_field(open, "id") == kOpenThread);
    BOOST_TEST(text_field(open, "organizationId") == demo::kOrganization);
    BOOST_TEST(text_field(open, "agentId") == demo::kSupportBot);
    BOOST_TEST(text_field(open, "agentVersionId") == demo::kSupportBotV2);
    BOOST_TEST(text_field(open, "toPhoneNumber") == "");
    BOOST_TEST(member_text(open, "fromPhoneNumber") == "null");
    BOOST_TEST(member_text(open, "leadId") == "null");
    BOOST_TEST(member_text(open, "isActive") == "true");
    BOOST_TEST(text_field(open, "createdAt") == "2025-12-02T00:00:00.123Z");
    BOOST_TEST(text_field(open, "updatedAt") == "2025-12-02T00:00:00.123Z");
    BOOST_TEST(member_text(open, "closedAt") == "null");
    BOOST_TEST(member_text(open, "closedReason") == "null");
    BOOST_TEST(member_text(open, "metadata") == R"({"z":"1","a":"2"})");
    BOOST_TEST(member_text(open, "variables") == "null");
    BOOST_TEST(member_text(open, "agentDetails") ==
               R"({"id":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01","name":"Support bot",)"
               R"("description":"Answers product questions over web chat","agentType":"TEXT"})");
    BOOST_TEST(text_field(open.at("agentVersionDetails").as_object(), "id") == demo::kSupportBotV2);

    const auto closed = get_thread_ok(client, fixture.key, kClosedThread);
    BOOST_TEST(member_text(closed, "isActive") == "false");
    BOOST_TEST(text_field(closed, "createdAt") == "2025-12-02T00:00:01.123Z");
    BOOST_TEST(text_field(closed, "updatedAt") == "2025-12-02T00:00:02.123Z");
    BOOST_TEST(text_field(closed, "closedAt") == "2025-12-02T00:00:02.123Z");
    BOOST_TEST(text_field(closed, "closedReason") == "ENDED");
    BOOST_TEST(member_text(closed, "metadata") == "null");
    BOOST_TEST(member_text(closed, "variables") == R"({"v":"x"})");
    BOOST_TEST(text_field(closed, "agentVersionId") == demo::kVoiceAgentV1);
}

BOOST_AUTO_TEST_CASE(old_threads_are_listed_with_every_filter) {
    auto& fixture = upgrade_fixture();
    HttpClient client(fixture.server.port());
    const auto open = get_thread_ok(client, fixture.key, kOpenThread);
    const auto closed = get_thread_ok(client, fixture.key, kClosedThread);
    // Only threads of this test's instants, whatever other tests created since.
    const std::string around = "createdAfter=" + format_rfc3339_millis(kOpenCreated - 1) +
                               "&createdBefore=" + format_rfc3339_millis(kClosedCreated + 1);
    auto page = list_page_ok(client, fixture.key, around);
    BOOST_REQUIRE(page.threads.size() == 2u);
    BOOST_TEST(json::serialize(page.threads[0]) == json::serialize(closed));
    BOOST_TEST(json::serialize(page.threads[1]) == json::serialize(open));
    BOOST_TEST(!page.next_cursor.has_value());

    page = list_page_ok(client, fixture.key, "limit=1&" + around);
    BOOST_TEST(ids_of(page) == std::vector<std::string>{kClosedThread});
    BOOST_TEST(page.next_cursor.value_or("") == kClosedThread);
    page = list_page_ok(client, fixture.key, "limit=1&cursor=" + kClosedThread + "&" + around);
    BOOST_TEST(ids_of(page) == std::vector<std::string>{kOpenThread});
    BOOST_TEST(!page.next_cursor.has_value());

    const std::vector<std::pair<std::string, std::string>> filters{
        {"isActive=false", kClosedThread},
        {"isActive=true", kOpenThread},
        {"closedReason=ENDED", kClosedThread},
        {std::string("agentId=") + demo::kSupportBot, kOpenThread},
        {std::string("agentId=") + demo::kVoiceAgent, kClosedThread},
    };
    for (const auto& [filter, id] : filters) {
        BOOST_TEST_CONTEXT("filter " << filter) {
            BOOST_TEST(ids_of(list_page_ok(client, fixture.key, filter + "&" + around)) ==
                       std::vector<std::string>{id});
        }
    }
    // Exclusive bounds at the old threads' own instants.
    BOOST_TEST(
        ids_of(list_page_ok(client, fixture.key,
                            "createdAfter=" + format_rfc3339_millis(kOpenCreated) +
                                "&createdBefore=" + format_rfc3339_millis(kClosedCreated + 1))) ==
        std::vector<std::string>{kClosedThread});
    BOOST_TEST(ids_of(list_page_ok(client, fixture.key,
                                   "createdBefore=" + format_rfc3339_millis(kClosedCreated))) ==
               std::vector<std::string>{kOpenThread});
}

BOOST_AUTO_TEST_CASE(create_patch_and_close_work_on_the_upgraded_store) {
    auto& fixture = upgrade_fixture();
    HttpClient client(fixture.server.port());
    const auto created = create_thread_ok(client, fixture.key,
                                          create_body(demo::kBooker, R"("variables":{"n":"1"})"));
    const std::string id = text_field(created, "id");
    BOOST_TEST(id > kClosedThread, "a new thread sorts after the old ones");
    const auto newest = list_page_ok(client, fixture.key, "limit=1");
    BOOST_REQUIRE(newest.threads.size() == 1u);
    BOOST_TEST(json::serialize(newest.threads[0]) == json::serialize(created));

    // Old rows take merge patches with their stored key order, and close.
    const auto before = get_thread_ok(client, fixture.key, kOpenThread);
    const auto patched =
        patch_thread_ok(client, fixture.key, kOpenThread,
                        R"({"metadata":{"new":"n","z":"Z"},"variables":{"v":"1"}})");
    BOOST_TEST(member_text(patched, "metadata") == R"({"z":"Z","a":"2","new":"n"})");
    BOOST_TEST(member_text(patched, "variables") == R"({"v":"1"})");
    BOOST_TEST(parse_rfc3339_millis(text_field(patched, "updatedAt")) > kOpenCreated);
    BOOST_TEST(text_field(patched, "createdAt") == text_field(before, "createdAt"));
    const auto closed =
        close_thread_ok(client, fixture.key, kOpenThread, R"({"reason":"UPGRADED"})");
    BOOST_TEST(member_text(closed, "isActive") == "false");
    BOOST_TEST(text_field(closed, "closedReason") == "UPGRADED");
    BOOST_TEST(member_text(closed, "metadata") == member_text(patched, "metadata"));
    check_error(close_thread(client, fixture.key, kClosedThread), 409, "CONFLICT");
    const auto old_closed =
        patch_thread_ok(client, fixture.key, kClosedThread, R"({"variables":{"v":null}})");
    BOOST_TEST(member_text(old_closed, "variables") == "{}");
    BOOST_TEST(text_field(old_closed, "closedAt") == "2025-12-02T00:00:02.123Z");

    // The new thread patches and closes too, and everything is in the file.
    patch_thread_ok(client, fixture.key, id, R"({"metadata":{"m":"1"}})");
    close_thread_ok(client, fixture.key, id);
    SqliteFile database(fixture.db);
    const auto row = database.thread_row(id);
    BOOST_REQUIRE(!row.empty());
    BOOST_TEST(row.at("closed_reason").value_or("") == "ENDED");
    BOOST_TEST(row.at("metadata").value_or("") == R"({"m":"1"})");
    BOOST_TEST(database.thread_row(kOpenThread).at("closed_reason").value_or("") == "UPGRADED");
}

BOOST_AUTO_TEST_CASE(threadsd_migrate_upgrades_a_version_1_store_once) {
    TempDir dir;
    const std::string db = new_store(dir, "cli.db");
    make_version_1_store(db);
    run_ok({"migrate", "--db", db});
    {
        SqliteFile database(db);
        BOOST_TEST(database.scalar("PRAGMA user_version") ==
                   std::to_string(store::sqlite::latest_schema_version()));
        BOOST_TEST(schema_of(db) == schema_of_a_new_store());
    }
    // Again: nothing to do, nothing changes.
    run_ok({"migrate", "--db", db});
    SqliteFile database(db);
    BOOST_TEST(database.scalar("PRAGMA user_version") ==
               std::to_string(store::sqlite::latest_schema_version()));
    BOOST_TEST(database.scalar("SELECT count(*) FROM organizations") == "1");
    BOOST_TEST(database.scalar("SELECT count(*) FROM threads") == "2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
