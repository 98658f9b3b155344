// The endpoints and output an operator's tools read: /healthz, /readyz and /metrics without
// credentials, the Prometheus text counting what happened, and one access-log line per
// request on stdout that never holds the API key.

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include "support/access_log.hpp"
#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/prometheus_text.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

using boost::beast::http::verb;

/// GET `path` without credentials.
HttpResult get_open(HttpClient& client, const std::string& path) {
    return client.request(verb::get, path, std::nullopt, {});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(operations_http)

BOOST_AUTO_TEST_CASE(health_readiness_and_metrics_need_no_credentials_and_count_requests) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db);
    HttpClient client(server.port());

    const auto health = get_open(client, "/healthz");
    BOOST_TEST(health.status() == 200u);
    BOOST_TEST(health.message.body() == R"({"status":"ok"})");
    const auto ready = get_open(client, "/readyz");
    BOOST_TEST(ready.status() == 200u);
    BOOST_TEST(ready.message.body() == R"({"status":"ready"})");
    check_error(client.request(verb::post, "/healthz", std::string("{}"), {}), 405,
                "METHOD_NOT_ALLOWED");

    constexpr int kCreates = 3;
    for (int i = 0; i < kCreates; ++i) {
        BOOST_TEST_REQUIRE(
            client.post_json(kCreatePath, create_body(demo::kSupportBot), key).status() == 200u);
    }
    check_error(client.post_json(kCreatePath, "{}", key), 400, "BAD_REQUEST");
    check_error(client.post_json(kCreatePath, "{}", "wrong"), 401, "UNAUTHORIZED");
    check_error(get_open(client, "/nowhere"), 404, "NOT_FOUND");

    const auto metrics = get_open(client, "/metrics");
    BOOST_TEST_REQUIRE(metrics.status() == 200u);
    BOOST_TEST(metrics.header("Content-Type").find("text/plain") == 0u);
    auto samples = parse_prometheus_samples(metrics.message.body());
    BOOST_TEST(samples["threadsd_http_requests_total{route=\"create\",status=\"200\"}"] ==
               kCreates);
    BOOST_TEST(samples["threadsd_http_requests_total{route=\"create\",status=\"400\"}"] == 1);
    BOOST_TEST(samples["threadsd_http_requests_total{route=\"create\",status=\"401\"}"] == 1);
    BOOST_TEST(samples["threadsd_http_requests_total{route=\"unmatched\",status=\"404\"}"] == 1);
    BOOST_TEST(samples["threadsd_http_requests_total{route=\"healthz\",status=\"200\"}"] == 1);
    // A method a path does not take matches no route.
    BOOST_TEST(samples["threadsd_http_requests_total{route=\"unmatched\",status=\"405\"}"] == 1);
    BOOST_TEST(samples["threadsd_threads_created_total"] == kCreates);
    BOOST_TEST(samples["threadsd_open_connections"] >= 1);
    // Every request so far went over this one connection.
    BOOST_TEST(samples["threadsd_connections_accepted_total"] == 1);
    // The readiness probe and the creates each committed at least one group transaction.
    BOOST_TEST(samples["threadsd_store_commit_batches_total"] >= 2);
    BOOST_TEST(samples["threadsd_store_commit_duration_seconds_count"] ==
               samples["threadsd_store_commit_batches_total"]);
    BOOST_TEST(samples["threadsd_http_request_duration_seconds_count{route=\"create\"}"] ==
               kCreates + 2);
    BOOST_TEST(
        samples["threadsd_http_request_duration_seconds_bucket{route=\"create\",le=\"+Inf\"}"] ==
        kCreates + 2);
    // Buckets never decrease.
    double previous = 0;
    for (const auto& [series, value] : samples) {
        if (series.rfind("threadsd_http_request_duration_seconds_bucket{route=\"create\"", 0) ==
            0) {
            BOOST_TEST(value >= 0);
            previous = std::max(previous, value);
        }
    }
    BOOST_TEST(previous == kCreates + 2);

    // One access-log line per request on stdout, each a JSON object, never the key.
    server.signal(SIGTERM);
    BOOST_TEST(server.wait_exit(20) == 0);
    const auto log = server.stdout_text();
    BOOST_TEST(log.find(key.substr(4)) == std::string::npos, "the access log shows the key");
    const auto entries = access_log_entries(log);
    // healthz, readyz, the 405, three creates, the 400, the 401, the 404 and metrics.
    BOOST_TEST(entries.size() == 10u, log);
    bool saw_create = false;
    for (const auto& entry : entries) {
        for (const char* field : {"time", "requestId", "method", "path", "route", "status",
                                  "durationMs", "requestBytes", "responseBytes", "client"}) {
            BOOST_TEST(entry.contains(field),
                       field << " missing in " << boost::json::serialize(entry));
        }
        BOOST_TEST(entry.at("client").as_string() == "127.0.0.1");
        if (entry.at("route").as_string() == "create" && entry.at("status").as_int64() == 200) {
            saw_create = true;
            BOOST_TEST(entry.at("method").as_string() == "POST");
            BOOST_TEST(entry.at("path").as_string() == kCreatePath);
            BOOST_TEST(entry.at("requestBytes").as_int64() > 0);
        }
    }
    BOOST_TEST(saw_create);
}

BOOST_AUTO_TEST_CASE(the_access_log_can_be_turned_off) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    ServerProcess server(db, {"--access-log", "off"});
    HttpClient client(server.port());
    BOOST_TEST(get_open(client, "/healthz").status() == 200u);
    server.signal(SIGTERM);
    BOOST_TEST(server.wait_exit(20) == 0);
    BOOST_TEST(server.stdout_text().empty());
}

/// The `client` field of every access-log line of a server that has exited.
std::vector<std::string> logged_clients(const ServerProcess& server) {
    std::vector<std::string> clients;
    for (const auto& entry : access_log_entries(server.stdout_text())) {
        clients.emplace_back(entry.at("client").as_string());
    }
    return clients;
}

BOOST_AUTO_TEST_CASE(x_forwarded_for_names_the_client_only_when_a_trusted_proxy_sent_it) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    const Headers forwarded{{"X-Forwarded-For", "198.51.100.1, 203.0.113.7"}};
    for (const bool loopback_trusted : {true, false}) {
        // The test's own address, 127.0.0.1, is a trusted proxy in the first round only.
        ServerProcess server(db, {"--trusted-proxies",
                                  loopback_trusted ? "10.0.0.0/8, 127.0.0.1" : "10.0.0.0/8, ::1"});
        HttpClient client(server.port());
        BOOST_TEST(client.request(verb::get, "/healthz", std::nullopt, forwarded).status() == 200u);
        BOOST_TEST(client.request(verb::get, "/healthz", std::nullopt, {}).status() == 200u);
        server.signal(SIGTERM);
        BOOST_TEST_REQUIRE(server.wait_exit(20) == 0);
        const auto clients = logged_clients(server);
        const std::vector<std::string> expected =
            loopback_trusted ? std::vector<std::string>{"203.0.113.7", "127.0.0.1"}
                             : std::vector<std::string>{"127.0.0.1", "127.0.0.1"};
        BOOST_TEST(clients == expected, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
