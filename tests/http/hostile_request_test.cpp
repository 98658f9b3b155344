// Hostile framing against the real binary, as an attacker sends it: raw bytes, no
// credentials needed. Each case is one way a request could crash the server, make it
// swell, smuggle a second request past a proxy, or be read differently than a proxy reads
// it. The server must answer in the envelope (or close), stay up, and keep its memory.

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/access_log.hpp"
#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using namespace std::chrono_literals;

/// A server of its own for each case, so that one that dies takes no other case with it.
struct HostileServer {
    /// Serves a fresh demo store with `extra` options, started as `launch` says.
    explicit HostileServer(const std::vector<std::string>& extra = {}, const Launch& launch = {})
        : server(db, extra, launch) {}

    /// True when the server still answers a plain request on a new connection.
    bool alive() {
        if (::kill(server.pid(), 0) != 0) {
            return false;
        }
        HttpClient client(server.port());
        return client.request(verb::get, "/healthz").status() == 200u;
    }

    /// The threads of the demo organization (at most 100).
    std::size_t thread_count() {
        HttpClient client(server.port());
        const auto listed = client.request(verb::get, "/api/v1/threads?limit=100", std::nullopt,
                                           {{"X-API-Key", key}});
        BOOST_TEST_REQUIRE(listed.status() == 200u);
        return listed.json().at("threads").as_array().size();
    }

    /// Sends `bytes` on a new connection and reads until the server closes it.
    RawConnection::Received exchange(const std::string& bytes) {
        RawConnection connection(server.port());
        connection.write(bytes);
        return connection.read_until_closed();
    }

    TempDir dir;                                    ///< The store.
    std::string db = new_store(dir, "hostile.db");  ///< Its file.
    std::string key = create_demo_key(db);          ///< A demo key.
    ServerProcess server;                           ///< threadsd.
};

/// A create request's head for the Support bot with `key`, ending before the blank line.
std::string create_head(const std::string& key, const std::string& framing) {
    return "POST /api/v1/threads/web HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key +
           "\r\nContent-Type: application/json\r\n" + framing;
}

/// `body` as one chunk and the last chunk, with `trailer` fields (each ending in CRLF).
std::string chunked(const std::string& body, const std::string& trailer = "") {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return std::string(size) + "\r\n" + body + "\r\n0\r\n" + trailer + "\r\n";
}

/// The server's peak resident memory (VmHWM) in KiB.
std::size_t peak_rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stoul(line.substr(6));
        }
    }
    BOOST_FAIL("no VmHWM in /proc/PID/status");
    return 0;
}

/// Offers `total` bytes on each of `connections` connections at once: `start`, then
/// `filler` repeated, until the total is sent or the server stops taking them.
void offer(unsigned short port, int connections, const std::string& start,
           const std::string& filler, std::size_t total) {
    // Connected here: RawConnection checks with Boost.Test, which is not thread-safe, so
    // the senders only send.
    std::vector<std::unique_ptr<RawConnection>> opened;
    for (int i = 0; i < connections; ++i) {
        opened.push_back(std::make_unique<RawConnection>(port));
    }
    std::vector<std::thread> senders;
    for (auto& open : opened) {
        senders.emplace_back([&, &connection = *open] {
            if (!connection.write(start)) {
                return;
            }
            std::string block;
            while (block.size() < 64 * kKiB) {
                block += filler;
            }
            for (std::size_t sent = start.size(); sent < total; sent += block.size()) {
                if (!connection.write(block)) {
                    return;  // The server answered and closed: it took no more.
                }
            }
        });
    }
    for (auto& sender : senders) {
        sender.join();
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_requests)

// Finding 1: a trailer field of 65,534 bytes or more made Beast throw, and the process abort.
BOOST_AUTO_TEST_CASE(a_huge_trailer_field_is_refused_and_the_server_lives) {
    HostileServer hostile;
    const std::string request =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        std::string("0\r\nX: ") + std::string(65'534, 'a') + "\r\n\r\n";
    const auto received = hostile.exchange(request);
    const auto response = parse_response(received.bytes);
    BOOST_TEST_REQUIRE(response.has_value(), "no answer: " << received.bytes.size() << " bytes");
    check_error(*response, 413, "PAYLOAD_TOO_LARGE", "framing");
    BOOST_TEST(received.closed);
    BOOST_TEST(hostile.alive());
}

BOOST_AUTO_TEST_CASE(a_trailer_within_a_raised_allowance_is_read_and_dropped) {
    HostileServer hostile({"--max-framing-bytes", "1048576"});
    RawConnection connection(hostile.server.port());
    connection.write("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     std::string("0\r\nX: ") + std::string(70'000, 'a') +
                     "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto responses = parse_responses(connection.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(responses.size() == 2u);
    BOOST_TEST(responses[0].status() == 200u);
    BOOST_TEST(responses[1].status() == 200u);
    BOOST_TEST(hostile.alive());
}

BOOST_AUTO_TEST_CASE(a_head_limit_the_parser_cannot_hold_is_refused_at_start) {
    TempDir dir;
    const auto result =
        run_threadsd_bounded({"serve", "--listen", "127.0.0.1:0", "--db", new_store(dir, "t.db"),
                              "--max-header-bytes", "65536"});
    BOOST_TEST(result.exit_code == 2);
    BOOST_TEST(result.err.find("--max-header-bytes must be a whole number from 1024 to 65535") !=
                   std::string::npos,
               result.err);
}

BOOST_AUTO_TEST_CASE(header_fields_at_the_highest_head_limit_never_crash_the_server) {
    HostileServer hostile({"--max-header-bytes", "65535"});
    const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\nX: ";
    // Within the limit: served.
    RawConnection fits(hostile.server.port());
    fits.write(start + std::string(65'400, 'a') + "\r\nConnection: close\r\n\r\n");
    const auto served = parse_response(fits.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(served.has_value());
    BOOST_TEST(served->status() == 200u);
    // One field of more than 65,535 bytes: over the limit, never a throw.
    const auto refused =
        parse_response(hostile.exchange(start + std::string(70'000, 'a') + "\r\n\r\n").bytes);
    BOOST_TEST_REQUIRE(refused.has_value());
    check_error(*refused, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
    BOOST_TEST(hostile.alive());
}

// Finding 2: chunk extensions and trailers counted against no limit.
BOOST_AUTO_TEST_CASE(chunk_extensions_and_trailers_count_against_the_framing_allowance) {
    HostileServer hostile;
    // Unauthenticated: the 401 comes first, and its body's framing is still bounded.
    const std::string unauthenticated =
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;";
    const auto refused = hostile.exchange(unauthenticated + std::string(100'000, 'e'));
    const auto answer = parse_response(refused.bytes);
    BOOST_TEST_REQUIRE(answer.has_value());
    check_error(*answer, 401, "UNAUTHORIZED");
    BOOST_TEST(refused.closed);

    // Authenticated: the extension is over the allowance, a 413.
    const auto extension =
        hostile.exchange(create_head(hostile.key, "Transfer-Encoding: chunked\r\n\r\n") + "1;" +
                         std::string(20'000, 'e') + "\r\n{\r\n0\r\n\r\n");
    const auto too_long = parse_response(extension.bytes);
    BOOST_TEST_REQUIRE(too_long.has_value());
    check_error(*too_long, 413, "PAYLOAD_TOO_LARGE", "16384");

    // Many small trailer fields add up the same way.
    std::string trailer;
    while (trailer.size() < 20'000) {
        trailer += "X-T: " + std::string(50, 't') + "\r\n";
    }
    const auto trailers =
        hostile.exchange(create_head(hostile.key, "Transfer-Encoding: chunked\r\n\r\n") +
                         chunked(R"({"agentId":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01"})", trailer));
    const auto over = parse_response(trailers.bytes);
    BOOST_TEST_REQUIRE(over.has_value());
    check_error(*over, 413, "PAYLOAD_TOO_LARGE", "framing");

    // A few short extensions are fine, and ignored.
    RawConnection fine(hostile.server.port());
    fine.write(create_head(hostile.key, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n") +
               "32;name=value;other\r\n" + R"({"agentId":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01"})" +
               "\r\n0;last\r\n\r\n");
    const auto created = parse_response(fine.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(created.has_value());
    BOOST_TEST(created->status() == 200u, created->message.body());
}

BOOST_AUTO_TEST_CASE(memory_stays_bounded_while_200_mb_are_offered_without_credentials) {
    // Under AddressSanitizer, freed memory waits in a quarantine (256 MB by default) to catch
    // use after free; that is the sanitizer's memory, not the server's, so it is kept small.
    const char* sanitizer = std::getenv("ASAN_OPTIONS");
    Launch launch;
    launch.environment.push_back(std::string("ASAN_OPTIONS=") + (sanitizer ? sanitizer : "") +
                                 ":quarantine_size_mb=1:thread_local_quarantine_size_kb=64");
    HostileServer hostile({}, launch);
    // The idle peak, after the first requests have warmed up every allocator.
    BOOST_TEST_REQUIRE(hostile.alive());
    BOOST_TEST_REQUIRE(hostile.alive());
    const std::size_t idle_peak = peak_rss_kib(hostile.server.pid());
    const std::size_t total = 50 * 1024 * 1024;  // per connection: 4 x 50 MB = 200 MB each time
    const auto port = hostile.server.port();

    // Extension bytes, trailer fields, and header fields, each from 4 connections at once.
    offer(port, 4,
          "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;",
          "extension", total);
    BOOST_TEST(hostile.alive());
    offer(port, 4,
          "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
          "X-Trailer: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", total);
    BOOST_TEST(hostile.alive());
    offer(port, 4, "GET /healthz HTTP/1.1\r\nHost: x\r\n",
          "X-Header: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", total);

    const std::size_t peak = peak_rss_kib(hostile.server.pid());
    BOOST_TEST_MESSAGE("peak RSS: idle " << idle_peak << " KiB, after the offers " << peak
                                         << " KiB");
    BOOST_TEST(peak <= idle_peak + 32 * 1024,
               "peak grew from " << idle_peak << " to " << peak << " KiB");
    // And it answers a normal request right after.
    HttpClient client(port);
    const auto created = client.post_json(kCreatePath, create_body(demo::kSupportBot), hostile.key);
    BOOST_TEST(created.status() == 200u);
}

// Finding 3: `chunked, chunked` passed the coding check while Beast read no body; the chunk
// bytes became a second request.
BOOST_AUTO_TEST_CASE(a_doubled_chunked_coding_cannot_smuggle_a_request) {
    HostileServer hostile;
    const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string chunk_bytes = chunked(smuggled);
    const auto received =
        hostile.exchange(create_head(hostile.key, "Transfer-Encoding: chunked, chunked\r\n\r\n") +
                         chunk_bytes + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto responses = parse_responses(received.bytes);
    BOOST_TEST_REQUIRE(responses.size() == 1u, responses.size() << " responses");
    check_error(responses[0], 400, "BAD_REQUEST", "Transfer-Encoding");
    BOOST_TEST(received.closed);

    // Two Transfer-Encoding fields are refused the same way.
    const auto twice = parse_responses(
        hostile
            .exchange(
                create_head(hostile.key,
                            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") +
                chunk_bytes)
            .bytes);
    BOOST_TEST_REQUIRE(twice.size() == 1u);
    check_error(twice[0], 400, "BAD_REQUEST", "Transfer-Encoding");
    BOOST_TEST(hostile.thread_count() == 0u);
}

// Finding 4: other codings before chunked were accepted and ignored.
BOOST_AUTO_TEST_CASE(only_one_plain_chunked_coding_is_accepted) {
    HostileServer hostile;
    const std::string body = chunked(create_body(demo::kSupportBot));
    for (const std::string coding :
         {"gzip, chunked", "identity, chunked", "gzip,\r\n chunked", "chunked;q=1", "deflate"}) {
        const auto received = hostile.exchange(
            create_head(hostile.key, "Transfer-Encoding: " + coding + "\r\n\r\n") + body);
        const auto response = parse_response(received.bytes);
        BOOST_TEST_REQUIRE(response.has_value(), coding);
        check_error(*response, 400, "BAD_REQUEST", "Transfer-Encoding");
        BOOST_TEST(received.closed, coding);
    }
    BOOST_TEST(hostile.thread_count() == 0u);
    // The plain coding, in any case and with blanks around it, works.
    RawConnection connection(hostile.server.port());
    connection.write(
        create_head(hostile.key, "Transfer-Encoding:  ChunKed \r\nConnection: close\r\n\r\n") +
        body);
    const auto created = parse_response(connection.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(created.has_value());
    BOOST_TEST(created->status() == 200u);
}

// Finding 5: 100-continue restarted the request deadline.
BOOST_AUTO_TEST_CASE(expect_continue_does_not_extend_the_request_deadline) {
    HostileServer hostile({"--request-timeout", "2s"});
    const std::string body = create_body(demo::kSupportBot);
    const std::string head = create_head(hostile.key, "Expect: 100-continue\r\nContent-Length: " +
                                                          std::to_string(body.size()) + "\r\n\r\n");
    RawConnection connection(hostile.server.port());
    const auto third = head.size() / 3;
    // The head over 1.2 s, the body over another 1.6 s: 2.8 s in all, over the 2 s deadline.
    connection.write(head.substr(0, third));
    std::this_thread::sleep_for(600ms);
    connection.write(head.substr(third, third));
    std::this_thread::sleep_for(600ms);
    connection.write(head.substr(2 * third));
    for (std::size_t i = 0; i < body.size(); i += body.size() / 4 + 1) {
        std::this_thread::sleep_for(400ms);
        connection.write(body.substr(i, body.size() / 4 + 1));
    }
    const auto received = connection.read_until_closed();
    BOOST_TEST(received.bytes.find("100 Continue") != std::string::npos);
    BOOST_TEST(received.bytes.find("HTTP/1.1 200") == std::string::npos, received.bytes);
    BOOST_TEST(received.closed);
    BOOST_TEST(hostile.thread_count() == 0u);
}

// Finding 6: trailer fields acted as headers.
BOOST_AUTO_TEST_CASE(trailer_fields_never_act_as_headers) {
    HostileServer hostile;
    const std::string body = create_body(demo::kSupportBot);
    // A Content-Type only in the trailer: the request has none, so 415.
    const std::string no_type =
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: " + hostile.key +
        "\r\nTransfer-Encoding: chunked\r\n\r\n" +
        chunked(body, "Content-Type: application/json\r\n");
    HttpClient client(hostile.server.port());
    client.send_raw(no_type);
    check_error(client.read_response(), 415, "UNSUPPORTED_MEDIA_TYPE");
    // A Connection: close trailer is not obeyed: the connection stays open.
    client.send_raw(create_head(hostile.key, "Transfer-Encoding: chunked\r\n\r\n") +
                    chunked(body, "Connection: close\r\n"));
    const auto created = client.read_response();
    BOOST_TEST(created.status() == 200u);
    BOOST_TEST(created.message.keep_alive());
    BOOST_TEST(client.request(verb::get, "/healthz").status() == 200u);
}

// Finding 7: the head limit was counted per read.
BOOST_AUTO_TEST_CASE(the_head_limit_counts_the_whole_head) {
    HostileServer hostile;
    std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 200; ++i) {
        head += "X-Field-" + std::to_string(1000 + i) + ": " + std::string(72, 'v') + "\r\n";
    }
    BOOST_TEST_REQUIRE(head.size() > 16 * kKiB);
    RawConnection connection(hostile.server.port());
    // In pieces, as a slow client or a small window delivers it.
    for (std::size_t i = 0; i < head.size(); i += 3000) {
        connection.write(head.substr(i, 3000));
        std::this_thread::sleep_for(20ms);
    }
    connection.write("\r\n");
    const auto response = parse_response(connection.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(response.has_value());
    check_error(*response, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "16384");
}

// Finding 8: an HTTP/1.0 request with Expect got an HTTP/1.1 interim answer.
BOOST_AUTO_TEST_CASE(http_1_0_expect_gets_no_interim_answer) {
    HostileServer hostile;
    const std::string body = create_body(demo::kSupportBot);
    RawConnection connection(hostile.server.port());
    connection.write(
        "POST /api/v1/threads/web HTTP/1.0\r\nX-API-Key: " + hostile.key +
        "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    std::this_thread::sleep_for(300ms);
    connection.write(body);
    const auto received = connection.read_until_closed();
    BOOST_TEST(received.bytes.find("100 Continue") == std::string::npos, received.bytes);
    const auto response = parse_response(received.bytes);
    BOOST_TEST_REQUIRE(response.has_value());
    BOOST_TEST(response->status() == 200u);
}

// Finding 9: a request without Host, or with two, was served.
BOOST_AUTO_TEST_CASE(host_must_be_there_once_in_http_1_1) {
    HostileServer hostile;
    const auto none = parse_response(hostile.exchange("GET /healthz HTTP/1.1\r\n\r\n").bytes);
    BOOST_TEST_REQUIRE(none.has_value());
    check_error(*none, 400, "BAD_REQUEST", "Host");
    const auto two = parse_response(
        hostile.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").bytes);
    BOOST_TEST_REQUIRE(two.has_value());
    check_error(*two, 400, "BAD_REQUEST", "Host");
    // HTTP/1.0 needs none.
    const auto old = parse_response(hostile.exchange("GET /healthz HTTP/1.0\r\n\r\n").bytes);
    BOOST_TEST_REQUIRE(old.has_value());
    BOOST_TEST(old->status() == 200u);
}

// Finding 10: repeated credentials or media types were served as the first one.
BOOST_AUTO_TEST_CASE(repeated_credentials_and_media_types_are_refused) {
    HostileServer hostile;
    const std::string other_key = create_demo_key(hostile.db);
    const std::string body = create_body(demo::kSupportBot);
    const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
    const std::string start = "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n";
    const struct {
        std::string headers;
        std::string named;
    } cases[] = {
        {"X-API-Key: " + hostile.key + "\r\nX-API-Key: " + other_key +
             "\r\nContent-Type: application/json\r\n",
         "X-API-Key"},
        {"X-API-Key: " + hostile.key + "\r\nx-api-key: " + hostile.key +
             "\r\nContent-Type: application/json\r\n",
         "X-API-Key"},
        {"Authorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\nContent-Type: "
         "application/json\r\n",
         "Authorization"},
        {"X-API-Key: " + hostile.key +
             "\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n",
         "Content-Type"},
    };
    for (const auto& c : cases) {
        const auto response =
            parse_response(hostile.exchange(start + c.headers + length + "\r\n" + body).bytes);
        BOOST_TEST_REQUIRE(response.has_value(), c.named);
        check_error(*response, 400, "BAD_REQUEST", c.named);
    }
    BOOST_TEST(hostile.thread_count() == 0u);
}

// Finding 11: bytes above 0x7F in a path went raw into the access log.
BOOST_AUTO_TEST_CASE(the_access_log_stays_valid_json_and_utf8) {
    HostileServer hostile;
    const auto response =
        parse_response(hostile
                           .exchange("GET /caf\xC3\xA9/\xFF\x80\xC0\xAF HTTP/1.1\r\nHost: "
                                     "x\r\nConnection: close\r\n\r\n")
                           .bytes);
    BOOST_TEST_REQUIRE(response.has_value());
    check_error(*response, 404, "NOT_FOUND");
    // access_log_entries parses every line as JSON, which refuses invalid UTF-8.
    std::vector<json::object> entries;
    for (int i = 0; i < 100 && entries.empty(); ++i) {
        std::this_thread::sleep_for(20ms);
        entries = access_log_entries(hostile.server.stdout_text());
    }
    BOOST_TEST_REQUIRE(!entries.empty());
    const std::string path(entries.back().at("path").as_string());
    BOOST_TEST(path == "/caf\xC3\xA9/\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

// Finding 12: PATCH could grow a thread until one read was megabytes.
BOOST_AUTO_TEST_CASE(a_threads_maps_are_bounded_by_the_body_limit) {
    HostileServer hostile;
    HttpClient client(hostile.server.port());
    const auto created = client.post_json(kCreatePath, create_body(demo::kSupportBot), hostile.key);
    BOOST_TEST_REQUIRE(created.status() == 200u);
    const std::string path =
        "/api/v1/threads/" + std::string(created.json().at("thread").at("id").as_string());
    // 8,192 NUL characters: the largest value, six bytes each as JSON.
    std::string nuls;
    for (int i = 0; i < 8192; ++i) {
        nuls += "\\u0000";
    }
    const Headers headers{{"X-API-Key", hostile.key}, {"Content-Type", "application/json"}};
    const auto first =
        client.request(verb::patch, path, R"({"metadata":{"a":")" + nuls + R"("}})", headers);
    BOOST_TEST_REQUIRE(first.status() == 200u);
    const auto second =
        client.request(verb::patch, path, R"({"variables":{"b":")" + nuls + R"("}})", headers);
    check_error(second, 400, "BAD_REQUEST", "65536 bytes");
    // Nothing of the refused PATCH stayed, and a read is as small as the maps allow.
    const auto read = client.request(verb::get, path, std::nullopt, {{"X-API-Key", hostile.key}});
    BOOST_TEST(read.status() == 200u);
    BOOST_TEST(read.json().at("thread").at("variables").is_null());
    BOOST_TEST(read.message.body().size() < 64 * kKiB + 2 * kKiB);
}

// Finding 13: a 401 had no WWW-Authenticate.
BOOST_AUTO_TEST_CASE(a_401_carries_www_authenticate) {
    HostileServer hostile;
    HttpClient client(hostile.server.port());
    const auto refused = client.request(verb::get, "/api/v1/threads");
    check_error(refused, 401, "UNAUTHORIZED");
    BOOST_TEST(refused.header("WWW-Authenticate") == R"(ApiKey realm="threadsd")");
    const auto wrong =
        client.request(verb::get, "/api/v1/threads", std::nullopt, {{"X-API-Key", "thd_nothing"}});
    check_error(wrong, 401, "UNAUTHORIZED");
    BOOST_TEST(wrong.header("WWW-Authenticate") == R"(ApiKey realm="threadsd")");
}

// Finding 14: the absolute form, a leading empty line, and a valid number Boost.JSON refuses.
BOOST_AUTO_TEST_CASE(absolute_targets_leading_empty_lines_and_long_exponents_are_accepted) {
    HostileServer hostile;
    HttpClient client(hostile.server.port());
    client.send_raw("GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    BOOST_TEST(client.read_response().status() == 200u);
    client.send_raw("GET HTTPS://example.test?limit=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
    check_error(client.read_response(), 404, "NOT_FOUND");
    client.send_raw(
        "GET http://127.0.0.1/api/v1/threads?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " +
        hostile.key + "\r\n\r\n");
    BOOST_TEST(client.read_response().status() == 200u);
    client.send_raw("\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(client.read_response().status() == 200u);
    // An ignored member holding a number with a 1,001-digit exponent: valid JSON.
    const auto created = client.post_json(
        kCreatePath,
        create_body(demo::kSupportBot, R"("big": 1e)" + std::string(1000, '9') +
                                           R"(, "small": -2.5E-)" + std::string(20, '7')),
        hostile.key);
    BOOST_TEST(created.status() == 200u, created.message.body());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
