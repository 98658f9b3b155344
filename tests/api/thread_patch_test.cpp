// parse_patch_request, merge_string_map and parse_close_request.

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "threadsd/api/validation.hpp"

namespace {

namespace json = boost::json;
using threadsd::api::ApiError;
using threadsd::api::ErrorCode;
using threadsd::api::InputLimits;
using threadsd::api::kDefaultCloseReason;
using threadsd::api::merge_string_map;
using threadsd::api::parse_close_request;
using threadsd::api::parse_patch_request;
using threadsd::api::PatchThreadRequest;

const InputLimits kDefaultLimits{};
// Small limits: 3 keys, keys of at most 4 bytes, values of at most 5 bytes.
const InputLimits kSmallLimits{3, 4, 5};

const std::string kTwoByteChar = "\xc3\xa9";           // 2 UTF-8 bytes, 1 code point
const std::string kThreeByteChar = "\xe2\x82\xac";     // 3 UTF-8 bytes, 1 code point
const std::string kFourByteChar = "\xf0\x9f\x98\x80";  // 4 UTF-8 bytes, 1 code point (U+1F600)
const std::string kNbsp = "\xc2\xa0";                  // U+00A0, not a control character
const std::string kNextLine = "\xc2\x85";              // U+0085, a C1 control character
const std::string kLastC1 = "\xc2\x9f";                // U+009F, the last C1 control character

std::string repeated(const std::string& piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) {
        out += piece;
    }
    return out;
}

/// A JSON object text with `count` keys k0, k1, ... each mapped to "v".
std::string patch_object_with_keys(std::size_t count, const std::string& prefix = "k") {
    json::object out;
    for (std::size_t i = 0; i < count; ++i) {
        out[prefix + std::to_string(i)] = "v";
    }
    return json::serialize(out);
}

// --- parse_patch_request helpers ---------------------------------------------------------

PatchThreadRequest expect_patch(const std::string& body,
                                const InputLimits& limits = kDefaultLimits) {
    auto result = parse_patch_request(body, limits);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error == nullptr, "refused: " << (error ? error->message : "") << " for "
                                                     << body.substr(0, 120));
    return std::get<PatchThreadRequest>(std::move(result));
}

ApiError expect_patch_refused(const std::string& body, std::string_view names,
                              const InputLimits& limits = kDefaultLimits) {
    auto result = parse_patch_request(body, limits);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted: " << body.substr(0, 120));
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
    BOOST_TEST(error->message.find(names) != std::string::npos,
               "message '" << error->message << "' should name " << names);
    return *error;
}

// --- merge_string_map helpers --------------------------------------------------------------

/// merge_string_map on JSON texts; the merged text (or nothing for null), failing on error.
std::optional<std::string> expect_merged(const std::optional<std::string>& stored,
                                         const std::string& patch,
                                         const InputLimits& limits = kDefaultLimits) {
    auto result = merge_string_map(stored, json::parse(patch).as_object(), "metadata", limits);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error == nullptr, "refused: " << (error ? error->message : ""));
    return std::get<std::optional<std::string>>(std::move(result));
}

ApiError expect_merge_refused(const std::optional<std::string>& stored, const std::string& patch,
                              std::string_view field, const InputLimits& limits = kDefaultLimits) {
    auto result = merge_string_map(stored, json::parse(patch).as_object(), field, limits);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted patch " << patch.substr(0, 120));
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
    BOOST_TEST(error->message.find(field) != std::string::npos, error->message);
    return *error;
}

/// The keys of a JSON object text, in order.
std::vector<std::string> keys_of(const std::string& text) {
    std::vector<std::string> keys;
    const json::value parsed = json::parse(text);
    for (const auto& entry : parsed.as_object()) {
        keys.emplace_back(entry.key());
    }
    return keys;
}

// --- parse_close_request helpers -----------------------------------------------------------

std::string expect_reason(const std::string& body) {
    auto result = parse_close_request(body);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error == nullptr,
                       "refused: " << (error ? error->message : "") << " for " << body);
    return std::get<std::string>(std::move(result));
}

ApiError expect_close_refused(const std::string& body) {
    auto result = parse_close_request(body);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted: " << body);
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
    return *error;
}

/// A close body whose reason is `reason` (serialized, so escapes are right).
std::string close_body(const std::string& reason) {
    return json::serialize(json::object{{"reason", reason}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_thread_patch)

// --- parse_patch_request -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(patch_body_must_be_a_json_object) {
    for (const char* body : {"[]", "\"metadata\"", "1", "null", "true", "[{\"metadata\":{}}]"}) {
        expect_patch_refused(body, "object");
    }
    for (const char* body : {"", "{", "{metadata:{}}", "{\"metadata\":{}} x", "{'a':1}"}) {
        auto result = parse_patch_request(body, kDefaultLimits);
        const auto* error = std::get_if<ApiError>(&result);
        BOOST_TEST_REQUIRE(error != nullptr, "accepted: " << body);
        BOOST_TEST((error->code == ErrorCode::kBadRequest));
        BOOST_TEST(!error->message.empty());
    }
}

BOOST_AUTO_TEST_CASE(patch_of_an_empty_object_changes_nothing) {
    const PatchThreadRequest request = expect_patch("{}");
    BOOST_TEST(!request.metadata.has_value());
    BOOST_TEST(!request.variables.has_value());
}

BOOST_AUTO_TEST_CASE(patch_map_null_or_absent_means_leave_as_it_is) {
    const PatchThreadRequest nulls = expect_patch(R"({"metadata":null,"variables":null})");
    BOOST_TEST(!nulls.metadata.has_value());
    BOOST_TEST(!nulls.variables.has_value());
    const PatchThreadRequest only_variables = expect_patch(R"({"variables":{"a":"1"}})");
    BOOST_TEST(!only_variables.metadata.has_value());
    BOOST_TEST_REQUIRE(only_variables.variables.has_value());
    BOOST_TEST(json::serialize(*only_variables.variables) == R"({"a":"1"})");
    // An empty patch object is a patch (that changes nothing), not "absent".
    const PatchThreadRequest empty = expect_patch(R"({"metadata":{}})");
    BOOST_TEST_REQUIRE(empty.metadata.has_value());
    BOOST_TEST(empty.metadata->empty());
}

BOOST_AUTO_TEST_CASE(patch_keeps_string_and_null_values_in_order) {
    const PatchThreadRequest request =
        expect_patch(R"({"metadata":{"z":"1","a":null,"m":""},"variables":{"x":null}})");
    BOOST_TEST_REQUIRE(request.metadata.has_value());
    BOOST_TEST(json::serialize(*request.metadata) == R"({"z":"1","a":null,"m":""})");
    BOOST_TEST_REQUIRE(request.variables.has_value());
    BOOST_TEST(request.variables->at("x").is_null());
}

BOOST_AUTO_TEST_CASE(patch_map_that_is_not_an_object_is_refused_by_name) {
    for (const char* value : {"\"x\"", "[]", "[\"a\"]", "5", "true", "false"}) {
        expect_patch_refused(std::string(R"({"metadata":)") + value + "}", "metadata");
        expect_patch_refused(std::string(R"({"variables":)") + value + "}", "variables");
    }
}

BOOST_AUTO_TEST_CASE(patch_values_other_than_string_or_null_are_refused) {
    for (const char* value :
         {"1", "0", "1.5", "true", "false", "{}", "[]", "[\"a\"]", "{\"a\":\"b\"}"}) {
        expect_patch_refused(std::string(R"({"metadata":{"a":"ok","b":)") + value + "}}",
                             "metadata");
        expect_patch_refused(std::string(R"({"variables":{"b":)") + value + "}}", "variables");
    }
}

BOOST_AUTO_TEST_CASE(patch_key_bytes_limit) {
    const std::string key128(128, 'k');
    const std::string key129(129, 'k');
    expect_patch(R"({"metadata":{")" + key128 + R"(":"v"}})");
    expect_patch(R"({"metadata":{")" + key128 + R"(":null}})");
    expect_patch_refused(R"({"metadata":{")" + key129 + R"(":"v"}})", "metadata");
    // The per-key rules apply to removals too.
    expect_patch_refused(R"({"variables":{")" + key129 + R"(":null}})", "variables");
    expect_patch_refused(R"({"metadata":{"":"v"}})", "metadata");
    expect_patch_refused(R"({"metadata":{"":null}})", "metadata");
    // Bytes, not code points.
    expect_patch(R"({"metadata":{")" + repeated(kTwoByteChar, 64) + R"(":"v"}})");
    expect_patch_refused(R"({"metadata":{")" + repeated(kThreeByteChar, 43) + R"(":"v"}})",
                         "metadata");
    // Custom limit.
    expect_patch(R"({"metadata":{"abcd":"v"}})", kSmallLimits);
    expect_patch_refused(R"({"metadata":{"abcde":null}})", "metadata", kSmallLimits);
}

BOOST_AUTO_TEST_CASE(patch_value_bytes_limit) {
    expect_patch(R"({"metadata":{"a":")" + std::string(8192, 'v') + R"("}})");
    expect_patch_refused(R"({"metadata":{"a":")" + std::string(8193, 'v') + R"("}})", "metadata");
    expect_patch(R"({"variables":{"a":")" + repeated(kTwoByteChar, 4096) + R"("}})");
    expect_patch_refused(R"({"variables":{"a":")" + repeated(kTwoByteChar, 4096) + R"(x"}})",
                         "variables");
    // Sizes count decoded bytes: six escapes of one byte each are 6 bytes, not 36.
    expect_patch(R"({"metadata":{"a":"\u0041\u0041\u0041\u0041\u0041"}})", kSmallLimits);
    expect_patch_refused(R"({"metadata":{"a":"\u0041\u0041\u0041\u0041\u0041\u0041"}})", "metadata",
                         kSmallLimits);
}

BOOST_AUTO_TEST_CASE(patch_key_count_is_not_checked_before_merging) {
    // 65 keys in one patch: the count applies to the merged result, and a patch may remove.
    const PatchThreadRequest request =
        expect_patch(R"({"metadata":)" + patch_object_with_keys(65) + "}");
    BOOST_TEST_REQUIRE(request.metadata.has_value());
    BOOST_TEST(request.metadata->size() == 65u);
    const PatchThreadRequest small =
        expect_patch(R"({"metadata":)" + patch_object_with_keys(4) + "}", kSmallLimits);
    BOOST_TEST(small.metadata->size() == 4u);
}

BOOST_AUTO_TEST_CASE(patch_ignores_read_only_and_unknown_fields) {
    const PatchThreadRequest request = expect_patch(
        R"({"id":"x","organizationId":5,"isActive":false,"closedReason":"NOPE","createdAt":[],)"
        R"("agentId":"not-a-uuid","thread":{"metadata":{"no":"no"}},"metadata":{"a":"b"}})");
    BOOST_TEST_REQUIRE(request.metadata.has_value());
    BOOST_TEST(json::serialize(*request.metadata) == R"({"a":"b"})");
    BOOST_TEST(!request.variables.has_value());
}

BOOST_AUTO_TEST_CASE(patch_refuses_repeated_keys_and_lone_surrogates) {
    expect_patch_refused(R"({"metadata":{"a":"1","a":null}})", "metadata");
    expect_patch_refused(R"({"metadata":{"a":"1"},"metadata":{"b":"2"}})", "metadata");
    auto surrogate = parse_patch_request(R"({"metadata":{"a":"\ud800"}})", kDefaultLimits);
    BOOST_TEST_REQUIRE(std::holds_alternative<ApiError>(surrogate));
    BOOST_TEST((std::get<ApiError>(surrogate).code == ErrorCode::kBadRequest));
}

BOOST_AUTO_TEST_CASE(patch_keeps_nul_characters) {
    const PatchThreadRequest request = expect_patch(R"({"metadata":{"k\u0000":"v\u0000w"}})");
    BOOST_TEST_REQUIRE(request.metadata.has_value());
    const json::value* value = request.metadata->if_contains(std::string_view("k\0", 2));
    BOOST_TEST_REQUIRE(value != nullptr);
    BOOST_TEST(std::string_view(value->as_string()) == std::string_view("v\0w", 3));
}

// --- merge_string_map --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(merge_sets_removes_and_keeps) {
    BOOST_TEST(*expect_merged(std::string(R"({"a":"1","b":"2"})"), R"({"c":"3"})") ==
               R"({"a":"1","b":"2","c":"3"})");
    BOOST_TEST(*expect_merged(std::string(R"({"a":"1","b":"2"})"), R"({"a":null})") ==
               R"({"b":"2"})");
    BOOST_TEST(*expect_merged(std::string(R"({"a":"1","b":"2"})"), R"({"b":"X"})") ==
               R"({"a":"1","b":"X"})");
    // Removing a key that is not there changes nothing.
    BOOST_TEST(*expect_merged(std::string(R"({"a":"1"})"), R"({"zz":null})") == R"({"a":"1"})");
    // An empty patch keeps the map.
    BOOST_TEST(*expect_merged(std::string(R"({"a":"1","b":"2"})"), "{}") == R"({"a":"1","b":"2"})");
    // An empty string is a value, not a removal.
    BOOST_TEST(*expect_merged(std::string(R"({"a":"1"})"), R"({"a":""})") == R"({"a":""})");
}

BOOST_AUTO_TEST_CASE(merge_overwritten_keys_keep_their_place) {
    const auto merged =
        expect_merged(std::string(R"({"a":"1","b":"2","c":"3","d":"4"})"), R"({"d":"D","a":"A"})");
    BOOST_TEST_REQUIRE(merged.has_value());
    BOOST_TEST(*merged == R"({"a":"A","b":"2","c":"3","d":"D"})");
}

BOOST_AUTO_TEST_CASE(merge_appends_new_keys_in_patch_order) {
    const auto merged = expect_merged(std::string(R"({"m":"1","b":"2","x":"3"})"),
                                      R"({"z":"new","b":null,"a":"new","m":"M","c":"new"})");
    BOOST_TEST_REQUIRE(merged.has_value());
    BOOST_TEST(*merged == R"({"m":"M","x":"3","z":"new","a":"new","c":"new"})");
    const std::vector<std::string> expected{"m", "x", "z", "a", "c"};
    const auto keys = keys_of(*merged);
    BOOST_TEST(keys == expected);
}

BOOST_AUTO_TEST_CASE(merge_removal_in_the_middle_keeps_the_rest_in_order) {
    // Boost.JSON's object::erase would move the last key into the hole: the order must not
    // change that way.
    std::string stored = patch_object_with_keys(10);
    const auto merged = expect_merged(stored, R"({"k2":null,"k5":null})");
    BOOST_TEST_REQUIRE(merged.has_value());
    const std::vector<std::string> expected{"k0", "k1", "k3", "k4", "k6", "k7", "k8", "k9"};
    const auto keys = keys_of(*merged);
    BOOST_TEST(keys == expected);
}

BOOST_AUTO_TEST_CASE(merge_removing_from_a_null_map_leaves_it_null) {
    BOOST_TEST(!expect_merged(std::nullopt, R"({"a":null})").has_value());
    BOOST_TEST(!expect_merged(std::nullopt, R"({"a":null,"b":null})").has_value());
    BOOST_TEST(!expect_merged(std::nullopt, "{}").has_value());
}

BOOST_AUTO_TEST_CASE(merge_setting_a_key_on_a_null_map_makes_an_object) {
    const auto merged = expect_merged(std::nullopt, R"({"a":"1"})");
    BOOST_TEST_REQUIRE(merged.has_value());
    BOOST_TEST(*merged == R"({"a":"1"})");
    // Removals in the same patch are of keys that are not there.
    const auto mixed = expect_merged(std::nullopt, R"({"x":null,"b":"2","y":null,"a":"1"})");
    BOOST_TEST_REQUIRE(mixed.has_value());
    BOOST_TEST(*mixed == R"({"b":"2","a":"1"})");
}

BOOST_AUTO_TEST_CASE(merge_removing_every_key_gives_an_empty_object_not_null) {
    const auto merged =
        expect_merged(std::string(R"({"a":"1","b":"2"})"), R"({"a":null,"b":null})");
    BOOST_TEST_REQUIRE(merged.has_value());
    BOOST_TEST(*merged == "{}");
    const auto from_empty = expect_merged(std::string("{}"), R"({"a":null})");
    BOOST_TEST_REQUIRE(from_empty.has_value());
    BOOST_TEST(*from_empty == "{}");
}

BOOST_AUTO_TEST_CASE(merge_key_count_limit_applies_to_the_merged_result) {
    const std::string full = patch_object_with_keys(64);
    // 64 + 1 new: refused, and the message names the field.
    expect_merge_refused(full, R"({"new":"v"})", "metadata");
    expect_merge_refused(full, R"({"new":"v"})", "variables");
    // 64, overwriting one: still 64.
    BOOST_TEST(keys_of(*expect_merged(full, R"({"k0":"changed"})")).size() == 64u);
    // 64 - 1 removed + 1 new: 64, accepted; the new key is last.
    const auto swapped = expect_merged(full, R"({"k10":null,"new":"v"})");
    BOOST_TEST_REQUIRE(swapped.has_value());
    const auto keys = keys_of(*swapped);
    BOOST_TEST(keys.size() == 64u);
    BOOST_TEST(keys.back() == "new");
    // The order inside the patch does not matter: set first, remove after.
    BOOST_TEST(keys_of(*expect_merged(full, R"({"new":"v","k10":null})")).size() == 64u);
    // 63 + 1 new: 64.
    BOOST_TEST(keys_of(*expect_merged(patch_object_with_keys(63), R"({"new":"v"})")).size() == 64u);
    // 64 + 2 new - 1 removed: 65, refused.
    expect_merge_refused(full, R"({"k1":null,"n1":"v","n2":"v"})", "metadata");
    // Removing a key that is not there does not make room.
    expect_merge_refused(full, R"({"absent":null,"new":"v"})", "metadata");
}

BOOST_AUTO_TEST_CASE(merge_key_count_limit_custom_and_on_a_null_map) {
    expect_merge_refused(std::nullopt, patch_object_with_keys(4), "metadata", kSmallLimits);
    BOOST_TEST(
        keys_of(*expect_merged(std::nullopt, patch_object_with_keys(3), kSmallLimits)).size() ==
        3u);
    const auto merged = expect_merged(std::string(R"({"a":"1","b":"2","c":"3"})"),
                                      R"({"b":null,"d":"4"})", kSmallLimits);
    BOOST_TEST(*merged == R"({"a":"1","c":"3","d":"4"})");
    expect_merge_refused(std::string(R"({"a":"1","b":"2","c":"3"})"), R"({"d":"4"})", "metadata",
                         kSmallLimits);
}

BOOST_AUTO_TEST_CASE(merge_round_trips_nul_and_non_ascii) {
    const std::string stored = json::serialize(
        json::object{{std::string_view("a\0", 2), std::string_view("x\0y", 3)}, {"b", "keep"}});
    json::object patch;
    patch[std::string_view("k\0", 2)] = std::string_view("\0", 1);
    patch[kThreeByteChar] = kFourByteChar;
    patch["b"] = nullptr;
    auto result = merge_string_map(stored, patch, "variables", kDefaultLimits);
    BOOST_TEST_REQUIRE(std::holds_alternative<std::optional<std::string>>(result));
    const auto merged = std::get<std::optional<std::string>>(result);
    BOOST_TEST_REQUIRE(merged.has_value());
    const json::object object = json::parse(*merged).as_object();
    BOOST_TEST(object.size() == 3u);
    const json::value* kept = object.if_contains(std::string_view("a\0", 2));
    BOOST_TEST_REQUIRE(kept != nullptr);
    BOOST_TEST(std::string_view(kept->as_string()) == std::string_view("x\0y", 3));
    const json::value* added = object.if_contains(std::string_view("k\0", 2));
    BOOST_TEST_REQUIRE(added != nullptr);
    BOOST_TEST(std::string_view(added->as_string()) == std::string_view("\0", 1));
    BOOST_TEST(std::string_view(object.at(kThreeByteChar).as_string()) == kFourByteChar);
    BOOST_TEST(!object.contains("b"));
    // Merging the result with an empty patch gives the same text back.
    BOOST_TEST(*expect_merged(*merged, "{}") == *merged);
}

// --- parse_close_request -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(close_default_reason) {
    BOOST_TEST(kDefaultCloseReason == "ENDED");
    BOOST_TEST(expect_reason("") == "ENDED");
    BOOST_TEST(expect_reason("{}") == "ENDED");
    BOOST_TEST(expect_reason(R"({"reason":null})") == "ENDED");
    BOOST_TEST(expect_reason(R"({"other":"x"})") == "ENDED");
}

BOOST_AUTO_TEST_CASE(close_reason_is_kept_as_given) {
    BOOST_TEST(expect_reason(R"({"reason":"USER_LEFT"})") == "USER_LEFT");
    BOOST_TEST(expect_reason(R"({"reason":"x"})") == "x");
    BOOST_TEST(expect_reason(R"({"reason":"not in upstream's enum, with spaces"})") ==
               "not in upstream's enum, with spaces");
    BOOST_TEST(expect_reason(R"({"reason":" "})") == " ");
    BOOST_TEST(expect_reason(R"({"reason":"ended","id":"ignored","isActive":true})") == "ended");
    BOOST_TEST(expect_reason(R"({"reason":"caf\u00e9"})") == "caf" + kTwoByteChar);
    BOOST_TEST(expect_reason(close_body("no" + kNbsp + "break")) == "no" + kNbsp + "break");
}

BOOST_AUTO_TEST_CASE(close_reason_length_counts_code_points) {
    BOOST_TEST(expect_reason(close_body(std::string(64, 'r'))) == std::string(64, 'r'));
    expect_close_refused(close_body(std::string(65, 'r')));
    // 64 multibyte characters are fine although they are more than 64 bytes.
    BOOST_TEST(expect_reason(close_body(repeated(kTwoByteChar, 64))) == repeated(kTwoByteChar, 64));
    BOOST_TEST(expect_reason(close_body(repeated(kThreeByteChar, 64))) ==
               repeated(kThreeByteChar, 64));
    BOOST_TEST(expect_reason(close_body(repeated(kFourByteChar, 64))) ==
               repeated(kFourByteChar, 64));
    BOOST_TEST(expect_reason(close_body(repeated(kThreeByteChar, 63) + "x")) ==
               repeated(kThreeByteChar, 63) + "x");
    expect_close_refused(close_body(repeated(kTwoByteChar, 65)));
    expect_close_refused(close_body(repeated(kFourByteChar, 64) + "x"));
    // A surrogate pair escape is one character.
    std::string escaped = R"({"reason":")";
    for (int i = 0; i < 64; ++i) {
        escaped += R"(\ud83d\ude00)";
    }
    BOOST_TEST(expect_reason(escaped + "\"}") == repeated(kFourByteChar, 64));
}

BOOST_AUTO_TEST_CASE(close_reason_must_not_be_empty) {
    const ApiError error = expect_close_refused(R"({"reason":""})");
    BOOST_TEST(error.message.find("reason") != std::string::npos, error.message);
}

BOOST_AUTO_TEST_CASE(close_reason_refuses_control_characters) {
    for (const char* body :
         {R"({"reason":"a\nb"})", R"({"reason":"\n"})", R"({"reason":"a\u0000b"})",
          R"({"reason":"\t"})", R"({"reason":"end\r"})", R"({"reason":"\u001f"})",
          R"({"reason":"a\u007fb"})", R"({"reason":"\u0080"})", R"({"reason":"a\u0085b"})",
          R"({"reason":"\u009f"})"}) {
        const ApiError error = expect_close_refused(body);
        BOOST_TEST(error.message.find("reason") != std::string::npos,
                   body << ": " << error.message);
    }
    expect_close_refused(close_body("a" + kNextLine));
    expect_close_refused(close_body(kLastC1));
}

BOOST_AUTO_TEST_CASE(close_reason_must_be_a_string) {
    for (const char* body : {R"({"reason":5})", R"({"reason":true})", R"({"reason":false})",
                             R"({"reason":{}})", R"({"reason":["ENDED"]})", R"({"reason":0})"}) {
        const ApiError error = expect_close_refused(body);
        BOOST_TEST(error.message.find("reason") != std::string::npos,
                   body << ": " << error.message);
    }
}

BOOST_AUTO_TEST_CASE(close_body_must_be_a_json_object) {
    for (const char* body : {"reason", "{", "\"ENDED\"", "[]", "null", "5", "{\"reason\":\"a\"} x",
                             R"({"reason":"a","reason":"b"})", R"({"reason":"\ud800"})"}) {
        expect_close_refused(body);
    }
}

BOOST_AUTO_TEST_SUITE_END()
