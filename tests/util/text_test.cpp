#include "threadsd/util/text.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

BOOST_AUTO_TEST_SUITE(util_text)

BOOST_AUTO_TEST_CASE(trim_removes_blanks_at_both_ends_only) {
    using threadsd::util::trim;
    BOOST_TEST(trim(" \t a b \r") == "a b");
    BOOST_TEST(trim("ab") == "ab");
    BOOST_TEST(trim(" \t\r ").empty());
    BOOST_TEST(trim("").empty());
}

BOOST_AUTO_TEST_CASE(split_list_trims_entries_and_skips_empty_ones) {
    const auto entries = threadsd::util::split_list(" a , b,,\tc d ,");
    const std::vector<std::string_view> expected{"a", "b", "c d"};
    BOOST_TEST(entries == expected, boost::test_tools::per_element());
    BOOST_TEST(threadsd::util::split_list("").empty());
    BOOST_TEST(threadsd::util::split_list(" , ,").empty());
}

BOOST_AUTO_TEST_CASE(read_file_gives_nothing_for_a_missing_file) {
    BOOST_TEST(!threadsd::util::read_file("/nonexistent/threadsd/file").has_value());
    BOOST_TEST(threadsd::util::read_file("/proc/self/cmdline").has_value());
}

BOOST_AUTO_TEST_CASE(ascii_comparisons_ignore_case_and_stay_within_their_arguments) {
    using threadsd::util::iequals_ascii;
    using threadsd::util::starts_with_ascii_nocase;
    BOOST_TEST(iequals_ascii("Chunked", "chunked"));
    BOOST_TEST(iequals_ascii("", ""));
    BOOST_TEST(!iequals_ascii("chunked", "chunke"));
    BOOST_TEST(!iequals_ascii("\xc3\xa9", "\xc3\x89"));  // only ASCII folds
    // Cut to size on the heap, so AddressSanitizer sees any read past the end.
    const std::string exact("hTtp://");
    BOOST_TEST(starts_with_ascii_nocase(std::string_view(exact), "http://"));
    BOOST_TEST(!starts_with_ascii_nocase("http:/", "http://"));
    BOOST_TEST(starts_with_ascii_nocase("bearer x", "Bearer"));
}

BOOST_AUTO_TEST_CASE(hex_digit_value_knows_both_cases) {
    using threadsd::util::hex_digit_value;
    BOOST_TEST(hex_digit_value('0') == 0);
    BOOST_TEST(hex_digit_value('9') == 9);
    BOOST_TEST(hex_digit_value('a') == 10);
    BOOST_TEST(hex_digit_value('F') == 15);
    BOOST_TEST(hex_digit_value('g') == -1);
    BOOST_TEST(hex_digit_value(' ') == -1);
}

BOOST_AUTO_TEST_CASE(utf8_sequence_length_follows_rfc_3629) {
    using threadsd::util::utf8_sequence_length;
    BOOST_TEST(utf8_sequence_length("a") == 1u);
    BOOST_TEST(utf8_sequence_length("\xc3\xa9") == 2u);
    BOOST_TEST(utf8_sequence_length("\xe2\x82\xac") == 3u);
    BOOST_TEST(utf8_sequence_length("\xf0\x9f\x98\x80") == 4u);
    BOOST_TEST(utf8_sequence_length("") == 0u);
    BOOST_TEST(utf8_sequence_length("\xc0\xaf") == 0u);          // overlong '/'
    BOOST_TEST(utf8_sequence_length("\xed\xa0\x80") == 0u);      // a surrogate
    BOOST_TEST(utf8_sequence_length("\xf4\x90\x80\x80") == 0u);  // above U+10FFFF
    BOOST_TEST(utf8_sequence_length("\xe2\x82") == 0u);          // cut short
    BOOST_TEST(utf8_sequence_length("\x80") == 0u);              // a lone continuation
}

BOOST_AUTO_TEST_CASE(replace_invalid_utf8_replaces_each_bad_byte_and_keeps_the_rest) {
    using threadsd::util::replace_invalid_utf8;
    BOOST_TEST(!replace_invalid_utf8("/api/v1/threads/\xc3\xa9").has_value());
    const auto replaced = replace_invalid_utf8(
        "/a\xff\xfe"
        "b\xc3\xa9\xe2\x82");
    BOOST_TEST_REQUIRE(replaced.has_value());
    BOOST_TEST(*replaced ==
               "/a\xef\xbf\xbd\xef\xbf\xbd"
               "b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
}

BOOST_AUTO_TEST_SUITE_END()
