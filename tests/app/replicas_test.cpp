// Three replicas of the built binary on one PostgreSQL database, behind a real nginx running
// the shipped site with an upstream of all three (contract section 8): each guarantee is
// checked with its steps sent through different replicas, and one replica is killed under
// load through nginx.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/nginx_process.hpp"
#include "support/plain_http_client.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;

constexpr const char* kSupportBot = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01";

/// One database, three replicas on it and nginx in front of them.
struct Deployment {
    std::string uri = postgres_cluster().create_database();
    std::string key = create_demo_key(uri);
    std::vector<std::unique_ptr<ServerProcess>> replicas = [this] {
        std::vector<std::unique_ptr<ServerProcess>> started;
        for (int i = 0; i < 3; ++i) {
            started.push_back(std::make_unique<ServerProcess>(uri));
        }
        return started;
    }();
    NginxProcess nginx{{replicas[0]->port(), replicas[1]->port(), replicas[2]->port()}};

    /// A client of replica `i` directly.
    HttpClient replica(std::size_t i) const { return HttpClient(replicas.at(i)->port()); }
};

/// The id of a 200 create's thread.
std::string id_of(const json::object& thread) {
    return std::string(thread.at("id").as_string());
}

/// The ids of a list page's threads, and its next cursor ("" when none).
std::pair<std::vector<std::string>, std::string> page_ids(HttpClient& client,
                                                          const std::string& key,
                                                          const std::string& query) {
    const auto page = list_page_ok(client, key, query);
    std::vector<std::string> ids;
    for (const auto& thread : page.threads) {
        ids.push_back(id_of(thread));
    }
    return {ids, page.next_cursor.value_or("")};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replicas)

BOOST_AUTO_TEST_CASE(a_key_revoked_through_the_command_line_is_refused_by_every_replica_at_once) {
    Deployment deployment;
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < 3; ++i) {  // each replica knows the key
        auto client = deployment.replica(i);
        ids.push_back(id_of(create_thread_ok(client, deployment.key, create_body(kSupportBot))));
    }
    run_ok({"keys", "revoke", key_id_of(deployment.uri, deployment.key), "--db", deployment.uri});
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("replica " << i) {
            auto client = deployment.replica(i);
            check_error(get_thread(client, deployment.key, ids[i]), 401, "UNAUTHORIZED", "revoked");
        }
    }
}

BOOST_AUTO_TEST_CASE(an_import_through_the_command_line_is_seen_by_every_replica_at_once) {
    Deployment deployment;
    const std::string agent = "5e1f0a00-3333-4a2b-8c3d-000000000001";
    const std::string v1 = "5e1f0a00-3333-4a2b-8c3d-0000000000a1";
    const std::string v2 = "5e1f0a00-3333-4a2b-8c3d-0000000000a2";
    TempDir dir;
    const auto file = dir.file("agents.json");
    const auto import = [&](bool second_published) {
        import_agents(deployment.uri, file,
                      json::serialize(json::array{
                          import_agent(agent, demo::kOrganization, "Replicated",
                                       json::array{import_version(v1, 1, !second_published),
                                                   import_version(v2, 2, second_published)})}));
    };
    import(false);
    for (std::size_t i = 0; i < 3; ++i) {
        auto client = deployment.replica(i);
        const auto thread = create_thread_ok(client, deployment.key, create_body(agent));
        BOOST_TEST(text_field(thread, "agentVersionId") == v1);
    }
    import(true);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("replica " << i) {
            auto client = deployment.replica(i);
            const auto thread = create_thread_ok(client, deployment.key, create_body(agent));
            BOOST_TEST(text_field(thread, "agentVersionId") == v2);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_cursor_walk_gives_the_same_pages_whichever_replica_serves_each) {
    Deployment deployment;
    HttpClient through_nginx(deployment.nginx.port());
    std::vector<std::string> created;
    for (int i = 0; i < 17; ++i) {
        created.push_back(
            id_of(create_thread_ok(through_nginx, deployment.key, create_body(kSupportBot))));
    }
    // Every page from replica 0, then each page from the next replica in turn.
    std::vector<std::string> one_replica;
    std::vector<std::string> rotating;
    for (const bool rotate : {false, true}) {
        auto& walk = rotate ? rotating : one_replica;
        std::string cursor;
        for (std::size_t page = 0; page < 10; ++page) {
            auto client = deployment.replica(rotate ? page % 3 : 0);
            const auto [ids, next] = page_ids(
                client, deployment.key, "limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor));
            walk.insert(walk.end(), ids.begin(), ids.end());
            cursor = next;
            if (cursor.empty()) {
                break;
            }
        }
    }
    BOOST_TEST(one_replica == rotating, boost::test_tools::per_element());
    std::vector<std::string> newest_first(created.rbegin(), created.rend());
    BOOST_TEST(one_replica == newest_first, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(concurrent_patches_through_different_replicas_all_survive) {
    Deployment deployment;
    auto first = deployment.replica(0);
    const auto id = id_of(create_thread_ok(first, deployment.key, create_body(kSupportBot)));
    constexpr int kPerReplica = 15;
    std::atomic<int> failures{0};
    std::vector<std::thread> writers;
    for (std::size_t replica = 0; replica < 3; ++replica) {
        writers.emplace_back([&, replica] {
            for (int i = 0; i < kPerReplica; ++i) {
                PlainHttpClient client(deployment.replicas[replica]->port(),
                                       std::chrono::seconds(30));
                const std::string body = R"({"metadata":{"r)" + std::to_string(replica) + "-" +
                                         std::to_string(i) + R"(":"x"}})";
                const auto result = client.request(
                    boost::beast::http::verb::patch, thread_path(id), body,
                    {{"Content-Type", "application/json"}, {"X-API-Key", deployment.key}});
                failures += result.status == 200 ? 0 : 1;
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    BOOST_TEST(failures.load() == 0);
    auto last = deployment.replica(2);
    const auto metadata = get_thread_ok(last, deployment.key, id).at("metadata").as_object();
    BOOST_TEST(metadata.size() == 3u * kPerReplica);
}

BOOST_AUTO_TEST_CASE(closing_a_closed_thread_is_a_409_on_every_replica) {
    Deployment deployment;
    auto first = deployment.replica(0);
    const auto id = id_of(create_thread_ok(first, deployment.key, create_body(kSupportBot)));
    close_thread_ok(first, deployment.key, id, std::string(R"({"reason":"DONE"})"));
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("replica " << i) {
            auto client = deployment.replica(i);
            check_error(
                close_thread(client, deployment.key, id, std::string(R"({"reason":"DONE"})")), 409,
                "CONFLICT", "already closed");
        }
    }
    HttpClient through_nginx(deployment.nginx.port());
    check_error(close_thread(through_nginx, deployment.key, id), 409, "CONFLICT");
}

BOOST_AUTO_TEST_CASE(a_replica_killed_under_load_loses_no_acknowledged_thread) {
    Deployment deployment;
    std::mutex mutex;
    std::set<std::string> acknowledged;  // ids of every 200
    std::atomic<bool> killed{false};
    std::atomic<int> after_kill{0};  // 200s answered after the kill
    std::atomic<bool> stop{false};
    std::atomic<int> retry_later{0};  // 503s: a request nginx could not place anywhere
    std::vector<std::thread> clients;
    for (int c = 0; c < 6; ++c) {
        clients.emplace_back([&] {
            while (!stop) {
                // A new connection each time, so nginx spreads them over the replicas. A
                // create the killed replica had in hand gets nginx's 500 (it may have been
                // stored); only 200s are promises.
                try {
                    PlainHttpClient client(deployment.nginx.port(), std::chrono::seconds(30));
                    const auto result = client.request(
                        boost::beast::http::verb::post, kCreatePath, create_body(kSupportBot),
                        {{"Content-Type", "application/json"}, {"X-API-Key", deployment.key}});
                    retry_later += result.status == 503 ? 1 : 0;
                    if (result.status == 200) {
                        std::lock_guard lock(mutex);
                        acknowledged.insert(std::string(
                            json::parse(result.body).at("thread").at("id").as_string()));
                        after_kill += killed ? 1 : 0;
                    }
                } catch (const std::exception&) {
                    // No answer: nothing was promised.
                }
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    deployment.replicas[1]->kill9();
    killed = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop = true;
    for (auto& client : clients) {
        client.join();
    }

    // The others went on serving through nginx, and every acknowledged thread is stored.
    BOOST_TEST(after_kill.load() > 20);
    // Nothing was refused outright: nginx placed every request on a live replica (one in
    // flight on the dead replica's connection gets nginx's 500, "it may have taken effect").
    BOOST_TEST(retry_later.load() == 0);
    BOOST_TEST_REQUIRE(!acknowledged.empty());
    std::string ids;
    for (const auto& id : acknowledged) {
        ids += (ids.empty() ? "" : ",") + id;
    }
    const auto stored =
        StoreRows(deployment.uri)
            .scalar("SELECT count(*) FROM threads WHERE id = ANY('{" + ids + "}'::uuid[])");
    BOOST_TEST(stored == std::to_string(acknowledged.size()));
    HttpClient through_nginx(deployment.nginx.port());
    get_thread_ok(through_nginx, deployment.key, *acknowledged.begin());
}

BOOST_AUTO_TEST_CASE(a_create_that_never_reached_a_replica_goes_to_the_next) {
    const auto uri = postgres_cluster().create_database();
    const auto key = create_demo_key(uri);
    ServerProcess live(uri);
    // The first server of the upstream refuses every connection (nothing listens there).
    NginxProcess nginx({free_loopback_port(), live.port()});
    for (int i = 0; i < 4; ++i) {
        HttpClient client(nginx.port());  // a new connection each time
        create_thread_ok(client, key, create_body(kSupportBot));
    }
    BOOST_TEST(StoreRows(uri).scalar("SELECT count(*) FROM threads") == "4");
}

BOOST_AUTO_TEST_CASE(replicas_started_at_once_on_an_empty_database_migrate_it_once) {
    const auto uri = postgres_cluster().create_database();
    std::vector<std::unique_ptr<ServerProcess>> replicas(3);
    std::vector<std::thread> starting;
    for (auto& replica : replicas) {
        starting.emplace_back([&replica, &uri] {
            try {
                replica = std::make_unique<ServerProcess>(uri);
            } catch (...) {
                // Left null: checked below, on the test's own thread.
            }
        });
    }
    for (auto& thread : starting) {
        thread.join();
    }
    StoreRows rows(uri);
    BOOST_TEST(rows.scalar("SELECT version FROM threadsd_schema") == "1");
    // The demo data went in once, by whichever replica created the schema.
    BOOST_TEST(rows.scalar("SELECT count(*) FROM organizations") == "1");
    BOOST_TEST(rows.scalar("SELECT count(*) FROM agents") ==
               rows.scalar("SELECT count(DISTINCT id) FROM agents"));
    const auto key = create_demo_key(uri);
    for (const auto& replica : replicas) {
        BOOST_REQUIRE(replica);
        HttpClient client(replica->port());
        create_thread_ok(client, key, create_body(kSupportBot));
    }
}

BOOST_AUTO_TEST_CASE(a_replica_older_than_the_schema_refuses_to_start_naming_both_versions) {
    const auto uri = postgres_cluster().create_database();
    run_ok({"migrate", "--db", uri});
    // A newer binary has been here: the schema is one version past this one.
    StoreRows(uri).scalar("UPDATE threadsd_schema SET version = version + 1 RETURNING version");
    const auto refused = run_threadsd_bounded({"serve", "--db", uri, "--listen", "127.0.0.1:0"});
    BOOST_TEST(refused.exit_code != 0);
    BOOST_TEST(std::count(refused.err.begin(), refused.err.end(), '\n') == 1, refused.err);
    BOOST_TEST(refused.err.find("version 2") != std::string::npos, refused.err);
    BOOST_TEST(refused.err.find("threadsd's 1") != std::string::npos, refused.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
