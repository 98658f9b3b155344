#include "threadsd/util/json_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace {

namespace json = boost::json;
using threadsd::util::JsonWriter;

std::string quoted(std::string_view value) {
    JsonWriter out;
    out.string(value);
    return out.take();
}

std::string number_text(double value) {
    JsonWriter out;
    out.number(value);
    return out.take();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(util_json_writer)

BOOST_AUTO_TEST_CASE(empty_containers) {
    JsonWriter out;
    out.begin_object().end_object();
    BOOST_TEST(out.str() == "{}");
    JsonWriter array;
    array.begin_array().end_array();
    BOOST_TEST(array.str() == "[]");
}

BOOST_AUTO_TEST_CASE(commas_between_members_and_elements) {
    JsonWriter out;
    out.begin_object();
    out.key("a").number(std::int64_t{1});
    out.key("b").string("x");
    out.key("c").boolean(true);
    out.key("d").null();
    out.end_object();
    BOOST_TEST(out.str() == R"({"a":1,"b":"x","c":true,"d":null})");

    JsonWriter array;
    array.begin_array().number(std::int64_t{1}).number(std::int64_t{2}).string("3").null();
    array.boolean(false).end_array();
    BOOST_TEST(array.str() == R"([1,2,"3",null,false])");
}

BOOST_AUTO_TEST_CASE(nesting_resets_comma_state_per_level) {
    JsonWriter out;
    out.begin_object();
    out.key("a").begin_object();
    out.key("b").begin_array();
    out.begin_object().end_object();
    out.begin_object().key("c").number(std::int64_t{1}).end_object();
    out.begin_array().end_array();
    out.end_array();
    out.key("d").begin_object().end_object();
    out.end_object();
    out.key("e").begin_array().begin_array().number(std::int64_t{2}).end_array().end_array();
    out.key("f").string("g");
    out.end_object();
    const std::string expected = R"({"a":{"b":[{},{"c":1},[]],"d":{}},"e":[[2]],"f":"g"})";
    BOOST_TEST(out.str() == expected);
    // It is valid JSON with the same structure.
    const json::value parsed = json::parse(out.str());
    BOOST_TEST(parsed.at("a").at("b").as_array().size() == 3u);
    BOOST_TEST(parsed.at("e").at(0).at(0).as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(deep_nesting_keeps_commas_right) {
    JsonWriter out;
    for (int i = 0; i < 60; ++i) {
        out.begin_array().number(std::int64_t{i});
    }
    for (int i = 0; i < 60; ++i) {
        out.end_array();
    }
    json::parse_options options;
    options.max_depth = 100;
    json::value value = json::parse(out.str(), {}, options);
    for (int i = 0; i < 59; ++i) {
        BOOST_TEST_REQUIRE(value.as_array().size() == 2u);
        BOOST_TEST_REQUIRE(value.as_array()[0].as_int64() == i);
        value = json::value(value.as_array()[1]);
    }
}

BOOST_AUTO_TEST_CASE(escapes_quote_and_backslash) {
    BOOST_TEST(quoted("a\"b") == R"("a\"b")");
    BOOST_TEST(quoted("a\\b") == R"("a\\b")");
    BOOST_TEST(quoted("") == R"("")");
    BOOST_TEST(quoted("/") == R"("/")");
}

BOOST_AUTO_TEST_CASE(escapes_control_characters) {
    BOOST_TEST(quoted("\n") == R"("\n")");
    BOOST_TEST(quoted("\r") == R"("\r")");
    BOOST_TEST(quoted("\t") == R"("\t")");
    BOOST_TEST(quoted("\b") == R"("\b")");
    BOOST_TEST(quoted("\f") == R"("\f")");
    BOOST_TEST(quoted("\x01") == R"("\u0001")");
    BOOST_TEST(quoted("\x1f") == R"("\u001f")");
    BOOST_TEST(quoted("\x1b[0m") == R"("\u001b[0m")");
    BOOST_TEST(quoted(std::string("a\0b", 3)) == R"("a\u0000b")");
    // DEL is not a JSON control character and passes through.
    BOOST_TEST(quoted("\x7f") == "\"\x7f\"");
    // Every control character, round-tripped through a real parser.
    for (int c = 0; c < 0x20; ++c) {
        const std::string value = std::string("x") + static_cast<char>(c) + "y";
        const std::string text = quoted(value);
        for (const char ch : text) {
            BOOST_TEST_REQUIRE(static_cast<unsigned char>(ch) >= 0x20);
        }
        const json::value parsed = json::parse(text);
        BOOST_TEST_REQUIRE(std::string(parsed.as_string()) == value);
    }
}

// The escape loop checks 8 bytes per step: every byte value at every offset of strings
// longer and shorter than a step must come out as a plain per-byte loop would write it.
BOOST_AUTO_TEST_CASE(every_byte_at_every_offset_is_escaped_like_byte_by_byte) {
    const auto reference = [](std::string_view value) {
        std::string out = "\"";
        for (const char ch : value) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += ch;
            } else if (c < 0x20) {
                static const char* const kShort[] = {"\\b", "\\t", "\\n", "", "\\f", "\\r"};
                const char* shorter = c >= 8 && c <= 13 ? kShort[c - 8] : "";
                if (*shorter != '\0') {
                    out += shorter;
                } else {
                    static constexpr char kHex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0x0f];
                }
            } else {
                out += ch;
            }
        }
        return out + "\"";
    };
    for (const std::size_t length : {1u, 7u, 8u, 9u, 16u, 23u, 40u}) {
        for (std::size_t at = 0; at < length; ++at) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string value(length, 'a');
                value[at] = static_cast<char>(byte);
                const std::string got = quoted(value);
                BOOST_TEST_REQUIRE(got == reference(value),
                                   "byte " << byte << " at " << at << " of " << length);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(utf8_passes_through_unchanged) {
    const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8";
    BOOST_TEST(quoted(text) == "\"" + text + "\"");
}

BOOST_AUTO_TEST_CASE(string_and_key_are_escaped_in_writer) {
    JsonWriter out;
    out.begin_object().key("k\"ey\n").string(std::string("v\\al\0ue", 7)).end_object();
    BOOST_TEST(out.str() == R"({"k\"ey\n":"v\\al\u0000ue"})");
    const json::value parsed = json::parse(out.str());
    const auto& text = parsed.at("k\"ey\n").as_string();
    BOOST_TEST(std::string(text.data(), text.size()) == std::string("v\\al\0ue", 7));
}

BOOST_AUTO_TEST_CASE(integers_full_range) {
    JsonWriter out;
    out.begin_array();
    out.number(std::numeric_limits<std::int64_t>::min());
    out.number(std::numeric_limits<std::int64_t>::max());
    out.number(std::int64_t{0});
    out.number(std::int64_t{-1});
    out.end_array();
    BOOST_TEST(out.str() == "[-9223372036854775808,9223372036854775807,0,-1]");
    const json::value parsed = json::parse(out.str());
    BOOST_TEST(parsed.at(0).as_int64() == std::numeric_limits<std::int64_t>::min());
    BOOST_TEST(parsed.at(1).as_int64() == std::numeric_limits<std::int64_t>::max());
}

BOOST_AUTO_TEST_CASE(doubles_shortest_form) {
    BOOST_TEST(number_text(0.7) == "0.7");
    BOOST_TEST(number_text(256.0) == "256");
    BOOST_TEST(number_text(0.0) == "0");
    BOOST_TEST(number_text(-1.5) == "-1.5");
    BOOST_TEST(number_text(0.1 + 0.2) == "0.30000000000000004");
    BOOST_TEST(number_text(1e-7) == "1e-07");
    // Whatever the spelling, it is a JSON number and reads back as the same double
    // (checked with the exact std::from_chars; Boost.JSON 1.81 may round differently).
    for (const double value : {0.7, 256.0, 1e300, -1e-300, 123456789.125, 1e21, 5e-324}) {
        const std::string text = number_text(value);
        BOOST_TEST_REQUIRE(json::parse(text).is_number(), text);
        double back = 0;
        const auto result = std::from_chars(text.data(), text.data() + text.size(), back);
        BOOST_TEST_REQUIRE((result.ec == std::errc() && result.ptr == text.data() + text.size()),
                           text);
        BOOST_TEST(back == value, text);
    }
}

BOOST_AUTO_TEST_CASE(non_finite_doubles_become_null) {
    BOOST_TEST(number_text(std::numeric_limits<double>::quiet_NaN()) == "null");
    BOOST_TEST(number_text(std::numeric_limits<double>::infinity()) == "null");
    BOOST_TEST(number_text(-std::numeric_limits<double>::infinity()) == "null");
    JsonWriter out;
    out.begin_array().number(1.0).number(std::nan("")).number(2.0).end_array();
    BOOST_TEST(out.str() == "[1,null,2]");
}

BOOST_AUTO_TEST_CASE(raw_inserts_text_with_commas) {
    JsonWriter out;
    out.begin_object();
    out.key("a").raw(R"({"x":"1","y":"2"})");
    out.key("b").raw("[1,2]");
    out.end_object();
    BOOST_TEST(out.str() == R"({"a":{"x":"1","y":"2"},"b":[1,2]})");
    JsonWriter array;
    array.begin_array().raw("1").raw("{}").end_array();
    BOOST_TEST(array.str() == "[1,{}]");
}

BOOST_AUTO_TEST_CASE(take_moves_out_and_resets) {
    JsonWriter out;
    out.begin_object().key("a").begin_array().number(std::int64_t{1});
    // Left unbalanced on purpose: take() must still reset every piece of state.
    const std::string first = out.take();
    BOOST_TEST(first == R"({"a":[1)");
    BOOST_TEST(out.str().empty());
    out.begin_array().number(std::int64_t{2}).end_array();
    BOOST_TEST(out.str() == "[2]");
    BOOST_TEST(out.take() == "[2]");
    out.begin_object().key("k");
    (void)out.take();
    out.begin_object().key("b").number(std::int64_t{3}).end_object();
    BOOST_TEST(out.take() == R"({"b":3})");
}

BOOST_AUTO_TEST_CASE(output_parses_back_to_same_values) {
    const std::string tricky = std::string("q\" b\\ n\n nul") + '\0' + " \xc3\xa9\xf0\x9f\x98\x80";
    JsonWriter out;
    out.begin_object();
    out.key("string").string(tricky);
    out.key("min").number(std::numeric_limits<std::int64_t>::min());
    out.key("max").number(std::numeric_limits<std::int64_t>::max());
    out.key("double").number(0.7);
    out.key("whole").number(256.0);
    out.key("nan").number(std::numeric_limits<double>::quiet_NaN());
    out.key("true").boolean(true);
    out.key("false").boolean(false);
    out.key("null").null();
    out.key("list").begin_array().string("a").number(std::int64_t{-5}).end_array();
    out.key(tricky).string("value of tricky key");
    out.end_object();

    const json::value parsed = json::parse(out.str());
    const auto& object = parsed.as_object();
    BOOST_TEST(object.size() == 11u);
    const auto& text = object.at("string").as_string();
    BOOST_TEST(std::string(text.data(), text.size()) == tricky);
    BOOST_TEST(object.at("min").as_int64() == std::numeric_limits<std::int64_t>::min());
    BOOST_TEST(object.at("max").as_int64() == std::numeric_limits<std::int64_t>::max());
    BOOST_TEST(object.at("double").to_number<double>() == 0.7);
    BOOST_TEST(object.at("whole").to_number<double>() == 256.0);
    BOOST_TEST(object.at("nan").is_null());
    BOOST_TEST(object.at("true").as_bool() == true);
    BOOST_TEST(object.at("false").as_bool() == false);
    BOOST_TEST(object.at("null").is_null());
    BOOST_TEST(object.at("list").as_array().size() == 2u);
    BOOST_TEST(object.at("list").as_array()[1].as_int64() == -5);
    BOOST_TEST(object.at(tricky).as_string() == "value of tricky key");
    // Keys come out in the order they were written.
    BOOST_TEST(object.begin()->key() == "string");
}

BOOST_AUTO_TEST_SUITE_END()
