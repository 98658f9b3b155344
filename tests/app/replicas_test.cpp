// Three replicas of the built binary on one PostgreSQL database, behind a real nginx running
// the shipped site with an upstream of all three (contract section 8): each guarantee is
// checked with its steps sent through different replicas, and one replica is killed under
// load through nginx.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/clerk_session.hpp"
#include "support/error_envelope.hpp"
#include "support/event_stream_client.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/nginx_process.hpp"
#include "support/plain_http_client.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"
#include "threadsd/store/postgres/migrations.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;

constexpr const char* kSupportBot = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01";

/// One database, three replicas on it and nginx in front of them.
struct Deployment {
    /// Replicas on `uri` (a database of the suite's cluster unless given), each run with
    /// `serve_options`.
    explicit Deployment(std::string database = postgres_cluster().create_database(),
                        const std::vector<std::string>& serve_options = {})
        : uri(std::move(database)), key(create_demo_key(uri)) {
        for (int i = 0; i < 3; ++i) {
            replicas.push_back(std::make_unique<ServerProcess>(uri, serve_options));
        }
        nginx.emplace(std::vector<unsigned short>{replicas[0]->port(), replicas[1]->port(),
                                                  replicas[2]->port()});
    }

    /// A client of replica `i` directly.
    HttpClient replica(std::size_t i) const { return HttpClient(replicas.at(i)->port()); }

    std::string uri;                                       ///< The database.
    std::string key;                                       ///< A key of the demo organization.
    std::vector<std::unique_ptr<ServerProcess>> replicas;  ///< threadsd, three times.
    std::optional<NginxProcess> nginx;                     ///< In front of all three.
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

/// Clients creating threads through nginx until stopped, each create on a new connection
/// so that nginx spreads them over the replicas. Only a 200 is a promise: a create a
/// replica had in hand when it died, or whose COMMIT went unanswered, gets a 500 (it may
/// have been stored), and one that got no answer promised nothing.
class CreateLoad {
  public:
    /// Starts `clients` clients sending creates with `key` to nginx on `port`.
    CreateLoad(unsigned short port, const std::string& key, int clients) {
        for (int c = 0; c < clients; ++c) {
            clients_.emplace_back([this, port, key] {
                while (!stop_) {
                    send(port, key);
                }
            });
        }
    }
    ~CreateLoad() { stop(); }
    CreateLoad(const CreateLoad&) = delete;
    CreateLoad& operator=(const CreateLoad&) = delete;

    /// Stops the clients once their requests in flight are answered.
    void stop() {
        stop_ = true;
        for (auto& client : clients_) {
            if (client.joinable()) {
                client.join();
            }
        }
    }

    /// How many creates got a 200 so far.
    std::size_t acknowledged_count() const {
        std::lock_guard lock(mutex_);
        return acknowledged_.size();
    }

    /// Waits (30 s at most) until `count` creates got a 200; false if they did not.
    bool wait_for(std::size_t count) const {
        for (int i = 0; i < 600 && acknowledged_count() < count; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return acknowledged_count() >= count;
    }

    /// The ids of the threads whose create got a 200.
    std::set<std::string> acknowledged() const {
        std::lock_guard lock(mutex_);
        return acknowledged_;
    }

    /// How many answers had `status`.
    int answers(unsigned status) const {
        std::lock_guard lock(mutex_);
        const auto found = statuses_.find(status);
        return found == statuses_.end() ? 0 : found->second;
    }

    /// Answers other than 200, 500 and 503, with their bodies.
    std::vector<std::string> unexpected() const {
        std::lock_guard lock(mutex_);
        return unexpected_;
    }

  private:
    /// One create on a new connection.
    void send(unsigned short port, const std::string& key) {
        try {
            PlainHttpClient client(port, std::chrono::seconds(30));
            const auto result = client.request(
                boost::beast::http::verb::post, kCreatePath, create_body(kSupportBot),
                {{"Content-Type", "application/json"}, {"X-API-Key", key}});
            std::lock_guard lock(mutex_);
            ++statuses_[result.status];
            if (result.status == 200) {
                acknowledged_.insert(
                    std::string(json::parse(result.body).at("thread").at("id").as_string()));
            } else if (result.status != 500 && result.status != 503) {
                unexpected_.push_back(std::to_string(result.status) + " " + result.body);
            }
        } catch (const std::exception&) {
            // No answer: nothing was promised.
        }
    }

    mutable std::mutex mutex_;             ///< Guards what the clients record.
    std::set<std::string> acknowledged_;   ///< Ids of every 200.
    std::map<unsigned, int> statuses_;     ///< Answers by status.
    std::vector<std::string> unexpected_;  ///< Statuses no create should get, with bodies.
    std::atomic<bool> stop_{false};        ///< Set to stop the clients.
    std::vector<std::thread> clients_;     ///< The clients.
};

/// The database clock's current second: the window rate limits count in.
std::int64_t clock_second(const StoreRows& database) {
    return std::stoll(
        database.scalar("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint"));
}

/// How many of the threads `ids` the database `uri` holds.
std::size_t stored_count(const std::string& uri, const std::set<std::string>& ids) {
    std::string list;
    for (const auto& id : ids) {
        list += (list.empty() ? "" : ",") + id;
    }
    return std::stoul(StoreRows(uri).scalar("SELECT count(*) FROM threads WHERE id = ANY('{" +
                                            list + "}'::uuid[])"));
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
    HttpClient through_nginx(deployment.nginx->port());
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
    HttpClient through_nginx(deployment.nginx->port());
    check_error(close_thread(through_nginx, deployment.key, id), 409, "CONFLICT");
}

BOOST_AUTO_TEST_CASE(replies_posted_on_one_replica_reach_streams_held_by_the_others) {
    Deployment deployment;
    auto poster = deployment.replica(0);
    const auto id = id_of(create_thread_ok(poster, deployment.key, create_body(kSupportBot)));
    const std::string path = "/api/v1/threads/" + id;
    std::vector<std::unique_ptr<EventStreamClient>> streams;
    for (std::size_t i = 1; i < 3; ++i) {
        streams.push_back(std::make_unique<EventStreamClient>(
            deployment.replicas[i]->port(), path + "/stream",
            std::vector<std::pair<std::string, std::string>>{{"X-API-Key", deployment.key}}));
        BOOST_REQUIRE(streams.back()->status() == 200u);
    }
    // Replies posted through replica 0 and through nginx, while a reader resumes on
    // replica 2 with Last-Event-ID: every stream gets every reply once, in commit order.
    std::vector<std::string> posted;
    HttpClient through_nginx(deployment.nginx->port());
    for (int i = 0; i < 60; ++i) {
        auto& client = i % 2 == 0 ? poster : through_nginx;
        const auto response = client.post_json(
            path + "/messages",
            R"({"message": "r)" + std::to_string(i) + R"(", "direction": "OUTBOUND"})",
            deployment.key);
        BOOST_REQUIRE(response.status() == 200u);
        posted.emplace_back(response.json().as_object().at("messageId").as_string());
    }
    for (auto& stream : streams) {
        std::vector<std::string> received;
        for (std::size_t i = 0; i < posted.size(); ++i) {
            const auto event = stream->next_event(std::chrono::seconds(10));
            BOOST_REQUIRE_MESSAGE(event.has_value(), "reply " << i << " did not arrive");
            received.push_back(event->id);
        }
        BOOST_TEST(received == posted);
    }
    EventStreamClient resumed(deployment.replicas[2]->port(), path + "/stream",
                              {{"X-API-Key", deployment.key}, {"Last-Event-ID", posted[29]}});
    for (std::size_t i = 30; i < posted.size(); ++i) {
        const auto event = resumed.next_event(std::chrono::seconds(10));
        BOOST_REQUIRE(event.has_value());
        BOOST_TEST(event->id == posted[i]);
    }
    // A close through replica 0 ends the streams of replicas 1 and 2.
    close_thread_ok(poster, deployment.key, id);
    for (auto& stream : streams) {
        const auto event = stream->next_event(std::chrono::seconds(10));
        BOOST_REQUIRE(event.has_value());
        BOOST_TEST(event->event == "closed");
    }
}

BOOST_AUTO_TEST_CASE(ended_windows_are_closed_once_by_replicas_sweeping_together) {
    Deployment deployment(postgres_cluster().create_database(),
                          {"--conversation-window", "1s", "--expiry-sweep-interval", "50ms"});
    auto client = deployment.replica(0);
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
        ids.push_back(id_of(create_thread_ok(client, deployment.key, create_body(kSupportBot))));
    }
    EventStreamClient stream(deployment.replicas[1]->port(),
                             "/api/v1/threads/" + ids[0] + "/stream",
                             {{"X-API-Key", deployment.key}});
    const auto event = stream.next_event(std::chrono::seconds(15));
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->event == "closed");
    const StoreRows rows(deployment.uri);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (rows.scalar("SELECT count(*) FROM threads WHERE is_active = 1") != "0" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (const auto& id : ids) {
        const auto thread = get_thread_ok(client, deployment.key, id);
        BOOST_TEST(thread.at("closedReason").as_string() == "EXPIRED");
    }
    // Once each: every replica counts what it closed; together they closed each thread once.
    long long expired = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        auto replica = deployment.replica(i);
        const auto body = replica.request(boost::beast::http::verb::get, "/metrics").message.body();
        const std::string name = "\nthreadsd_threads_expired_total ";
        const auto at = body.find(name);
        BOOST_REQUIRE(at != std::string::npos);
        expired += std::stoll(body.substr(at + name.size()));
    }
    BOOST_TEST(expired == static_cast<long long>(ids.size()));
}

BOOST_AUTO_TEST_CASE(a_replica_killed_under_load_loses_no_acknowledged_thread) {
    Deployment deployment;
    CreateLoad load(deployment.nginx->port(), deployment.key, 6);
    BOOST_TEST_REQUIRE(load.wait_for(20));
    deployment.replicas[1]->kill9();
    const auto before_kill = load.acknowledged_count();
    // The others go on serving through nginx.
    BOOST_TEST(load.wait_for(before_kill + 20), "no 200 after the kill");
    load.stop();

    // Nothing was refused outright: nginx placed every request on a live replica (one in
    // flight on the dead replica's connection gets nginx's 500, "it may have taken effect").
    BOOST_TEST(load.answers(503) == 0);
    BOOST_TEST(load.unexpected().empty(), load.unexpected().size() << " unexpected answers");
    // Every acknowledged thread is stored, and served through nginx.
    const auto acknowledged = load.acknowledged();
    BOOST_TEST(stored_count(deployment.uri, acknowledged) == acknowledged.size());
    HttpClient through_nginx(deployment.nginx->port());
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

BOOST_AUTO_TEST_CASE(a_keys_rate_holds_for_the_deployment_not_per_replica) {
    Deployment deployment;
    constexpr int kRate = 10;
    const auto limited =
        create_key(deployment.uri, demo::kOrganization, {"--rate", std::to_string(kRate)});
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (std::size_t i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<HttpClient>(deployment.replicas[i]->port()));
    }
    // The windows are the database clock's seconds: count those the burst touched.
    const StoreRows database(deployment.uri);
    const auto first_window = clock_second(database);
    int admitted = 0;
    std::vector<int> refused(3, 0);
    for (int i = 0; i < 150; ++i) {
        const auto response =
            clients[i % 3]->request(boost::beast::http::verb::get, "/api/v1/threads?limit=1",
                                    std::nullopt, {{"X-API-Key", limited}});
        if (response.status() == 200u) {
            ++admitted;
            continue;
        }
        check_error(response, 429, "TOO_MANY_REQUESTS", "rate limit of 10");
        BOOST_TEST(response.header("Retry-After") == "1");
        ++refused[i % 3];
    }
    const auto windows = clock_second(database) - first_window + 1;
    BOOST_TEST_MESSAGE(admitted << " admitted in " << windows << " windows");
    // Counted per replica, three full buckets would have let 30 through at once.
    BOOST_TEST(admitted <= kRate * windows);
    BOOST_TEST(admitted >= kRate);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(refused[i] > 0, "replica " << i << " refused nothing");
    }
    // A key without a limit costs no lease: the table holds the limited key alone.
    for (int i = 0; i < 30; ++i) {
        create_thread_ok(*clients[i % 3], deployment.key, create_body(kSupportBot));
    }
    BOOST_TEST(database.scalar("SELECT string_agg(key_id, ',') FROM rate_budgets") ==
               key_id_of(deployment.uri, limited));
}

BOOST_AUTO_TEST_CASE(a_busy_key_is_held_to_its_rate_by_concurrent_clients_of_every_replica) {
    // Clients at once on each replica: shares of many requests, leases waited for, top-ups.
    Deployment deployment;
    constexpr int kRate = 200;
    const auto limited =
        create_key(deployment.uri, demo::kOrganization, {"--rate", std::to_string(kRate)});
    const StoreRows database(deployment.uri);
    const auto first_window = clock_second(database);
    std::atomic<int> admitted{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    std::vector<std::thread> clients;
    for (std::size_t replica = 0; replica < 3; ++replica) {
        for (int c = 0; c < 3; ++c) {
            clients.emplace_back([&, replica] {
                HttpClient client(deployment.replicas[replica]->port());
                for (int i = 0; i < 150; ++i) {
                    const auto status =
                        client
                            .request(boost::beast::http::verb::get, "/api/v1/threads?limit=1",
                                     std::nullopt, {{"X-API-Key", limited}})
                            .status();
                    (status == 200u ? admitted : status == 429u ? refused : other) += 1;
                }
            });
        }
    }
    for (auto& client : clients) {
        client.join();
    }
    const auto windows = clock_second(database) - first_window + 1;
    BOOST_TEST_MESSAGE(admitted << " admitted, " << refused << " refused in " << windows
                                << " windows");
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(admitted.load() <= kRate * windows);
    // Shares held unused when the window ended: at most 1/16 of the rate per replica.
    BOOST_TEST(admitted.load() >= kRate - 3 * (kRate / 16));
}

BOOST_AUTO_TEST_CASE(a_clerk_organization_unmapped_through_one_replica_is_refused_by_every_one) {
    TempDir dir;
    const auto uri = postgres_cluster().create_database();
    run_ok({"clerk", "map", "org_2replicas", "--org", demo::kOrganization, "--db", uri});
    Deployment deployment(uri, clerk_serve_options(dir.path() / "jwks.json"));
    const auto token = session_token(session_claims("org_2replicas"));
    const Headers bearer{{"Content-Type", "application/json"},
                         {"Authorization", "Bearer " + token}};
    for (std::size_t i = 0; i < 3; ++i) {  // each replica has the mapping in its cache
        auto client = deployment.replica(i);
        BOOST_TEST(client
                       .request(boost::beast::http::verb::post, kCreatePath,
                                create_body(kSupportBot), bearer)
                       .status() == 200u);
    }
    run_ok({"clerk", "unmap", "org_2replicas", "--db", uri});
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("replica " << i) {
            auto client = deployment.replica(i);
            check_error(client.request(boost::beast::http::verb::post, kCreatePath,
                                       create_body(kSupportBot), bearer),
                        401, "UNAUTHORIZED", "not mapped");
        }
    }
}

BOOST_AUTO_TEST_CASE(postgresql_restarted_under_load_gives_503s_then_every_replica_recovers) {
    // A cluster of this test's own, since it is stopped on purpose.
    PostgresCluster cluster;
    Deployment deployment(cluster.create_database());
    CreateLoad load(deployment.nginx->port(), deployment.key, 4);
    BOOST_TEST_REQUIRE(load.wait_for(60));
    cluster.stop();
    for (std::size_t i = 0; i < 3; ++i) {
        auto client = deployment.replica(i);
        check_error(client.request(boost::beast::http::verb::get, "/readyz", std::nullopt, {}), 503,
                    "SERVICE_UNAVAILABLE");
    }
    // The clients meet the outage before it ends.
    for (int i = 0; i < 200 && load.answers(503) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const auto before_restart = load.acknowledged_count();
    cluster.start();
    BOOST_TEST(load.wait_for(before_restart + 60), "no recovery without a restart");
    load.stop();
    // 503s while it was down (500s for batches whose COMMIT went unanswered), nothing else.
    BOOST_TEST(load.answers(503) > 0);
    BOOST_TEST(load.unexpected().empty(), load.unexpected().size() << " unexpected answers");

    // Every replica serves again without a restart (a pool waits at most two seconds
    // between attempts to connect), and every 200 is stored.
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("replica " << i) {
            auto client = deployment.replica(i);
            unsigned ready = 0;
            for (int attempt = 0; attempt < 100 && ready != 200u; ++attempt) {
                if (attempt > 0) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
                ready = client.request(boost::beast::http::verb::get, "/readyz", std::nullopt, {})
                            .status();
            }
            BOOST_TEST(ready == 200u);
            create_thread_ok(client, deployment.key, create_body(kSupportBot));
        }
    }
    const auto acknowledged = load.acknowledged();
    BOOST_TEST(stored_count(deployment.uri, acknowledged) == acknowledged.size());
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
    BOOST_TEST(rows.scalar("SELECT version FROM threadsd_schema") ==
               std::to_string(store::postgres::latest_schema_version()));
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
    const auto latest = store::postgres::latest_schema_version();
    BOOST_TEST(refused.err.find("version " + std::to_string(latest + 1)) != std::string::npos,
               refused.err);
    BOOST_TEST(refused.err.find("threadsd's " + std::to_string(latest)) != std::string::npos,
               refused.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
