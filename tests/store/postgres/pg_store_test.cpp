// The built binary on `--db postgresql://...`, against the suite's throwaway cluster: the
// thread API and the command line as on SQLite, answers equal to SQLite's, replicas that
// share one database, and a server that stops and comes back.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/plain_http_client.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"
#include "threadsd/http/request_handler.hpp"
#include "threadsd/store/postgres/pg_store.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;

constexpr const char* kCreateBody =
    R"({"agentId":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01","metadata":{"b":"2","a":"1"},)"
    R"("variables":{"name":"Ada"}})";

/// A thread as JSON text with what differs between two stores' copies (its id and its
/// instants) set aside, so that the rest can be compared byte for byte.
std::string without_identity(json::object thread) {
    for (const auto* name : {"id", "createdAt", "updatedAt", "closedAt"}) {
        if (thread.contains(name) && !thread.at(name).is_null()) {
            thread[name] = "-";
        }
    }
    return json::serialize(thread);
}

/// Creates, reads, patches and closes one thread through `port`; the answers, identity
/// set aside, in order.
std::vector<std::string> walk_one_thread(unsigned short port, const std::string& key) {
    HttpClient client(port);
    std::vector<std::string> answers;
    const auto created = create_thread_ok(client, key, kCreateBody);
    const std::string id(created.at("id").as_string());
    answers.push_back(without_identity(created));
    answers.push_back(without_identity(get_thread_ok(client, key, id)));
    answers.push_back(
        without_identity(patch_thread_ok(client, key, id, R"({"metadata":{"a":null,"c":"3"}})")));
    answers.push_back(without_identity(close_thread_ok(client, key, id, R"({"reason":"DONE"})")));
    const auto again = close_thread(client, key, id, std::string(R"({"reason":"DONE"})"));
    answers.push_back(std::to_string(again.status()) + " " + again.message.body());
    return answers;
}

/// A create's outcome, as a worker thread saw it: no Boost.Test here.
struct CreateOutcome {
    unsigned status = 0;  ///< 0 when no response came.
    std::string id;       ///< thread.id of a 200.
    std::string body;     ///< The response body.
};

/// POSTs one create with `metadata` (a JSON object's text) over a new connection.
CreateOutcome create_once(unsigned short port, const std::string& key,
                          const std::string& metadata = "{}") {
    PlainHttpClient client(port, std::chrono::seconds(30));
    const auto result = client.request(
        boost::beast::http::verb::post, kCreatePath,
        create_body("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01", R"("metadata":)" + metadata),
        {{"Content-Type", "application/json"}, {"X-API-Key", key}});
    CreateOutcome outcome{result.status, "", result.body};
    if (result.status == 200) {
        outcome.id = std::string(json::parse(result.body).at("thread").at("id").as_string());
    }
    return outcome;
}

/// The pid of a backend of `uri`'s database that waits for a lock, once one does (up to
/// 20 s): the server's writer, blocked behind a WriteLockHolder.
std::string backend_waiting_for_a_lock(const std::string& uri) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto pid = StoreRows(uri).scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' LIMIT 1");
        if (!pid.empty()) {
            return pid;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
}

/// How many threads `uri` holds.
std::size_t stored_threads(const std::string& uri) {
    return std::stoul(StoreRows(uri).scalar("SELECT count(*) FROM threads"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_store)

BOOST_AUTO_TEST_CASE(the_thread_api_answers_exactly_as_on_sqlite) {
    const auto uri = postgres_cluster().create_database();
    const auto pg_key = create_demo_key(uri);
    ServerProcess pg_server(uri);

    TempDir dir;
    const auto file = dir.file("store.db");
    const auto sqlite_key = create_demo_key(file);
    ServerProcess sqlite_server(file);

    const auto on_postgres = walk_one_thread(pg_server.port(), pg_key);
    const auto on_sqlite = walk_one_thread(sqlite_server.port(), sqlite_key);
    BOOST_TEST(on_postgres == on_sqlite, boost::test_tools::per_element());
    BOOST_TEST(on_postgres.back().rfind("409 ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(pages_walk_newest_first_with_filters_and_cursors) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    ServerProcess server(uri);
    HttpClient client(server.port());
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) {
        const auto agent = i % 2 == 0 ? "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01"
                                      : "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03";
        const auto created =
            create_thread_ok(client, key, std::string(R"({"agentId":")") + agent + R"("})");
        ids.emplace_back(created.at("id").as_string());
    }
    close_thread_ok(client, key, ids[2], R"({"reason":"DONE"})");

    // Every thread, three at a time, newest first.
    std::vector<std::string> walked;
    std::optional<std::string> cursor;
    do {
        const auto page =
            list_page_ok(client, key, "limit=3" + (cursor ? "&cursor=" + *cursor : ""));
        for (const auto& thread : page.threads) {
            walked.emplace_back(thread.at("id").as_string());
        }
        cursor = page.next_cursor;
    } while (cursor);
    const std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
    BOOST_TEST(walked == newest_first, boost::test_tools::per_element());

    const auto by_agent = list_page_ok(client, key, "agentId=3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03");
    BOOST_TEST(by_agent.threads.size() == 3u);
    const auto closed = list_page_ok(client, key, "isActive=false");
    BOOST_TEST_REQUIRE(closed.threads.size() == 1u);
    BOOST_TEST(closed.threads[0].at("id").as_string() == ids[2]);
    const auto reason = list_page_ok(client, key, "closedReason=DONE&isActive=false");
    BOOST_TEST(reason.threads.size() == 1u);
}

BOOST_AUTO_TEST_CASE(every_filter_combination_is_one_index_scan_in_id_order) {
    // With scans of the whole table and sorts priced out, the planner shows whether an
    // index gives the page in order by itself: a Sort node, or no index, would mean not.
    // The plan is the generic one, made once for any values, as the store's connections
    // use it (store/postgres/connection_pool.cpp).
    const auto uri = postgres_cluster().create_database();
    run_ok({"migrate", "--db", uri});
    // postgresql://postgres@/NAME?host=DIR
    const auto name_at = uri.find("@/") + 2;
    const auto db = uri.substr(name_at, uri.find('?') - name_at);
    for (unsigned mask = 0; mask < 64; ++mask) {
        store::ThreadFilter filter;
        std::vector<std::string> values{"'0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60'"};
        if (mask & 1u) {
            filter.agent_id = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01";
            values.push_back("'" + *filter.agent_id + "'");
        }
        if (mask & 2u) {
            filter.closed_reason = "DONE";
            values.push_back("'DONE'");
        }
        if (mask & 4u) {
            filter.to_phone_number = "+15550100";
            values.push_back("'+15550100'");
        }
        if (mask & 8u) {
            filter.id_below = "01890000-0000-7000-8000-000000000000";
            values.push_back("'" + *filter.id_below + "'");
        }
        if (mask & 16u) {
            filter.id_at_or_above = "01800000-0000-7000-8000-000000000000";
            values.push_back("'" + *filter.id_at_or_above + "'");
        }
        if (mask & 32u) {
            filter.is_active = true;
            values.push_back("'1'");
        }
        values.push_back("11");
        std::string arguments;
        for (const auto& value : values) {
            arguments += (arguments.empty() ? "" : ", ") + value;
        }
        const auto plan = postgres_cluster().psql(
            db,
            "SET enable_seqscan = off; SET enable_sort = off; SET enable_bitmapscan = off;"
            " SET plan_cache_mode = force_generic_plan;"
            " PREPARE page AS " +
                store::postgres::PgStore::list_sql(filter) + "; EXPLAIN EXECUTE page(" + arguments +
                ");");
        BOOST_TEST_CONTEXT("filters " << mask << ":\n" << plan) {
            BOOST_TEST(plan.find("Sort") == std::string::npos);
            BOOST_TEST(plan.find("Seq Scan on threads") == std::string::npos);
            BOOST_TEST(plan.find("Index Scan Backward using") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(replicas_share_one_database) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    ServerProcess first(uri);
    ServerProcess second(uri);
    HttpClient a(first.port());
    HttpClient b(second.port());
    const auto created = create_thread_ok(a, key, kCreateBody);
    const std::string id(created.at("id").as_string());

    // Read through the other; patches of different keys through each both survive.
    BOOST_TEST(get_thread_ok(b, key, id).at("metadata") == created.at("metadata"));
    patch_thread_ok(a, key, id, R"({"metadata":{"x":"1"}})");
    const auto both = patch_thread_ok(b, key, id, R"({"metadata":{"y":"2"}})");
    BOOST_TEST(json::serialize(both.at("metadata")) == R"({"b":"2","a":"1","x":"1","y":"2"})");

    // Closing twice is a 409 whichever replica sees the second close.
    close_thread_ok(a, key, id, R"({"reason":"DONE"})");
    check_error(close_thread(b, key, id, std::string(R"({"reason":"DONE"})")), 409, "CONFLICT",
                "already closed");

    // A key revoked through the command line is refused by both at once.
    run_ok({"keys", "revoke", key_id_of(uri, key), "--db", uri});
    check_error(get_thread(a, key, id), 401, "UNAUTHORIZED", "revoked");
    check_error(get_thread(b, key, id), 401, "UNAUTHORIZED", "revoked");
}

BOOST_AUTO_TEST_CASE(the_command_line_works_on_a_uri) {
    const auto uri = postgres_cluster().create_database();
    const auto migrated = run_ok({"migrate", "--db", uri});
    BOOST_TEST(migrated.find("is at schema version") != std::string::npos);
    BOOST_TEST(run_ok({"agents", "list", "--db", uri}).find("Support bot") != std::string::npos);

    const auto key = create_demo_key(uri);
    const auto keys = json::parse(run_ok({"keys", "list", "--db", uri})).as_array();
    BOOST_TEST_REQUIRE(keys.size() == 1u);
    BOOST_TEST(key.rfind(std::string(keys[0].at("prefix").as_string()), 0) == 0u);

    const auto unknown = run_threadsd({"keys", "revoke", "not-a-key-id", "--db", uri});
    BOOST_TEST(unknown.exit_code == 1);
    BOOST_TEST(unknown.err == "threadsd: unknown API key not-a-key-id\n");
    const auto id = key_id_of(uri, key);
    run_ok({"keys", "revoke", id, "--db", uri});
    const auto twice = run_threadsd({"keys", "revoke", id, "--db", uri});
    BOOST_TEST(twice.err == "threadsd: API key " + id + " is already revoked\n");

    run_ok({"clerk", "map", "org_b", "--org", "0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60", "--db", uri});
    run_ok({"clerk", "map", "org_a", "--org", "0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60", "--db", uri});
    const auto mappings = json::parse(run_ok({"clerk", "list", "--db", uri})).as_array();
    BOOST_TEST_REQUIRE(mappings.size() == 2u);
    BOOST_TEST(mappings[0].at("clerkOrganizationId").as_string() == "org_a");
    run_ok({"clerk", "unmap", "org_a", "--db", uri});
    const auto unmapped = run_threadsd({"clerk", "unmap", "org_a", "--db", uri});
    BOOST_TEST(unmapped.err == "threadsd: Clerk organization org_a is not mapped\n");
}

BOOST_AUTO_TEST_CASE(a_password_in_the_uri_is_never_shown) {
    // Nothing listens there: the start fails and says where, without the secret.
    TempDir dir;
    const std::string uri = "postgresql://threadsd:s3cret-pw@/threadsd?host=" + dir.path().string();
    const auto failed = run_threadsd_bounded({"migrate", "--db", uri});
    BOOST_TEST(failed.exit_code == 1);
    BOOST_TEST(failed.err.find("threadsd: cannot open database postgresql://threadsd:***@") == 0u,
               failed.err);
    BOOST_TEST(failed.err.find("s3cret") == std::string::npos, failed.err);
}

BOOST_AUTO_TEST_CASE(a_catalog_that_moves_under_every_attempt_gets_a_503) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    ServerProcess server(uri);
    HttpClient client(server.port());
    const auto created = create_thread_ok(client, key, kCreateBody);
    const std::string id(created.at("id").as_string());
    // From now on the generation is new at every read, as if an operator's loop changed
    // the catalog between every two statements: each attempt finds it moved.
    const StoreRows database(uri);
    database.scalar("ALTER TABLE catalog_generation RENAME TO catalog_generation_kept");
    database.scalar("CREATE SEQUENCE catalog_moves START 1000");
    database.scalar(
        "CREATE VIEW catalog_generation AS"
        " SELECT 1 AS id, nextval('catalog_moves') AS generation");
    const auto moves_before = std::stoll(database.scalar("SELECT last_value FROM catalog_moves"));
    check_error(get_thread(client, key, id), 503, "SERVICE_UNAVAILABLE", "catalog is changing");
    check_error(client.post_json("/api/v1/threads/web", kCreateBody, key), 503,
                "SERVICE_UNAVAILABLE", "catalog is changing");
    // Three attempts each, no more: a handful of reads of the generation, not a loop.
    const auto moves = std::stoll(database.scalar("SELECT last_value FROM catalog_moves"));
    BOOST_TEST(moves - moves_before <= 6 * http::RequestHandler::kCatalogAttempts);
    // Nothing was written by the refused create.
    BOOST_TEST(database.scalar("SELECT count(*) FROM threads") == "1");
}

BOOST_AUTO_TEST_CASE(a_stopped_server_gives_503s_then_recovery_without_a_restart) {
    // A cluster of this test's own, since it is stopped on purpose.
    PostgresCluster cluster;
    const auto uri = cluster.create_database();
    const auto key = create_demo_key(uri);
    ServerProcess server(uri);
    HttpClient client(server.port());
    const auto created = create_thread_ok(client, key, kCreateBody);
    const std::string id(created.at("id").as_string());

    cluster.stop();
    const auto refused = get_thread(client, key, id);
    check_error(refused, 503, "SERVICE_UNAVAILABLE", "unavailable");
    BOOST_TEST(refused.header("Retry-After") == "1");
    check_error(client.request(boost::beast::http::verb::get, "/readyz", std::nullopt, {}), 503,
                "SERVICE_UNAVAILABLE", "not writable");
    check_error(client.post_json("/api/v1/threads/web", kCreateBody, key), 503,
                "SERVICE_UNAVAILABLE", "unavailable");

    cluster.start();
    // The pool backs off for at most two seconds between attempts.
    std::optional<HttpResult> answer;
    for (int attempt = 0; attempt < 50; ++attempt) {
        answer = get_thread(client, key, id);
        if (answer->status() == 200u) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST_REQUIRE(answer->status() == 200u);
    BOOST_TEST(thread_from(*answer).at("metadata") == created.at("metadata"));
    create_thread_ok(client, key, kCreateBody);
}

BOOST_AUTO_TEST_CASE(synchronous_commit_off_is_refused_unless_durability_normal) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    StoreRows(uri).rows(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off',"
        " current_database()); END $$");
    const auto refused = run_threadsd_bounded({"serve", "--listen", "127.0.0.1:0", "--db", uri});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(refused.err.find("synchronous_commit off") != std::string::npos, refused.err);
    BOOST_TEST(refused.err.find("--durability normal") != std::string::npos, refused.err);

    ServerProcess server(uri, {"--durability", "normal"});
    BOOST_TEST(create_once(server.port(), key).status == 200u);
}

BOOST_AUTO_TEST_CASE(the_writers_backend_killed_mid_batch_fails_that_batch_and_the_next_succeeds) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    ServerProcess server(uri);
    BOOST_TEST_REQUIRE(create_once(server.port(), key).status == 200u);  // the writer connects

    // The writer's transaction waits behind the lock, with creates in its hands.
    WriteLockHolder lock(uri);
    std::vector<CreateOutcome> outcomes(3);
    std::vector<std::thread> senders;
    for (auto& outcome : outcomes) {
        senders.emplace_back(
            [&outcome, &server, &key] { outcome = create_once(server.port(), key); });
    }
    const auto writer = backend_waiting_for_a_lock(uri);
    BOOST_TEST_REQUIRE(!writer.empty(), "the writer never waited for the lock");
    BOOST_TEST(StoreRows(uri).scalar("SELECT pg_terminate_backend(" + writer + ")") == "t");
    lock.release();
    for (auto& sender : senders) {
        sender.join();
    }

    // The batch in flight is answered 500 (its outcome is not known to the writer: it is
    // not a 503's "nothing was done"), and was not committed; what came after succeeds.
    std::size_t acknowledged = 1;
    std::size_t failed = 0;
    for (const auto& outcome : outcomes) {
        BOOST_TEST((outcome.status == 200u || outcome.status == 500u), outcome.body);
        acknowledged += outcome.status == 200u ? 1 : 0;
        failed += outcome.status == 500u ? 1 : 0;
    }
    BOOST_TEST(failed >= 1u);
    BOOST_TEST(stored_threads(uri) == acknowledged);
    BOOST_TEST(create_once(server.port(), key).status == 200u);
    BOOST_TEST(stored_threads(uri) == acknowledged + 1);
    BOOST_TEST(server.stderr_text().find("the PostgreSQL writer lost its connection") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_write_the_server_refuses_fails_alone_and_its_batch_commits) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    // A rule of the operator's that threadsd cannot know of: one create breaks it.
    StoreRows(uri).rows(
        "ALTER TABLE threads ADD CONSTRAINT no_poison"
        " CHECK (metadata IS NULL OR metadata NOT LIKE '%poison%')");
    ServerProcess server(uri);
    BOOST_TEST_REQUIRE(create_once(server.port(), key).status == 200u);

    // Hold the writer so that the next creates gather into one batch behind the first.
    WriteLockHolder lock(uri);
    std::vector<CreateOutcome> outcomes(6);
    std::vector<std::thread> senders;
    senders.emplace_back([&] { outcomes[0] = create_once(server.port(), key); });
    BOOST_TEST_REQUIRE(!backend_waiting_for_a_lock(uri).empty());
    for (std::size_t i = 1; i < outcomes.size(); ++i) {
        const std::string metadata = i == 3 ? R"({"x":"poison"})" : R"({"x":"fine"})";
        senders.emplace_back([&outcomes, i, metadata, &server, &key] {
            outcomes[i] = create_once(server.port(), key, metadata);
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let them queue
    lock.release();
    for (auto& sender : senders) {
        sender.join();
    }
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        BOOST_TEST_CONTEXT("create " << i) {
            BOOST_TEST(outcomes[i].status == (i == 3 ? 500u : 200u), outcomes[i].body);
        }
    }
    BOOST_TEST(stored_threads(uri) == outcomes.size());  // 1 before, 5 of the 6
    BOOST_TEST(server.stderr_text().find("PostgreSQL refused a write") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_server_stopped_under_load_loses_no_acknowledged_create) {
    PostgresCluster cluster;
    const auto uri = cluster.create_database();
    const auto key = create_demo_key(uri);
    ServerProcess server(uri);

    std::mutex mutex;
    std::vector<std::string> acknowledged;
    std::vector<std::string> unexpected;
    std::size_t unavailable = 0;
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int worker = 0; worker < 4; ++worker) {
        workers.emplace_back([&] {
            while (!stop.load()) {
                const auto outcome = create_once(server.port(), key);
                std::lock_guard guard(mutex);
                if (outcome.status == 200u) {
                    acknowledged.push_back(outcome.id);
                } else if (outcome.status == 503u || outcome.status == 500u) {
                    unavailable += 1;  // 500 only for a batch whose COMMIT went unanswered
                } else {
                    unexpected.push_back(std::to_string(outcome.status) + " " + outcome.body);
                }
            }
        });
    }
    const auto wait_for_acks = [&](std::size_t count) {
        for (int i = 0; i < 600; ++i) {
            {
                std::lock_guard guard(mutex);
                if (acknowledged.size() >= count) {
                    return true;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    };
    BOOST_TEST_REQUIRE(wait_for_acks(100));
    cluster.stop();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::size_t before_restart = 0;
    {
        std::lock_guard guard(mutex);
        before_restart = acknowledged.size();
        BOOST_TEST(unavailable > 0u);
    }
    cluster.start();
    BOOST_TEST(wait_for_acks(before_restart + 100), "no recovery without a restart");
    stop.store(true);
    for (auto& worker : workers) {
        worker.join();
    }
    BOOST_TEST(unexpected.empty(), unexpected.size() << " unexpected answers");
    std::set<std::string> stored;
    for (const auto& row : StoreRows(uri).rows("SELECT id FROM threads")) {
        stored.insert(row.at(0).value_or(""));
    }
    std::size_t missing = 0;
    for (const auto& id : acknowledged) {
        missing += stored.count(id) == 0 ? 1 : 0;
    }
    BOOST_TEST(missing == 0u, missing << " of " << acknowledged.size() << " acknowledged lost");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
