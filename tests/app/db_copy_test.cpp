// `threadsd db copy` with the real binary: a SQLite store of several organizations, keys
// (a revoked one, a rate-limited one), Clerk mappings, agents with several versions and
// threads whose maps hold every kind of Unicode, copied to PostgreSQL and back; each copy
// is served by the real server and must answer every thread byte for byte as the source
// did. Also the refusals (a destination holding threads, schema versions apart) and a copy
// killed midway, then resumed.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/sqlite_file.hpp"
#include "support/thread_calls.hpp"
#include "threadsd/store/postgres/migrations.hpp"
#include "threadsd/store/sqlite/migrations.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;

constexpr const char* kSecondOrganization = "5d1e0000-0000-4000-8000-00000000c0b1";
constexpr const char* kSecondAgent = "5d1e0000-0000-4000-8000-00000000a9e1";
/// The second agent's versions: 1, 2 (published) and 3.
constexpr const char* kSecondVersions[] = {"5d1e0000-0000-4000-8000-0000000000f1",
                                           "5d1e0000-0000-4000-8000-0000000000f2",
                                           "5d1e0000-0000-4000-8000-0000000000f3"};
constexpr const char* kPassword = "s3cret-copy-pass";

/// Metadata and variables with every kind of Unicode a map may carry: astral-plane emoji,
/// combining marks, right-to-left text, escaped control characters (no NUL) and JSON's own
/// escapes, as raw UTF-8 and as \u escapes.
const std::vector<std::string> kMaps = {
    R"("metadata": {"emoji": "🧵😀👩🏽‍💻🏳️‍🌈", "astral": "\ud83e\uddf5 \ud834\udd1e"})",
    R"("metadata": {"combining": "e\u0301 a\u0308 ñ Å", "rtl": "שלום עולם مرحبا‎ \u202e"},
       "variables": {"controls": "\u0001\u0007\b\f\n\r\t\u001f\u007f", "quote": "\"\\/"})",
    R"("metadata": {"line seps": "\u2028\u2029", "bom": "\ufeff", "cjk": "線程 スレッド"},
       "variables": {"ctrl \u0002 key": "NUL-free \\u0000 text", "ascii": "~ÿ"})",
    R"("variables": {"tab\tkey": "back\\slash", "x": "\\N and \\t, not NULL"})",
};

/// A server of `db` and the GET body of each of `threads` (id -> key) as it answers it.
std::map<std::string, std::string> bodies_served(const std::string& db,
                                                 const std::map<std::string, std::string>& threads,
                                                 const std::vector<std::string>& extra = {}) {
    ServerProcess server(db, extra);
    HttpClient client(server.port());
    std::map<std::string, std::string> bodies;
    for (const auto& [id, key] : threads) {
        const auto response = get_thread(client, key, id);
        BOOST_TEST(response.status() == 200u, id << ": " << response.message.body());
        // The thread and its messages, in their order, with every field.
        const auto messages = client.request(boost::beast::http::verb::get,
                                             "/api/v1/threads/" + id + "/messages?limit=100",
                                             std::nullopt, key_headers(key));
        BOOST_TEST(messages.status() == 200u, id << ": " << messages.message.body());
        bodies[id] = response.message.body() + "\n" + messages.message.body();
    }
    return bodies;
}

/// `threadsd args...` with `environment` set around it (tests' knobs of db copy).
CommandResult run_with(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& environment) {
    for (const auto& [name, value] : environment) {
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    auto result = run_threadsd(args);
    for (const auto& [name, value] : environment) {
        ::unsetenv(name.c_str());
    }
    return result;
}

/// `uri` with a password added: the trust-authenticated cluster ignores it, and no output
/// may show it.
std::string with_password(const std::string& uri) {
    const std::string user = "postgresql://postgres";
    return user + ":" + kPassword + uri.substr(user.size());
}

/// The database name inside a cluster URI, for psql.
std::string database_of(const std::string& uri) {
    const auto start = uri.find("@/") + 2;
    return uri.substr(start, uri.find('?') - start);
}

/// A SQLite source store with everything a copy must carry.
struct SourceStore {
    TempDir dir;
    std::string db = dir.file("source.db");
    std::string demo_key;                        ///< Of the demo organization.
    std::string second_key;                      ///< Of the second one, at 1000 requests/s.
    std::string revoked_key;                     ///< Revoked before the copy.
    std::map<std::string, std::string> threads;  ///< Thread id -> the key that reads it.

    /// Builds the store; `extra_threads` more plain threads make a copy take a while.
    explicit SourceStore(int extra_threads = 0) {
        run_ok({"migrate", "--db", db});
        json::array versions;
        for (int i = 0; i < 3; ++i) {
            versions.push_back(import_version(kSecondVersions[i], i + 1, i == 1));
        }
        auto agent =
            import_agent(kSecondAgent, kSecondOrganization, "Агент 🤖 second", versions);
        agent["description"] = "combining e\u0301 and RTL שלום";
        import_agents(db, dir.file("agents.json"), json::serialize(json::array{agent}));
        demo_key = create_demo_key(db);
        second_key = create_key(db, kSecondOrganization, {"--rate", "1000", "--name", "ключ 🔑"});
        revoked_key = create_demo_key(db);
        run_ok({"keys", "revoke", key_id_of(db, revoked_key), "--db", db});
        run_ok({"clerk", "map", "org_2demo", "--org", demo::kOrganization, "--db", db});
        run_ok({"clerk", "map", "org_2second", "--org", kSecondOrganization, "--db", db});

        ServerProcess server(db);
        HttpClient client(server.port());
        const std::vector<std::pair<std::string, std::string>> agents = {
            {demo::kSupportBot, demo_key},
            {demo::kBooker, demo_key},
            {demo::kVoiceAgent, demo_key},
            {kSecondAgent, second_key}};
        for (std::size_t i = 0; i < kMaps.size() * agents.size(); ++i) {
            const auto& [agent_id, key] = agents[i % agents.size()];
            const auto body = create_body(agent_id, kMaps[i % kMaps.size()]);
            const auto id = text_field(create_thread_ok(client, key, body), "id");
            threads[id] = key;
            // Messages in both directions, NUL and astral characters included (a NUL that
            // PostgreSQL's text could not hold, were the body not kept as JSON).
            for (int m = 0; m < static_cast<int>(i % 4); ++m) {
                const std::string text = m % 2 == 0 ? R"(q \u0000 \ud83e\uddf5 )" : "réponse ✅ ";
                const auto posted =
                    client.post_json("/api/v1/threads/" + id + "/messages",
                                     R"({"message": ")" + text + std::to_string(m) + R"(")" +
                                         (m % 2 == 1 ? R"(, "direction": "OUTBOUND"})" : "}"),
                                     key);
                BOOST_TEST_REQUIRE(posted.status() == 200u, posted.message.body());
            }
            if (i % 3 == 1) {
                patch_thread_ok(client, key, id, R"({"metadata": {"patched": "✓ ok"}})");
            }
            if (i % 5 == 2) {
                close_thread_ok(client, key, id, R"({"reason":"RÉSOLU ✅"})");
            }
        }
        for (int i = 0; i < extra_threads; ++i) {
            const auto body = create_body(demo::kSupportBot, kMaps[i % kMaps.size()]);
            threads[text_field(create_thread_ok(client, demo_key, body), "id")] = demo_key;
        }
    }
};

/// The operator's view of a store's catalog: keys, Clerk mappings and agents as JSON.
std::string catalog_of(const std::string& db) {
    return run_ok({"keys", "list", "--db", db}) + run_ok({"clerk", "list", "--db", db}) +
           run_ok({"agents", "list", "--db", db});
}

/// Fails unless `db` serves every thread of `source` as the source did, and its keys act as
/// they did there.
void check_copy(const SourceStore& source, const std::map<std::string, std::string>& expected,
                const std::string& db) {
    BOOST_TEST(catalog_of(db) == catalog_of(source.db));
    const auto served = bodies_served(db, source.threads);
    BOOST_TEST(served.size() == expected.size());
    for (const auto& [id, body] : expected) {
        BOOST_TEST(served.at(id) == body, "thread " << id);
    }
    ServerProcess server(db);
    HttpClient client(server.port());
    const auto demo_list = list_threads(client, source.demo_key, "limit=100");
    BOOST_TEST(demo_list.status() == 200u);
    BOOST_TEST(list_threads(client, source.second_key, "").status() == 200u);
    BOOST_TEST(list_threads(client, source.revoked_key, "").status() == 401u);
    const auto created = create_thread_ok(client, source.second_key, create_body(kSecondAgent));
    BOOST_TEST(text_field(created, "agentVersionId") == kSecondVersions[1]);
}

/// Fails unless `result` is one line on stderr, exit 1, holding every one of `parts`.
void check_refusal(const CommandResult& result, const std::vector<std::string>& parts) {
    BOOST_TEST(result.exit_code == 1, result.err);
    BOOST_TEST(result.err.find('\n') == result.err.size() - 1, "one line: " << result.err);
    for (const auto& part : parts) {
        BOOST_TEST(result.err.find(part) != std::string::npos, part << " in " << result.err);
    }
    BOOST_TEST(result.err.find(kPassword) == std::string::npos, result.err);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(db_copy)

BOOST_AUTO_TEST_CASE(sqlite_to_postgres_and_back_serves_every_thread_byte_for_byte) {
    SourceStore source;
    const auto expected = bodies_served(source.db, source.threads);
    const auto uri = with_password(postgres_cluster().create_database());

    const auto to_postgres = run_threadsd({"db", "copy", "--from", source.db, "--to", uri});
    BOOST_TEST_REQUIRE(to_postgres.exit_code == 0, to_postgres.err);
    BOOST_TEST(to_postgres.err.find("threadsd: copied ") != std::string::npos, to_postgres.err);
    BOOST_TEST(to_postgres.err.find(std::to_string(source.threads.size()) + " threads") !=
                   std::string::npos,
               to_postgres.err);
    BOOST_TEST(to_postgres.err.find("rows/s") != std::string::npos, to_postgres.err);
    BOOST_TEST(to_postgres.err.find(kPassword) == std::string::npos, to_postgres.err);
    BOOST_TEST(to_postgres.out.empty());
    // No demo seed of its own came in beside the copied catalog, and caches of the
    // destination's catalog see it moved.
    const auto database = database_of(uri);
    BOOST_TEST(postgres_cluster().psql(database, "SELECT count(*) FROM organizations") == "2\n");
    BOOST_TEST(postgres_cluster().psql(database, "SELECT generation > 0 FROM catalog_generation") ==
               "t\n");
    check_copy(source, expected, uri);

    // And back, into a new SQLite file.
    const auto back = source.dir.file("back.db");
    const auto to_sqlite = run_threadsd({"db", "copy", "--from", uri, "--to", back});
    BOOST_TEST_REQUIRE(to_sqlite.exit_code == 0, to_sqlite.err);
    BOOST_TEST(to_sqlite.err.find(kPassword) == std::string::npos, to_sqlite.err);
    check_copy(source, expected, back);

    // SQLite to SQLite and PostgreSQL to PostgreSQL are the same copy.
    const auto again = source.dir.file("again.db");
    BOOST_TEST(run_threadsd({"db", "copy", "--from", back, "--to", again}).exit_code == 0);
    const auto uri2 = postgres_cluster().create_database();
    BOOST_TEST(run_threadsd({"db", "copy", "--from", uri, "--to", uri2}).exit_code == 0);
    check_copy(source, expected, again);
    check_copy(source, expected, uri2);
}

BOOST_AUTO_TEST_CASE(a_password_is_never_shown_even_when_libpq_quotes_it) {
    SourceStore source;
    // Nothing listens there; a malformed percent-escape makes libpq quote the password.
    TempDir dir;
    for (const std::string secret : {"s3cret-copy-pw", "s3cret%zzpw"}) {
        BOOST_TEST_CONTEXT(secret) {
            const auto uri =
                "postgresql://threadsd:" + secret + "@/threadsd?host=" + dir.path().string();
            const auto failed = run_threadsd({"db", "copy", "--from", source.db, "--to", uri});
            BOOST_TEST(failed.exit_code == 1, failed.err);
            BOOST_TEST(failed.err.find('\n') == failed.err.size() - 1, "one line: " << failed.err);
            BOOST_TEST(failed.err.find("s3cret") == std::string::npos, failed.err);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_destination_that_holds_threads_is_refused_without_resume) {
    SourceStore source;
    const auto uri = with_password(postgres_cluster().create_database());
    BOOST_TEST_REQUIRE(run_threadsd({"db", "copy", "--from", source.db, "--to", uri}).exit_code ==
                       0);
    const auto threads = std::to_string(source.threads.size());
    check_refusal(run_threadsd({"db", "copy", "--from", source.db, "--to", uri}),
                  {"already holds " + threads + " threads", "--resume"});
    // Into a SQLite file that has threads of its own (a copy of the source).
    const auto other = source.dir.file("other.db");
    BOOST_TEST_REQUIRE(run_threadsd({"db", "copy", "--from", uri, "--to", other}).exit_code == 0);
    check_refusal(run_threadsd({"db", "copy", "--from", uri, "--to", other}),
                  {"already holds " + threads + " threads", other});
    // --resume of a complete copy adds nothing and refuses nothing.
    const auto resumed = run_threadsd({"db", "copy", "--from", source.db, "--to", uri, "--resume"});
    BOOST_TEST(resumed.exit_code == 0, resumed.err);
    BOOST_TEST(postgres_cluster().psql(database_of(uri), "SELECT count(*) FROM threads") ==
               threads + "\n");
}

BOOST_AUTO_TEST_CASE(stores_of_different_schema_versions_are_refused_naming_both) {
    SourceStore source;
    const auto sqlite_version = store::sqlite::latest_schema_version();
    const auto postgres_version = store::postgres::latest_schema_version();
    // A source one version ahead of this threadsd (as a newer release would leave it).
    const auto newer = source.dir.file("newer.db");
    std::filesystem::copy_file(source.db, newer);
    {
        SqliteFile file(newer, SqliteAccess::kReadWrite);
        file.scalar("PRAGMA user_version = " + std::to_string(sqlite_version + 1));
    }
    const auto uri = with_password(postgres_cluster().create_database());
    run_ok({"migrate", "--no-demo", "--db", uri});
    check_refusal(run_threadsd({"db", "copy", "--from", newer, "--to", uri}),
                  {"SQLite schema version " + std::to_string(sqlite_version + 1),
                   "PostgreSQL schema version " + std::to_string(postgres_version)});
    // A destination bumped by hand: the source is fine, the destination is not.
    postgres_cluster().psql(database_of(uri), "UPDATE threadsd_schema SET version = " +
                                                  std::to_string(postgres_version + 1));
    check_refusal(run_threadsd({"db", "copy", "--from", source.db, "--to", uri}),
                  {"SQLite schema version " + std::to_string(sqlite_version),
                   "PostgreSQL schema version " + std::to_string(postgres_version + 1)});
    BOOST_TEST(postgres_cluster().psql(database_of(uri), "SELECT count(*) FROM organizations") ==
               "0\n");
}

BOOST_AUTO_TEST_CASE(a_copy_killed_midway_resumes_with_every_row_exactly_once) {
    SourceStore source(200);
    const auto expected = bodies_served(source.db, source.threads);
    const auto total = std::to_string(source.threads.size());
    const auto uri = with_password(postgres_cluster().create_database());
    const auto database = database_of(uri);
    const std::map<std::string, std::string> kill = {{"THREADSD_COPY_BATCH_ROWS", "16"},
                                                     {"THREADSD_COPY_KILL_AFTER_ROWS", "100"}};

    const auto killed = run_with({"db", "copy", "--from", source.db, "--to", uri}, kill);
    BOOST_TEST_REQUIRE(killed.exit_code == 128 + 9, killed.err);
    const auto partial =
        std::stoi(postgres_cluster().psql(database, "SELECT count(*) FROM threads"));
    BOOST_TEST(partial > 0);
    BOOST_TEST(partial < static_cast<int>(source.threads.size()));
    check_refusal(run_threadsd({"db", "copy", "--from", source.db, "--to", uri}), {"--resume"});

    const auto resumed = run_with({"db", "copy", "--from", source.db, "--to", uri, "--resume"},
                                  {{"THREADSD_COPY_BATCH_ROWS", "16"}});
    BOOST_TEST_REQUIRE(resumed.exit_code == 0, resumed.err);
    BOOST_TEST(resumed.err.find("rows were there from an earlier run") != std::string::npos,
               resumed.err);
    BOOST_TEST(
        postgres_cluster().psql(database, "SELECT count(*), count(DISTINCT id) FROM threads") ==
        total + "|" + total + "\n");
    check_copy(source, expected, uri);

    // The same, PostgreSQL to SQLite (which now holds the thread check_copy made too).
    const auto in_postgres = postgres_cluster().psql(database, "SELECT count(*) FROM threads");
    const auto all = in_postgres.substr(0, in_postgres.size() - 1);
    const auto back = source.dir.file("back.db");
    BOOST_TEST(run_with({"db", "copy", "--from", uri, "--to", back}, kill).exit_code == 128 + 9);
    const auto resumed_back = run_with({"db", "copy", "--from", uri, "--to", back, "--resume"},
                                       {{"THREADSD_COPY_BATCH_ROWS", "16"}});
    BOOST_TEST_REQUIRE(resumed_back.exit_code == 0, resumed_back.err);
    {
        SqliteFile file(back);
        BOOST_TEST(file.scalar("SELECT count(*) || '|' || count(DISTINCT id) FROM threads") ==
                   all + "|" + all);
    }
    check_copy(source, expected, back);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
