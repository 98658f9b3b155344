// POST /api/v1/threads/web against the real binary: the thread object field by field,
// what lands in the store, and what operators change while the server runs
// (imports, revoked keys, other organizations).

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include "support/demo_server.hpp"
#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

/// The suite fixture: one server for every test.
using CreateServer = SuiteState<DemoServerState>;

DemoServerState& create_fixture() {
    return CreateServer::get();
}

std::int64_t now_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// The 48-bit unix-millisecond timestamp at the front of a UUIDv7.
std::int64_t uuid7_millis(const std::string& id) {
    const std::string hex = id.substr(0, 8) + id.substr(9, 4);
    return static_cast<std::int64_t>(std::stoull(hex, nullptr, 16));
}

bool is_canonical_uuid7(const std::string& id) {
    static const std::regex shape(
        "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    return std::regex_match(id, shape);
}

std::string to_upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

/// Creates a thread and returns the "thread" object of a 200 response.
json::object create_thread(HttpClient& client, const std::string& body, const std::string& key) {
    const auto response = client.post_json(kCreatePath, body, key);
    BOOST_REQUIRE_MESSAGE(response.status() == 200, "create answered " << response.status() << ": "
                                                                       << response.message.body());
    const auto value = response.json();
    BOOST_REQUIRE(value.is_object());
    const auto* thread = value.as_object().if_contains("thread");
    BOOST_REQUIRE(thread != nullptr && thread->is_object());
    return thread->as_object();
}

std::string text_of(const json::object& object, std::string_view field) {
    const auto* value = object.if_contains(field);
    BOOST_REQUIRE_MESSAGE(value != nullptr && value->is_string(),
                          field << " is missing or not a string in " << json::serialize(object));
    return std::string(value->as_string());
}

bool is_null_field(const json::object& object, std::string_view field) {
    const auto* value = object.if_contains(field);
    return value != nullptr && value->is_null();
}

/// Fails unless `object` has exactly the members `names` (in any order).
void check_members(const json::object& object, const std::vector<std::string>& names) {
    BOOST_TEST_CONTEXT("object " << json::serialize(object)) {
        BOOST_TEST(object.size() == names.size());
        for (const auto& name : names) {
            BOOST_TEST(object.contains(name), "member " << name << " is missing");
        }
    }
}

double number_of(const json::object& object, std::string_view field) {
    const auto* value = object.if_contains(field);
    BOOST_REQUIRE_MESSAGE(value != nullptr && value->is_number(),
                          field << " is missing or not a number in " << json::serialize(object));
    return value->to_number<double>();
}

/// One agent with two versions for `agents import`; `published` is 1 or 2.
std::string two_version_agent(const std::string& organization, const std::string& agent,
                              const std::string& v1, const std::string& v2, int published) {
    auto first = import_version(v1, 1, published == 1);
    first["name"] = "first";
    first["smsMaxTokens"] = 10;
    first["smsTemperature"] = 0.25;
    auto second = import_version(v2, 2, published == 2);
    second["name"] = "second";
    second["mode"] = "FLOW";
    second["smsTemperature"] = 1.5;
    second["discardInboundSms"] = true;
    auto object = import_agent(agent, organization, "Imported bot", json::array{first, second});
    object["description"] = "made by a test";
    return json::serialize(object);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(create_thread_http, *boost::unit_test::fixture<CreateServer>())

BOOST_AUTO_TEST_CASE(support_bot_thread_has_every_field_of_the_contract) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    const std::int64_t before = now_millis();
    const auto response = client.request(
        http::verb::post, kCreatePath,
        create_body(demo::kSupportBot, R"("metadata":{"zeta":"1","alpha":"2","mid":"3"},)"
                                       R"("variables":{"name":"Ada","city":"Paris"})"),
        {{"Content-Type", "application/json"},
         {"X-API-Key", fixture.key},
         {"X-Request-Id", "trace-42.abc"}});
    const std::int64_t after = now_millis();

    BOOST_REQUIRE_MESSAGE(response.status() == 200, response.message.body());
    BOOST_TEST(response.header("Content-Type") == "application/json");
    BOOST_TEST(response.header("X-Request-Id") == "trace-42.abc");

    const auto value = response.json();
    BOOST_REQUIRE(value.is_object());
    check_members(value.as_object(), {"thread"});
    const auto& thread = value.as_object().at("thread").as_object();
    check_members(thread, {"id", "organizationId", "agentVersionId", "toPhoneNumber",
                           "fromPhoneNumber", "fromPhoneNumberId", "leadId", "isActive",
                           "createdAt", "updatedAt", "closedAt", "closedReason", "metadata",
                           "variables", "agentId", "agentDetails", "agentVersionDetails"});

    const std::string id = text_of(thread, "id");
    BOOST_TEST(is_canonical_uuid7(id), id << " is not a canonical lower-case UUIDv7");
    BOOST_TEST(text_of(thread, "organizationId") == demo::kOrganization);
    BOOST_TEST(text_of(thread, "agentId") == demo::kSupportBot);
    // Version 2 is the published one; version 1 exists but must not be chosen.
    BOOST_TEST(text_of(thread, "agentVersionId") == demo::kSupportBotV2);
    BOOST_TEST(text_of(thread, "toPhoneNumber") == "");
    BOOST_TEST(is_null_field(thread, "fromPhoneNumber"));
    BOOST_TEST(is_null_field(thread, "fromPhoneNumberId"));
    BOOST_TEST(is_null_field(thread, "leadId"));
    BOOST_TEST((thread.at("isActive").is_bool() && thread.at("isActive").as_bool()));
    BOOST_TEST(is_null_field(thread, "closedAt"));
    BOOST_TEST(is_null_field(thread, "closedReason"));

    const std::string created_at = text_of(thread, "createdAt");
    BOOST_TEST(text_of(thread, "updatedAt") == created_at);
    const std::int64_t created_ms = parse_rfc3339_millis(created_at);
    // Same machine, same clock: the instant lies within the request (1 s slack for rounding).
    BOOST_TEST(created_ms >= before - 1000);
    BOOST_TEST(created_ms <= after + 1000);
    // A UUIDv7 carries its creation time; the generator may only move it forward.
    BOOST_TEST(uuid7_millis(id) >= created_ms);
    BOOST_TEST(uuid7_millis(id) <= after + 1000);

    // Exactly as sent, key order included.
    BOOST_TEST(json::serialize(thread.at("metadata")) == R"({"zeta":"1","alpha":"2","mid":"3"})");
    BOOST_TEST(json::serialize(thread.at("variables")) == R"({"name":"Ada","city":"Paris"})");

    BOOST_REQUIRE(thread.at("agentDetails").is_object());
    const auto& agent = thread.at("agentDetails").as_object();
    check_members(agent, {"id", "name", "description", "agentType"});
    BOOST_TEST(text_of(agent, "id") == demo::kSupportBot);
    BOOST_TEST(text_of(agent, "name") == "Support bot");
    BOOST_TEST(text_of(agent, "description") == "Answers product questions over web chat");
    BOOST_TEST(text_of(agent, "agentType") == "TEXT");

    BOOST_REQUIRE(thread.at("agentVersionDetails").is_object());
    const auto& version = thread.at("agentVersionDetails").as_object();
    check_members(version, {"id", "version", "name", "mode", "smsMaxTokens", "smsTemperature",
                            "discardInboundSms"});
    BOOST_TEST(text_of(version, "id") == demo::kSupportBotV2);
    BOOST_TEST(number_of(version, "version") == 2.0);
    BOOST_TEST(text_of(version, "name") == "v2 friendlier tone");
    BOOST_TEST(text_of(version, "mode") == "PROMPT");
    BOOST_TEST(number_of(version, "smsMaxTokens") == 256.0);
    BOOST_TEST(number_of(version, "smsTemperature") == 0.7);
    BOOST_TEST(
        (version.at("discardInboundSms").is_bool() && !version.at("discardInboundSms").as_bool()));
}

BOOST_AUTO_TEST_CASE(voice_agent_thread_carries_nulls_and_a_generated_request_id) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    const auto response =
        client.post_json(kCreatePath, create_body(demo::kVoiceAgent), fixture.key);
    BOOST_REQUIRE_MESSAGE(response.status() == 200, response.message.body());
    BOOST_TEST(response.header("Content-Type") == "application/json");
    const std::string request_id = response.header("X-Request-Id");
    BOOST_TEST(std::regex_match(request_id, std::regex("^[0-9a-f]{32}$")),
               "generated request id: " << request_id);

    const auto value = response.json();
    const auto& thread = value.as_object().at("thread").as_object();
    BOOST_TEST(text_of(thread, "agentId") == demo::kVoiceAgent);
    BOOST_TEST(text_of(thread, "agentVersionId") == demo::kVoiceAgentV1);
    // Not sent means null, not {}.
    BOOST_TEST(is_null_field(thread, "metadata"));
    BOOST_TEST(is_null_field(thread, "variables"));

    const auto& agent = thread.at("agentDetails").as_object();
    check_members(agent, {"id", "name", "description", "agentType"});
    BOOST_TEST(text_of(agent, "id") == demo::kVoiceAgent);
    BOOST_TEST(text_of(agent, "name") == "Front desk voice agent");
    BOOST_TEST(is_null_field(agent, "description"));
    BOOST_TEST(text_of(agent, "agentType") == "CALL");

    const auto& version = thread.at("agentVersionDetails").as_object();
    check_members(version, {"id", "version", "name", "mode", "smsMaxTokens", "smsTemperature",
                            "discardInboundSms"});
    BOOST_TEST(text_of(version, "id") == demo::kVoiceAgentV1);
    BOOST_TEST(number_of(version, "version") == 1.0);
    BOOST_TEST(text_of(version, "name") == "Reception flow");
    BOOST_TEST(text_of(version, "mode") == "FLOW");
    BOOST_TEST(is_null_field(version, "smsMaxTokens"));
    BOOST_TEST(is_null_field(version, "smsTemperature"));
    BOOST_TEST(
        (version.at("discardInboundSms").is_bool() && version.at("discardInboundSms").as_bool()));
}

BOOST_AUTO_TEST_CASE(explicit_null_maps_are_null_and_mixed_sms_settings_are_kept) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    const auto thread = create_thread(
        client, create_body(demo::kBooker, R"("metadata":null,"variables":null,"extra":[1,2])"),
        fixture.key);
    BOOST_TEST(is_null_field(thread, "metadata"));
    BOOST_TEST(is_null_field(thread, "variables"));
    const auto& version = thread.at("agentVersionDetails").as_object();
    BOOST_TEST(number_of(version, "version") == 3.0);
    BOOST_TEST(text_of(version, "mode") == "FLOW");
    BOOST_TEST(number_of(version, "smsMaxTokens") == 64.0);
    BOOST_TEST(is_null_field(version, "smsTemperature"));
    BOOST_TEST(text_of(thread.at("agentDetails").as_object(), "description") ==
               "Books and reschedules appointments");
}

BOOST_AUTO_TEST_CASE(empty_maps_are_kept_as_empty_objects) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    const auto thread = create_thread(
        client, create_body(demo::kSupportBot, R"("metadata":{},"variables":{})"), fixture.key);
    BOOST_TEST(json::serialize(thread.at("metadata")) == "{}");
    BOOST_TEST(json::serialize(thread.at("variables")) == "{}");
}

BOOST_AUTO_TEST_CASE(upper_case_agent_id_is_accepted_and_normalised) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    const std::string upper = to_upper(demo::kSupportBot);
    BOOST_REQUIRE(upper != demo::kSupportBot);
    const auto thread = create_thread(client, create_body(upper), fixture.key);
    BOOST_TEST(text_of(thread, "agentId") == demo::kSupportBot);
    BOOST_TEST(text_of(thread.at("agentDetails").as_object(), "id") == demo::kSupportBot);

    StoreRows database(fixture.db);
    const auto row = database.thread_row(text_of(thread, "id"));
    BOOST_REQUIRE(!row.empty());
    BOOST_TEST(row.at("agent_id").value_or("") == demo::kSupportBot);
}

BOOST_AUTO_TEST_CASE(nul_and_non_ascii_round_trip_exactly) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    // Raw UTF-8, \u escapes of BMP characters, a surrogate pair and NUL, in keys and values.
    const std::string body =
        create_body(demo::kSupportBot,
                    "\"metadata\":{\"nul\":\"a\\u0000b\",\"\\u00e9t\\u00e9\":\"caf\xC3\xA9\","
                    "\"\xE6\x97\xA5\xE6\x9C\xAC\":\"\\ud83d\\ude00 "
                    "\xF0\x9F\x98\x80\",\"only\\u0000\":\"\\u0000\"},"
                    "\"variables\":{\"tab\":\"x\\ty\",\"quote\":\"\\\"q\\\\\"}");
    const auto thread = create_thread(client, body, fixture.key);

    json::object expected_metadata;
    expected_metadata[std::string("nul")] = std::string("a\0b", 3);
    expected_metadata["\xC3\xA9t\xC3\xA9"] = "caf\xC3\xA9";
    expected_metadata["\xE6\x97\xA5\xE6\x9C\xAC"] = "\xF0\x9F\x98\x80 \xF0\x9F\x98\x80";
    expected_metadata[std::string("only\0", 5)] = std::string("\0", 1);
    json::object expected_variables;
    expected_variables["tab"] = "x\ty";
    expected_variables["quote"] = "\"q\\";

    BOOST_REQUIRE(thread.at("metadata").is_object());
    const auto& metadata = thread.at("metadata").as_object();
    BOOST_TEST(metadata == expected_metadata);
    // Same order too: serialize both and compare the text.
    BOOST_TEST(json::serialize(metadata) == json::serialize(expected_metadata));
    BOOST_TEST(json::serialize(thread.at("variables")) == json::serialize(expected_variables));
    const auto* nul = metadata.if_contains("nul");
    BOOST_REQUIRE(nul != nullptr);
    BOOST_TEST(nul->as_string().size() == 3u, "NUL must not truncate the value");

    // The stored text decodes to the same maps.
    StoreRows database(fixture.db);
    const auto row = database.thread_row(text_of(thread, "id"));
    BOOST_REQUIRE(!row.empty());
    BOOST_REQUIRE(row.at("metadata").has_value());
    BOOST_TEST(json::serialize(json::parse(*row.at("metadata"))) ==
               json::serialize(expected_metadata));
}

BOOST_AUTO_TEST_CASE(successive_thread_ids_strictly_increase) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) {
        const auto agent = i % 2 == 0 ? demo::kSupportBot : demo::kVoiceAgent;
        ids.push_back(text_of(create_thread(client, create_body(agent), fixture.key), "id"));
    }
    for (std::size_t i = 1; i < ids.size(); ++i) {
        BOOST_TEST(ids[i - 1] < ids[i], ids[i - 1] << " is not before " << ids[i]);
        BOOST_TEST(is_canonical_uuid7(ids[i]));
    }
}

BOOST_AUTO_TEST_CASE(created_thread_is_a_row_in_the_store) {
    auto& fixture = create_fixture();
    HttpClient client(fixture.server.port());
    const auto thread = create_thread(
        client, create_body(demo::kSupportBot, R"("metadata":{"b":"2","a":"1"})"), fixture.key);
    const std::string id = text_of(thread, "id");

    StoreRows database(fixture.db);
    const auto row = database.thread_row(id);
    BOOST_REQUIRE_MESSAGE(!row.empty(), "no row for thread " << id);
    BOOST_TEST(row.at("id").value_or("") == id);
    BOOST_TEST(row.at("organization_id").value_or("") == demo::kOrganization);
    BOOST_TEST(row.at("agent_id").value_or("") == demo::kSupportBot);
    BOOST_TEST(row.at("agent_version_id").value_or("") == demo::kSupportBotV2);
    BOOST_TEST(row.at("to_phone_number").value_or("?") == "");
    BOOST_TEST(!row.at("from_phone_number").has_value());
    BOOST_TEST(!row.at("from_phone_number_id").has_value());
    BOOST_TEST(!row.at("lead_id").has_value());
    BOOST_TEST(row.at("is_active").value_or("") == "1");
    const auto created_ms = std::to_string(parse_rfc3339_millis(text_of(thread, "createdAt")));
    BOOST_TEST(row.at("created_at").value_or("") == created_ms);
    BOOST_TEST(row.at("updated_at").value_or("") == created_ms);
    BOOST_TEST(!row.at("closed_at").has_value());
    BOOST_TEST(!row.at("closed_reason").has_value());
    BOOST_REQUIRE(row.at("metadata").has_value());
    BOOST_TEST(json::serialize(json::parse(*row.at("metadata"))) == R"({"b":"2","a":"1"})");
    BOOST_TEST(!row.at("variables").has_value());
}

BOOST_AUTO_TEST_CASE(thread_stays_bound_to_the_version_published_at_creation) {
    auto& fixture = create_fixture();
    const std::string agent = "5e1f0a00-1111-4a2b-8c3d-000000000001";
    const std::string v1 = "5e1f0a00-1111-4a2b-8c3d-0000000000a1";
    const std::string v2 = "5e1f0a00-1111-4a2b-8c3d-0000000000a2";
    const std::string file = fixture.dir.file("binding.json");

    // Imported while the server runs: it must see the new agent without a restart.
    import_agents(fixture.db, file,
                  "[" + two_version_agent(demo::kOrganization, agent, v1, v2, 1) + "]");
    HttpClient client(fixture.server.port());
    const auto first = create_thread(client, create_body(agent), fixture.key);
    BOOST_TEST(text_of(first, "agentVersionId") == v1);
    BOOST_TEST(number_of(first.at("agentVersionDetails").as_object(), "version") == 1.0);
    const std::string first_id = text_of(first, "id");

    import_agents(fixture.db, file,
                  "[" + two_version_agent(demo::kOrganization, agent, v1, v2, 2) + "]");
    const auto second = create_thread(client, create_body(agent), fixture.key);
    BOOST_TEST(text_of(second, "agentVersionId") == v2);
    const auto& details = second.at("agentVersionDetails").as_object();
    BOOST_TEST(text_of(details, "id") == v2);
    BOOST_TEST(number_of(details, "version") == 2.0);
    BOOST_TEST(text_of(details, "name") == "second");
    BOOST_TEST(text_of(details, "mode") == "FLOW");
    BOOST_TEST(is_null_field(details, "smsMaxTokens"));
    BOOST_TEST(number_of(details, "smsTemperature") == 1.5);
    BOOST_TEST(details.at("discardInboundSms").as_bool());

    StoreRows database(fixture.db);
    const auto first_row = database.thread_row(first_id);
    BOOST_REQUIRE(!first_row.empty());
    BOOST_TEST(first_row.at("agent_version_id").value_or("") == v1);
    const auto second_row = database.thread_row(text_of(second, "id"));
    BOOST_REQUIRE(!second_row.empty());
    BOOST_TEST(second_row.at("agent_version_id").value_or("") == v2);
}

BOOST_AUTO_TEST_CASE(key_revoked_while_the_server_runs_is_refused_at_once) {
    auto& fixture = create_fixture();
    const std::string key = create_demo_key(fixture.db);  // Made while the server runs.
    HttpClient client(fixture.server.port());
    create_thread(client, create_body(demo::kSupportBot), key);

    run_ok({"keys", "revoke", key_id_of(fixture.db, key), "--db", fixture.db});

    // The same keep-alive connection and a new one are both refused.
    check_error(client.post_json(kCreatePath, create_body(demo::kSupportBot), key), 401,
                "UNAUTHORIZED");
    HttpClient fresh(fixture.server.port());
    check_error(fresh.post_json(kCreatePath, create_body(demo::kSupportBot), key), 401,
                "UNAUTHORIZED");
    // Other keys are unaffected.
    create_thread(fresh, create_body(demo::kSupportBot), fixture.key);
}

BOOST_AUTO_TEST_CASE(another_organizations_agents_are_indistinguishable_from_missing_ones) {
    auto& fixture = create_fixture();
    const std::string other_org = "9d3b7c2a-0000-4e5f-8a9b-00000000b0b0";
    const std::string other_agent = "9d3b7c2a-1111-4e5f-8a9b-00000000a9e1";
    import_agents(
        fixture.db, fixture.dir.file("other-org.json"),
        "[" +
            two_version_agent(other_org, other_agent, "9d3b7c2a-2222-4e5f-8a9b-0000000000b1",
                              "9d3b7c2a-2222-4e5f-8a9b-0000000000b2", 1) +
            "]");
    const std::string other_key = create_key(fixture.db, other_org);

    HttpClient client(fixture.server.port());
    // The key works for its own organization's agent.
    const auto own = create_thread(client, create_body(other_agent), other_key);
    BOOST_TEST(text_of(own, "organizationId") == other_org);
    BOOST_TEST(text_of(own, "agentId") == other_agent);

    // The demo organization's agent looks exactly like an agent that does not exist.
    const auto foreign = client.post_json(kCreatePath, create_body(demo::kSupportBot), other_key);
    const auto missing = client.post_json(
        kCreatePath, create_body("9d3b7c2a-3333-4e5f-8a9b-000000000000"), other_key);
    check_error(foreign, 404, "NOT_FOUND");
    check_error(missing, 404, "NOT_FOUND");
    BOOST_TEST(foreign.message.body() == missing.message.body());
    // Even the draft agent (which would be a 409 for its owner) is just missing.
    const auto draft = client.post_json(kCreatePath, create_body(demo::kDraftAgent), other_key);
    check_error(draft, 404, "NOT_FOUND");
    BOOST_TEST(draft.message.body() == missing.message.body());

    // And the other way round.
    check_error(client.post_json(kCreatePath, create_body(other_agent), fixture.key), 404,
                "NOT_FOUND");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
