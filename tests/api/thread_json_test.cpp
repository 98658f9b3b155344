#include "threadsd/api/thread_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using threadsd::api::thread_body;
using threadsd::api::write_thread;
using threadsd::store::ThreadRecord;
using threadsd::util::JsonWriter;

constexpr std::int64_t kCreated = 1'795'895'673'123;  // 2026-11-28T19:54:33.123Z

// The upstream schema's `required` list of the thread object, then its two optional maps.
const std::vector<std::string> kRequiredThreadFields = {"id",
                                                        "organizationId",
                                                        "agentVersionId",
                                                        "toPhoneNumber",
                                                        "fromPhoneNumber",
                                                        "fromPhoneNumberId",
                                                        "leadId",
                                                        "isActive",
                                                        "createdAt",
                                                        "updatedAt",
                                                        "closedAt",
                                                        "closedReason",
                                                        "agentId",
                                                        "agentDetails",
                                                        "agentVersionDetails"};
const std::vector<std::string> kAgentDetailsFields = {"id", "name", "description", "agentType"};
const std::vector<std::string> kVersionDetailsFields = {
    "id", "version", "name", "mode", "smsMaxTokens", "smsTemperature", "discardInboundSms"};
// Schema order of the thread object's properties.
const std::vector<std::string> kSchemaOrder = {"id",
                                               "organizationId",
                                               "agentVersionId",
                                               "toPhoneNumber",
                                               "fromPhoneNumber",
                                               "fromPhoneNumberId",
                                               "leadId",
                                               "isActive",
                                               "createdAt",
                                               "updatedAt",
                                               "closedAt",
                                               "closedReason",
                                               "metadata",
                                               "variables",
                                               "agentId",
                                               "agentDetails",
                                               "agentVersionDetails"};

/// A new web thread as the create endpoint stores it.
ThreadRecord web_thread() {
    ThreadRecord thread;
    thread.id = "01a223b9-4123-7abc-8def-0123456789ab";
    thread.organization_id = "11111111-1111-4111-8111-111111111111";
    thread.to_phone_number = "";
    thread.is_active = true;
    thread.created_at = kCreated;
    thread.updated_at = kCreated;
    thread.agent.id = "22222222-2222-4222-8222-222222222222";
    thread.agent.organization_id = thread.organization_id;
    thread.agent.name = "Support bot";
    thread.agent.description = std::nullopt;
    thread.agent.agent_type = "TEXT";
    thread.agent_version.id = "33333333-3333-4333-8333-333333333333";
    thread.agent_version.version = 3;
    thread.agent_version.name = "v3";
    thread.agent_version.mode = "PROMPT";
    thread.agent_version.sms_max_tokens = 256.0;
    thread.agent_version.sms_temperature = 0.7;
    thread.agent_version.discard_inbound_sms = false;
    return thread;
}

/// A thread with every optional field set.
ThreadRecord closed_thread() {
    ThreadRecord thread = web_thread();
    thread.to_phone_number = "+15550100";
    thread.from_phone_number = "+15550199";
    thread.from_phone_number_id = "44444444-4444-4444-8444-444444444444";
    thread.lead_id = "lead-7";
    thread.is_active = false;
    thread.updated_at = kCreated + 60'000;
    thread.closed_at = kCreated + 60'000;
    thread.closed_reason = "ENDED";
    thread.metadata_json = R"({"zeta":"1","alpha":"a\"q\\b","nul":"x\u0000y"})";
    thread.variables_json = R"({"name":"Ada"})";
    thread.agent.description = "Answers \"questions\"\nday and night";
    thread.agent.agent_type = "CALL";
    thread.agent_version.mode = "FLOW";
    thread.agent_version.sms_max_tokens = std::nullopt;
    thread.agent_version.sms_temperature = std::nullopt;
    thread.agent_version.discard_inbound_sms = true;
    return thread;
}

json::object thread_object(const ThreadRecord& record) {
    const json::value body = json::parse(thread_body(record));
    BOOST_TEST_REQUIRE(body.is_object());
    BOOST_TEST_REQUIRE(body.as_object().size() == 1u);
    BOOST_TEST_REQUIRE(body.as_object().contains("thread"));
    BOOST_TEST_REQUIRE(body.at("thread").is_object());
    return body.at("thread").as_object();
}

std::vector<std::string> keys_of(const json::object& object) {
    std::vector<std::string> keys;
    for (const auto& entry : object) {
        keys.emplace_back(entry.key());
    }
    return keys;
}

std::string text(const json::value& value) {
    BOOST_TEST_REQUIRE(value.is_string());
    return std::string(value.as_string().data(), value.as_string().size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_thread_json)

BOOST_AUTO_TEST_CASE(every_upstream_field_present_in_schema_order) {
    for (const auto& record : {web_thread(), closed_thread()}) {
        const json::object thread = thread_object(record);
        for (const auto& field : kRequiredThreadFields) {
            BOOST_TEST(thread.contains(field), "missing " << field);
        }
        BOOST_TEST(thread.contains("metadata"));
        BOOST_TEST(thread.contains("variables"));
        BOOST_TEST(keys_of(thread) == kSchemaOrder, boost::test_tools::per_element());
        BOOST_TEST(keys_of(thread.at("agentDetails").as_object()) == kAgentDetailsFields,
                   boost::test_tools::per_element());
        BOOST_TEST(keys_of(thread.at("agentVersionDetails").as_object()) == kVersionDetailsFields,
                   boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(new_web_thread_values_and_types) {
    const ThreadRecord record = web_thread();
    const json::object thread = thread_object(record);
    BOOST_TEST(text(thread.at("id")) == record.id);
    BOOST_TEST(text(thread.at("organizationId")) == record.organization_id);
    BOOST_TEST(text(thread.at("agentVersionId")) == record.agent_version.id);
    BOOST_TEST(text(thread.at("toPhoneNumber")) == "");
    BOOST_TEST(thread.at("fromPhoneNumber").is_null());
    BOOST_TEST(thread.at("fromPhoneNumberId").is_null());
    BOOST_TEST(thread.at("leadId").is_null());
    BOOST_TEST_REQUIRE(thread.at("isActive").is_bool());
    BOOST_TEST(thread.at("isActive").as_bool() == true);
    BOOST_TEST(text(thread.at("createdAt")) == "2026-11-28T19:54:33.123Z");
    BOOST_TEST(text(thread.at("updatedAt")) == "2026-11-28T19:54:33.123Z");
    BOOST_TEST(thread.at("closedAt").is_null());
    BOOST_TEST(thread.at("closedReason").is_null());
    BOOST_TEST(thread.at("metadata").is_null());
    BOOST_TEST(thread.at("variables").is_null());
    BOOST_TEST(text(thread.at("agentId")) == record.agent.id);

    const json::object& agent = thread.at("agentDetails").as_object();
    BOOST_TEST(text(agent.at("id")) == record.agent.id);
    BOOST_TEST(text(agent.at("name")) == "Support bot");
    BOOST_TEST(agent.at("description").is_null());
    BOOST_TEST(text(agent.at("agentType")) == "TEXT");

    const json::object& version = thread.at("agentVersionDetails").as_object();
    BOOST_TEST(text(version.at("id")) == record.agent_version.id);
    BOOST_TEST_REQUIRE(version.at("version").is_number());
    BOOST_TEST(version.at("version").as_int64() == 3);
    BOOST_TEST(text(version.at("name")) == "v3");
    BOOST_TEST(text(version.at("mode")) == "PROMPT");
    BOOST_TEST_REQUIRE(version.at("smsMaxTokens").is_number());
    BOOST_TEST(version.at("smsMaxTokens").to_number<double>() == 256.0);
    BOOST_TEST_REQUIRE(version.at("smsTemperature").is_number());
    BOOST_TEST(version.at("smsTemperature").to_number<double>() == 0.7,
               boost::test_tools::tolerance(1e-15));
    BOOST_TEST_REQUIRE(version.at("discardInboundSms").is_bool());
    BOOST_TEST(version.at("discardInboundSms").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(numbers_are_written_plainly) {
    const std::string body = thread_body(web_thread());
    BOOST_TEST(body.find(R"("smsMaxTokens":256,)") != std::string::npos, body);
    BOOST_TEST(body.find(R"("smsTemperature":0.7,)") != std::string::npos, body);
    BOOST_TEST(body.find(R"("version":3,)") != std::string::npos, body);
    BOOST_TEST(body.find(R"("isActive":true,)") != std::string::npos, body);
}

BOOST_AUTO_TEST_CASE(closed_thread_with_every_optional_field_set) {
    const ThreadRecord record = closed_thread();
    const json::object thread = thread_object(record);
    BOOST_TEST(text(thread.at("toPhoneNumber")) == "+15550100");
    BOOST_TEST(text(thread.at("fromPhoneNumber")) == "+15550199");
    BOOST_TEST(text(thread.at("fromPhoneNumberId")) == "44444444-4444-4444-8444-444444444444");
    BOOST_TEST(text(thread.at("leadId")) == "lead-7");
    BOOST_TEST(thread.at("isActive").as_bool() == false);
    BOOST_TEST(text(thread.at("createdAt")) == "2026-11-28T19:54:33.123Z");
    BOOST_TEST(text(thread.at("updatedAt")) == "2026-11-28T19:55:33.123Z");
    BOOST_TEST(text(thread.at("closedAt")) == "2026-11-28T19:55:33.123Z");
    BOOST_TEST(text(thread.at("closedReason")) == "ENDED");

    const json::object& agent = thread.at("agentDetails").as_object();
    BOOST_TEST(text(agent.at("description")) == "Answers \"questions\"\nday and night");
    BOOST_TEST(text(agent.at("agentType")) == "CALL");

    const json::object& version = thread.at("agentVersionDetails").as_object();
    BOOST_TEST(text(version.at("mode")) == "FLOW");
    BOOST_TEST(version.at("smsMaxTokens").is_null());
    BOOST_TEST(version.at("smsTemperature").is_null());
    BOOST_TEST(version.at("discardInboundSms").as_bool() == true);
}

BOOST_AUTO_TEST_CASE(metadata_and_variables_embedded_as_stored) {
    const ThreadRecord record = closed_thread();
    const std::string body = thread_body(record);
    // The stored text is embedded verbatim, not re-serialized or quoted.
    BOOST_TEST(body.find(R"("metadata":)" + *record.metadata_json + ",") != std::string::npos,
               body);
    BOOST_TEST(body.find(R"("variables":)" + *record.variables_json + ",") != std::string::npos,
               body);

    const json::object thread = thread_object(record);
    BOOST_TEST_REQUIRE(thread.at("metadata").is_object());
    const json::object& metadata = thread.at("metadata").as_object();
    BOOST_TEST(keys_of(metadata) == (std::vector<std::string>{"zeta", "alpha", "nul"}),
               boost::test_tools::per_element());
    BOOST_TEST(text(metadata.at("alpha")) == "a\"q\\b");
    BOOST_TEST(text(metadata.at("nul")) == std::string("x\0y", 3));
    BOOST_TEST_REQUIRE(thread.at("variables").is_object());
    BOOST_TEST(text(thread.at("variables").at("name")) == "Ada");
}

BOOST_AUTO_TEST_CASE(timestamps_before_1970_and_far_future) {
    ThreadRecord record = web_thread();
    record.created_at = -1;
    record.updated_at = 253'402'300'799'999;
    record.closed_at = 0;
    const json::object thread = thread_object(record);
    BOOST_TEST(text(thread.at("createdAt")) == "1969-12-31T23:59:59.999Z");
    BOOST_TEST(text(thread.at("updatedAt")) == "9999-12-31T23:59:59.999Z");
    BOOST_TEST(text(thread.at("closedAt")) == "1970-01-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(write_thread_composes_inside_other_json) {
    JsonWriter out;
    out.begin_object().key("threads").begin_array();
    write_thread(out, web_thread());
    write_thread(out, closed_thread());
    out.end_array().key("count").number(std::int64_t{2}).end_object();
    const json::value value = json::parse(out.str());
    BOOST_TEST_REQUIRE(value.at("threads").as_array().size() == 2u);
    BOOST_TEST(value.at("threads").at(0).at("isActive").as_bool() == true);
    BOOST_TEST(value.at("threads").at(1).at("isActive").as_bool() == false);
    BOOST_TEST(value.at("count").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(strings_are_escaped) {
    ThreadRecord record = web_thread();
    record.agent.name = std::string("tab\there \"quoted\" back\\slash nul") + '\0' + " \xc3\xa9";
    record.agent_version.name = "line\nbreak";
    const json::object thread = thread_object(record);
    BOOST_TEST(text(thread.at("agentDetails").at("name")) == record.agent.name);
    BOOST_TEST(text(thread.at("agentVersionDetails").at("name")) == "line\nbreak");
}

BOOST_AUTO_TEST_CASE(fractional_and_large_numbers) {
    ThreadRecord record = web_thread();
    record.agent_version.version = 9'007'199'254'740'993;  // beyond double precision
    record.agent_version.sms_max_tokens = 1.5;
    record.agent_version.sms_temperature = 0.0;
    const std::string body = thread_body(record);
    BOOST_TEST(body.find(R"("version":9007199254740993,)") != std::string::npos, body);
    BOOST_TEST(body.find(R"("smsMaxTokens":1.5,)") != std::string::npos, body);
    BOOST_TEST(body.find(R"("smsTemperature":0,)") != std::string::npos, body);
    const json::object thread = thread_object(record);
    BOOST_TEST(thread.at("agentVersionDetails").at("version").as_int64() == 9'007'199'254'740'993);
}

BOOST_AUTO_TEST_SUITE_END()
