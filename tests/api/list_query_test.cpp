#include "threadsd/api/list_query.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "threadsd/util/uuid.hpp"

namespace {

using threadsd::api::ApiError;
using threadsd::api::ErrorCode;
using threadsd::api::kMaxPageSize;
using threadsd::api::ListQuery;
using threadsd::api::parse_list_query;
using threadsd::util::uuid7_floor;

constexpr const char* kUuid = "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f";
constexpr const char* kUuidUpper = "0190A4C2-7D3E-7B6A-9F1E-3C2D1A0B9E8F";
// 2026-11-28T19:54:33.123Z and 2026-11-28T09:00:00Z in unix milliseconds.
constexpr std::int64_t kInstantMs = 1'795'895'673'123;
constexpr std::int64_t kNineUtcMs = 1'795'856'400'000;

ListQuery expect_ok(std::string_view query) {
    auto result = parse_list_query(query);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error == nullptr,
                       "refused '" << query << "': " << (error ? error->message : ""));
    return std::get<ListQuery>(std::move(result));
}

/// Checks that `query` is a 400 whose message contains `names` (the parameter).
ApiError expect_refused(std::string_view query, std::string_view names) {
    auto result = parse_list_query(query);
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted '" << query << "'");
    BOOST_TEST((error->code == ErrorCode::kBadRequest), query);
    BOOST_TEST(error->message.find(names) != std::string::npos,
               "'" << query << "' gave '" << error->message << "', not naming " << names);
    return *error;
}

void expect_no_filters(const ListQuery& query) {
    const auto& f = query.filter;
    BOOST_TEST(!f.agent_id.has_value());
    BOOST_TEST(!f.is_active.has_value());
    BOOST_TEST(!f.closed_reason.has_value());
    BOOST_TEST(!f.to_phone_number.has_value());
    BOOST_TEST(!f.id_below.has_value());
    BOOST_TEST(!f.id_at_or_above.has_value());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_list_query)

BOOST_AUTO_TEST_CASE(empty_query_gives_defaults) {
    const ListQuery query = expect_ok("");
    BOOST_TEST(query.limit == 10u);
    expect_no_filters(query);
    BOOST_TEST(kMaxPageSize == 100u);
}

BOOST_AUTO_TEST_CASE(empty_segments_are_ignored) {
    for (const char* text : {"&", "&&", "limit=7&&isActive=true", "&limit=7&isActive=true&",
                             "limit=7&&&isActive=true&&"}) {
        const ListQuery query = expect_ok(text);
        if (std::string_view(text).find("limit") != std::string_view::npos) {
            BOOST_TEST(query.limit == 7u, text);
            BOOST_TEST_REQUIRE(query.filter.is_active.has_value(), text);
            BOOST_TEST(*query.filter.is_active, text);
        } else {
            BOOST_TEST(query.limit == 10u, text);
            expect_no_filters(query);
        }
    }
}

BOOST_AUTO_TEST_CASE(limit_from_1_to_100) {
    BOOST_TEST(expect_ok("limit=1").limit == 1u);
    BOOST_TEST(expect_ok("limit=10").limit == 10u);
    BOOST_TEST(expect_ok("limit=99").limit == 99u);
    BOOST_TEST(expect_ok("limit=100").limit == 100u);
    // Plain decimal digits: a leading zero is still digits.
    BOOST_TEST(expect_ok("limit=05").limit == 5u);
    BOOST_TEST(expect_ok("limit=005").limit == 5u);
    // Plain decimal digits: any number of leading zeros.
    BOOST_TEST(expect_ok("limit=0005").limit == 5u);
    BOOST_TEST(expect_ok("limit=0100").limit == 100u);
    expect_no_filters(expect_ok("limit=50"));
}

BOOST_AUTO_TEST_CASE(limit_out_of_range_or_not_plain_digits_is_refused) {
    for (const char* text :
         {"limit=0", "limit=00", "limit=101", "limit=1000", "limit=999999999999999999999999",
          "limit=10a", "limit=a10", "limit=+5", "limit=-5", "limit=%205", "limit=5%20", "limit=1e2",
          "limit=0x10", "limit=5.0", "limit=%2B5", "limit=%EF%BC%95", "limit=-0"}) {
        expect_refused(text, "limit");
    }
}

BOOST_AUTO_TEST_CASE(empty_value_is_refused_and_names_the_parameter) {
    for (const char* name : {"limit", "cursor", "agentId", "isActive", "closedReason",
                             "toPhoneNumber", "createdAfter", "createdBefore"}) {
        expect_refused(std::string(name) + "=", name);
        expect_refused(std::string(name), name);  // no '=' at all
        expect_refused("limit=5&" + std::string(name) + "=", name);
    }
}

BOOST_AUTO_TEST_CASE(repeated_parameter_is_refused) {
    expect_refused("limit=5&limit=5", "limit");
    expect_refused("limit=5&limit=6", "limit");
    expect_refused("isActive=true&agentId=" + std::string(kUuid) + "&isActive=false", "isActive");
    expect_refused("closedReason=A&closedReason=B", "closedReason");
    // Also when one spelling is percent-encoded: the decoded names are the same.
    expect_refused("limit=5&%6Cimit=6", "limit");
    expect_refused(std::string("cursor=") + kUuid + "&cursor=" + kUuidUpper, "cursor");
}

BOOST_AUTO_TEST_CASE(unknown_parameter_is_refused_by_name) {
    expect_refused("foo=bar", "foo");
    expect_refused("limit=5&pageSize=5", "pageSize");
    // Names are case-sensitive.
    expect_refused("Limit=5", "Limit");
    expect_refused("agentid=" + std::string(kUuid), "agentid");
    expect_refused("isactive=true", "isactive");
    // A trailing space is part of the name.
    expect_refused("limit%20=5", "query parameter");
}

BOOST_AUTO_TEST_CASE(unknown_parameter_name_is_not_echoed_when_unprintable_or_long) {
    const ApiError control = expect_refused("a%0Ab=1", "query parameter");
    BOOST_TEST(control.message.find('\n') == std::string::npos, control.message);
    const std::string long_name(200, 'x');
    const ApiError long_error = expect_refused(long_name + "=1", "query parameter");
    BOOST_TEST(long_error.message.find(long_name) == std::string::npos);
    BOOST_TEST(long_error.message.size() < 120u, long_error.message);
}

BOOST_AUTO_TEST_CASE(agent_id_is_a_normalized_uuid) {
    const ListQuery lower = expect_ok("agentId=" + std::string(kUuid));
    BOOST_TEST_REQUIRE(lower.filter.agent_id.has_value());
    BOOST_TEST(*lower.filter.agent_id == kUuid);
    const ListQuery upper = expect_ok("agentId=" + std::string(kUuidUpper));
    BOOST_TEST_REQUIRE(upper.filter.agent_id.has_value());
    BOOST_TEST(*upper.filter.agent_id == kUuid);
    BOOST_TEST(!upper.filter.id_below.has_value());
    for (const std::string bad :
         {"x", "0190a4c27d3e7b6a9f1e3c2d1a0b9e8f", "{0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f}",
          "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8", "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8g",
          "%200190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8"}) {
        expect_refused("agentId=" + bad, "agentId");
    }
}

BOOST_AUTO_TEST_CASE(cursor_is_a_normalized_uuid_and_an_exclusive_upper_bound) {
    const ListQuery query = expect_ok("cursor=" + std::string(kUuidUpper));
    BOOST_TEST_REQUIRE(query.filter.id_below.has_value());
    BOOST_TEST(*query.filter.id_below == kUuid);
    BOOST_TEST(!query.filter.id_at_or_above.has_value());
    BOOST_TEST(!query.filter.agent_id.has_value());
    // Any well-formed UUID is a position, also the smallest and largest.
    BOOST_TEST(*expect_ok("cursor=00000000-0000-0000-0000-000000000000").filter.id_below ==
               "00000000-0000-0000-0000-000000000000");
    BOOST_TEST(*expect_ok("cursor=FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF").filter.id_below ==
               "ffffffff-ffff-ffff-ffff-ffffffffffff");
    for (const std::string bad : {"abc", "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f0",
                                  "urn:uuid:0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f"}) {
        expect_refused("cursor=" + bad, "cursor");
    }
}

BOOST_AUTO_TEST_CASE(is_active_only_true_or_false) {
    const ListQuery yes = expect_ok("isActive=true");
    BOOST_TEST_REQUIRE(yes.filter.is_active.has_value());
    BOOST_TEST(*yes.filter.is_active == true);
    const ListQuery no = expect_ok("isActive=false");
    BOOST_TEST_REQUIRE(no.filter.is_active.has_value());
    BOOST_TEST(*no.filter.is_active == false);
    for (const char* bad : {"True", "FALSE", "1", "0", "yes", "t", "true%20", "%20false"}) {
        expect_refused(std::string("isActive=") + bad, "isActive");
    }
}

BOOST_AUTO_TEST_CASE(closed_reason_and_phone_number_are_exact_decoded_text) {
    const ListQuery query = expect_ok("closedReason=USER%20LEFT&toPhoneNumber=%2B15551234567");
    BOOST_TEST_REQUIRE(query.filter.closed_reason.has_value());
    BOOST_TEST(*query.filter.closed_reason == "USER LEFT");
    BOOST_TEST_REQUIRE(query.filter.to_phone_number.has_value());
    BOOST_TEST(*query.filter.to_phone_number == "+15551234567");
    // '+' is a literal plus, not a space.
    const ListQuery plus = expect_ok("toPhoneNumber=+15551234567&closedReason=a+b");
    BOOST_TEST(*plus.filter.to_phone_number == "+15551234567");
    BOOST_TEST(*plus.filter.closed_reason == "a+b");
    // Case is kept; UTF-8 passes through decoding.
    const ListQuery utf8 = expect_ok("closedReason=Fin%C3%A9");
    BOOST_TEST(*utf8.filter.closed_reason == "Fin\xc3\xa9");
    // An encoded '&' or '=' is part of the value, not a separator.
    const ListQuery separators = expect_ok("closedReason=a%26b%3Dc&limit=3");
    BOOST_TEST(*separators.filter.closed_reason == "a&b=c");
    BOOST_TEST(separators.limit == 3u);
    // A raw '=' after the first one is part of the value.
    BOOST_TEST(*expect_ok("closedReason=a=b").filter.closed_reason == "a=b");
}

BOOST_AUTO_TEST_CASE(percent_decoding_of_names_and_values) {
    // Hex digits in either case.
    const ListQuery query = expect_ok("%6c%69%6D%69%74=%31%32");
    BOOST_TEST(query.limit == 12u);
    const ListQuery colon = expect_ok("createdAfter=2026-11-28T19%3A54%3A33.123Z");
    BOOST_TEST_REQUIRE(colon.filter.id_at_or_above.has_value());
    BOOST_TEST(*colon.filter.id_at_or_above == uuid7_floor(kInstantMs + 1));
    const ListQuery offset = expect_ok("createdBefore=2026-11-28T10:00:00%2B01:00");
    BOOST_TEST_REQUIRE(offset.filter.id_below.has_value());
    BOOST_TEST(*offset.filter.id_below == uuid7_floor(kNineUtcMs));
}

BOOST_AUTO_TEST_CASE(bad_percent_encoding_is_refused) {
    for (const char* text : {"limit=%zz", "limit=%", "limit=5%", "limit=%4", "closedReason=a%g1",
                             "closedReason=%%41", "li%zzmit=5", "%=5", "closedReason=%2"}) {
        auto result = parse_list_query(text);
        const auto* error = std::get_if<ApiError>(&result);
        BOOST_TEST_REQUIRE(error != nullptr, "accepted " << text);
        BOOST_TEST((error->code == ErrorCode::kBadRequest), text);
        BOOST_TEST(!error->message.empty());
    }
}

BOOST_AUTO_TEST_CASE(bad_percent_encoding_in_a_value_names_the_parameter) {
    expect_refused("limit=%zz", "limit");
    expect_refused("closedReason=abc%", "closedReason");
    expect_refused("limit=5&toPhoneNumber=%2", "toPhoneNumber");
}

BOOST_AUTO_TEST_CASE(created_after_is_an_exclusive_lower_bound) {
    const ListQuery query = expect_ok("createdAfter=2026-11-28T19:54:33.123Z");
    BOOST_TEST_REQUIRE(query.filter.id_at_or_above.has_value());
    // At least one millisecond later: the floor of the next millisecond.
    BOOST_TEST(*query.filter.id_at_or_above == uuid7_floor(kInstantMs + 1));
    BOOST_TEST(*query.filter.id_at_or_above == "01a223b9-4124-0000-0000-000000000000");
    BOOST_TEST(!query.filter.id_below.has_value());
}

BOOST_AUTO_TEST_CASE(created_before_is_an_exclusive_upper_bound) {
    const ListQuery query = expect_ok("createdBefore=2026-11-28T19:54:33.123Z");
    BOOST_TEST_REQUIRE(query.filter.id_below.has_value());
    BOOST_TEST(*query.filter.id_below == uuid7_floor(kInstantMs));
    BOOST_TEST(*query.filter.id_below == "01a223b9-4123-0000-0000-000000000000");
    BOOST_TEST(!query.filter.id_at_or_above.has_value());
}

BOOST_AUTO_TEST_CASE(an_unencoded_plus_offset_parses_as_an_offset) {
    const ListQuery after = expect_ok("createdAfter=2026-11-28T10:00:00+01:00");
    BOOST_TEST_REQUIRE(after.filter.id_at_or_above.has_value());
    BOOST_TEST(*after.filter.id_at_or_above == uuid7_floor(kNineUtcMs + 1));
    const ListQuery negative = expect_ok("createdBefore=2026-11-28T04:00:00-05:00");
    BOOST_TEST(*negative.filter.id_below == uuid7_floor(kNineUtcMs));
    const ListQuery zulu = expect_ok("createdBefore=2026-11-28T09:00:00Z");
    BOOST_TEST(*zulu.filter.id_below == uuid7_floor(kNineUtcMs));
    // A fraction finer than milliseconds is truncated.
    const ListQuery fine = expect_ok("createdBefore=2026-11-28T19:54:33.123999Z");
    BOOST_TEST(*fine.filter.id_below == uuid7_floor(kInstantMs));
}

BOOST_AUTO_TEST_CASE(malformed_dates_are_refused_by_name) {
    for (const char* name : {"createdAfter", "createdBefore"}) {
        for (const char* bad :
             {"2026-11-28", "2026-11-28T19:54:33", "2026-11-28 19:54:33Z", "2026-13-01T00:00:00Z",
              "2026-02-30T00:00:00Z", "1795895673123", "yesterday", "2026-11-28T19:54:33.Z",
              "2026-11-28T19:54:33+0100", "2026-11-28T19:54:33%2001:00", "2026-11-28T25:00:00Z"}) {
            expect_refused(std::string(name) + "=" + bad, name);
        }
    }
}

BOOST_AUTO_TEST_CASE(cursor_and_created_before_keep_the_smaller_bound) {
    const std::string before_floor = uuid7_floor(kInstantMs);
    // A cursor older than createdBefore wins.
    const std::string older_cursor = "01a223b9-4000-7000-8000-000000000000";
    BOOST_TEST_REQUIRE(older_cursor < before_floor);
    const ListQuery cursor_wins =
        expect_ok("createdBefore=2026-11-28T19:54:33.123Z&cursor=" + older_cursor);
    BOOST_TEST(*cursor_wins.filter.id_below == older_cursor);
    const ListQuery cursor_wins_reversed =
        expect_ok("cursor=" + older_cursor + "&createdBefore=2026-11-28T19:54:33.123Z");
    BOOST_TEST(*cursor_wins_reversed.filter.id_below == older_cursor);
    // A cursor newer than createdBefore loses to it.
    const std::string newer_cursor = "01a223b9-4123-7000-8000-000000000000";
    BOOST_TEST_REQUIRE(newer_cursor > before_floor);
    const ListQuery before_wins =
        expect_ok("cursor=" + newer_cursor + "&createdBefore=2026-11-28T19:54:33.123Z");
    BOOST_TEST(*before_wins.filter.id_below == before_floor);
    // The cursor is normalized before comparing: upper case would otherwise sort lower.
    const ListQuery upper_cursor =
        expect_ok("cursor=01A223B9-4123-7000-8000-00000000000A" +
                  std::string("&createdBefore=2026-11-28T19:54:33.123Z"));
    BOOST_TEST(*upper_cursor.filter.id_below == before_floor);
}

BOOST_AUTO_TEST_CASE(every_parameter_together) {
    const ListQuery query = expect_ok(
        "limit=25&cursor=" + std::string(kUuidUpper) + "&agentId=" + std::string(kUuidUpper) +
        "&isActive=false&closedReason=ENDED&toPhoneNumber=%2B4930123&createdAfter=2020-01-01T00:"
        "00:00Z&createdBefore=2030-01-01T00:00:00Z");
    BOOST_TEST(query.limit == 25u);
    const auto& f = query.filter;
    BOOST_TEST(*f.agent_id == kUuid);
    BOOST_TEST(*f.is_active == false);
    BOOST_TEST(*f.closed_reason == "ENDED");
    BOOST_TEST(*f.to_phone_number == "+4930123");
    // 2020-01-01T00:00:00Z is 1577836800000 ms.
    BOOST_TEST(*f.id_at_or_above == uuid7_floor(1'577'836'800'001));
    // The cursor (2024-07) is below the 2030 floor.
    BOOST_TEST(*f.id_below == kUuid);
}

BOOST_AUTO_TEST_CASE(a_parameter_without_a_name_is_refused) {
    auto result = parse_list_query("=5");
    const auto* error = std::get_if<ApiError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr);
    BOOST_TEST((error->code == ErrorCode::kBadRequest));
}

BOOST_AUTO_TEST_SUITE_END()
