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

BOOST_AUTO_TEST_SUITE_END()
