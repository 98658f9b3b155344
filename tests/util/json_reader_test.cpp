#include "threadsd/util/json_reader.hpp"

#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <variant>

namespace {

namespace json = boost::json;
using threadsd::util::JsonSyntaxError;
using threadsd::util::parse_json_strict;

/// The parsed value; fails the test when parsing failed.
json::value accept(std::string_view text) {
    auto result = parse_json_strict(text);
    if (auto* error = std::get_if<JsonSyntaxError>(&result)) {
        BOOST_FAIL("unexpected refusal of '" << text << "': " << error->message);
    }
    return std::get<json::value>(std::move(result));
}

/// The refusal message; fails the test when parsing succeeded.
std::string refuse(std::string_view text) {
    auto result = parse_json_strict(text);
    const auto* error = std::get_if<JsonSyntaxError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "should refuse '" << text << "'");
    BOOST_TEST(!error->message.empty());
    return error->message;
}

std::string nested(int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
}

}  // namespace

BOOST_AUTO_TEST_SUITE(util_json_reader)

BOOST_AUTO_TEST_CASE(accepts_valid_object) {
    const json::value value =
        accept(R"( {"agentId":"x","n":-12,"d":0.5,"t":true,"f":false,"z":null,)"
               R"("a":[1,"two",{"k":"v"}],"o":{"p":{"q":"r"}}} )");
    BOOST_TEST_REQUIRE(value.is_object());
    const auto& object = value.as_object();
    BOOST_TEST(object.size() == 8u);
    BOOST_TEST(object.at("agentId").as_string() == "x");
    BOOST_TEST(object.at("n").as_int64() == -12);
    BOOST_TEST(object.at("d").as_double() == 0.5);
    BOOST_TEST(object.at("t").as_bool() == true);
    BOOST_TEST(object.at("f").as_bool() == false);
    BOOST_TEST(object.at("z").is_null());
    BOOST_TEST(object.at("a").as_array().size() == 3u);
    BOOST_TEST(object.at("a").as_array()[2].as_object().at("k").as_string() == "v");
    BOOST_TEST(object.at("o").as_object().at("p").as_object().at("q").as_string() == "r");
    // Key order is kept.
    auto it = object.begin();
    BOOST_TEST(it->key() == "agentId");
    BOOST_TEST((++it)->key() == "n");
}

BOOST_AUTO_TEST_CASE(accepts_scalars_and_empty_containers) {
    BOOST_TEST(accept("{}").as_object().empty());
    BOOST_TEST(accept("[]").as_array().empty());
    BOOST_TEST(accept("\"s\"").as_string() == "s");
    BOOST_TEST(accept("42").as_int64() == 42);
    BOOST_TEST(accept("null").is_null());
    BOOST_TEST(accept("\n\t {}\r\n").is_object());
}

BOOST_AUTO_TEST_CASE(same_key_in_sibling_objects_is_fine) {
    const json::value value = accept(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}]})");
    BOOST_TEST(value.as_object().at("b").as_object().at("x").as_int64() == 2);
    // And a key may equal a key of its parent object.
    accept(R"({"x":{"x":{"x":1}}})");
}

BOOST_AUTO_TEST_CASE(refuses_duplicate_top_level_key_and_names_it) {
    const std::string message = refuse(R"({"agentId":"a","agentId":"b"})");
    BOOST_TEST(message.find("\"agentId\"") != std::string::npos, message);
    BOOST_TEST(message.find("repeats") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(refuses_duplicate_nested_key_and_names_it) {
    const std::string message = refuse(R"({"agentId":"a","metadata":{"k":"1","k":"2"}})");
    BOOST_TEST(message.find("\"k\"") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(refuses_duplicate_in_ignored_member) {
    // "extra" is a property the API ignores, but its duplicate is refused all the same.
    const std::string message =
        refuse(R"({"agentId":"a","extra":{"deep":[{"dup":1,"other":2,"dup":3}]}})");
    BOOST_TEST(message.find("\"dup\"") != std::string::npos, message);
    refuse(R"([{"a":1},{"b":1,"b":2}])");
}

BOOST_AUTO_TEST_CASE(duplicate_after_nested_object_is_detected) {
    // The outer object's keys survive the nested object opening and closing.
    const std::string message = refuse(R"({"a":{"b":1,"c":2},"d":3,"a":4})");
    BOOST_TEST(message.find("\"a\"") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(key_spelled_with_escapes_is_a_duplicate) {
    const std::string message = refuse(R"({"a":1,"\u0061":2})");
    BOOST_TEST(message.find("\"a\"") != std::string::npos, message);
    refuse(R"({"caf\u00e9":1,"café":2})");
    refuse(R"({"\/":1,"/":2})");
    refuse(R"({"😀":1,"\ud83d\ude00":2})");
}

BOOST_AUTO_TEST_CASE(unprintable_duplicate_key_is_not_echoed) {
    const std::string message = refuse(R"({"a\nb":1,"a\nb":2})");
    BOOST_TEST(message.find('\n') == std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(long_key_is_assembled_across_parts) {
    // A key longer than the parser's internal buffer still compares as a whole.
    const std::string long_key(5000, 'k');
    const std::string other = std::string(4999, 'k') + "j";
    const json::value value = accept("{\"" + long_key + "\":1,\"" + other + "\":2}");
    BOOST_TEST(value.as_object().size() == 2u);
    BOOST_TEST(value.as_object().contains(long_key));
    refuse("{\"" + long_key + "\":1,\"" + long_key + "\":2}");
}

BOOST_AUTO_TEST_CASE(refuses_invalid_utf8) {
    refuse("{\"k\":\"\xff\"}");              // never valid
    refuse("{\"k\":\"\xc3\"}");              // truncated sequence
    refuse("{\"k\":\"\xc0\xaf\"}");          // overlong '/'
    refuse("{\"k\":\"\xed\xa0\x80\"}");      // UTF-8 encoded surrogate
    refuse("{\"\xfe\":\"v\"}");              // in a key
    refuse("{\"k\":\"\xf4\x90\x80\x80\"}");  // above U+10FFFF
}

BOOST_AUTO_TEST_CASE(accepts_exponents_of_any_length) {
    // Boost.JSON alone refuses an exponent beyond INT_MAX; JSON has no such limit.
    const std::string nines(1000, '9');
    BOOST_TEST(std::isinf(accept("{\"n\":1e" + nines + "}").as_object().at("n").as_double()));
    BOOST_TEST(accept("{\"n\":1e-" + nines + "}").as_object().at("n").as_double() == 0.0);
    BOOST_TEST(accept("{\"n\":2e0000000000001}").as_object().at("n").as_double() == 20.0);
    // Strings that look like exponents are left as they are.
    const json::value value = accept("{\"n\":1e" + nines + ",\"s\":\"e" + nines + "\"}");
    BOOST_TEST(value.as_object().at("s").as_string() == "e" + nines);
    refuse("{\"n\":1e}");
}

BOOST_AUTO_TEST_CASE(accepts_valid_utf8) {
    const json::value value = accept("{\"k\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    BOOST_TEST(value.as_object().at("k").as_string() == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(refuses_lone_surrogates) {
    refuse(R"({"k":"\ud800"})");
    refuse(R"({"k":"\ud800x"})");
    refuse(R"({"k":"\udc00"})");
    refuse(R"({"k":"\ud800\u0041"})");
    refuse(R"({"\ud800":"v"})");
}

BOOST_AUTO_TEST_CASE(accepts_surrogate_pair) {
    const json::value value = accept(R"({"k":"\ud83d\ude00"})");
    BOOST_TEST(value.as_object().at("k").as_string() == "\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(keeps_nul_escape) {
    const json::value value = accept(R"({"k\u0000":"a\u0000b"})");
    const auto& object = value.as_object();
    BOOST_TEST_REQUIRE(object.size() == 1u);
    const std::string key(object.begin()->key());
    BOOST_TEST(key == std::string("k\0", 2));
    const auto& text = object.begin()->value().as_string();
    BOOST_TEST(std::string(text.data(), text.size()) == std::string("a\0b", 3));
    // Keys that differ only after a NUL are different keys.
    BOOST_TEST(accept(R"({"a\u0000b":1,"a\u0000c":2})").as_object().size() == 2u);
}

BOOST_AUTO_TEST_CASE(refuses_trailing_data) {
    const std::string message = refuse(R"({"a":1}{"b":2})");
    BOOST_TEST(message.find("after") != std::string::npos, message);
    refuse(R"({"a":1} x)");
    refuse(R"({"a":1},)");
    refuse("1 2");
    refuse(std::string("{}\0", 3));
}

BOOST_AUTO_TEST_CASE(refuses_too_deep_nesting) {
    accept(nested(32));
    const std::string message = refuse(nested(33));
    BOOST_TEST(message.find("32") != std::string::npos, message);
    refuse(nested(1000));
    // Objects count as levels too.
    std::string deep_objects;
    for (int i = 0; i < 40; ++i) {
        deep_objects += "{\"a\":";
    }
    deep_objects += "1" + std::string(40, '}');
    refuse(deep_objects);
}

BOOST_AUTO_TEST_CASE(refuses_empty_and_malformed_input) {
    refuse("");
    refuse("   ");
    refuse("{");
    refuse(R"({"a":})");
    refuse(R"({"a" 1})");
    refuse(R"({a:1})");
    refuse(R"({"a":1,})");
    refuse("[1,]");
    refuse("{'a':1}");
    refuse(R"({"a":1 /* comment */})");
    refuse(R"({"a":"unterminated)");
    refuse("{\"a\":\"raw\ncontrol\"}");
    refuse("NaN");
    refuse("01");
}

BOOST_AUTO_TEST_CASE(repeated_key_message_says_where_it_is) {
    BOOST_TEST(refuse(R"({"a":"1","a":"2"})") == R"(request body repeats the key "a")");
    BOOST_TEST(refuse(R"({"agentId":"x","metadata":{"k":"1","k":"2"}})") ==
               R"(metadata repeats the key "k")");
    // Array items are counted past scalars and closed containers alike.
    BOOST_TEST(refuse(R"({"x":[1,{},[2],{"y":{"z":0,"z":1}}]})") ==
               R"(x[3].y repeats the key "z")");

    auto result =
        parse_json_strict(R"([{"name":"a"},{"versions":[{"id":1,"id":2}]}])", "the file", "agents");
    const auto* error = std::get_if<JsonSyntaxError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr);
    BOOST_TEST(error->message == R"(agents[1].versions[0] repeats the key "id")");
}

BOOST_AUTO_TEST_CASE(document_messages_name_the_subject) {
    auto result = parse_json_strict("[1] x", "the file", "agents");
    const auto* error = std::get_if<JsonSyntaxError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr);
    BOOST_TEST(error->message == "the file has data after its JSON value");
    BOOST_TEST(refuse("{") == "request body is not valid JSON");
}

BOOST_AUTO_TEST_SUITE_END()
