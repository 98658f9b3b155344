#include "threadsd/http/message.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "threadsd/http/request_id.hpp"

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using threadsd::api::ApiError;
using threadsd::api::ErrorCode;
using threadsd::http::error_response;
using threadsd::http::is_acceptable_request_id;
using threadsd::http::is_json_media_type;
using threadsd::http::json_response;
using threadsd::http::request_id_for;
using threadsd::http::trim_header_value;

bool is_generated_id(const std::string& id) {
    if (id.size() != 32) {
        return false;
    }
    for (const char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_message)

BOOST_AUTO_TEST_CASE(trim_removes_spaces_and_tabs_on_both_sides) {
    BOOST_TEST(trim_header_value("value") == "value");
    BOOST_TEST(trim_header_value("  value") == "value");
    BOOST_TEST(trim_header_value("value  ") == "value");
    BOOST_TEST(trim_header_value(" \t value \t ") == "value");
    BOOST_TEST(trim_header_value("\t\tvalue\t") == "value");
    BOOST_TEST(trim_header_value("  a b\tc  ") == "a b\tc");  // inner whitespace kept
}

BOOST_AUTO_TEST_CASE(trim_all_blank_is_empty) {
    BOOST_TEST(trim_header_value("").empty());
    BOOST_TEST(trim_header_value(" ").empty());
    BOOST_TEST(trim_header_value(" \t \t").empty());
}

BOOST_AUTO_TEST_CASE(trim_leaves_other_whitespace) {
    // Only SP and HTAB are optional whitespace in RFC 9110.
    BOOST_TEST(trim_header_value("\rvalue\n") == "\rvalue\n");
}

BOOST_AUTO_TEST_CASE(json_media_type_accepted_forms) {
    BOOST_TEST(is_json_media_type("application/json"));
    BOOST_TEST(is_json_media_type("Application/JSON"));
    BOOST_TEST(is_json_media_type("APPLICATION/JSON"));
    BOOST_TEST(is_json_media_type("application/json; charset=utf-8"));
    BOOST_TEST(is_json_media_type("application/json;charset=UTF-8"));
    BOOST_TEST(is_json_media_type("application/json ; charset=utf-8"));
    BOOST_TEST(is_json_media_type("  application/json  "));
    BOOST_TEST(is_json_media_type("\tapplication/json\t;\tcharset=utf-8"));
    BOOST_TEST(is_json_media_type("application/json;"));
}

BOOST_AUTO_TEST_CASE(json_media_type_refused_forms) {
    BOOST_TEST(!is_json_media_type(""));
    BOOST_TEST(!is_json_media_type("   "));
    BOOST_TEST(!is_json_media_type("text/plain"));
    BOOST_TEST(!is_json_media_type("text/json"));
    BOOST_TEST(!is_json_media_type("application/jsonx"));
    BOOST_TEST(!is_json_media_type("application/json-patch+json"));
    BOOST_TEST(!is_json_media_type("application/x-www-form-urlencoded"));
    BOOST_TEST(!is_json_media_type("application/ json"));
    BOOST_TEST(!is_json_media_type("application"));
    BOOST_TEST(!is_json_media_type("; application/json"));
    BOOST_TEST(!is_json_media_type("multipart/form-data; boundary=application/json"));
}

BOOST_AUTO_TEST_CASE(json_response_sets_status_and_content_type) {
    const auto response = json_response(200, R"({"ok":true})");
    BOOST_TEST(response.result_int() == 200u);
    BOOST_TEST(response[bhttp::field::content_type] == "application/json");
    BOOST_TEST(response.body() == R"({"ok":true})");
    BOOST_TEST(response.version() == 11u);
}

BOOST_AUTO_TEST_CASE(error_response_carries_envelope) {
    const struct {
        ErrorCode code;
        unsigned status;
        const char* name;
    } cases[] = {
        {ErrorCode::kBadRequest, 400, "BAD_REQUEST"},
        {ErrorCode::kNotFound, 404, "NOT_FOUND"},
        {ErrorCode::kMethodNotAllowed, 405, "METHOD_NOT_ALLOWED"},
        {ErrorCode::kHeaderFieldsTooLarge, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE"},
        {ErrorCode::kServiceUnavailable, 503, "SERVICE_UNAVAILABLE"},
    };
    for (const auto& c : cases) {
        const auto response = error_response(ApiError{c.code, "agentId must be a \"UUID\""});
        BOOST_TEST(response.result_int() == c.status);
        BOOST_TEST(response[bhttp::field::content_type] == "application/json");
        const json::value body = json::parse(response.body());
        BOOST_TEST_REQUIRE(body.is_object());
        BOOST_TEST(body.as_object().size() == 4u);
        BOOST_TEST(body.at("status").as_int64() == static_cast<std::int64_t>(c.status));
        BOOST_TEST(body.at("message").as_string() == "agentId must be a \"UUID\"");
        BOOST_TEST(body.at("code").as_string() == c.name);
        BOOST_TEST(body.at("success").as_bool() == false);
    }
}

BOOST_AUTO_TEST_CASE(acceptable_request_ids) {
    BOOST_TEST(is_acceptable_request_id("a"));
    BOOST_TEST(is_acceptable_request_id("req-123_ABC.xyz"));
    BOOST_TEST(is_acceptable_request_id("!~\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"));
    BOOST_TEST(is_acceptable_request_id(std::string(128, 'x')));
    BOOST_TEST(!is_acceptable_request_id(std::string(129, 'x')));
    BOOST_TEST(!is_acceptable_request_id(""));
    BOOST_TEST(!is_acceptable_request_id("a b"));
    BOOST_TEST(!is_acceptable_request_id(" ab"));
    BOOST_TEST(!is_acceptable_request_id("a\tb"));
    BOOST_TEST(!is_acceptable_request_id("a\x01"));
    BOOST_TEST(!is_acceptable_request_id("a\x7f"));
    BOOST_TEST(!is_acceptable_request_id(std::string("a\0b", 3)));
    BOOST_TEST(!is_acceptable_request_id("caf\xc3\xa9"));
    BOOST_TEST(!is_acceptable_request_id("\x80"));
}

BOOST_AUTO_TEST_CASE(request_id_echoes_acceptable_ids) {
    BOOST_TEST(request_id_for("abc") == "abc");
    BOOST_TEST(request_id_for("x") == "x");
    BOOST_TEST(request_id_for(std::string(128, 'z')) == std::string(128, 'z'));
    BOOST_TEST(request_id_for("  \tabc-123\t ") == "abc-123");
    const std::string all_visible = [] {
        std::string s;
        for (char c = 0x21; c <= 0x7e; ++c) {
            s.push_back(c);
        }
        return s;
    }();
    BOOST_TEST(all_visible.size() == 94u);
    BOOST_TEST(request_id_for(all_visible) == all_visible);
}

BOOST_AUTO_TEST_CASE(request_id_replaces_unacceptable_ids) {
    for (const std::string& bad :
         {std::string(""), std::string("   "), std::string(129, 'x'), std::string("a b"),
          std::string("a\x01z"), std::string("caf\xc3\xa9"), std::string("ab\x7f"),
          std::string("a\0b", 3)}) {
        const std::string id = request_id_for(bad);
        BOOST_TEST(id != bad);
        BOOST_TEST(is_generated_id(id), "generated id '" << id << "'");
    }
    // 128 visible characters after trimming are still echoed; 129 are not.
    BOOST_TEST(request_id_for(" " + std::string(128, 'y') + " ") == std::string(128, 'y'));
    BOOST_TEST(is_generated_id(request_id_for(" " + std::string(129, 'y') + " ")));
}

BOOST_AUTO_TEST_CASE(generated_ids_are_hex_and_differ) {
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = request_id_for("");
        BOOST_TEST_REQUIRE(is_generated_id(id), id);
        ids.insert(id);
    }
    BOOST_TEST(ids.size() == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
