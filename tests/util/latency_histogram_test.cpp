#include "threadsd/util/latency_histogram.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

namespace {

using threadsd::util::LatencyHistogram;
using namespace std::chrono_literals;

}  // namespace

BOOST_AUTO_TEST_SUITE(latency_histogram)

BOOST_AUTO_TEST_CASE(buckets_are_cumulative_and_end_with_the_count) {
    LatencyHistogram histogram;
    histogram.record(200us);  // <= 0.0005
    histogram.record(3ms);    // <= 0.005
    histogram.record(3ms);
    histogram.record(30s);  // only +Inf
    std::string out;
    histogram.render(out, "x_seconds", "route=\"get\"");
    BOOST_TEST(out.find("x_seconds_bucket{route=\"get\",le=\"0.0005\"} 1\n") != std::string::npos,
               out);
    BOOST_TEST(out.find("x_seconds_bucket{route=\"get\",le=\"0.0025\"} 1\n") != std::string::npos);
    BOOST_TEST(out.find("x_seconds_bucket{route=\"get\",le=\"0.005\"} 3\n") != std::string::npos);
    BOOST_TEST(out.find("x_seconds_bucket{route=\"get\",le=\"5\"} 3\n") != std::string::npos);
    BOOST_TEST(out.find("x_seconds_bucket{route=\"get\",le=\"+Inf\"} 4\n") != std::string::npos);
    BOOST_TEST(out.find("x_seconds_count{route=\"get\"} 4\n") != std::string::npos);
    BOOST_TEST(out.find("x_seconds_sum{route=\"get\"} 30.006200000\n") != std::string::npos, out);
    BOOST_TEST(histogram.count() == 4u);
}

BOOST_AUTO_TEST_CASE(without_labels_there_are_no_empty_braces) {
    LatencyHistogram histogram;
    histogram.record(1ms);
    std::string out;
    histogram.render(out, "y", "");
    BOOST_TEST(out.find("y_bucket{le=\"0.001\"} 1\n") != std::string::npos, out);
    BOOST_TEST(out.find("y_count 1\n") != std::string::npos);
    BOOST_TEST(out.find("{}") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
