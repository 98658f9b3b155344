#include "threadsd/util/clock.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using threadsd::util::append_rfc3339_millis;
using threadsd::util::format_rfc3339_millis;
using threadsd::util::parse_rfc3339_millis;

constexpr std::int64_t kKnown = 1'795'895'673'123;  // 2026-11-28T19:54:33.123Z
constexpr std::int64_t kRefused = std::numeric_limits<std::int64_t>::min();

/// The parsed value, or kRefused; keeps assertions printable.
std::int64_t parse(std::string_view text) {
    return parse_rfc3339_millis(text).value_or(kRefused);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(util_clock)

BOOST_AUTO_TEST_CASE(format_epoch) {
    BOOST_TEST(format_rfc3339_millis(0) == "1970-01-01T00:00:00.000Z");
    BOOST_TEST(format_rfc3339_millis(1) == "1970-01-01T00:00:00.001Z");
    BOOST_TEST(format_rfc3339_millis(86'400'000) == "1970-01-02T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(format_known_instant_with_millis) {
    BOOST_TEST(format_rfc3339_millis(kKnown) == "2026-11-28T19:54:33.123Z");
    BOOST_TEST(format_rfc3339_millis(kKnown - 123) == "2026-11-28T19:54:33.000Z");
    BOOST_TEST(format_rfc3339_millis(kKnown - 123 + 7) == "2026-11-28T19:54:33.007Z");
    BOOST_TEST(format_rfc3339_millis(kKnown - 123 + 50) == "2026-11-28T19:54:33.050Z");
}

BOOST_AUTO_TEST_CASE(format_pads_every_field_and_handles_years_beyond_four_digits) {
    BOOST_TEST(format_rfc3339_millis(-62'135'596'800'000) == "0001-01-01T00:00:00.000Z");
    BOOST_TEST(format_rfc3339_millis(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
    BOOST_TEST(format_rfc3339_millis(253'402'300'800'000) == "10000-01-01T00:00:00.000Z");
    std::string appended = "at ";
    append_rfc3339_millis(appended, 1'000'000'000'000);
    BOOST_TEST(appended == "at 2001-09-09T01:46:40.000Z");
}

BOOST_AUTO_TEST_CASE(format_before_1970) {
    BOOST_TEST(format_rfc3339_millis(-1) == "1969-12-31T23:59:59.999Z");
    BOOST_TEST(format_rfc3339_millis(-1000) == "1969-12-31T23:59:59.000Z");
    BOOST_TEST(format_rfc3339_millis(-86'400'000) == "1969-12-31T00:00:00.000Z");
    BOOST_TEST(format_rfc3339_millis(-86'400'001) == "1969-12-30T23:59:59.999Z");
    // Apollo 11 landing: 1969-07-20T20:17:40Z is -14182940 s.
    BOOST_TEST(format_rfc3339_millis(-14'182'940'000 + 250) == "1969-07-20T20:17:40.250Z");
}

BOOST_AUTO_TEST_CASE(format_leap_days) {
    BOOST_TEST(format_rfc3339_millis(1'709'208'000'000) == "2024-02-29T12:00:00.000Z");
    BOOST_TEST(format_rfc3339_millis(1'709'208'000'000 + 12 * 3'600'000) ==
               "2024-03-01T00:00:00.000Z");
    BOOST_TEST(format_rfc3339_millis(951'782'400'000) == "2000-02-29T00:00:00.000Z");
    BOOST_TEST(format_rfc3339_millis(951'782'400'000 - 1) == "2000-02-28T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(append_appends_same_text) {
    std::string out = "at ";
    append_rfc3339_millis(out, kKnown);
    BOOST_TEST(out == "at 2026-11-28T19:54:33.123Z");
}

BOOST_AUTO_TEST_CASE(parse_utc_z) {
    BOOST_TEST(parse("2026-11-28T19:54:33.123Z") == kKnown);
    BOOST_TEST(parse("2026-11-28T19:54:33Z") == kKnown - 123);
    BOOST_TEST(parse("1970-01-01T00:00:00Z") == 0);
    BOOST_TEST(parse("1969-12-31T23:59:59.999Z") == -1);
    BOOST_TEST(parse("2024-02-29T12:00:00Z") == 1'709'208'000'000);
}

BOOST_AUTO_TEST_CASE(parse_offsets) {
    // The same instant in three zones.
    BOOST_TEST(parse("2026-11-28T21:54:33.123+02:00") == kKnown);
    BOOST_TEST(parse("2026-11-28T14:24:33.123-05:30") == kKnown);
    BOOST_TEST(parse("2026-11-29T01:24:33.123+05:30") == kKnown);
    BOOST_TEST(parse("2026-11-28T19:54:33.123+00:00") == kKnown);
    BOOST_TEST(parse("2026-11-28T19:54:33.123-00:00") == kKnown);
    // An offset can cross the epoch.
    BOOST_TEST(parse("1970-01-01T00:00:00+01:00") == -3'600'000);
}

BOOST_AUTO_TEST_CASE(parse_fractions_of_any_length_truncate_to_millis) {
    const std::int64_t second = kKnown - 123;
    const std::vector<std::pair<std::string, std::int64_t>> cases = {
        {"2026-11-28T19:54:33.1Z", second + 100},
        {"2026-11-28T19:54:33.12Z", second + 120},
        {"2026-11-28T19:54:33.123Z", second + 123},
        {"2026-11-28T19:54:33.1239Z", second + 123},
        {"2026-11-28T19:54:33.12399Z", second + 123},
        {"2026-11-28T19:54:33.123999Z", second + 123},
        {"2026-11-28T19:54:33.1239999Z", second + 123},
        {"2026-11-28T19:54:33.12399999Z", second + 123},
        {"2026-11-28T19:54:33.123999999Z", second + 123},
        {"2026-11-28T19:54:33.999999999Z", second + 999},
        {"2026-11-28T19:54:33.000000001Z", second},
        {"2026-11-28T19:54:33.5+01:00", second - 3'600'000 + 500},
    };
    for (const auto& [text, expected] : cases) {
        const auto parsed = parse_rfc3339_millis(text);
        BOOST_TEST_REQUIRE(parsed.has_value(), text);
        BOOST_TEST(*parsed == expected, text);
    }
}

BOOST_AUTO_TEST_CASE(parse_lower_case_t_and_z) {
    BOOST_TEST(parse("2026-11-28t19:54:33.123z") == kKnown);
    BOOST_TEST(parse("2026-11-28t19:54:33.123Z") == kKnown);
    BOOST_TEST(parse("2026-11-28T19:54:33.123z") == kKnown);
}

BOOST_AUTO_TEST_CASE(parse_refuses_malformed) {
    const std::vector<std::string> refused = {
        "",
        "garbage",
        "2026-11-28",                 // date only
        "2026-11-28T19:54:33",        // no zone
        "2026-11-28T19:54:33.123",    // no zone
        "2026-11-28 19:54:33Z",       // space instead of T
        "2026-13-01T00:00:00Z",       // month 13
        "2026-00-01T00:00:00Z",       // month 0
        "2026-11-31T00:00:00Z",       // November 31
        "2026-11-00T00:00:00Z",       // day 0
        "2026-11-32T00:00:00Z",       // day 32
        "2024-02-30T00:00:00Z",       // February 30
        "2023-02-29T00:00:00Z",       // not a leap year
        "1900-02-29T00:00:00Z",       // century, not a leap year
        "2026-11-28T24:00:00Z",       // hour 24
        "2026-11-28T19:60:00Z",       // minute 60
        "2026-11-28T19:54:61Z",       // second 61
        "2026-11-28T19:54:33.Z",      // empty fraction
        "2026-11-28T19:54:33,123Z",   // comma fraction
        "2026-11-28T19:54:33.123ZZ",  // trailing data
        "2026-11-28T19:54:33.123Z ",  // trailing space
        " 2026-11-28T19:54:33.123Z",  // leading space
        "2026-11-28T19:54:33+0200",   // offset without colon
        "2026-11-28T19:54:33+02",     // short offset
        "2026-11-28T19:54:33+24:00",  // offset hour 24
        "2026-11-28T19:54:33+02:60",  // offset minute 60
        "2026-11-28T19:54:33+0a:00",  // non-digit offset
        "26-11-28T19:54:33Z",         // two-digit year
        "2026-1-28T19:54:33Z",        // one-digit month
        "2026/11/28T19:54:33Z",       // wrong separators
        "2026-11-28T19-54-33Z",       // wrong separators
        "+2026-11-28T19:54:33Z",      // signed year
        "2026-11-28T19:54:33.12a3Z",  // letter in fraction
    };
    for (const auto& text : refused) {
        BOOST_TEST(!parse_rfc3339_millis(text).has_value(), "should refuse '" << text << "'");
    }
}

BOOST_AUTO_TEST_CASE(round_trip) {
    const std::vector<std::int64_t> instants = {
        0,
        1,
        -1,
        999,
        -999,
        kKnown,
        1'709'208'000'000,
        951'782'400'000 - 1,
        -14'182'940'250,
        // 9999-12-31T23:59:59.999Z, the last four-digit-year instant.
        253'402'300'799'999,
        // 0001-01-01T00:00:00.000Z
        -62'135'596'800'000,
    };
    for (const auto ms : instants) {
        const std::string text = format_rfc3339_millis(ms);
        const auto back = parse_rfc3339_millis(text);
        BOOST_TEST_REQUIRE(back.has_value(), text);
        BOOST_TEST(*back == ms, text);
    }
    BOOST_TEST(format_rfc3339_millis(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
    BOOST_TEST(format_rfc3339_millis(-62'135'596'800'000) == "0001-01-01T00:00:00.000Z");
    // Every millisecond of a day around a leap day boundary round-trips too.
    for (std::int64_t ms = 951'782'400'000 - 5'000; ms < 951'782'400'000 + 5'000; ms += 7) {
        BOOST_TEST_REQUIRE(parse(format_rfc3339_millis(ms)) == ms);
    }
}

BOOST_AUTO_TEST_SUITE_END()
