// The real session over a unix socket pair (no server process): one answer path for every
// reply and refusal, limits small enough to reach, and a handler fault that ends one
// connection without escaping.

#include <boost/test/unit_test.hpp>

#include <string>

#include "support/echo_handler.hpp"
#include "support/raw_connection.hpp"
#include "support/session_harness.hpp"

namespace threadsd::test {
namespace {

/// Limits small enough for a test to reach with a few bytes.
http::HttpLimits small_limits() {
    http::HttpLimits limits;
    limits.max_header_bytes = 512;
    limits.max_body_bytes = 64;
    limits.max_framing_bytes = 32;
    return limits;
}

/// The statuses of the responses in `bytes`, in order.
std::vector<unsigned> statuses(const std::string& bytes) {
    std::vector<unsigned> out;
    for (const auto& response : parse_responses(bytes)) {
        out.push_back(response.status());
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order_on_one_connection) {
    EchoHandler handler;
    const auto run =
        serve_bytes(handler, small_limits(),
                    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: good\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                    "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(run.ended);
    BOOST_TEST(statuses(run.received) == (std::vector<unsigned>{200, 200, 404}));
    BOOST_TEST(run.received.find("\"bodyBytes\":2") != std::string::npos);
    BOOST_TEST(handler.recorded[200] == 2u);
}

BOOST_AUTO_TEST_CASE(every_limit_is_answered_and_ends_the_connection) {
    const struct {
        std::string request;
        unsigned status;
    } cases[] = {
        {"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + std::string(600, 'a') + "\r\n\r\n", 431},
        {"POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: good\r\nContent-Length: "
         "65\r\n\r\n",
         413},
        {"POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: good\r\n"
         "Transfer-Encoding: chunked\r\n\r\n1;" +
             std::string(40, 'e'),
         413},
        {"POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: good\r\n"
         "Transfer-Encoding: chunked, chunked\r\n\r\n",
         400},
        {"NOT HTTP\r\n\r\n", 400},
    };
    for (const auto& c : cases) {
        EchoHandler handler;
        // A request after the refusal must never be answered: the connection is done.
        const auto run = serve_bytes(handler, small_limits(),
                                     c.request + "\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        BOOST_TEST(run.ended);
        BOOST_TEST(statuses(run.received) == std::vector<unsigned>{c.status}, c.request);
        const auto response = parse_response(run.received);
        BOOST_TEST_REQUIRE(response.has_value());
        BOOST_TEST(!response->message.keep_alive());
    }
}

BOOST_AUTO_TEST_CASE(a_refused_request_keeps_the_connection_when_its_body_is_read) {
    EchoHandler handler;
    const auto run =
        serve_bytes(handler, small_limits(),
                    "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(statuses(run.received) == (std::vector<unsigned>{401, 200}));
    // Unless the client waits for permission to send the body: then it is answered at once.
    EchoHandler waiting;
    const auto expect = serve_bytes(waiting, small_limits(),
                                    "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n"
                                    "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    BOOST_TEST(statuses(expect.received) == std::vector<unsigned>{401});
    BOOST_TEST(expect.received.find("100 Continue") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_admitted_expect_gets_100_continue_first) {
    EchoHandler handler;
    const auto run =
        serve_bytes(handler, small_limits(),
                    "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\nX-API-Key: good\r\n"
                    "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}");
    BOOST_TEST(run.received.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0) == 0u,
               run.received);
}

BOOST_AUTO_TEST_CASE(a_handler_fault_ends_its_connection_alone) {
    EchoHandler handler;
    handler.throw_on_admit = true;
    const auto run =
        serve_bytes(handler, small_limits(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    // The session caught it: the coroutine ended normally, the failure was counted, and the
    // connection was closed without an answer.
    BOOST_TEST(run.ended);
    BOOST_TEST(run.failures == 1u);
    BOOST_TEST(run.received.empty());
    // The next connection is served as ever.
    handler.throw_on_admit = false;
    const auto next =
        serve_bytes(handler, small_limits(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(statuses(next.received) == std::vector<unsigned>{200});
    BOOST_TEST(next.failures == 0u);
}

BOOST_AUTO_TEST_CASE(a_head_request_gets_headers_only) {
    EchoHandler handler;
    const auto run = serve_bytes(
        handler, small_limits(),
        "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::size_t used = 0;
    const auto head = parse_response(run.received, true, &used);
    BOOST_TEST_REQUIRE(head.has_value());
    BOOST_TEST(head->status() == 405u);
    // No body followed the head: the next bytes are the next response.
    const auto next = parse_response(run.received.substr(used));
    BOOST_TEST_REQUIRE(next.has_value());
    BOOST_TEST(next->status() == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
