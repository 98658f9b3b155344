#include "threadsd/http/response_head.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

namespace {

namespace bhttp = boost::beast::http;
using threadsd::http::ChunkSizeLine;
using threadsd::http::current_http_date;
using threadsd::http::format_http_date;
using threadsd::http::json_response;
using threadsd::http::Response;
using threadsd::http::serialize_response_head;
using threadsd::http::serialize_stream_head;

constexpr std::string_view kDate = "Sun, 29 Nov 2026 00:18:31 GMT";

}  // namespace

BOOST_AUTO_TEST_SUITE(http_response_head)

BOOST_AUTO_TEST_CASE(a_keep_alive_response_has_every_header_and_its_body_length) {
    const Response response = json_response(200, R"({"id":"x"})");
    std::string head;
    serialize_response_head(head, response, kDate, "req-1", true);
    BOOST_TEST(head ==
               "HTTP/1.1 200 OK\r\n"
               "Content-Type: application/json\r\n"
               "Date: Sun, 29 Nov 2026 00:18:31 GMT\r\n"
               "X-Request-Id: req-1\r\n"
               "Content-Length: 10\r\n"
               "\r\n");
}

BOOST_AUTO_TEST_CASE(a_closing_response_says_so_and_keeps_the_handlers_fields) {
    Response response = json_response(405, "{}");
    response.set(bhttp::field::allow, "POST");
    std::string head = "left over from the previous response";
    serialize_response_head(head, response, kDate, "abc", false);
    BOOST_TEST(head ==
               "HTTP/1.1 405 Method Not Allowed\r\n"
               "Content-Type: application/json\r\n"
               "Allow: POST\r\n"
               "Date: Sun, 29 Nov 2026 00:18:31 GMT\r\n"
               "X-Request-Id: abc\r\n"
               "Content-Length: 2\r\n"
               "Connection: close\r\n"
               "\r\n");
}

BOOST_AUTO_TEST_CASE(a_stream_head_has_no_length_and_says_how_its_body_ends) {
    Response response{bhttp::status::ok, 11};
    response.set(bhttp::field::content_type, "text/event-stream");
    response.body() = "retry: 1000\n\n";  // The first events: not part of the head.
    std::string head;
    serialize_stream_head(head, response, kDate, "s-1", true, true);
    BOOST_TEST(head ==
               "HTTP/1.1 200 OK\r\n"
               "Content-Type: text/event-stream\r\n"
               "Date: Sun, 29 Nov 2026 00:18:31 GMT\r\n"
               "X-Request-Id: s-1\r\n"
               "X-Accel-Buffering: no\r\n"
               "Transfer-Encoding: chunked\r\n"
               "\r\n");
    serialize_stream_head(head, response, kDate, "s-1", true, false);
    BOOST_TEST(head.find("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n") !=
               std::string::npos);
    // HTTP/1.0: no framing, the body ends with the connection.
    serialize_stream_head(head, response, kDate, "s-1", false, false);
    BOOST_TEST(head.find("Transfer-Encoding") == std::string::npos);
    BOOST_TEST(head.find("X-Accel-Buffering: no\r\nConnection: close\r\n\r\n") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(chunk_size_lines_are_hexadecimal) {
    BOOST_TEST(ChunkSizeLine(1).text() == "1\r\n");
    BOOST_TEST(ChunkSizeLine(0x1a2b).text() == "1a2b\r\n");
    BOOST_TEST(ChunkSizeLine(SIZE_MAX).text() ==
               std::string(2 * sizeof(std::size_t), 'f') + "\r\n");
}

BOOST_AUTO_TEST_CASE(dates_are_imf_fixdate_in_utc) {
    BOOST_TEST(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
    BOOST_TEST(format_http_date(1'795'000'000) == "Wed, 18 Nov 2026 11:06:40 GMT");
}

BOOST_AUTO_TEST_CASE(the_current_date_is_one_of_the_seconds_around_the_call) {
    const std::time_t before = std::time(nullptr);
    const std::string date(current_http_date());
    const std::time_t after = std::time(nullptr);
    BOOST_TEST((date == format_http_date(before) || date == format_http_date(after)));
    // Asked again, it is still the current second's text, not a stale one.
    const std::time_t before_again = std::time(nullptr);
    const std::string again(current_http_date());
    const std::time_t after_again = std::time(nullptr);
    BOOST_TEST((again == format_http_date(before_again) || again == format_http_date(after_again)));
}

BOOST_AUTO_TEST_SUITE_END()
