// --max-queued-writes: while the writer cannot commit (another process holds the write
// lock), writes beyond the cap are refused at once with a 503 envelope and Retry-After,
// reads are still served, and the queued writes complete once the lock is gone.

#include <boost/beast/http/verb.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

/// Responses that arrived on worker threads, for the test thread to wait on.
struct Arrivals {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> responses;  ///< Raw bytes of each finished exchange.
};

}  // namespace

BOOST_AUTO_TEST_SUITE(write_queue_http)

BOOST_AUTO_TEST_CASE(writes_beyond_the_queue_cap_get_503_and_the_queued_ones_complete) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--max-queued-writes", "2"});

    // Hold the write lock, as a long `sqlite3` or `psql` session of an operator would.
    WriteLockHolder blocker(db);

    constexpr int kClients = 5;  // 2 are queued behind the lock, 3 are refused
    const std::string request =
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: t\r\nX-API-Key: " + key +
        "\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: " +
        std::to_string(create_body(demo::kSupportBot).size()) + "\r\n\r\n" +
        create_body(demo::kSupportBot);
    std::vector<std::unique_ptr<RawConnection>> connections;
    for (int i = 0; i < kClients; ++i) {
        connections.push_back(std::make_unique<RawConnection>(server.port(), 30));
    }
    Arrivals arrivals;
    std::vector<std::thread> clients;
    for (auto& connection : connections) {
        clients.emplace_back([&arrivals, &request, raw = connection.get()] {
            raw->write(request);
            auto received = raw->read_until_closed();
            std::lock_guard lock(arrivals.mutex);
            arrivals.responses.push_back(std::move(received.bytes));
            arrivals.changed.notify_all();
        });
    }

    // The refusals come while the lock is still held (well within SQLite's 5 s busy wait).
    {
        std::unique_lock lock(arrivals.mutex);
        arrivals.changed.wait_for(lock, std::chrono::seconds(4),
                                  [&] { return arrivals.responses.size() >= 3; });
        BOOST_TEST(arrivals.responses.size() == 3u);
        for (const auto& bytes : arrivals.responses) {
            const auto response = parse_response(bytes);
            BOOST_TEST_REQUIRE(response.has_value(), "not a response: " << bytes);
            check_error(*response, 503, "SERVICE_UNAVAILABLE", "writes queued");
            BOOST_TEST(response->header("Retry-After") == "1");
        }
    }
    // Reads do not queue behind the writer.
    HttpClient reader(server.port());
    BOOST_TEST(reader
                   .request(boost::beast::http::verb::get, "/api/v1/threads?limit=1", std::nullopt,
                            {{"X-API-Key", key}})
                   .status() == 200u);

    blocker.release();
    for (auto& client : clients) {
        client.join();
    }
    int created = 0;
    for (const auto& bytes : arrivals.responses) {
        const auto response = parse_response(bytes);
        BOOST_TEST_REQUIRE(response.has_value(), "not a response: " << bytes);
        created += response->status() == 200u ? 1 : 0;
    }
    BOOST_TEST(created == 2);
    BOOST_TEST(StoreRows(db).scalar("SELECT count(*) FROM threads") == "2");

    // With the queue drained, writes are accepted again.
    HttpClient writer(server.port());
    BOOST_TEST(
        writer.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key).status() ==
        200u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
