// Slow-loris clients: a head trickled one byte at a time and a body that is never
// finished are cut off by the whole-request deadline (counted from the first byte, not
// per read), an idle keep-alive connection by the idle timeout, and while dozens of such
// clients hang on, everybody else is served.

#include <boost/beast/http/verb.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

using boost::beast::http::verb;
using std::chrono::milliseconds;

/// Between two trickled bytes: far inside any per-read timeout.
constexpr milliseconds kTrickleInterval{100};
/// How long the test keeps trickling before it calls the server's deadline missing: six
/// times the 1 s request timeout the servers here run with.
constexpr int kTrickleRounds = 60;

/// Connections that each send one more byte of their own `bytes` every kTrickleInterval.
struct Tricklers {
    std::vector<std::unique_ptr<RawConnection>> connections;
    std::string bytes;  ///< What each of them is (slowly) sending.

    /// Trickles until every connection is closed by the server or kTrickleRounds pass;
    /// calls `meanwhile` once, after the first few bytes. Returns how many were closed.
    template <typename Meanwhile>
    std::size_t trickle_until_cut_off(Meanwhile meanwhile) {
        std::vector<bool> closed(connections.size(), false);
        std::size_t closed_count = 0;
        for (int round = 0; round < kTrickleRounds && closed_count < connections.size(); ++round) {
            for (std::size_t i = 0; i < connections.size(); ++i) {
                if (closed[i]) {
                    continue;
                }
                const auto position = static_cast<std::size_t>(round) % bytes.size();
                if (connections[i]->closed_by_peer() ||
                    !connections[i]->write(bytes.substr(position, 1))) {
                    closed[i] = true;
                    ++closed_count;
                }
            }
            if (round == 3) {
                meanwhile();
            }
            std::this_thread::sleep_for(kTrickleInterval);
        }
        return closed_count;
    }
};

Tricklers open_tricklers(unsigned short port, std::size_t count, std::string bytes) {
    Tricklers tricklers;
    tricklers.bytes = std::move(bytes);
    for (std::size_t i = 0; i < count; ++i) {
        tricklers.connections.push_back(std::make_unique<RawConnection>(port, 2));
    }
    return tricklers;
}

/// A full request that other clients make while the slow ones hang on.
void expect_served(unsigned short port, const std::string& key) {
    HttpClient client(port);
    const auto created =
        client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
    BOOST_TEST(created.status() == 200u, created.message.body());
    const auto listed =
        client.request(verb::get, "/api/v1/threads?limit=1", std::nullopt, {{"X-API-Key", key}});
    BOOST_TEST(listed.status() == 200u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(slow_clients_http)

BOOST_AUTO_TEST_CASE(a_head_trickled_byte_by_byte_is_cut_off_and_others_are_served) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--request-timeout", "1s", "--max-connections", "100"});

    // A head that never ends: header lines, one byte every 100 ms.
    auto tricklers = open_tricklers(server.port(), 40,
                                    "GET /api/v1/threads HTTP/1.1\r\nHost: t\r\nX-Pad: "
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    const auto closed = tricklers.trickle_until_cut_off([&] { expect_served(server.port(), key); });
    BOOST_TEST(closed == tricklers.connections.size(),
               closed << " of " << tricklers.connections.size()
                      << " trickling connections were cut off within 6 s");
    expect_served(server.port(), key);
}

BOOST_AUTO_TEST_CASE(a_body_never_finished_is_cut_off_and_others_are_served) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--request-timeout", "1s", "--max-connections", "100"});

    // A whole head that promises 60 KiB of body, then the body a byte at a time.
    auto tricklers = open_tricklers(server.port(), 40, std::string(64, ' '));
    const std::string head = "POST /api/v1/threads/web HTTP/1.1\r\nHost: t\r\nX-API-Key: " + key +
                             "\r\nContent-Type: application/json\r\nContent-Length: 61440\r\n\r\n";
    for (auto& connection : tricklers.connections) {
        BOOST_TEST_REQUIRE(connection->write(head));
    }
    const auto closed = tricklers.trickle_until_cut_off([&] { expect_served(server.port(), key); });
    BOOST_TEST(closed == tricklers.connections.size(),
               closed << " of " << tricklers.connections.size()
                      << " connections with an unfinished body were cut off within 6 s");
    expect_served(server.port(), key);
}

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--idle-timeout", "1s"});

    RawConnection connection(server.port(), 10);
    BOOST_TEST_REQUIRE(
        connection.write("GET /api/v1/threads?limit=1 HTTP/1.1\r\nHost: t\r\n"
                         "X-API-Key: " +
                         key + "\r\n\r\n"));
    // The answer, then the end of the stream once the connection has idled for 1 s; the
    // read gives up after 10 s, so a server without an idle timeout fails here.
    const auto received = connection.read_until_closed();
    BOOST_TEST(received.closed);
    const auto response = parse_response(received.bytes);
    BOOST_TEST_REQUIRE(response.has_value());
    BOOST_TEST(response->status() == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
