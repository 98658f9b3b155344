#include "threadsd/store/agent_import.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "threadsd/store/sqlite/admin.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"

namespace {

namespace json = boost::json;
using threadsd::store::AdminError;
using threadsd::store::DemoSeed;
using threadsd::store::ImportedAgent;
using threadsd::store::ImportSummary;
using threadsd::store::parse_agent_import;
using threadsd::store::sqlite::apply_agent_import;
using threadsd::store::sqlite::Connection;
using threadsd::test::dump_table;
using threadsd::test::import_agent;
using threadsd::test::import_version;
using threadsd::test::parse_import_ok;
using threadsd::test::query_int;
using threadsd::test::query_optional_real;
using threadsd::test::query_optional_text;
using threadsd::test::StoreFixture;
namespace demo = threadsd::test::demo;

constexpr const char* kOrgA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kOrgB = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr const char* kAgent1 = "a1a1a1a1-1111-4111-8111-000000000001";
constexpr const char* kAgent2 = "a2a2a2a2-2222-4222-8222-000000000002";
constexpr const char* kAgent3 = "a3a3a3a3-3333-4333-8333-000000000003";
constexpr const char* kV11 = "e1e1e1e1-1111-4111-8111-000000000011";
constexpr const char* kV12 = "e1e1e1e1-1111-4111-8111-000000000012";
constexpr const char* kV13 = "e1e1e1e1-1111-4111-8111-000000000013";
constexpr const char* kV21 = "e2e2e2e2-2222-4222-8222-000000000021";
constexpr const char* kV31 = "e3e3e3e3-3333-4333-8333-000000000031";

/// Every row of every table, typed, as one comparable string.
std::string dump_tables(Connection& connection) {
    std::string out;
    for (const char* table : {"organizations", "api_keys", "agents", "agent_versions", "threads"}) {
        out += dump_table(connection, table);
    }
    return out;
}

std::string parse_error(const std::string& text) {
    auto parsed = parse_agent_import(text);
    const auto* message = std::get_if<std::string>(&parsed);
    BOOST_REQUIRE_MESSAGE(message != nullptr, "import accepted: " << text);
    return *message;
}

/// Agent 1 of organization A with versions 1 (published) and 2, and agent 2 of
/// organization B with one published version.
json::array base_file() {
    return json::array{
        import_agent(kAgent1, kOrgA, "Support bot",
                     json::array{import_version(kV11, 1, true), import_version(kV12, 2, false)}),
        import_agent(kAgent2, kOrgB, "Caller", json::array{import_version(kV21, 1, true)}),
    };
}

ImportSummary import_file(Connection& connection, const json::array& file) {
    return apply_agent_import(connection, parse_import_ok(json::serialize(file)));
}

/// The published version id `agents list` shows for `agent_id`, or "null".
std::string listed_published_version(Connection& connection, const std::string& agent_id) {
    for (const auto& listing : threadsd::store::sqlite::list_agents(connection)) {
        if (listing.agent.id == agent_id) {
            return listing.published_version_id.value_or("null");
        }
    }
    BOOST_FAIL("agent " << agent_id << " not listed");
    return "";
}

bool message_starts_with(const AdminError& error, const std::string& prefix) {
    const std::string what = error.what();
    BOOST_TEST_MESSAGE("AdminError: " << what);
    return what.rfind(prefix, 0) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_agent_import)

BOOST_AUTO_TEST_CASE(parses_the_contract_format_with_defaults) {
    const std::string text = R"([
      {"id": "3F2A9C1E-7B4D-4E8A-9C2F-1A2B3C4D5E01", "organizationId": "aaaaaaaa-0000-4000-8000-000000000001",
       "name": "Support bot", "description": null, "agentType": "TEXT", "deleted": false,
       "versions": [{"id": "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e11", "version": 1, "name": "v1", "mode": "PROMPT",
                     "smsMaxTokens": null, "smsTemperature": 0.7, "discardInboundSms": false,
                     "published": true},
                    {"id": "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e12", "version": 2, "name": "v2 flow",
                     "mode": "FLOW", "smsMaxTokens": 256, "smsTemperature": null,
                     "discardInboundSms": true},
                    {"id": "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e13", "version": 3, "name": "v3",
                     "mode": "PROMPT"}]},
      {"id": "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e02", "organizationId": "bbbbbbbb-0000-4000-8000-000000000002",
       "name": "Front desk", "description": "Rings back", "agentType": "CALL"},
      {"id": "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03", "organizationId": "bbbbbbbb-0000-4000-8000-000000000002",
       "name": "Gone", "agentType": "TEXT", "deleted": true, "versions": []}
    ])";
    const auto agents = parse_import_ok(text);
    BOOST_REQUIRE(agents.size() == 3u);

    const auto& first = agents[0];
    BOOST_TEST(first.record.id == "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01");  // normalised
    BOOST_TEST(first.record.organization_id == kOrgA);
    BOOST_TEST(first.record.name == "Support bot");
    BOOST_TEST(!first.record.description.has_value());
    BOOST_TEST(first.record.agent_type == "TEXT");
    BOOST_TEST(!first.record.deleted);
    BOOST_REQUIRE(first.versions.size() == 3u);

    const auto& v1 = first.versions[0];
    BOOST_TEST(v1.record.id == "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e11");
    BOOST_TEST(v1.record.version == 1);
    BOOST_TEST(v1.record.name == "v1");
    BOOST_TEST(v1.record.mode == "PROMPT");
    BOOST_TEST(!v1.record.sms_max_tokens.has_value());
    BOOST_REQUIRE(v1.record.sms_temperature.has_value());
    BOOST_TEST(*v1.record.sms_temperature == 0.7);
    BOOST_TEST(!v1.record.discard_inbound_sms);
    BOOST_TEST(v1.published);

    const auto& v2 = first.versions[1];
    BOOST_TEST(v2.record.version == 2);
    BOOST_TEST(v2.record.name == "v2 flow");
    BOOST_TEST(v2.record.mode == "FLOW");
    BOOST_REQUIRE(v2.record.sms_max_tokens.has_value());
    BOOST_TEST(*v2.record.sms_max_tokens == 256.0);
    BOOST_TEST(!v2.record.sms_temperature.has_value());
    BOOST_TEST(v2.record.discard_inbound_sms);
    BOOST_TEST(!v2.published);  // absent means false

    const auto& v3 = first.versions[2];
    BOOST_TEST(!v3.record.sms_max_tokens.has_value());
    BOOST_TEST(!v3.record.sms_temperature.has_value());
    BOOST_TEST(!v3.record.discard_inbound_sms);
    BOOST_TEST(!v3.published);

    const auto& second = agents[1];
    BOOST_TEST(second.record.organization_id == kOrgB);
    BOOST_TEST(second.record.agent_type == "CALL");
    BOOST_REQUIRE(second.record.description.has_value());
    BOOST_TEST(*second.record.description == "Rings back");
    BOOST_TEST(!second.record.deleted);   // absent means false
    BOOST_TEST(second.versions.empty());  // absent means none

    BOOST_TEST(agents[2].record.deleted);
    BOOST_TEST(!agents[2].record.description.has_value());  // absent means null
    BOOST_TEST(agents[2].versions.empty());

    BOOST_TEST(parse_import_ok("[]").empty());
}

BOOST_AUTO_TEST_CASE(malformed_files_are_refused_naming_element_and_field) {
    struct Case {
        std::string label;
        json::value file;
        std::string prefix;  // the message must start with this: element, field, space
    };
    std::vector<Case> cases;
    const json::object good =
        import_agent(kAgent2, kOrgB, "Caller", json::array{import_version(kV21, 1, true)});
    // Every case: a good first agent, then a second agent changed by `edit`.
    auto add = [&](std::string label, std::string prefix, auto edit) {
        json::object second = good;
        edit(second);
        cases.push_back({std::move(label), json::array{base_file()[0], second}, std::move(prefix)});
    };
    auto first_version = [](json::object& a) -> json::object& {
        return a["versions"].as_array()[0].as_object();
    };

    cases.push_back({"top level object", json::object{{"agents", json::array{}}}, "the file "});
    cases.push_back({"top level string", json::value("agents"), "the file "});
    add("element not object", "agents[1] ", [](json::object&) {});
    cases.back().file.as_array()[1] = 5;
    add("id not a UUID", "agents[1].id ", [](json::object& a) { a["id"] = "not-a-uuid"; });
    add("id with braces", "agents[1].id ",
        [](json::object& a) { a["id"] = "{a2a2a2a2-2222-4222-8222-000000000002}"; });
    add("id a number", "agents[1].id ", [](json::object& a) { a["id"] = 12; });
    add("id missing", "agents[1].id ", [](json::object& a) { a.erase("id"); });
    add("organizationId missing", "agents[1].organizationId ",
        [](json::object& a) { a.erase("organizationId"); });
    add("organizationId not a UUID", "agents[1].organizationId ",
        [](json::object& a) { a["organizationId"] = "acme"; });
    add("name empty", "agents[1].name ", [](json::object& a) { a["name"] = ""; });
    add("name missing", "agents[1].name ", [](json::object& a) { a.erase("name"); });
    add("name null", "agents[1].name ", [](json::object& a) { a["name"] = nullptr; });
    add("description a number", "agents[1].description ",
        [](json::object& a) { a["description"] = 5; });
    add("agentType BOT", "agents[1].agentType ", [](json::object& a) { a["agentType"] = "BOT"; });
    add("agentType lower case", "agents[1].agentType ",
        [](json::object& a) { a["agentType"] = "text"; });
    add("agentType missing", "agents[1].agentType ", [](json::object& a) { a.erase("agentType"); });
    add("deleted yes", "agents[1].deleted ", [](json::object& a) { a["deleted"] = "yes"; });
    add("deleted null", "agents[1].deleted ", [](json::object& a) { a["deleted"] = nullptr; });
    add("versions not array", "agents[1].versions ",
        [](json::object& a) { a["versions"] = json::object{}; });
    add("version not object", "agents[1].versions[0] ",
        [](json::object& a) { a["versions"].as_array()[0] = "v1"; });
    add("version id not UUID", "agents[1].versions[0].id ",
        [&](json::object& a) { first_version(a)["id"] = "v1"; });
    add("version 0", "agents[1].versions[0].version ",
        [&](json::object& a) { first_version(a)["version"] = 0; });
    add("version -1", "agents[1].versions[0].version ",
        [&](json::object& a) { first_version(a)["version"] = -1; });
    add("version 1.5", "agents[1].versions[0].version ",
        [&](json::object& a) { first_version(a)["version"] = 1.5; });
    add("version \"1\"", "agents[1].versions[0].version ",
        [&](json::object& a) { first_version(a)["version"] = "1"; });
    add("version missing", "agents[1].versions[0].version ",
        [&](json::object& a) { first_version(a).erase("version"); });
    add("version name empty", "agents[1].versions[0].name ",
        [&](json::object& a) { first_version(a)["name"] = ""; });
    add("mode CHAT", "agents[1].versions[0].mode ",
        [&](json::object& a) { first_version(a)["mode"] = "CHAT"; });
    add("mode missing", "agents[1].versions[0].mode ",
        [&](json::object& a) { first_version(a).erase("mode"); });
    add("smsTemperature hot", "agents[1].versions[0].smsTemperature ",
        [&](json::object& a) { first_version(a)["smsTemperature"] = "hot"; });
    add("smsMaxTokens true", "agents[1].versions[0].smsMaxTokens ",
        [&](json::object& a) { first_version(a)["smsMaxTokens"] = true; });
    add("discardInboundSms 1", "agents[1].versions[0].discardInboundSms ",
        [&](json::object& a) { first_version(a)["discardInboundSms"] = 1; });
    add("published \"true\"", "agents[1].versions[0].published ",
        [&](json::object& a) { first_version(a)["published"] = "true"; });
    add("published twice", "agents[1].versions[1].published ", [](json::object& a) {
        a["versions"].as_array().push_back(
            import_version("e2e2e2e2-2222-4222-8222-000000000022", 2, true));
    });
    add("duplicate agent id", "agents[1].id ", [](json::object& a) {
        a["id"] = kAgent1;
        a["versions"] = json::array{};
    });
    add("duplicate agent id in another case", "agents[1].id ", [](json::object& a) {
        a["id"] = "A1A1A1A1-1111-4111-8111-000000000001";
        a["versions"] = json::array{};
    });
    add("duplicate version id across agents", "agents[1].versions[0].id ",
        [&](json::object& a) { first_version(a)["id"] = kV12; });
    add("duplicate version id within an agent", "agents[1].versions[1].id ", [](json::object& a) {
        a["versions"].as_array().push_back(import_version(kV21, 2, false));
    });
    add("duplicate version number", "agents[1].versions[1].version ", [](json::object& a) {
        a["versions"].as_array().push_back(
            import_version("e2e2e2e2-2222-4222-8222-000000000022", 1, false));
    });
    // The same problems in the first element name index 0.
    cases.push_back(
        {"first element", json::array{json::object{{"id", kAgent1}}}, "agents[0].organizationId "});

    for (const auto& c : cases) {
        const std::string text = json::serialize(c.file);
        const std::string message = parse_error(text);
        BOOST_TEST(message.rfind(c.prefix, 0) == 0u, c.label << ": got \"" << message
                                                             << "\", want it to start with \""
                                                             << c.prefix << "\"");
        BOOST_TEST(message.size() > c.prefix.size(), c.label << ": message names no problem");
        BOOST_TEST(message.find('\n') == std::string::npos, c.label << ": one line");
    }
}

BOOST_AUTO_TEST_CASE(messages_say_what_is_wrong) {
    auto second_with = [](auto edit) {
        json::object a =
            import_agent(kAgent2, kOrgB, "Caller", json::array{import_version(kV21, 1, true)});
        edit(a);
        return json::serialize(json::array{base_file()[0], a});
    };
    BOOST_TEST(parse_error(second_with([](json::object& a) {
                   a["versions"].as_array()[0].as_object()["mode"] = "CHAT";
               })) == R"(agents[1].versions[0].mode must be "FLOW" or "PROMPT")");
    BOOST_TEST(parse_error(second_with([](json::object& a) { a["agentType"] = "BOT"; })) ==
               R"(agents[1].agentType must be "CALL" or "TEXT")");
    BOOST_TEST(parse_error(second_with([](json::object& a) { a["id"] = "x"; })) ==
               "agents[1].id must be a UUID");
    BOOST_TEST(parse_error(second_with([](json::object& a) { a.erase("organizationId"); })) ==
               "agents[1].organizationId is required");
}

BOOST_AUTO_TEST_CASE(malformed_json_is_refused) {
    BOOST_TEST(parse_error("").find("the file") == 0u);
    BOOST_TEST(parse_error("[{]").find("the file") == 0u);
    BOOST_TEST(parse_error("[] []").find("the file") == 0u);
    BOOST_TEST(parse_error("not json").find("request body") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_repeated_json_key_is_refused_and_named) {
    const std::string text = R"([
      {"id": "a1a1a1a1-1111-4111-8111-000000000001", "organizationId": "aaaaaaaa-0000-4000-8000-000000000001",
       "name": "One", "agentType": "TEXT"},
      {"id": "a2a2a2a2-2222-4222-8222-000000000002", "organizationId": "aaaaaaaa-0000-4000-8000-000000000001",
       "name": "Two", "name": "Deux", "agentType": "TEXT"}
    ])";
    const std::string message = parse_error(text);
    BOOST_TEST(message.find("repeats") != std::string::npos, message);
    BOOST_TEST(message.find("\"name\"") != std::string::npos, message);
    BOOST_TEST(message.find("request body") == std::string::npos, message);
}

// A malformed import file is refused with a message that names the element and field. For a
// repeated key the message names the key but not the element, because the strict JSON parser stops
// before the element is known. Known gap, reported; remove the decorator once the message names
// "agents[1]".
BOOST_AUTO_TEST_CASE(a_repeated_json_key_message_names_the_element) {
    const std::string text = R"([
      {"id": "a1a1a1a1-1111-4111-8111-000000000001", "organizationId": "aaaaaaaa-0000-4000-8000-000000000001",
       "name": "One", "agentType": "TEXT"},
      {"id": "a2a2a2a2-2222-4222-8222-000000000002", "organizationId": "aaaaaaaa-0000-4000-8000-000000000001",
       "name": "Two", "name": "Deux", "agentType": "TEXT"}
    ])";
    const std::string message = parse_error(text);
    BOOST_TEST(message == "agents[1] repeats the key \"name\"", message);
}

BOOST_AUTO_TEST_CASE(apply_creates_organizations_agents_and_versions) {
    StoreFixture store(DemoSeed::kNever);
    const ImportSummary summary = import_file(store.connection, base_file());
    BOOST_TEST(summary.agents == 2u);
    BOOST_TEST(summary.versions == 3u);
    BOOST_TEST(summary.organizations_created == 2u);

    auto& c = store.connection;
    BOOST_TEST(threadsd::store::sqlite::organization_exists(c, kOrgA));
    BOOST_TEST(threadsd::store::sqlite::organization_exists(c, kOrgB));
    BOOST_TEST(query_int(c, "SELECT count(*) FROM organizations") == 2);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agents") == 2);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agent_versions") == 3);

    const std::string a1 = std::string("'") + kAgent1 + "'";
    BOOST_TEST(*query_optional_text(c, "SELECT organization_id FROM agents WHERE id = " + a1) ==
               kOrgA);
    BOOST_TEST(*query_optional_text(c, "SELECT name FROM agents WHERE id = " + a1) ==
               "Support bot");
    BOOST_TEST(!query_optional_text(c, "SELECT description FROM agents WHERE id = " + a1));
    BOOST_TEST(*query_optional_text(c, "SELECT agent_type FROM agents WHERE id = " + a1) == "TEXT");
    BOOST_TEST(query_int(c, "SELECT deleted FROM agents WHERE id = " + a1) == 0);

    const std::string v11 = std::string("'") + kV11 + "'";
    BOOST_TEST(*query_optional_text(c, "SELECT agent_id FROM agent_versions WHERE id = " + v11) ==
               kAgent1);
    BOOST_TEST(query_int(c, "SELECT version FROM agent_versions WHERE id = " + v11) == 1);
    BOOST_TEST(*query_optional_text(c, "SELECT mode FROM agent_versions WHERE id = " + v11) ==
               "PROMPT");
    BOOST_TEST(
        !query_optional_real(c, "SELECT sms_max_tokens FROM agent_versions WHERE id = " + v11));
    BOOST_TEST(*query_optional_real(
                   c, "SELECT sms_temperature FROM agent_versions WHERE id = " + v11) == 0.7);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = " + v11) == 1);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = '" +
                                std::string(kV12) + "'") == 0);

    BOOST_TEST(listed_published_version(c, kAgent1) == kV11);
    BOOST_TEST(listed_published_version(c, kAgent2) == kV21);
}

BOOST_AUTO_TEST_CASE(reimporting_the_same_file_changes_nothing) {
    StoreFixture store(DemoSeed::kWhenCreated);
    import_file(store.connection, base_file());
    const std::string before = dump_tables(store.connection);
    const ImportSummary again = import_file(store.connection, base_file());
    BOOST_TEST(again.organizations_created == 0u);
    BOOST_TEST(again.agents == 2u);
    BOOST_TEST(again.versions == 3u);
    BOOST_TEST(dump_tables(store.connection) == before);
}

BOOST_AUTO_TEST_CASE(a_changed_file_updates_in_place) {
    StoreFixture store(DemoSeed::kNever);
    auto& c = store.connection;
    import_file(c, base_file());

    // Rename, describe, change type, and move the published flag from v1 to v2.
    json::array changed = base_file();
    auto& a1 = changed[0].as_object();
    a1["name"] = "Support bot 2";
    a1["description"] = "Now with a description";
    a1["agentType"] = "CALL";
    a1["versions"] = json::array{import_version(kV11, 1, false), import_version(kV12, 2, true)};
    a1["versions"].as_array()[1].as_object()["name"] = "v2 renamed";
    const ImportSummary summary = import_file(c, changed);
    BOOST_TEST(summary.organizations_created == 0u);

    const std::string where_a1 = std::string(" WHERE id = '") + kAgent1 + "'";
    BOOST_TEST(*query_optional_text(c, "SELECT name FROM agents" + where_a1) == "Support bot 2");
    BOOST_TEST(*query_optional_text(c, "SELECT description FROM agents" + where_a1) ==
               "Now with a description");
    BOOST_TEST(*query_optional_text(c, "SELECT agent_type FROM agents" + where_a1) == "CALL");
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agents") == 2);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = '" +
                                std::string(kV11) + "'") == 0);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = '" +
                                std::string(kV12) + "'") == 1);
    BOOST_TEST(*query_optional_text(c, "SELECT name FROM agent_versions WHERE id = '" +
                                           std::string(kV12) + "'") == "v2 renamed");
    BOOST_TEST(listed_published_version(c, kAgent1) == kV12);
    // The other agent is untouched.
    BOOST_TEST(listed_published_version(c, kAgent2) == kV21);

    // Soft delete and undelete.
    changed[1].as_object()["deleted"] = true;
    import_file(c, changed);
    BOOST_TEST(
        query_int(c, "SELECT deleted FROM agents WHERE id = '" + std::string(kAgent2) + "'") == 1);
    changed[1].as_object()["deleted"] = false;
    import_file(c, changed);
    BOOST_TEST(
        query_int(c, "SELECT deleted FROM agents WHERE id = '" + std::string(kAgent2) + "'") == 0);
}

BOOST_AUTO_TEST_CASE(versions_missing_from_the_file_are_kept_but_unpublished) {
    StoreFixture store(DemoSeed::kNever);
    auto& c = store.connection;
    import_file(c, base_file());

    // Only a new v3, published: v1 (was published) and v2 stay, neither published.
    json::array changed = base_file();
    changed[0].as_object()["versions"] = json::array{import_version(kV13, 3, true)};
    import_file(c, changed);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agent_versions WHERE agent_id = '" +
                                std::string(kAgent1) + "'") == 3);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = '" +
                                std::string(kV11) + "'") == 0);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = '" +
                                std::string(kV12) + "'") == 0);
    BOOST_TEST(query_int(c, "SELECT published FROM agent_versions WHERE id = '" +
                                std::string(kV13) + "'") == 1);
    BOOST_TEST(listed_published_version(c, kAgent1) == kV13);

    // No versions at all in the file: every version is kept, none is published.
    changed[0].as_object().erase("versions");
    import_file(c, changed);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agent_versions WHERE agent_id = '" +
                                std::string(kAgent1) + "'") == 3);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agent_versions WHERE agent_id = '" +
                                std::string(kAgent1) + "' AND published = 1") == 0);
    BOOST_TEST(listed_published_version(c, kAgent1) == "null");
}

BOOST_AUTO_TEST_CASE(an_agent_of_another_organization_is_refused_and_nothing_changes) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    import_file(c, base_file());
    const std::string before = dump_tables(c);

    // A valid new agent (in a new organization) first, then the demo Support bot claimed
    // by organization A: the whole file is refused, the first agent included.
    json::array file{
        import_agent(kAgent3, "cccccccc-0000-4000-8000-000000000003", "New",
                     json::array{import_version(kV31, 1, true)}),
        import_agent(demo::kSupportBot, kOrgA, "Stolen", json::array{}),
    };
    BOOST_CHECK_EXCEPTION(import_file(c, file), AdminError, [](const AdminError& error) {
        return message_starts_with(error, "agents[1].organizationId ");
    });
    BOOST_TEST(dump_tables(c) == before);

    // The store is still usable afterwards.
    file.pop_back();
    BOOST_TEST(import_file(c, file).organizations_created == 1u);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM agents") == 4 + 2 + 1);
}

BOOST_AUTO_TEST_CASE(a_version_of_another_agent_is_refused_and_nothing_changes) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    import_file(c, base_file());
    const std::string before = dump_tables(c);

    // Agent 3 (new) claims version v1 of agent 1; agent 1 itself is listed first and
    // changed (renamed, v1 left out, v2 published), so its update must be rolled back too.
    json::array file = base_file();
    file[0].as_object()["name"] = "Renamed";
    file[0].as_object()["versions"] = json::array{import_version(kV12, 2, true)};
    file.push_back(
        import_agent(kAgent3, kOrgA, "Thief", json::array{import_version(kV11, 7, true)}));
    BOOST_CHECK_EXCEPTION(import_file(c, file), AdminError, [](const AdminError& error) {
        return message_starts_with(error, "agents[2].versions[0].id ");
    });
    BOOST_TEST(dump_tables(c) == before);

    // Also a demo version claimed by an agent of another organization.
    json::array demo_file{import_agent(kAgent3, kOrgB, "Thief", json::array{})};
    demo_file[0].as_object()["versions"] =
        json::array{import_version("7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e11", 1, false)};
    BOOST_CHECK_EXCEPTION(import_file(c, demo_file), AdminError, [](const AdminError& error) {
        return message_starts_with(error, "agents[0].versions[0].id ");
    });
    BOOST_TEST(dump_tables(c) == before);
}

BOOST_AUTO_TEST_CASE(a_version_number_clash_is_refused_and_nothing_changes) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    import_file(c, base_file());
    const std::string before = dump_tables(c);

    // v1 of agent 1 is left out of the file, and a new version takes its number 1.
    json::array file = base_file();
    file[0].as_object()["versions"] =
        json::array{import_version(kV12, 2, false), import_version(kV13, 1, true)};
    BOOST_CHECK_EXCEPTION(import_file(c, file), AdminError, [](const AdminError& error) {
        return message_starts_with(error, "agents[0].versions[1].version ");
    });
    BOOST_TEST(dump_tables(c) == before);

    // An existing version renumbered onto another existing one.
    file = base_file();
    file[0].as_object()["versions"] = json::array{import_version(kV12, 1, false)};
    BOOST_CHECK_EXCEPTION(import_file(c, file), AdminError, [](const AdminError& error) {
        return message_starts_with(error, "agents[0].versions[0].version ");
    });
    BOOST_TEST(dump_tables(c) == before);
}

BOOST_AUTO_TEST_SUITE_END()
