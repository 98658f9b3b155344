#include "threadsd/http/metrics.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "threadsd/http/access_log.hpp"

namespace {

using threadsd::http::AccessRecord;
using threadsd::http::RequestMetrics;
using threadsd::http::RouteId;
using namespace std::chrono_literals;

}  // namespace

BOOST_AUTO_TEST_SUITE(request_metrics)

BOOST_AUTO_TEST_CASE(requests_are_counted_by_route_and_status) {
    RequestMetrics metrics;
    metrics.record(RouteId::kCreateWebThread, 200, 2ms);
    metrics.record(RouteId::kCreateWebThread, 200, 3ms);
    metrics.record(RouteId::kCreateWebThread, 400, 1ms);
    metrics.record(std::nullopt, 404, 1ms);
    metrics.record(RouteId::kGetThread, 418, 1ms);  // not one of ours: "other"
    BOOST_TEST(metrics.count(RouteId::kCreateWebThread, 200) == 2u);
    BOOST_TEST(metrics.count(RouteId::kGetThread, 599) == 1u);
    std::string out;
    metrics.render(out);
    for (const char* line : {"threadsd_http_requests_total{route=\"create\",status=\"200\"} 2\n",
                             "threadsd_http_requests_total{route=\"create\",status=\"400\"} 1\n",
                             "threadsd_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n",
                             "threadsd_http_requests_total{route=\"get\",status=\"other\"} 1\n",
                             "threadsd_http_request_duration_seconds_count{route=\"create\"} 3\n",
                             "# TYPE threadsd_http_requests_total counter\n",
                             "# TYPE threadsd_http_request_duration_seconds histogram\n"}) {
        BOOST_TEST(out.find(line) != std::string::npos, "missing " << line << " in\n" << out);
    }
    // Series that never counted anything are left out.
    BOOST_TEST(out.find("route=\"list\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_access_log_line_is_one_json_object_with_every_field) {
    AccessRecord record;
    record.request_id = "abc\"1";
    record.method = "POST";
    record.path = "/api/v1/threads/web\n";
    record.route = "create";
    record.client = "10.0.0.7";
    record.status = 201;
    record.duration = 1500us;
    record.request_bytes = 50;
    record.response_bytes = 900;
    const auto line = threadsd::http::access_log_line(record, 1'795'000'000'123);
    BOOST_TEST_REQUIRE(!line.empty());
    BOOST_TEST(line.back() == '\n');
    BOOST_TEST(line.find('\n') == line.size() - 1, "one line, whatever the path holds");
    const auto value = boost::json::parse(line).as_object();
    BOOST_TEST(value.at("time").as_string() == "2026-11-18T11:06:40.123Z");
    BOOST_TEST(value.at("requestId").as_string() == "abc\"1");
    BOOST_TEST(value.at("method").as_string() == "POST");
    BOOST_TEST(value.at("path").as_string() == "/api/v1/threads/web\n");
    BOOST_TEST(value.at("route").as_string() == "create");
    BOOST_TEST(value.at("status").as_int64() == 201);
    BOOST_TEST(value.at("durationMs").to_number<double>() == 1.5);
    BOOST_TEST(value.at("requestBytes").as_int64() == 50);
    BOOST_TEST(value.at("responseBytes").as_int64() == 900);
    BOOST_TEST(value.at("client").as_string() == "10.0.0.7");
    BOOST_TEST(value.size() == 10u);
}

BOOST_AUTO_TEST_SUITE_END()
