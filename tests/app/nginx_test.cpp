// threadsd behind a real nginx (Debian's package) that runs the site file of the source
// tree, systemd/threadsd.nginx, with only its ports (and, for one case, its read timeout)
// changed: the API through the proxy, ids and client addresses passed on, connections to
// threadsd reused, and nginx's own errors in threadsd's envelope.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/access_log.hpp"
#include "support/error_envelope.hpp"
#include "support/event_stream_client.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/nginx_process.hpp"
#include "support/process.hpp"
#include "support/prometheus_text.hpp"
#include "support/raw_connection.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
using boost::beast::http::verb;

/// threadsd trusting 127.0.0.1 (nginx) for X-Forwarded-For, behind nginx.
struct ProxiedThreadsd {
    /// `read_timeout` is nginx's proxy_read_timeout.
    explicit ProxiedThreadsd(const std::string& read_timeout = "30s",
                             std::vector<std::string> extra = {})
        : db(new_store(dir, "store.db")),
          key(create_demo_key(db)),
          server(db, with_trusted_proxy(std::move(extra))),
          nginx({server.port()}, read_timeout) {}

    /// `extra` and --trusted-proxies 127.0.0.1.
    static std::vector<std::string> with_trusted_proxy(std::vector<std::string> extra) {
        extra.insert(extra.end(), {"--trusted-proxies", "127.0.0.1"});
        return extra;
    }

    TempDir dir;           ///< Holds the store.
    std::string db;        ///< The store's path.
    std::string key;       ///< A demo organization key.
    ServerProcess server;  ///< threadsd.
    NginxProcess nginx;    ///< In front of it.

    /// threadsd's access-log line of the request with `request_id`; fails when there is none
    /// within 5 s (the line is written just after the response).
    boost::json::object access_entry(const std::string& request_id) const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        do {
            for (auto& entry : access_log_entries(server.stdout_text())) {
                if (entry.at("requestId").as_string() == request_id) {
                    return std::move(entry);
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } while (std::chrono::steady_clock::now() < deadline);
        BOOST_FAIL("threadsd logged no request " << request_id);
        return {};
    }
};

/// Checks that an answer is the one nginx makes itself: the envelope, an X-Request-Id.
void check_nginx_error(const HttpResult& response, unsigned status, const std::string& code,
                       const std::string& mentions) {
    check_error(response, status, code, mentions);
    BOOST_TEST(response.header("Server").find("nginx") == 0u, "not nginx's answer");
    BOOST_TEST(!response.header("X-Request-Id").empty());
}

const std::regex kNginxRequestId("[0-9a-f]{32}");

}  // namespace

BOOST_AUTO_TEST_SUITE(nginx_proxy)

BOOST_AUTO_TEST_CASE(the_api_works_through_nginx_with_request_ids_passed_through) {
    ProxiedThreadsd proxied;
    HttpClient client(proxied.nginx.port());
    const Headers traced{{"Content-Type", "application/json"},
                         {"X-API-Key", proxied.key},
                         {"X-Request-Id", "trace-4711"}};
    const auto created =
        client.request(verb::post, kCreatePath, create_body(demo::kSupportBot), traced);
    BOOST_TEST_REQUIRE(created.status() == 200u, created.message.body());
    BOOST_TEST(created.header("X-Request-Id") == "trace-4711");
    const std::string id(created.json().at("thread").at("id").as_string());
    BOOST_TEST(proxied.access_entry("trace-4711").at("route").as_string() == "create");

    const Headers key_only{{"X-API-Key", proxied.key}};
    const auto fetched = client.request(verb::get, "/api/v1/threads/" + id, std::nullopt, key_only);
    BOOST_TEST(fetched.status() == 200u);
    BOOST_TEST(fetched.json().at("thread").at("id").as_string() == id);

    // Without an id, or with one threadsd would not echo, nginx makes one; threadsd logs it
    // and sends it back, so the client, nginx and threadsd name the request alike.
    for (const Headers& headers :
         {key_only, Headers{{"X-API-Key", proxied.key}, {"X-Request-Id", std::string(129, 'r')}}}) {
        const auto listed =
            client.request(verb::get, "/api/v1/threads?limit=5", std::nullopt, headers);
        BOOST_TEST(listed.status() == 200u);
        const auto request_id = listed.header("X-Request-Id");
        BOOST_TEST(std::regex_match(request_id, kNginxRequestId), request_id);
        BOOST_TEST(proxied.access_entry(request_id).at("route").as_string() == "list");
        // nginx logs the same id, once its line is written (after the response).
        bool in_nginx_log = false;
        for (int i = 0; i < 250 && !in_nginx_log; ++i) {
            in_nginx_log = proxied.nginx.access_log().find("id=" + request_id + " upstream=200") !=
                           std::string::npos;
            if (!in_nginx_log) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        BOOST_TEST(in_nginx_log, proxied.nginx.access_log());
    }

    // threadsd's own errors pass through nginx untouched.
    check_error(client.request(verb::get, "/api/v1/threads/" + id, std::nullopt, {}), 401,
                "UNAUTHORIZED", "X-API-Key header is required");
    const auto wrong_method = client.request(verb::delete_, kCreatePath, std::nullopt, key_only);
    check_error(wrong_method, 405, "METHOD_NOT_ALLOWED");
    BOOST_TEST(wrong_method.header("Allow") == "POST");
    // Bodies up to the limit reach threadsd: this one is refused by threadsd's JSON parser,
    // not by nginx's size check.
    const Headers json{{"Content-Type", "application/json"}, {"X-API-Key", proxied.key}};
    check_error(client.request(verb::post, kCreatePath, std::string(64 * kKiB, ' '), json), 400,
                "BAD_REQUEST");
}

BOOST_AUTO_TEST_CASE(threadsd_names_the_client_nginx_saw_and_not_what_the_client_claims) {
    ProxiedThreadsd proxied;
    // The client connects from 127.0.0.2, which threadsd does not trust; nginx (127.0.0.1)
    // appends it to the X-Forwarded-For that the client made up.
    HttpClient client(proxied.nginx.port(), std::chrono::seconds(15), "127.0.0.2");
    const Headers spoofing{{"X-Forwarded-For", "203.0.113.7"}, {"X-Request-Id", "spoofed"}};
    BOOST_TEST(client.request(verb::get, "/healthz", std::nullopt, spoofing).status() == 200u);
    BOOST_TEST(
        client.request(verb::get, "/healthz", std::nullopt, {{"X-Request-Id", "plain"}}).status() ==
        200u);
    BOOST_TEST(proxied.access_entry("spoofed").at("client").as_string() == "127.0.0.2");
    BOOST_TEST(proxied.access_entry("plain").at("client").as_string() == "127.0.0.2");
}

BOOST_AUTO_TEST_CASE(nginx_keeps_its_connection_to_threadsd_alive) {
    ProxiedThreadsd proxied;
    HttpClient direct(proxied.server.port());
    const auto accepted = [&direct] {
        const auto metrics = direct.request(verb::get, "/metrics", std::nullopt, {});
        BOOST_TEST_REQUIRE(metrics.status() == 200u);
        return parse_prometheus_samples(metrics.message.body())
            .at("threadsd_connections_accepted_total");
    };
    const double before = accepted();
    constexpr int kClients = 10;
    for (int i = 0; i < kClients; ++i) {
        HttpClient client(proxied.nginx.port());  // A new client connection each time.
        BOOST_TEST_REQUIRE(client.request(verb::get, "/healthz", std::nullopt, {}).status() ==
                           200u);
    }
    // Ten clients, one upstream connection (one nginx worker, requests one after another).
    BOOST_TEST(accepted() - before == 1);
}

BOOST_AUTO_TEST_CASE(nginx_answers_its_own_refusals_in_the_envelope) {
    ProxiedThreadsd proxied;
    HttpClient client(proxied.nginx.port());
    const Headers json{{"Content-Type", "application/json"},
                       {"X-API-Key", proxied.key},
                       {"X-Request-Id", "too-big"}};
    const auto too_large =
        client.request(verb::post, kCreatePath, std::string(64 * kKiB + 1, ' '), json);
    check_nginx_error(too_large, 413, "PAYLOAD_TOO_LARGE", "65536");
    BOOST_TEST(too_large.header("X-Request-Id") == "too-big");

    HttpClient header_client(proxied.nginx.port());
    check_nginx_error(header_client.request(verb::get, "/healthz", std::nullopt,
                                            {{"X-Padding", std::string(20 * kKiB, 'p')}}),
                      431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "16384");

    // Bytes that are not HTTP, answered by nginx before any location is chosen.
    RawConnection garbage(proxied.nginx.port());
    BOOST_TEST_REQUIRE(garbage.write("GARBAGE\r\n\r\n"));
    const auto not_http = parse_response(garbage.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(not_http.has_value());
    check_nginx_error(*not_http, 400, "BAD_REQUEST", "not valid HTTP");

    // The error pages' own location is not reachable from outside.
    HttpClient prober(proxied.nginx.port());
    check_nginx_error(prober.request(verb::get, "/.threadsd-nginx/503", std::nullopt, {}), 404,
                      "NOT_FOUND", "no endpoint");
}

BOOST_AUTO_TEST_CASE(streams_pass_through_nginx_unbuffered_past_its_read_timeout) {
    // nginx's read timeout for the API is 2 s here; the stream's location keeps its own,
    // above the keep-alive interval, so a quiet stream stays open through the proxy.
    ProxiedThreadsd proxied("2s", {"--stream-keepalive", "1s"});
    HttpClient client(proxied.nginx.port());
    const auto created = client.post_json(
        "/api/v1/threads/web", R"({"agentId": ")" + std::string(demo::kSupportBot) + R"("})",
        proxied.key);
    BOOST_REQUIRE(created.status() == 200u);
    const std::string thread_id(
        created.json().as_object().at("thread").as_object().at("id").as_string());
    EventStreamClient stream(proxied.nginx.port(), "/api/v1/threads/" + thread_id + "/stream",
                             {{"X-API-Key", proxied.key}});
    BOOST_TEST(stream.status() == 200u);
    BOOST_TEST(stream.header("Content-Type") == "text/event-stream");
    // A small event comes through at once: nginx does not hold it back in a buffer.
    const auto reply =
        client.post_json("/api/v1/threads/" + thread_id + "/messages",
                         R"({"message": "hi", "direction": "OUTBOUND"})", proxied.key);
    BOOST_REQUIRE(reply.status() == 200u);
    auto event = stream.next_event(std::chrono::seconds(5));
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply.json().as_object().at("messageId").as_string());
    // Quiet for longer than the API's read timeout: keep-alives hold it open.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    while (std::chrono::steady_clock::now() < until) {
        const auto comment = stream.next(std::chrono::seconds(3));
        BOOST_REQUIRE_MESSAGE(comment.has_value(), "the stream through nginx went quiet");
        BOOST_TEST(comment->comment);
    }
    const auto later =
        client.post_json("/api/v1/threads/" + thread_id + "/messages",
                         R"({"message": "still", "direction": "OUTBOUND"})", proxied.key);
    event = stream.next_event(std::chrono::seconds(5));
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == later.json().as_object().at("messageId").as_string());
}

BOOST_AUTO_TEST_CASE(threadsd_stuck_or_down_gives_envelopes_not_html) {
    ProxiedThreadsd proxied("1s");
    {
        HttpClient client(proxied.nginx.port());
        BOOST_TEST_REQUIRE(client.request(verb::get, "/healthz", std::nullopt, {}).status() ==
                           200u);
    }

    // Stuck after the request reached it: it may have taken effect, so a 500 that says so,
    // not a retry-503 (and no Retry-After).
    proxied.server.freeze();
    HttpClient stuck_client(proxied.nginx.port());
    const auto stuck = stuck_client.request(verb::get, "/healthz", std::nullopt, {});
    proxied.server.signal(SIGCONT);
    check_nginx_error(stuck, 500, "INTERNAL_SERVER_ERROR", "may have taken effect");
    BOOST_TEST(stuck.header("Retry-After").empty());

    // Down: nothing was done; retry.
    proxied.server.signal(SIGTERM);
    BOOST_TEST_REQUIRE(proxied.server.wait_exit(20) == 0);
    HttpClient client(proxied.nginx.port());
    const auto down =
        client.request(verb::post, kCreatePath, create_body(demo::kSupportBot),
                       {{"Content-Type", "application/json"}, {"X-API-Key", proxied.key}});
    check_nginx_error(down, 503, "SERVICE_UNAVAILABLE", "retry");
    BOOST_TEST(down.header("Retry-After") == "1");
    BOOST_TEST(proxied.nginx.error_log().find("connect() failed") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
