#include "threadsd/api/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

namespace json = boost::json;
using threadsd::api::ApiError;
using threadsd::api::CreateThreadRequest;
using threadsd::api::ErrorCode;
using threadsd::api::InputLimits;
using threadsd::api::parse_create_request;
using threadsd::api::validate_string_map;

constexpr std::string_view kAgent = "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f";
const InputLimits kDefaults{};
// Small limits: 3 keys, keys of at most 4 bytes, values of at most 5 bytes.
const InputLimits kSmall{3, 4, 5};

const std::string kEacute = "\xc3\xa9";    // 2 UTF-8 bytes, 1 code point
const std::string kEuro = "\xe2\x82\xac";  // 3 UTF-8 bytes, 1 code point

std::string repeat(const std::string& piece, std::size_t times) {
    std::string out;
    out.reserve(piece.size() * times);
    for (std::size_t i = 0; i < times; ++i) {
        out += piece;
    }
    return out;
}

/// A JSON string literal for `text` (which holds no quote, backslash or control char).
std::string lit(const std::string& text) {
    return "\"" + text + "\"";
}

/// A JSON object with `count` keys k0, k1, ... each mapped to "v".
std::string object_with_keys(std::size_t count) {
    std::string out = "{";
    for (std::size_t i = 0; i < count; ++i) {
        out += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
    }
    return out + "}";
}

std::string create_body(std::string_view members) {
    return "{\"agentId\":\"" + std::string(kAgent) + "\"" +
           (members.empty() ? "" : "," + std::string(members)) + "}";
}

/// validate_string_map on a JSON text: the error, or nothing when accepted.
std::optional<ApiError> check_map(const std::string& json_text, const InputLimits& limits,
                                  std::string_view field = "metadata") {
    return validate_string_map(json::parse(json_text), field, limits);
}

void expect_map_ok(const std::string& json_text, const InputLimits& limits) {
    const auto error = check_map(json_text, limits);
    BOOST_TEST(!error.has_value(),
               "refused: " << (error ? error->message : "") << " for " << json_text.substr(0, 80));
}

void expect_map_refused(const std::string& json_text, const InputLimits& limits,
                        std::string_view field = "metadata") {
    const auto error = check_map(json_text, limits, field);
    BOOST_TEST_REQUIRE(error.has_value(), "accepted: " << json_text.substr(0, 80));
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
    BOOST_TEST(error->message.find(field) != std::string::npos, error->message);
}

CreateThreadRequest expect_created(const std::string& body,
                                   const InputLimits& limits = InputLimits{}) {
    auto result = parse_create_request(body, limits);
    if (auto* error = std::get_if<ApiError>(&result)) {
        BOOST_FAIL("refused: " << error->message << " for " << body.substr(0, 120));
    }
    return std::get<CreateThreadRequest>(std::move(result));
}

/// The error of a refused body; checks it is a 400 and its message names `field`.
ApiError expect_create_refused(const std::string& body, std::string_view field,
                               const InputLimits& limits = InputLimits{}) {
    auto result = parse_create_request(body, limits);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted: " << body.substr(0, 120));
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
    BOOST_TEST(error->message.find(field) != std::string::npos,
               "message '" << error->message << "' should name " << field);
    return *error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_validation)

// --- validate_string_map ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(map_accepts_empty_and_ordinary_maps) {
    expect_map_ok("{}", kDefaults);
    expect_map_ok(R"({"a":"1","b":"","c":"three"})", kDefaults);
}

BOOST_AUTO_TEST_CASE(map_key_count_limit_default) {
    expect_map_ok(object_with_keys(64), kDefaults);
    expect_map_refused(object_with_keys(65), kDefaults);
}

BOOST_AUTO_TEST_CASE(map_key_count_limit_custom) {
    expect_map_ok(object_with_keys(3), kSmall);
    expect_map_refused(object_with_keys(4), kSmall);
    expect_map_ok(object_with_keys(1), InputLimits{1, 128, 8192});
    expect_map_refused(object_with_keys(2), InputLimits{1, 128, 8192});
}

BOOST_AUTO_TEST_CASE(map_key_bytes_limit_default) {
    expect_map_ok("{" + lit(std::string(128, 'k')) + ":\"v\"}", kDefaults);
    expect_map_refused("{" + lit(std::string(129, 'k')) + ":\"v\"}", kDefaults);
    // Bytes, not code points: 64 two-byte characters are 128 bytes (ok) ...
    expect_map_ok("{" + lit(repeat(kEacute, 64)) + ":\"v\"}", kDefaults);
    // ... and 43 three-byte characters are 129 bytes, refused though only 43 code points.
    expect_map_refused("{" + lit(repeat(kEuro, 43)) + ":\"v\"}", kDefaults);
    expect_map_refused("{" + lit(repeat(kEacute, 64) + "k") + ":\"v\"}", kDefaults);
}

BOOST_AUTO_TEST_CASE(map_key_bytes_limit_custom) {
    expect_map_ok(R"({"abcd":"v"})", kSmall);
    expect_map_refused(R"({"abcde":"v"})", kSmall);
    expect_map_ok("{" + lit(repeat(kEacute, 2)) + ":\"v\"}", kSmall);             // 4 bytes
    expect_map_refused("{" + lit(repeat(kEacute, 2) + "a") + ":\"v\"}", kSmall);  // 5 bytes
    expect_map_refused("{" + lit(repeat(kEuro, 2)) + ":\"v\"}", kSmall);  // 6 bytes, 2 chars
}

BOOST_AUTO_TEST_CASE(map_sizes_count_decoded_bytes_not_escapes) {
    // 64 \u00e9 escapes: 384 characters of JSON, 128 bytes once decoded: accepted.
    expect_map_ok("{\"" + repeat("\\u00e9", 64) + "\":\"v\"}", kDefaults);
    expect_map_refused("{\"" + repeat("\\u00e9", 64) + "x\":\"v\"}", kDefaults);
    // A value of 5 escaped newlines is 5 bytes.
    expect_map_ok(R"({"k":"\n\n\n\n\n"})", kSmall);
    expect_map_refused(R"({"k":"\n\n\n\n\n\n"})", kSmall);
    // A surrogate pair is one 4-byte character.
    expect_map_ok(R"({"k":"\ud83d\ude00a"})", kSmall);
    expect_map_refused(R"({"k":"\ud83d\ude00ab"})", kSmall);
}

BOOST_AUTO_TEST_CASE(map_empty_key_refused) {
    expect_map_refused(R"({"":"v"})", kDefaults);
    expect_map_refused(R"({"a":"1","":"v"})", kSmall);
}

BOOST_AUTO_TEST_CASE(map_value_bytes_limit_default) {
    expect_map_ok("{\"k\":" + lit(std::string(8192, 'v')) + "}", kDefaults);
    expect_map_refused("{\"k\":" + lit(std::string(8193, 'v')) + "}", kDefaults);
    expect_map_ok("{\"k\":" + lit(repeat(kEacute, 4096)) + "}", kDefaults);  // 8192 bytes
    // 2731 euro signs: 2731 code points but 8193 bytes.
    expect_map_refused("{\"k\":" + lit(repeat(kEuro, 2731)) + "}", kDefaults);
    expect_map_ok("{\"k\":" + lit(repeat(kEuro, 2730) + "vv") + "}", kDefaults);  // 8192 bytes
}

BOOST_AUTO_TEST_CASE(map_value_bytes_limit_custom) {
    expect_map_ok(R"({"k":"12345"})", kSmall);
    expect_map_refused(R"({"k":"123456"})", kSmall);
    expect_map_ok("{\"k\":" + lit(repeat(kEacute, 2) + "a") + "}", kSmall);  // 5 bytes
    expect_map_refused("{\"k\":" + lit(repeat(kEuro, 2)) + "}", kSmall);     // 6 bytes
    expect_map_ok(R"({"k":""})", kSmall);
}

BOOST_AUTO_TEST_CASE(map_non_string_values_refused) {
    for (const char* value :
         {"1", "1.5", "-3", "true", "false", "null", "{}", R"({"a":"b"})", "[]", R"(["a"])"}) {
        expect_map_refused(std::string(R"({"ok":"x","bad":)") + value + "}", kDefaults);
        expect_map_refused(std::string(R"({"bad":)") + value + "}", kDefaults, "variables");
    }
}

BOOST_AUTO_TEST_CASE(map_not_an_object_refused) {
    for (const char* value : {"[]", R"(["a","b"])", R"("text")", "1", "true", "null"}) {
        expect_map_refused(value, kDefaults);
        expect_map_refused(value, kDefaults, "variables");
    }
}

// --- parse_create_request: agentId ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(create_minimal_body) {
    const auto request = expect_created(create_body(""));
    BOOST_TEST(request.agent_id == kAgent);
    BOOST_TEST(!request.metadata_json.has_value());
    BOOST_TEST(!request.variables_json.has_value());
}

BOOST_AUTO_TEST_CASE(create_agent_id_upper_case_is_normalized) {
    const auto request = expect_created(R"({"agentId":"0190A4C2-7D3E-7B6A-9F1E-3C2D1A0B9E8F"})");
    BOOST_TEST(request.agent_id == kAgent);
}

BOOST_AUTO_TEST_CASE(create_agent_id_refusals) {
    expect_create_refused("{}", "agentId");
    expect_create_refused(R"({"metadata":{"a":"b"}})", "agentId");
    expect_create_refused(R"({"agentId":null})", "agentId");
    expect_create_refused(R"({"agentId":12345})", "agentId");
    expect_create_refused(R"({"agentId":true})", "agentId");
    expect_create_refused(R"({"agentId":{}})", "agentId");
    expect_create_refused(R"({"agentId":["0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"]})", "agentId");
    expect_create_refused(R"({"agentId":""})", "agentId");
    expect_create_refused(R"({"agentId":"not-a-uuid"})", "agentId");
    expect_create_refused(R"({"agentId":"{0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f}"})", "agentId");
    expect_create_refused(R"({"agentId":"urn:uuid:0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"})",
                          "agentId");
    expect_create_refused(R"({"agentId":"0190a4c27d3e7b6a9f1e3c2d1a0b9e8f"})", "agentId");
    expect_create_refused(R"({"agentId":" 0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"})", "agentId");
    expect_create_refused(R"({"AgentId":"0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"})", "agentId");
}

// --- parse_create_request: body shape --------------------------------------------------------

BOOST_AUTO_TEST_CASE(create_body_not_a_json_object) {
    for (const char* body :
         {"", "not json", "{", R"({"agentId":)", "[]",
          R"(["0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"])", R"("agentId")", "42", "null", "true"}) {
        auto result = parse_create_request(body, kDefaults);
        const auto* error = std::get_if<ApiError>(&result);
        BOOST_TEST_REQUIRE(error != nullptr, "accepted: " << body);
        BOOST_TEST((error->code == ErrorCode::kBadRequest));
        BOOST_TEST(error->message.find("body") != std::string::npos, error->message);
    }
}

BOOST_AUTO_TEST_CASE(create_duplicate_key_refused) {
    const std::string body = R"({"agentId":"0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f",)"
                             R"("agentId":"0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"})";
    expect_create_refused(body, "agentId");
    expect_create_refused(create_body(R"("metadata":{"k":"1","k":"2"})"), "\"k\"");
}

BOOST_AUTO_TEST_CASE(create_unknown_properties_ignored) {
    const auto request = expect_created(create_body(
        R"("unknown":123,"nested":{"x":[1,2,{"y":null}]},"toPhoneNumber":"+1555","id":"x")"));
    BOOST_TEST(request.agent_id == kAgent);
    BOOST_TEST(!request.metadata_json.has_value());
    BOOST_TEST(!request.variables_json.has_value());
}

// --- parse_create_request: metadata and variables ------------------------------------------------

BOOST_AUTO_TEST_CASE(create_null_maps_mean_absent) {
    const auto request = expect_created(create_body(R"("metadata":null,"variables":null)"));
    BOOST_TEST(!request.metadata_json.has_value());
    BOOST_TEST(!request.variables_json.has_value());
}

BOOST_AUTO_TEST_CASE(create_empty_maps_are_kept) {
    const auto request = expect_created(create_body(R"("metadata":{},"variables":{})"));
    BOOST_TEST_REQUIRE(request.metadata_json.has_value());
    BOOST_TEST_REQUIRE(request.variables_json.has_value());
    BOOST_TEST(*request.metadata_json == "{}");
    BOOST_TEST(*request.variables_json == "{}");
}

BOOST_AUTO_TEST_CASE(create_maps_keep_key_order) {
    const auto request = expect_created(create_body(
        R"("metadata":{"zeta":"1","alpha":"2","mid":"3"},"variables":{"b":"x","a":"y"})"));
    BOOST_TEST_REQUIRE(request.metadata_json.has_value());
    BOOST_TEST(*request.metadata_json == R"({"zeta":"1","alpha":"2","mid":"3"})");
    BOOST_TEST_REQUIRE(request.variables_json.has_value());
    BOOST_TEST(*request.variables_json == R"({"b":"x","a":"y"})");
    const json::value parsed = json::parse(*request.metadata_json);
    auto it = parsed.as_object().begin();
    BOOST_TEST(it->key() == "zeta");
    BOOST_TEST((++it)->key() == "alpha");
    BOOST_TEST((++it)->key() == "mid");
}

BOOST_AUTO_TEST_CASE(create_nul_round_trips_in_maps) {
    const auto request = expect_created(
        create_body(R"("metadata":{"k":"a\u0000b","n\u0000":"x"},"variables":{"v":"\u0000"})"));
    BOOST_TEST_REQUIRE(request.metadata_json.has_value());
    const json::value metadata = json::parse(*request.metadata_json);
    const auto& value = metadata.as_object().at("k").as_string();
    BOOST_TEST(std::string(value.data(), value.size()) == std::string("a\0b", 3));
    BOOST_TEST(metadata.as_object().contains(std::string_view("n\0", 2)));
    BOOST_TEST_REQUIRE(request.variables_json.has_value());
    const json::value variables = json::parse(*request.variables_json);
    BOOST_TEST(variables.as_object().at("v").as_string().size() == 1u);
    BOOST_TEST(variables.as_object().at("v").as_string()[0] == '\0');
}

BOOST_AUTO_TEST_CASE(create_unicode_and_escapes_round_trip) {
    const std::string emoji = "\xf0\x9f\x98\x80";
    const auto request = expect_created(create_body(
        R"("metadata":{"quote":"say \"hi\"","slash":"a\\b","nl":"x\ny","emoji":"\ud83d\ude00",)"
        R"("raw":")" +
        kEuro + "\"}"));
    const json::value metadata = json::parse(*request.metadata_json);
    const auto& object = metadata.as_object();
    BOOST_TEST(object.at("quote").as_string() == "say \"hi\"");
    BOOST_TEST(object.at("slash").as_string() == "a\\b");
    BOOST_TEST(object.at("nl").as_string() == "x\ny");
    BOOST_TEST(object.at("emoji").as_string() == emoji);
    BOOST_TEST(object.at("raw").as_string() == kEuro);
}

BOOST_AUTO_TEST_CASE(create_limits_at_and_over_default) {
    // 64 keys, each at the key limit, one value at the value limit: accepted.
    std::string members = "{";
    for (int i = 0; i < 64; ++i) {
        std::string key = std::to_string(i);
        key += std::string(128 - key.size(), 'k');
        members += (i ? "," : "") + lit(key) + ":" + lit(i == 0 ? std::string(8192, 'v') : "v");
    }
    members += "}";
    const auto request = expect_created(create_body("\"metadata\":" + members));
    BOOST_TEST_REQUIRE(request.metadata_json.has_value());
    BOOST_TEST(json::parse(*request.metadata_json).as_object().size() == 64u);

    expect_create_refused(create_body("\"metadata\":" + object_with_keys(65)), "metadata");
    expect_create_refused(create_body("\"variables\":" + object_with_keys(65)), "variables");
    expect_create_refused(create_body("\"metadata\":{" + lit(std::string(129, 'k')) + ":\"v\"}"),
                          "metadata");
    expect_create_refused(create_body("\"variables\":{\"k\":" + lit(std::string(8193, 'v')) + "}"),
                          "variables");
}

BOOST_AUTO_TEST_CASE(create_limits_at_and_over_custom) {
    expect_created(create_body(R"("metadata":{"a":"12345","bb":"","éé":"x"})"), kSmall);
    expect_create_refused(create_body(R"("metadata":{"a":"1","b":"2","c":"3","d":"4"})"),
                          "metadata", kSmall);
    expect_create_refused(create_body(R"("variables":{"abcde":"1"})"), "variables", kSmall);
    expect_create_refused(create_body(R"("variables":{"k":"123456"})"), "variables", kSmall);
    expect_create_refused(create_body(R"("metadata":{"k":"€€"})"), "metadata", kSmall);
}

BOOST_AUTO_TEST_CASE(create_map_type_errors_name_the_field) {
    for (const char* bad : {"[]", R"("x")", "1", "true", R"({"k":1})", R"({"k":null})",
                            R"({"k":{}})", R"({"k":[]})", R"({"k":false})", R"({"":"v"})"}) {
        expect_create_refused(create_body(std::string("\"metadata\":") + bad), "metadata");
        expect_create_refused(create_body(std::string("\"variables\":") + bad), "variables");
    }
    // A good metadata does not hide a bad variables.
    expect_create_refused(create_body(R"("metadata":{"a":"b"},"variables":{"k":1})"), "variables");
}

BOOST_AUTO_TEST_CASE(create_agent_id_error_names_agent_id_even_with_bad_maps) {
    // Every error is one 400 that names one field; here both are wrong, agentId is reported.
    const ApiError error = expect_create_refused(R"({"agentId":"nope","metadata":[]})", "agentId");
    BOOST_TEST(error.message.find("metadata") == std::string::npos, error.message);
}

BOOST_AUTO_TEST_CASE(create_invalid_unicode_refused) {
    auto result = parse_create_request(create_body(R"("metadata":{"k":"\ud800"})"), kDefaults);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr);
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
    auto invalid = parse_create_request(create_body("\"metadata\":{\"k\":\"\xff\"}"), kDefaults);
    BOOST_TEST(std::holds_alternative<ApiError>(invalid));
}

BOOST_AUTO_TEST_CASE(create_maps_together_are_bounded_as_json) {
    // Each map within its own limits, but together over the bound: 20 + 20 bytes of JSON.
    InputLimits limits = kDefaults;
    limits.max_maps_bytes = 30;
    expect_created(create_body(R"("metadata":{"a":"0123456789"})"), limits);
    const ApiError error = expect_create_refused(
        create_body(R"("metadata":{"a":"0123456789"},"variables":{"b":"0123456789"})"), "30 bytes",
        limits);
    BOOST_TEST(error.message.find("metadata and variables") != std::string::npos, error.message);
    // Escapes count as the JSON that is stored and written, not as decoded bytes.
    expect_create_refused(create_body(R"("metadata":{"a":"\u0000\u0000\u0000\u0000"})"), "30 bytes",
                          limits);
}

BOOST_AUTO_TEST_CASE(check_maps_size_counts_both_maps) {
    InputLimits limits = kDefaults;
    limits.max_maps_bytes = 10;
    BOOST_TEST(!threadsd::api::check_maps_size(std::nullopt, std::nullopt, limits).has_value());
    BOOST_TEST(!threadsd::api::check_maps_size(std::string(5, 'x'), std::string(5, 'y'), limits));
    BOOST_TEST(threadsd::api::check_maps_size(std::string(5, 'x'), std::string(6, 'y'), limits)
                   .has_value());
    BOOST_TEST(
        threadsd::api::check_maps_size(std::string(11, 'x'), std::nullopt, limits).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
