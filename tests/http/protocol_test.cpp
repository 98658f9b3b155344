// HTTP/1.1 as CONTRACT.md section 5 promises it, against the real binary: keep-alive,
// pipelining, HTTP/1.0, chunked bodies, 100-continue, framing that must be refused,
// trimmed header values, and a server that keeps serving after all of it.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kCreatePath = "/api/v1/threads/web";
constexpr std::size_t kKiB = 1024;

/// One server with a demo key for the whole suite.
struct ProtocolState {
    TempDir dir;
    std::string db = dir.file("protocol.db");
    std::string key = create_demo_key(db);
    ServerProcess server{db};
};

/// The suite fixture. A failed start is already reported by the check that failed; it
/// is not rethrown, because Boost 1.81 then aborts the whole run in the fixture's
/// teardown. Each test of the suite fails in shared() instead.
struct ProtocolServer {
    ProtocolServer() {
        try {
            state = std::make_unique<ProtocolState>();
        } catch (...) {
        }
        instance = state.get();
    }
    ~ProtocolServer() { instance = nullptr; }

    std::unique_ptr<ProtocolState> state;
    static ProtocolState* instance;
};
ProtocolState* ProtocolServer::instance = nullptr;

ProtocolState& shared() {
    BOOST_REQUIRE_MESSAGE(ProtocolServer::instance != nullptr, "the suite's server did not start");
    return *ProtocolServer::instance;
}

/// The raw bytes of a create request for the demo Support bot with the shared key.
std::string raw_create(const std::string& extra_headers = "", const std::string& version = "1.1",
                       const std::string& target = kCreatePath) {
    const std::string body = create_body(demo::kSupportBot);
    return "POST " + target + " HTTP/" + version +
           "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: " + shared().key +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" +
           body;
}

/// The thread id of a 200 create response (fails the test otherwise).
std::string thread_id(const HttpResult& response) {
    BOOST_REQUIRE_MESSAGE(response.status() == 200, "expected 200, got "
                                                        << response.status() << " "
                                                        << response.message.body());
    BOOST_TEST(response.header("Content-Type") == "application/json");
    const auto value = response.json();
    BOOST_REQUIRE(value.is_object() && value.as_object().contains("thread"));
    const auto& thread = value.as_object().at("thread");
    BOOST_REQUIRE(thread.is_object() && thread.as_object().contains("id"));
    return std::string(thread.as_object().at("id").as_string());
}

/// The contract's error envelope, exactly.
void check_error(const HttpResult& response, unsigned status, const std::string& code) {
    BOOST_TEST_CONTEXT("response " << response.status() << " " << response.message.body()) {
        BOOST_TEST(response.status() == status);
        BOOST_TEST(response.header("Content-Type") == "application/json");
        const auto value = response.json();
        BOOST_REQUIRE(value.is_object());
        const auto& body = value.as_object();
        BOOST_TEST(body.size() == 4u);
        BOOST_TEST((body.contains("status") && body.at("status").is_int64() &&
                    body.at("status").as_int64() == static_cast<std::int64_t>(status)));
        BOOST_TEST((body.contains("code") && body.at("code").is_string() &&
                    body.at("code").as_string() == code));
        BOOST_TEST((body.contains("success") && body.at("success").is_bool() &&
                    !body.at("success").as_bool()));
        BOOST_TEST((body.contains("message") && body.at("message").is_string() &&
                    !body.at("message").as_string().empty()));
    }
}

/// A plain POSIX connection that tolerates a server that stops reading, and reads until
/// the server closes.
class RawConnection {
  public:
    explicit RawConnection(unsigned short port, int timeout_seconds = 10) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        BOOST_REQUIRE(fd_ >= 0);
        timeval tv{};
        tv.tv_sec = timeout_seconds;
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~RawConnection() { ::close(fd_); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    /// Writes until done or the peer refuses more; true when everything was written.
    bool write(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    /// Everything until the peer closes or resets; `closed` is false on our timeout.
    struct Received {
        std::string bytes;    ///< Everything read.
        bool closed = false;  ///< Ended by the peer.
    };
    Received read_until_closed() {
        Received received;
        char chunk[4096];
        for (;;) {
            const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n > 0) {
                received.bytes.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            received.closed = n == 0 || errno == ECONNRESET;
            return received;
        }
    }

  private:
    int fd_ = -1;  ///< The socket.
};

/// Parses the responses in `bytes`, in order; stops at the first incomplete one.
std::vector<HttpResult> parse_responses(const std::string& bytes, std::size_t* left = nullptr) {
    std::vector<HttpResult> results;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.body_limit(16 * 1024 * 1024);
        std::size_t used = offset;
        bool ok = true;
        while (!parser.is_done()) {
            boost::beast::error_code ec;
            const auto n =
                parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
            used += n;
            if (ec == http::error::need_more && n > 0) {
                continue;
            }
            if (ec || n == 0) {
                ok = false;
                break;
            }
        }
        if (!ok) {
            break;
        }
        offset = used;
        HttpResult result;
        result.message = parser.release();
        results.push_back(std::move(result));
    }
    if (left != nullptr) {
        *left = bytes.size() - offset;
    }
    return results;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol_http, *boost::unit_test::fixture<ProtocolServer>())

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
    HttpClient client(shared().server.port());
    std::set<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        const auto response =
            client.post_json(kCreatePath, create_body(demo::kSupportBot), shared().key);
        ids.insert(thread_id(response));
        BOOST_TEST(response.message.keep_alive(), "response " << i << " asks to close");
    }
    BOOST_TEST(ids.size() == 4u);
    // Errors that leave the framing intact keep the connection too.
    const auto refused =
        client.post_json(kCreatePath, create_body(demo::kDraftAgent), shared().key);
    check_error(refused, 409, "CONFLICT");
    const auto after = client.post_json(kCreatePath, create_body(demo::kSupportBot), shared().key);
    ids.insert(thread_id(after));
    BOOST_TEST(ids.size() == 5u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
    HttpClient client(shared().server.port());
    client.send_raw(raw_create("X-Request-Id: first\r\n") + raw_create("X-Request-Id: second\r\n") +
                    raw_create("X-Request-Id: third\r\n"));
    std::vector<std::string> ids;
    for (const std::string expected : {"first", "second", "third"}) {
        const auto response = client.read_response();
        BOOST_TEST(response.header("X-Request-Id") == expected);
        ids.push_back(thread_id(response));
    }
    // Created in the order sent: UUIDv7 ids increase.
    BOOST_TEST(ids[0] < ids[1]);
    BOOST_TEST(ids[1] < ids[2]);
    // The connection is still usable.
    thread_id(client.post_json(kCreatePath, create_body(demo::kSupportBot), shared().key));
}

BOOST_AUTO_TEST_CASE(pipelined_error_does_not_desynchronise_the_connection) {
    HttpClient client(shared().server.port());
    const std::string bad_json = "{\"agentId\":";
    client.send_raw(raw_create("X-Request-Id: a\r\n") +
                    "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-Request-Id: b\r\n"
                    "Content-Type: application/json\r\nX-API-Key: " +
                    shared().key + "\r\nContent-Length: " + std::to_string(bad_json.size()) +
                    "\r\n\r\n" + bad_json + raw_create("X-Request-Id: c\r\n"));
    const auto first = client.read_response();
    BOOST_TEST(first.header("X-Request-Id") == "a");
    thread_id(first);
    const auto second = client.read_response();
    BOOST_TEST(second.header("X-Request-Id") == "b");
    check_error(second, 400, "BAD_REQUEST");
    const auto third = client.read_response();
    BOOST_TEST(third.header("X-Request-Id") == "c");
    thread_id(third);
}

BOOST_AUTO_TEST_CASE(http_1_0_gets_an_answer_and_a_closed_connection) {
    HttpClient client(shared().server.port());
    client.send_raw(raw_create("", "1.0"));
    const auto response = client.read_response();
    thread_id(response);
    BOOST_TEST(!response.message.keep_alive());
    BOOST_TEST(client.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured) {
    HttpClient client(shared().server.port());
    client.send_raw(raw_create("Connection: close\r\n"));
    thread_id(client.read_response());
    BOOST_TEST(client.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(chunked_request_body_works) {
    HttpClient client(shared().server.port());
    const std::string body =
        create_body(demo::kSupportBot, R"("metadata":{"via":"chunks","n":"3"})");
    const std::string a = body.substr(0, 10);
    const std::string b = body.substr(10, 25);
    const std::string c = body.substr(35);
    auto hex = [](std::size_t n) {
        char text[20];
        std::snprintf(text, sizeof text, "%zx", n);
        return std::string(text);
    };
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nX-API-Key: " +
        shared().key + "\r\nTransfer-Encoding: chunked\r\n\r\n" + hex(a.size()) + "\r\n" + a +
        "\r\n" + hex(b.size()) + ";ext=1\r\n" + b + "\r\n");
    // The rest arrives in a second write, as a streaming client would send it.
    client.send_raw(hex(c.size()) + "\r\n" + c + "\r\n0\r\n\r\n");
    const auto response = client.read_response();
    thread_id(response);
    const auto value = response.json();
    const auto& thread = value.as_object().at("thread").as_object();
    BOOST_TEST(json::serialize(thread.at("metadata")) == R"({"via":"chunks","n":"3"})");
    // And the connection stays usable.
    thread_id(client.post_json(kCreatePath, create_body(demo::kVoiceAgent), shared().key));
}

BOOST_AUTO_TEST_CASE(expect_100_continue_gets_the_interim_response_first) {
    HttpClient client(shared().server.port());
    const std::string body = create_body(demo::kSupportBot, R"("variables":{"x":"y"})");
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nX-API-Key: " +
        shared().key +
        "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    const auto interim = client.read_response();
    BOOST_TEST(interim.status() == 100u);
    BOOST_TEST(interim.message.version() == 11u);
    BOOST_TEST(interim.message.body().empty());
    client.send_raw(body);
    const auto response = client.read_response();
    thread_id(response);
    const auto value = response.json();
    const auto& thread = value.as_object().at("thread").as_object();
    BOOST_TEST(json::serialize(thread.at("variables")) == R"({"x":"y"})");
}

BOOST_AUTO_TEST_CASE(transfer_encoding_with_content_length_is_refused_and_closed) {
    const std::string body = create_body(demo::kSupportBot);
    const std::string chunked = "0\r\n\r\n";
    const std::vector<std::string> heads = {
        "Transfer-Encoding: chunked\r\nContent-Length: " + std::to_string(chunked.size()) + "\r\n",
        "Content-Length: " + std::to_string(chunked.size()) + "\r\nTransfer-Encoding: chunked\r\n",
    };
    for (const auto& framing : heads) {
        BOOST_TEST_CONTEXT("framing " << framing) {
            HttpClient client(shared().server.port());
            client.send_raw(
                "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\nX-API-Key: " +
                shared().key + "\r\n" + framing + "\r\n" + chunked);
            check_error(client.read_response(), 400, "BAD_REQUEST");
            BOOST_TEST(client.closed_by_peer());
        }
    }
    // A transfer coding other than chunked is refused the same way.
    HttpClient client(shared().server.port());
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nX-API-Key: " +
        shared().key + "\r\nTransfer-Encoding: gzip\r\n\r\n" + body);
    check_error(client.read_response(), 400, "BAD_REQUEST");
    BOOST_TEST(client.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(garbage_bytes_get_a_400_envelope) {
    for (const std::string& garbage :
         {std::string("HELLO\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
          std::string("POST /api/v1/threads/web HTTP/1.1\r\nBad Header\r\n\r\n"),
          std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)}) {
        BOOST_TEST_CONTEXT("sent " << garbage) {
            RawConnection raw(shared().server.port());
            BOOST_REQUIRE(raw.write(garbage));
            const auto received = raw.read_until_closed();
            BOOST_TEST(received.closed);
            const auto responses = parse_responses(received.bytes);
            BOOST_REQUIRE_MESSAGE(responses.size() == 1u, "got: " << received.bytes);
            check_error(responses.front(), 400, "BAD_REQUEST");
        }
    }
}

BOOST_AUTO_TEST_CASE(header_values_are_trimmed_of_spaces_and_tabs) {
    const std::string body = create_body(demo::kSupportBot);
    HttpClient client(shared().server.port());
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: \t application/json ; charset=utf-8 \t\r\n"
        "X-API-Key:  \t" +
        shared().key + " \t \r\nX-Request-Id: \t spaced-id \t\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto response = client.read_response();
    thread_id(response);
    BOOST_TEST(response.header("X-Request-Id") == "spaced-id");
}

BOOST_AUTO_TEST_CASE(request_ids_outside_the_rules_are_replaced) {
    HttpClient client(shared().server.port());
    const std::string body = create_body(demo::kSupportBot);
    for (const std::string& id : {std::string(129, 'a'), std::string("has space")}) {
        const auto response = client.request(http::verb::post, kCreatePath, body,
                                             {{"Content-Type", "application/json"},
                                              {"X-API-Key", shared().key},
                                              {"X-Request-Id", id}});
        thread_id(response);
        const std::string echoed = response.header("X-Request-Id");
        BOOST_TEST(echoed != id);
        BOOST_TEST(echoed.size() == 32u);
        BOOST_TEST(echoed.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
    const std::string longest(128, '~');
    const auto response = client.request(http::verb::post, kCreatePath, body,
                                         {{"Content-Type", "application/json"},
                                          {"X-API-Key", shared().key},
                                          {"X-Request-Id", longest}});
    BOOST_TEST(response.header("X-Request-Id") == longest);
}

BOOST_AUTO_TEST_CASE(query_string_on_the_create_path_is_ignored) {
    HttpClient client(shared().server.port());
    for (const std::string target :
         {"/api/v1/threads/web?x=1", "/api/v1/threads/web?", "/api/v1/threads/web?a=b&c=/d/"}) {
        BOOST_TEST_CONTEXT("target " << target) {
            client.send_raw(raw_create("", "1.1", target));
            thread_id(client.read_response());
        }
    }
}

BOOST_AUTO_TEST_CASE(one_mebibyte_header_gets_a_431_envelope) {
    RawConnection raw(shared().server.port());
    // The server stops reading at 16 KiB; whether the rest can be written does not matter.
    raw.write("POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: " + shared().key +
              "\r\nX-Big: " + std::string(kKiB * kKiB, 'b') + "\r\n\r\n");
    const auto received = raw.read_until_closed();
    BOOST_TEST(received.closed);
    const auto responses = parse_responses(received.bytes);
    BOOST_REQUIRE_MESSAGE(responses.size() == 1u, "got " << received.bytes.size() << " bytes");
    check_error(responses.front(), 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(oversized_body_gets_a_413_envelope) {
    RawConnection raw(shared().server.port());
    const std::string body =
        create_body(demo::kSupportBot, "\"pad\":\"" + std::string(200 * kKiB, 'x') + "\"");
    raw.write(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "X-API-Key: " +
        shared().key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto received = raw.read_until_closed();
    BOOST_TEST(received.closed);
    const auto responses = parse_responses(received.bytes);
    BOOST_REQUIRE_MESSAGE(responses.size() == 1u, "got " << received.bytes.size() << " bytes");
    check_error(responses.front(), 413, "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(server_still_serves_new_connections_afterwards) {
    // Declared last: runs after every abuse above, on the same server.
    HttpClient client(shared().server.port());
    thread_id(client.post_json(kCreatePath, create_body(demo::kSupportBot), shared().key));
    HttpClient second(shared().server.port());
    thread_id(second.post_json(kCreatePath, create_body(demo::kBooker), shared().key));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
