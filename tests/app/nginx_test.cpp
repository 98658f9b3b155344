// threadsd behind a real nginx (Debian's package) that runs the site file of the source
// tree, systemd/threadsd.nginx, with only its ports (and, for some cases, its read timeout)
// changed: the API through the proxy, ids and client addresses passed on, connections to
// threadsd reused, nginx's own errors in threadsd's envelope, and event streams passed on
// as they come.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
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

/// A listening socket on 127.0.0.1 in threadsd's place, which the test answers from by
/// hand: what nginx does with an answer in pieces, whatever threadsd's routes send.
class StandIn {
  public:
    StandIn() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        BOOST_TEST_REQUIRE(listener_ >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_TEST_REQUIRE(
            ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        BOOST_TEST_REQUIRE(::listen(listener_, 8) == 0);
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~StandIn() {
        close_connection();
        ::close(listener_);
    }
    StandIn(const StandIn&) = delete;
    StandIn& operator=(const StandIn&) = delete;

    unsigned short port() const { return port_; }

    /// Accepts nginx's next connection and returns the head of the request on it; fails
    /// the test when none comes within 10 s.
    std::string accept_request() {
        close_connection();
        pollfd ready{listener_, POLLIN, 0};
        BOOST_TEST_REQUIRE(::poll(&ready, 1, 10'000) == 1, "nginx did not connect");
        connection_ = ::accept(listener_, nullptr, nullptr);
        BOOST_TEST_REQUIRE(connection_ >= 0);
        timeval timeout{10, 0};
        ::setsockopt(connection_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        std::string head;
        char buffer[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
            const auto n = ::recv(connection_, buffer, sizeof buffer, 0);
            BOOST_TEST_REQUIRE(n > 0, "nginx sent no whole request: " << head);
            head.append(buffer, static_cast<std::size_t>(n));
        }
        return head;
    }

    /// Sends `bytes` on the accepted connection.
    void send(std::string_view bytes) {
        BOOST_TEST_REQUIRE(::send(connection_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                           static_cast<ssize_t>(bytes.size()));
    }

    /// True when nginx closes the accepted connection within 10 s, sending nothing more.
    bool closed_by_nginx() {
        char byte = 0;
        return ::recv(connection_, &byte, 1, 0) == 0;
    }

  private:
    void close_connection() {
        if (connection_ >= 0) {
            ::close(connection_);
            connection_ = -1;
        }
    }

    int listener_ = -1;        ///< Where nginx connects.
    int connection_ = -1;      ///< The connection accepted last.
    unsigned short port_ = 0;  ///< The listener's port.
};

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

BOOST_AUTO_TEST_CASE(event_streams_pass_through_nginx_event_by_event_and_may_be_quiet) {
    StandIn threadsd;
    // Every other location gives up on threadsd after 1 s of silence here.
    NginxProcess nginx({threadsd.port()}, "1s");

    // Elsewhere a silent answer is cut off: what the stream location must not do.
    RawConnection plain(nginx.port());
    BOOST_TEST_REQUIRE(plain.write("GET /api/v1/threads/t-1 HTTP/1.1\r\nHost: x\r\n\r\n"));
    threadsd.accept_request();
    BOOST_TEST(threadsd.closed_by_nginx());
    std::string answer;
    BOOST_TEST_REQUIRE(plain.read_until(answer, "\"success\":false}"), answer);
    const auto cut = parse_response(answer);
    BOOST_TEST_REQUIRE(cut.has_value());
    BOOST_TEST(cut->status() == 500u);

    RawConnection client(nginx.port());
    BOOST_TEST_REQUIRE(
        client.write("GET /api/v1/threads/t-1/stream HTTP/1.1\r\nHost: x\r\n"
                     "Accept: text/event-stream\r\n\r\n"));
    const std::string request = threadsd.accept_request();
    BOOST_TEST(request.rfind("GET /api/v1/threads/t-1/stream HTTP/1.1\r\n", 0) == 0u, request);
    BOOST_TEST(request.find("\r\nX-Forwarded-For: 127.0.0.1\r\n") != std::string::npos);
    BOOST_TEST(std::regex_search(request, std::regex("\r\nX-Request-Id: [0-9a-f]{32}\r\n")));
    BOOST_TEST(request.find("Connection: close") == std::string::npos, request);
    // No X-Accel-Buffering here: the site alone must keep nginx from holding events back.
    threadsd.send(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\nd\r\nretry: 1000\n\n\r\n");
    std::string received;
    BOOST_TEST_REQUIRE(client.read_until(received, "retry: 1000\n\n"), received);
    // Three times the other locations' read timeout without a byte, then the next event
    // and the end of the stream.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    threadsd.send("e\r\ndata: second\n\n\r\n0\r\n\r\n");
    BOOST_TEST_REQUIRE(client.read_until(received, "0\r\n\r\n"), received);
    const auto stream = parse_response(received);
    BOOST_TEST_REQUIRE(stream.has_value());
    BOOST_TEST(stream->status() == 200u);
    BOOST_TEST(stream->header("Content-Type") == "text/event-stream");
    BOOST_TEST(stream->message.body() == "retry: 1000\n\ndata: second\n\n");
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
