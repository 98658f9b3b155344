// The error table of docs/api.md row by row against the real binary: every error status the
// create endpoint can give, each in the exact envelope, and the order of the checks.
// Not covered: 429 and 503 (not implemented yet) and 500 (no way to provoke it from
// outside without breaking the store under the server).

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kDeletedAgent = "6a0c0000-0000-4000-8000-00000000de1e";
constexpr const char* kOtherOrganization = "6a0c0000-0000-4000-8000-0000000000b2";
constexpr const char* kOtherOrgAgent = "6a0c0000-0000-4000-8000-00000000a9e2";

/// A store with a demo key, a revoked key, a deleted agent and another organization's
/// agent, served by one server for the whole suite.
struct ErrorState {
    ErrorState() {
        auto deleted = import_agent(
            kDeletedAgent, demo::kOrganization, "Retired bot",
            json::array{import_version("6a0c0000-0000-4000-8000-0000000000d1", 1, true)});
        deleted["deleted"] = true;
        const json::array agents{
            deleted, import_agent(kOtherOrgAgent, kOtherOrganization, "Other bot",
                                  json::array{import_version("6a0c0000-0000-4000-8000-0000000000d2",
                                                             1, true)})};
        import_agents(db, dir.file("agents.json"), json::serialize(agents));
        run_ok({"keys", "revoke", key_id_of(db, revoked_key), "--db", db});
        server.emplace(db);
    }

    TempDir dir;
    std::string db = new_store(dir, "errors.db");
    std::string key = create_demo_key(db);
    std::string revoked_key = create_demo_key(db);
    std::optional<ServerProcess> server;

    unsigned short port() const { return server->port(); }
};

/// The suite fixture: one server for every test.
using ErrorServer = SuiteState<ErrorState>;

ErrorState& error_fixture() {
    return ErrorServer::get();
}

HttpResult post(const std::string& body, const Headers& headers,
                const std::string& target = kCreatePath) {
    HttpClient client(error_fixture().port());
    return client.request(http::verb::post, target, body, headers);
}

/// POST with the demo key and a JSON content type.
HttpResult post_authorised(const std::string& body) {
    HttpClient client(error_fixture().port());
    return client.post_json(kCreatePath, body, error_fixture().key);
}

/// A map of `count` entries `"k0":"v"...`.
std::string map_with_keys(std::size_t count) {
    std::string text = "{";
    for (std::size_t i = 0; i < count; ++i) {
        text += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":\"v\"";
    }
    return text + "}";
}

/// How long a raw connection waits for the server, in seconds.
constexpr int kRawTimeoutSeconds = 8;

}  // namespace

BOOST_AUTO_TEST_SUITE(error_table_http, *boost::unit_test::fixture<ErrorServer>())

// ---- 400 BAD_REQUEST ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_request_when_the_body_is_not_json) {
    for (const std::string body : {R"({"agentId":)", "agentId=1", "{'agentId': 1}",
                                   R"({"agentId":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01"} x)"}) {
        BOOST_TEST_CONTEXT("body " << body) {
            check_error(post_authorised(body), 400, "BAD_REQUEST");
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_request_when_the_body_is_not_an_object) {
    for (const std::string body :
         {"[1,2]", R"("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01")", "null", "42", "true"}) {
        BOOST_TEST_CONTEXT("body " << body) {
            check_error(post_authorised(body), 400, "BAD_REQUEST");
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_request_when_a_field_has_the_wrong_type) {
    const std::string agent = demo::kSupportBot;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"agentId":123})", "agentId"},
        {R"({"agentId":["3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01"]})", "agentId"},
        {R"({"metadata":{}})", "agentId"},  // required
        {R"({"agentId":null})", "agentId"},
        {create_body(agent, R"("metadata":"text")"), "metadata"},
        {create_body(agent, R"("metadata":[])"), "metadata"},
        {create_body(agent, R"("metadata":{"a":1})"), "metadata"},
        {create_body(agent, R"("metadata":{"a":null})"), "metadata"},
        {create_body(agent, R"("metadata":{"a":{"b":"c"}})"), "metadata"},
        {create_body(agent, R"("variables":true)"), "variables"},
        {create_body(agent, R"("variables":{"a":["x"]})"), "variables"},
    };
    for (const auto& [body, field] : cases) {
        BOOST_TEST_CONTEXT("body " << body) {
            check_error(post_authorised(body), 400, "BAD_REQUEST", field);
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_request_when_agent_id_is_not_a_uuid) {
    for (const std::string id :
         {"not-a-uuid", "", "{3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01}",
          "urn:uuid:3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01", "3f2a9c1e7b4d4e8a9c2f1a2b3c4d5e01",
          "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e0g", " 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01",
          "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e011"}) {
        BOOST_TEST_CONTEXT("agentId '" << id << "'") {
            check_error(post_authorised(create_body(id)), 400, "BAD_REQUEST", "agentId");
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_request_when_a_map_has_too_many_keys) {
    // 64 is the limit: exactly 64 works, 65 is refused, for both maps.
    const auto ok =
        post_authorised(create_body(demo::kSupportBot, "\"metadata\":" + map_with_keys(64)));
    BOOST_TEST(ok.status() == 200u, ok.message.body());
    check_error(
        post_authorised(create_body(demo::kSupportBot, "\"metadata\":" + map_with_keys(65))), 400,
        "BAD_REQUEST", "metadata");
    check_error(
        post_authorised(create_body(demo::kSupportBot, "\"variables\":" + map_with_keys(65))), 400,
        "BAD_REQUEST", "variables");
}

BOOST_AUTO_TEST_CASE(bad_request_when_a_key_is_too_long_in_bytes) {
    const std::string at_limit(128, 'k');
    const auto ok = post_authorised(
        create_body(demo::kSupportBot, "\"metadata\":{\"" + at_limit + "\":\"v\"}"));
    BOOST_TEST(ok.status() == 200u, ok.message.body());
    check_error(post_authorised(
                    create_body(demo::kSupportBot, "\"metadata\":{\"" + at_limit + "k\":\"v\"}")),
                400, "BAD_REQUEST", "metadata");
    // Bytes, not characters: 65 two-byte characters are 130 bytes.
    std::string accented;
    for (int i = 0; i < 65; ++i) {
        accented += "\xC3\xA9";
    }
    check_error(post_authorised(
                    create_body(demo::kSupportBot, "\"variables\":{\"" + accented + "\":\"v\"}")),
                400, "BAD_REQUEST", "variables");
    // Decoded bytes, not JSON text: 64 escaped two-byte characters are 128 bytes.
    std::string escaped;
    for (int i = 0; i < 64; ++i) {
        escaped += "\\u00e9";
    }
    const auto escaped_ok = post_authorised(
        create_body(demo::kSupportBot, "\"variables\":{\"" + escaped + "\":\"v\"}"));
    BOOST_TEST(escaped_ok.status() == 200u, escaped_ok.message.body());
    // A key is at least one byte.
    check_error(post_authorised(create_body(demo::kSupportBot, R"("metadata":{"":"v"})")), 400,
                "BAD_REQUEST", "metadata");
}

BOOST_AUTO_TEST_CASE(bad_request_when_a_value_is_too_long_in_bytes) {
    const std::string at_limit(8 * kKiB, 'v');
    const auto ok = post_authorised(
        create_body(demo::kSupportBot, "\"metadata\":{\"k\":\"" + at_limit + "\"}"));
    BOOST_TEST(ok.status() == 200u, ok.message.body());
    check_error(post_authorised(
                    create_body(demo::kSupportBot, "\"metadata\":{\"k\":\"" + at_limit + "v\"}")),
                400, "BAD_REQUEST", "metadata");
    // 4097 two-byte characters: 8194 bytes.
    std::string accented;
    for (int i = 0; i < 4097; ++i) {
        accented += "\xC3\xA9";
    }
    check_error(post_authorised(
                    create_body(demo::kSupportBot, "\"variables\":{\"k\":\"" + accented + "\"}")),
                400, "BAD_REQUEST", "variables");
}

BOOST_AUTO_TEST_CASE(bad_request_when_an_object_repeats_a_key) {
    // The message names where the repeat is.
    const std::string agent = demo::kSupportBot;
    check_error(post_authorised("{\"agentId\":\"" + agent + "\",\"agentId\":\"" + agent + "\"}"),
                400, "BAD_REQUEST", "agentId");
    check_error(post_authorised(create_body(agent, R"("metadata":{"a":"1","b":"2","a":"3"})")), 400,
                "BAD_REQUEST", "metadata");
    check_error(post_authorised(create_body(agent, R"("variables":{"x":"1","x":"1"})")), 400,
                "BAD_REQUEST", "variables");
    // The same key spelled two ways is still the same key.
    check_error(post_authorised(create_body(agent, R"("metadata":{"a":"1","\u0061":"2"})")), 400,
                "BAD_REQUEST", "metadata");
    check_error(post_authorised(create_body(agent, R"("metadata":{},"metadata":{})")), 400,
                "BAD_REQUEST", "metadata");
}

BOOST_AUTO_TEST_CASE(bad_request_when_a_string_holds_a_lone_surrogate) {
    check_error(post_authorised(create_body(demo::kSupportBot, R"("metadata":{"k":"\ud800"})")),
                400, "BAD_REQUEST");
    check_error(post_authorised(create_body(demo::kSupportBot, R"("metadata":{"\udc00x":"v"})")),
                400, "BAD_REQUEST");
}

// ---- 401 UNAUTHORIZED -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unauthorized_without_an_api_key) {
    check_error(post(create_body(demo::kSupportBot), {{"Content-Type", "application/json"}}), 401,
                "UNAUTHORIZED", "X-API-Key");
}

BOOST_AUTO_TEST_CASE(unauthorized_with_an_unknown_key) {
    const std::string forged = "thd_" + std::string(43, 'A');
    check_error(post(create_body(demo::kSupportBot),
                     {{"Content-Type", "application/json"}, {"X-API-Key", forged}}),
                401, "UNAUTHORIZED", "X-API-Key");
    // A real key with one character changed.
    std::string altered = error_fixture().key;
    altered.back() = altered.back() == 'A' ? 'B' : 'A';
    check_error(post(create_body(demo::kSupportBot),
                     {{"Content-Type", "application/json"}, {"X-API-Key", altered}}),
                401, "UNAUTHORIZED", "X-API-Key");
}

BOOST_AUTO_TEST_CASE(unauthorized_with_a_revoked_key) {
    check_error(post(create_body(demo::kSupportBot), {{"Content-Type", "application/json"},
                                                      {"X-API-Key", error_fixture().revoked_key}}),
                401, "UNAUTHORIZED", "X-API-Key");
}

BOOST_AUTO_TEST_CASE(unauthorized_with_an_empty_key) {
    check_error(post(create_body(demo::kSupportBot),
                     {{"Content-Type", "application/json"}, {"X-API-Key", ""}}),
                401, "UNAUTHORIZED", "X-API-Key");
    // Only spaces and tabs: empty once trimmed.
    RawConnection raw(error_fixture().port(), kRawTimeoutSeconds);
    const std::string body = create_body(demo::kSupportBot);
    BOOST_REQUIRE(
        raw.write("POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: application/json\r\nX-API-Key:  \t \r\n"
                  "Connection: close\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body));
    const auto response = parse_response(raw.read_until_closed().bytes);
    BOOST_REQUIRE(response.has_value());
    check_error(*response, 401, "UNAUTHORIZED", "X-API-Key");
}

BOOST_AUTO_TEST_CASE(unauthorized_with_a_bearer_token_that_is_not_valid) {
    check_error(post(create_body(demo::kSupportBot),
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer not.a.jwt"}}),
                401, "UNAUTHORIZED");
}

// ---- 404 NOT_FOUND --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(not_found_for_unknown_paths) {
    const Headers headers{{"Content-Type", "application/json"}, {"X-API-Key", error_fixture().key}};
    for (const std::string path : {"/", "/api", "/api/v1/thread", "/api/v2/threads/web",
                                   "/API/v1/threads/web", "/api/v1/threads/web/x"}) {
        BOOST_TEST_CONTEXT("path " << path) {
            check_error(post(create_body(demo::kSupportBot), headers, path), 404, "NOT_FOUND");
        }
    }
}

BOOST_AUTO_TEST_CASE(not_found_for_a_trailing_slash) {
    check_error(post(create_body(demo::kSupportBot),
                     {{"Content-Type", "application/json"}, {"X-API-Key", error_fixture().key}},
                     "/api/v1/threads/web/"),
                404, "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(not_found_for_an_unknown_agent) {
    check_error(post_authorised(create_body("0b7c6c8e-0000-4000-8000-000000000000")), 404,
                "NOT_FOUND", "agentId");
}

BOOST_AUTO_TEST_CASE(not_found_for_a_deleted_agent) {
    const auto deleted = post_authorised(create_body(kDeletedAgent));
    check_error(deleted, 404, "NOT_FOUND", "agentId");
    const auto missing = post_authorised(create_body("0b7c6c8e-0000-4000-8000-000000000000"));
    BOOST_TEST(deleted.message.body() == missing.message.body());
}

BOOST_AUTO_TEST_CASE(not_found_for_another_organizations_agent) {
    const auto other = post_authorised(create_body(kOtherOrgAgent));
    check_error(other, 404, "NOT_FOUND", "agentId");
    const auto missing = post_authorised(create_body("0b7c6c8e-0000-4000-8000-000000000000"));
    BOOST_TEST(other.message.body() == missing.message.body());
}

// ---- 405 METHOD_NOT_ALLOWED -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(method_not_allowed_for_get_with_an_allow_header) {
    HttpClient client(error_fixture().port());
    for (const auto method :
         {http::verb::get, http::verb::put, http::verb::delete_, http::verb::patch}) {
        BOOST_TEST_CONTEXT("method " << http::to_string(method)) {
            const auto response = client.request(method, kCreatePath, std::nullopt,
                                                 {{"X-API-Key", error_fixture().key}});
            check_error(response, 405, "METHOD_NOT_ALLOWED");
            BOOST_TEST(response.header("Allow") == "POST");
        }
    }
}

BOOST_AUTO_TEST_CASE(method_not_allowed_for_head_without_content) {
    // A response to HEAD carries the headers of the error but never content (RFC 9110
    // 9.3.2): bytes after the head would be read as the next response on the connection.
    RawConnection raw(error_fixture().port(), kRawTimeoutSeconds);
    BOOST_REQUIRE(raw.write(
        "HEAD /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: " + error_fixture().key +
        "\r\n\r\n"
        "GET /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "X-API-Key: " +
        error_fixture().key + "\r\n\r\n"));
    const auto received = raw.read_until_closed();
    BOOST_REQUIRE(received.closed);
    std::size_t used = 0;
    const auto head = parse_response(received.bytes, true, &used);
    BOOST_REQUIRE_MESSAGE(head.has_value(), "no response to HEAD in: " << received.bytes);
    BOOST_TEST(head->status() == 405u);
    BOOST_TEST(head->header("Allow") == "POST");
    BOOST_TEST(head->header("Content-Type") == "application/json");
    // What follows must be the GET's response, in the full envelope.
    const auto rest = received.bytes.substr(used);
    const auto get = parse_response(rest);
    BOOST_REQUIRE_MESSAGE(get.has_value(), "the response after HEAD is not HTTP: " << rest);
    check_error(*get, 405, "METHOD_NOT_ALLOWED");
    BOOST_TEST(get->header("Allow") == "POST");
}

// ---- 409 CONFLICT ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(conflict_for_a_draft_agent_without_a_published_version) {
    check_error(post_authorised(create_body(demo::kDraftAgent)), 409, "CONFLICT", "agentId");
}

// ---- 413 PAYLOAD_TOO_LARGE ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(payload_too_large_by_content_length) {
    // Only the head and a little of the body: the declared length alone decides.
    RawConnection raw(error_fixture().port(), kRawTimeoutSeconds);
    BOOST_REQUIRE(
        raw.write("POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: application/json\r\nX-API-Key: " +
                  error_fixture().key + "\r\nContent-Length: " + std::to_string(64 * kKiB + 1) +
                  "\r\n\r\n{\"agentId\":"));
    const auto received = raw.read_until_closed();
    const auto response = parse_response(received.bytes);
    BOOST_REQUIRE_MESSAGE(response.has_value(), "no response: " << received.bytes);
    check_error(*response, 413, "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(payload_too_large_by_content_length_with_the_whole_body_sent) {
    // A valid create body padded with an ignored member to just over 64 KiB.
    const std::string padding(64 * kKiB, ' ');
    const std::string body = create_body(demo::kSupportBot, "\"pad\":\"" + padding + "\"");
    BOOST_REQUIRE(body.size() > 64 * kKiB);
    check_error(post_authorised(body), 413, "PAYLOAD_TOO_LARGE");
    // Exactly at the limit is fine.
    const std::string head = create_body(demo::kSupportBot, "\"pad\":\"");
    const std::string at_limit = head + std::string(64 * kKiB - head.size() - 2, ' ') + "\"}";
    BOOST_REQUIRE(at_limit.size() == 64 * kKiB);
    const auto ok = post_authorised(at_limit);
    BOOST_TEST(ok.status() == 200u, ok.message.body());
}

BOOST_AUTO_TEST_CASE(payload_too_large_for_a_chunked_body) {
    // Chunks of 16 KiB; the fifth takes the body over 64 KiB. Its data is not sent
    // before the answer, so the server has read everything that was sent.
    const std::string chunk(16 * kKiB, ' ');
    std::string request =
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nX-API-Key: " +
        error_fixture().key + "\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) {
        request += "4000\r\n" + chunk + "\r\n";
    }
    request += "10\r\n";
    RawConnection raw(error_fixture().port(), kRawTimeoutSeconds);
    BOOST_REQUIRE(raw.write(request));
    const auto received = raw.read_until_closed();
    const auto response = parse_response(received.bytes);
    BOOST_REQUIRE_MESSAGE(response.has_value(), "no response: " << received.bytes);
    check_error(*response, 413, "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(payload_too_large_honours_max_body_bytes) {
    TempDir dir;
    const std::string db = new_store(dir, "small.db");
    const std::string key = create_demo_key(db);
    ServerProcess server(db, {"--max-body-bytes", "2048"});
    const std::string head = create_body(demo::kSupportBot, "\"pad\":\"");
    HttpClient client(server.port());
    const auto at_limit =
        client.post_json(kCreatePath, head + std::string(2048 - head.size() - 2, ' ') + "\"}", key);
    BOOST_TEST(at_limit.status() == 200u, at_limit.message.body());
    HttpClient second(server.port());
    check_error(
        second.post_json(kCreatePath, head + std::string(2049 - head.size() - 2, ' ') + "\"}", key),
        413, "PAYLOAD_TOO_LARGE");
}

// ---- 415 UNSUPPORTED_MEDIA_TYPE -------------------------------------------------------

BOOST_AUTO_TEST_CASE(unsupported_media_type_for_a_body_that_is_not_json) {
    const std::string body = create_body(demo::kSupportBot);
    for (const std::string type : {"text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonx", "application/json-patch+json", "json"}) {
        BOOST_TEST_CONTEXT("Content-Type " << type) {
            check_error(post(body, {{"Content-Type", type}, {"X-API-Key", error_fixture().key}}),
                        415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type");
        }
    }
    // No Content-Type at all is not application/json either.
    check_error(post(body, {{"X-API-Key", error_fixture().key}}), 415, "UNSUPPORTED_MEDIA_TYPE",
                "Content-Type");
}

BOOST_AUTO_TEST_CASE(json_media_type_with_parameters_or_in_upper_case_is_accepted) {
    const std::string body = create_body(demo::kSupportBot);
    for (const std::string type : {"application/json; charset=utf-8", "APPLICATION/JSON",
                                   "Application/Json;charset=UTF-8", "application/json ; q=1"}) {
        BOOST_TEST_CONTEXT("Content-Type " << type) {
            const auto response =
                post(body, {{"Content-Type", type}, {"X-API-Key", error_fixture().key}});
            BOOST_TEST(response.status() == 200u, response.message.body());
        }
    }
}

// ---- 431 REQUEST_HEADER_FIELDS_TOO_LARGE ----------------------------------------------

BOOST_AUTO_TEST_CASE(header_fields_too_large_over_16_kib) {
    HttpClient client(error_fixture().port());
    const auto response =
        client.request(http::verb::post, kCreatePath, create_body(demo::kSupportBot),
                       {{"Content-Type", "application/json"},
                        {"X-API-Key", error_fixture().key},
                        {"X-Padding", std::string(17 * kKiB, 'p')}});
    check_error(response, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
    // Just under the limit is fine.
    HttpClient second(error_fixture().port());
    const auto ok = second.request(http::verb::post, kCreatePath, create_body(demo::kSupportBot),
                                   {{"Content-Type", "application/json"},
                                    {"X-API-Key", error_fixture().key},
                                    {"X-Padding", std::string(15 * kKiB, 'p')}});
    BOOST_TEST(ok.status() == 200u, ok.message.body());
}

// ---- 408 REQUEST_TIMEOUT --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(request_timeout_answers_408_or_closes) {
    TempDir dir;
    const std::string db = new_store(dir, "slow.db");
    const std::string key = create_demo_key(db);
    ServerProcess server(db, {"--request-timeout", "1s"});

    // Half a head, and half a body after a complete head.
    const std::string body = create_body(demo::kSupportBot);
    const std::vector<std::string> halves = {
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-K",
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "X-API-Key: " +
            key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
            body.substr(0, body.size() / 2)};
    for (const auto& half : halves) {
        BOOST_TEST_CONTEXT("sent " << half) {
            RawConnection raw(server.port(), 6);
            BOOST_REQUIRE(raw.write(half));
            const auto received = raw.read_until_closed();
            BOOST_TEST(received.closed, "the server neither answered nor closed in 6 s");
            if (!received.bytes.empty()) {
                const auto response = parse_response(received.bytes);
                BOOST_REQUIRE_MESSAGE(response.has_value(), "not a response: " << received.bytes);
                check_error(*response, 408, "REQUEST_TIMEOUT");
            }
        }
    }
    // The server is still fine afterwards.
    HttpClient client(server.port());
    BOOST_TEST(client.post_json(kCreatePath, body, key).status() == 200u);
}

// ---- The order of the checks ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(credentials_are_checked_before_the_body) {
    check_error(post("{not json", {{"Content-Type", "application/json"}}), 401, "UNAUTHORIZED");
    check_error(post("{not json", {{"Content-Type", "text/plain"}}), 401, "UNAUTHORIZED");
    check_error(post(create_body(demo::kDraftAgent),
                     {{"Content-Type", "application/json"}, {"X-API-Key", "wrong"}}),
                401, "UNAUTHORIZED");
    // Too large and unauthenticated: still 401.
    RawConnection raw(error_fixture().port(), kRawTimeoutSeconds);
    BOOST_REQUIRE(
        raw.write("POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: text/plain\r\nContent-Length: " +
                  std::to_string(100 * kKiB) + "\r\n\r\n"));
    const auto response = parse_response(raw.read_until_closed().bytes);
    BOOST_REQUIRE(response.has_value());
    check_error(*response, 401, "UNAUTHORIZED");
}

BOOST_AUTO_TEST_CASE(route_is_checked_before_credentials) {
    check_error(post("{not json", {{"Content-Type", "text/plain"}, {"X-API-Key", "wrong"}},
                     "/api/v1/threads/nope/nope"),
                404, "NOT_FOUND");
    check_error(post("{not json", {{"Content-Type", "text/plain"}}, "/api/v1/threads/web/"), 404,
                "NOT_FOUND");
    HttpClient client(error_fixture().port());
    const auto response =
        client.request(http::verb::get, kCreatePath, std::nullopt, {{"X-API-Key", "wrong"}});
    check_error(response, 405, "METHOD_NOT_ALLOWED");
    BOOST_TEST(response.header("Allow") == "POST");
}

BOOST_AUTO_TEST_CASE(size_is_checked_before_media_type) {
    RawConnection raw(error_fixture().port(), kRawTimeoutSeconds);
    BOOST_REQUIRE(
        raw.write("POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: text/plain\r\nX-API-Key: " +
                  error_fixture().key + "\r\nContent-Length: " + std::to_string(100 * kKiB) +
                  "\r\n\r\nnot json"));
    const auto response = parse_response(raw.read_until_closed().bytes);
    BOOST_REQUIRE(response.has_value());
    check_error(*response, 413, "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(media_type_is_checked_before_the_json) {
    check_error(
        post("{not json", {{"Content-Type", "text/plain"}, {"X-API-Key", error_fixture().key}}),
        415, "UNSUPPORTED_MEDIA_TYPE");
    check_error(post(create_body("not-a-uuid"),
                     {{"Content-Type", "text/plain"}, {"X-API-Key", error_fixture().key}}),
                415, "UNSUPPORTED_MEDIA_TYPE");
}

BOOST_AUTO_TEST_CASE(body_is_checked_before_the_resources) {
    // A bad map for a draft agent: the body's 400 comes before the agent's 409.
    check_error(post_authorised(create_body(demo::kDraftAgent, R"("metadata":{"a":1})")), 400,
                "BAD_REQUEST");
    check_error(post_authorised(create_body(kOtherOrgAgent, R"("variables":"x")")), 400,
                "BAD_REQUEST");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
