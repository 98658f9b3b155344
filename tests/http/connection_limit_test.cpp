// --max-connections: one connection over the limit gets a 503 envelope with Retry-After
// and is closed, the connections already open keep working, and a place freed by a
// client that leaves is taken by the next one.

#include <boost/beast/http/verb.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

using boost::beast::http::verb;

// A keep-alive GET of the thread list with `key`; the connection stays open afterwards.
HttpResult list_threads(HttpClient& client, const std::string& key) {
    return client.request(verb::get, "/api/v1/threads?limit=1", std::nullopt, {{"X-API-Key", key}});
}

// What a new connection is answered when it asks for the thread list.
std::optional<HttpResult> answer_to_a_new_connection(unsigned short port, const std::string& key) {
    RawConnection connection(port);
    connection.write("GET /api/v1/threads?limit=1 HTTP/1.1\r\nHost: t\r\nX-API-Key: " + key +
                     "\r\nConnection: close\r\n\r\n");
    return parse_response(connection.read_until_closed().bytes);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_limit_http)

BOOST_AUTO_TEST_CASE(one_over_the_limit_is_refused_with_503_and_the_others_carry_on) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--max-connections", "2"});

    auto first = std::make_unique<HttpClient>(server.port());
    HttpClient second(server.port());
    BOOST_TEST_REQUIRE(list_threads(*first, key).status() == 200u);
    BOOST_TEST_REQUIRE(list_threads(second, key).status() == 200u);

    const auto refused = answer_to_a_new_connection(server.port(), key);
    BOOST_TEST_REQUIRE(refused.has_value(), "no whole response to the connection over the limit");
    check_error(*refused, 503, "SERVICE_UNAVAILABLE", "connection limit");
    BOOST_TEST(refused->header("Retry-After") == "1");

    // The open connections are not disturbed by the refusal.
    BOOST_TEST(list_threads(*first, key).status() == 200u);
    BOOST_TEST(list_threads(second, key).status() == 200u);

    // One client leaves; its place goes to the next connection once the server has seen
    // it go (waited for, never timed: the test only bounds how long it waits).
    first.reset();
    std::optional<HttpResult> admitted;
    for (int attempt = 0; attempt < 200; ++attempt) {
        admitted = answer_to_a_new_connection(server.port(), key);
        if (admitted && admitted->status() == 200u) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    BOOST_TEST_REQUIRE(admitted.has_value());
    BOOST_TEST(admitted->status() == 200u, admitted->message.body());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
