#include "threadsd/api/error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using threadsd::api::ApiError;
using threadsd::api::code_name;
using threadsd::api::error_body;
using threadsd::api::ErrorCode;
using threadsd::api::http_status;

struct Row {
    ErrorCode code;
    unsigned status;
    const char* name;
};

// The error table of docs/api.md.
const std::vector<Row> kTable = {
    {ErrorCode::kBadRequest, 400, "BAD_REQUEST"},
    {ErrorCode::kUnauthorized, 401, "UNAUTHORIZED"},
    {ErrorCode::kNotFound, 404, "NOT_FOUND"},
    {ErrorCode::kMethodNotAllowed, 405, "METHOD_NOT_ALLOWED"},
    {ErrorCode::kConflict, 409, "CONFLICT"},
    {ErrorCode::kRequestTimeout, 408, "REQUEST_TIMEOUT"},
    {ErrorCode::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
    {ErrorCode::kUnsupportedMediaType, 415, "UNSUPPORTED_MEDIA_TYPE"},
    {ErrorCode::kHeaderFieldsTooLarge, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE"},
    {ErrorCode::kTooManyRequests, 429, "TOO_MANY_REQUESTS"},
    {ErrorCode::kInternal, 500, "INTERNAL_SERVER_ERROR"},
    {ErrorCode::kServiceUnavailable, 503, "SERVICE_UNAVAILABLE"},
};

/// Parses an envelope and checks it has exactly the four fields of the contract.
json::object parse_envelope(const std::string& body) {
    const json::value value = json::parse(body);
    BOOST_TEST_REQUIRE(value.is_object(), body);
    const json::object& object = value.as_object();
    BOOST_TEST(object.size() == 4u, body);
    BOOST_TEST_REQUIRE(object.contains("status"));
    BOOST_TEST_REQUIRE(object.contains("message"));
    BOOST_TEST_REQUIRE(object.contains("code"));
    BOOST_TEST_REQUIRE(object.contains("success"));
    BOOST_TEST(object.at("status").is_int64());
    BOOST_TEST(object.at("message").is_string());
    BOOST_TEST(object.at("code").is_string());
    BOOST_TEST_REQUIRE(object.at("success").is_bool());
    BOOST_TEST(object.at("success").as_bool() == false);
    return object;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_error)

BOOST_AUTO_TEST_CASE(every_code_maps_to_contract_status_and_name) {
    BOOST_TEST(kTable.size() == static_cast<std::size_t>(ErrorCode::kServiceUnavailable) + 1);
    std::set<unsigned> statuses;
    std::set<std::string> names;
    for (const auto& row : kTable) {
        BOOST_TEST(http_status(row.code) == row.status, row.name);
        BOOST_TEST(code_name(row.code) == row.name);
        statuses.insert(http_status(row.code));
        names.insert(std::string(code_name(row.code)));
    }
    // No two codes share a status or a name.
    BOOST_TEST(statuses.size() == kTable.size());
    BOOST_TEST(names.size() == kTable.size());
}

BOOST_AUTO_TEST_CASE(envelope_has_exactly_four_fields_for_every_code) {
    for (const auto& row : kTable) {
        const std::string body = error_body(ApiError{row.code, "something went wrong"});
        const json::object object = parse_envelope(body);
        BOOST_TEST(object.at("status").as_int64() == static_cast<std::int64_t>(row.status));
        BOOST_TEST(object.at("status").as_int64() ==
                   static_cast<std::int64_t>(http_status(row.code)));
        BOOST_TEST(object.at("code").as_string() == row.name);
        BOOST_TEST(object.at("message").as_string() == "something went wrong");
    }
}

BOOST_AUTO_TEST_CASE(envelope_field_order_and_compact_text) {
    const std::string body = error_body(ApiError{ErrorCode::kBadRequest, "agentId must be a UUID"});
    BOOST_TEST(body == R"({"status":400,"message":"agentId must be a UUID","code":"BAD_REQUEST",)"
                       R"("success":false})");
}

BOOST_AUTO_TEST_CASE(message_is_escaped) {
    const std::string message =
        std::string("quote \" backslash \\ newline \n tab \t bell \x07 nul ") + '\0' +
        " unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 </script>";
    const std::string body = error_body(ApiError{ErrorCode::kConflict, message});
    const json::object object = parse_envelope(body);
    BOOST_TEST(object.at("message").as_string() == message);
    BOOST_TEST(object.at("status").as_int64() == 409);
    BOOST_TEST(object.at("code").as_string() == "CONFLICT");
    // The envelope stays on one line: raw control characters never appear.
    for (const char c : body) {
        BOOST_TEST_REQUIRE(static_cast<unsigned char>(c) >= 0x20);
    }
}

BOOST_AUTO_TEST_CASE(empty_message_still_four_fields) {
    const json::object object = parse_envelope(error_body(ApiError{ErrorCode::kInternal, ""}));
    BOOST_TEST(object.at("message").as_string() == "");
    BOOST_TEST(object.at("status").as_int64() == 500);
}

BOOST_AUTO_TEST_SUITE_END()
