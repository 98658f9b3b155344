// HTTP/1.1 as docs/api.md (Protocol) promises it, against the real binary: keep-alive,
// pipelining, HTTP/1.0, chunked bodies, 100-continue, framing that must be refused,
// trimmed header values, and a server that keeps serving after all of it.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "support/demo_server.hpp"
#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

/// The suite fixture: one server for every test.
using ProtocolServer = SuiteState<DemoServerState>;

DemoServerState& protocol_fixture() {
    return ProtocolServer::get();
}

/// The raw bytes of a create request for the demo Support bot with the shared key.
std::string raw_create(const std::string& extra_headers = "", const std::string& version = "1.1",
                       const std::string& target = kCreatePath) {
    const std::string body = create_body(demo::kSupportBot);
    return "POST " + target + " HTTP/" + version +
           "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: " +
           protocol_fixture().key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           extra_headers + "\r\n" + body;
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

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol_http, *boost::unit_test::fixture<ProtocolServer>())

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
    HttpClient client(protocol_fixture().server.port());
    std::set<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        const auto response =
            client.post_json(kCreatePath, create_body(demo::kSupportBot), protocol_fixture().key);
        ids.insert(thread_id(response));
        BOOST_TEST(response.message.keep_alive(), "response " << i << " asks to close");
    }
    BOOST_TEST(ids.size() == 4u);
    // Errors that leave the framing intact keep the connection too.
    const auto refused =
        client.post_json(kCreatePath, create_body(demo::kDraftAgent), protocol_fixture().key);
    check_error(refused, 409, "CONFLICT");
    const auto after =
        client.post_json(kCreatePath, create_body(demo::kSupportBot), protocol_fixture().key);
    ids.insert(thread_id(after));
    BOOST_TEST(ids.size() == 5u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
    HttpClient client(protocol_fixture().server.port());
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
    thread_id(
        client.post_json(kCreatePath, create_body(demo::kSupportBot), protocol_fixture().key));
}

BOOST_AUTO_TEST_CASE(pipelined_error_does_not_desynchronise_the_connection) {
    HttpClient client(protocol_fixture().server.port());
    const std::string bad_json = "{\"agentId\":";
    client.send_raw(raw_create("X-Request-Id: a\r\n") +
                    "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-Request-Id: b\r\n"
                    "Content-Type: application/json\r\nX-API-Key: " +
                    protocol_fixture().key +
                    "\r\nContent-Length: " + std::to_string(bad_json.size()) + "\r\n\r\n" +
                    bad_json + raw_create("X-Request-Id: c\r\n"));
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
    HttpClient client(protocol_fixture().server.port());
    client.send_raw(raw_create("", "1.0"));
    const auto response = client.read_response();
    thread_id(response);
    BOOST_TEST(!response.message.keep_alive());
    BOOST_TEST(client.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured) {
    HttpClient client(protocol_fixture().server.port());
    client.send_raw(raw_create("Connection: close\r\n"));
    thread_id(client.read_response());
    BOOST_TEST(client.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(chunked_request_body_works) {
    HttpClient client(protocol_fixture().server.port());
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
        protocol_fixture().key + "\r\nTransfer-Encoding: chunked\r\n\r\n" + hex(a.size()) + "\r\n" +
        a + "\r\n" + hex(b.size()) + ";ext=1\r\n" + b + "\r\n");
    // The rest arrives in a second write, as a streaming client would send it.
    client.send_raw(hex(c.size()) + "\r\n" + c + "\r\n0\r\n\r\n");
    const auto response = client.read_response();
    thread_id(response);
    const auto value = response.json();
    const auto& thread = value.as_object().at("thread").as_object();
    BOOST_TEST(json::serialize(thread.at("metadata")) == R"({"via":"chunks","n":"3"})");
    // And the connection stays usable.
    thread_id(
        client.post_json(kCreatePath, create_body(demo::kVoiceAgent), protocol_fixture().key));
}

BOOST_AUTO_TEST_CASE(expect_100_continue_gets_the_interim_response_first) {
    HttpClient client(protocol_fixture().server.port());
    const std::string body = create_body(demo::kSupportBot, R"("variables":{"x":"y"})");
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nX-API-Key: " +
        protocol_fixture().key +
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
            HttpClient client(protocol_fixture().server.port());
            client.send_raw(
                "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\nX-API-Key: " +
                protocol_fixture().key + "\r\n" + framing + "\r\n" + chunked);
            check_error(client.read_response(), 400, "BAD_REQUEST");
            BOOST_TEST(client.closed_by_peer());
        }
    }
    // A transfer coding other than chunked is refused the same way.
    HttpClient client(protocol_fixture().server.port());
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nX-API-Key: " +
        protocol_fixture().key + "\r\nTransfer-Encoding: gzip\r\n\r\n" + body);
    check_error(client.read_response(), 400, "BAD_REQUEST");
    BOOST_TEST(client.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(garbage_bytes_get_a_400_envelope) {
    for (const std::string& garbage :
         {std::string("HELLO\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
          std::string("POST /api/v1/threads/web HTTP/1.1\r\nBad Header\r\n\r\n"),
          std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)}) {
        BOOST_TEST_CONTEXT("sent " << garbage) {
            RawConnection raw(protocol_fixture().server.port());
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
    HttpClient client(protocol_fixture().server.port());
    client.send_raw(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: \t application/json ; charset=utf-8 \t\r\n"
        "X-API-Key:  \t" +
        protocol_fixture().key + " \t \r\nX-Request-Id: \t spaced-id \t\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto response = client.read_response();
    thread_id(response);
    BOOST_TEST(response.header("X-Request-Id") == "spaced-id");
}

BOOST_AUTO_TEST_CASE(request_ids_outside_the_rules_are_replaced) {
    HttpClient client(protocol_fixture().server.port());
    const std::string body = create_body(demo::kSupportBot);
    for (const std::string& id : {std::string(129, 'a'), std::string("has space")}) {
        const auto response = client.request(http::verb::post, kCreatePath, body,
                                             {{"Content-Type", "application/json"},
                                              {"X-API-Key", protocol_fixture().key},
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
                                          {"X-API-Key", protocol_fixture().key},
                                          {"X-Request-Id", longest}});
    BOOST_TEST(response.header("X-Request-Id") == longest);
}

BOOST_AUTO_TEST_CASE(query_string_on_the_create_path_is_ignored) {
    HttpClient client(protocol_fixture().server.port());
    for (const std::string target :
         {"/api/v1/threads/web?x=1", "/api/v1/threads/web?", "/api/v1/threads/web?a=b&c=/d/"}) {
        BOOST_TEST_CONTEXT("target " << target) {
            client.send_raw(raw_create("", "1.1", target));
            thread_id(client.read_response());
        }
    }
}

BOOST_AUTO_TEST_CASE(one_mebibyte_header_gets_a_431_envelope) {
    RawConnection raw(protocol_fixture().server.port());
    // The server stops reading at 16 KiB; whether the rest can be written does not matter.
    raw.write("POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
              protocol_fixture().key + "\r\nX-Big: " + std::string(kKiB * kKiB, 'b') + "\r\n\r\n");
    const auto received = raw.read_until_closed();
    BOOST_TEST(received.closed);
    const auto responses = parse_responses(received.bytes);
    BOOST_REQUIRE_MESSAGE(responses.size() == 1u, "got " << received.bytes.size() << " bytes");
    check_error(responses.front(), 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(oversized_body_gets_a_413_envelope) {
    RawConnection raw(protocol_fixture().server.port());
    const std::string body =
        create_body(demo::kSupportBot, "\"pad\":\"" + std::string(200 * kKiB, 'x') + "\"");
    raw.write(
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "X-API-Key: " +
        protocol_fixture().key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
        body);
    const auto received = raw.read_until_closed();
    BOOST_TEST(received.closed);
    const auto responses = parse_responses(received.bytes);
    BOOST_REQUIRE_MESSAGE(responses.size() == 1u, "got " << received.bytes.size() << " bytes");
    check_error(responses.front(), 413, "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(server_still_serves_new_connections_afterwards) {
    // Declared last: runs after every abuse above, on the same server.
    HttpClient client(protocol_fixture().server.port());
    thread_id(
        client.post_json(kCreatePath, create_body(demo::kSupportBot), protocol_fixture().key));
    HttpClient second(protocol_fixture().server.port());
    thread_id(second.post_json(kCreatePath, create_body(demo::kBooker), protocol_fixture().key));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
