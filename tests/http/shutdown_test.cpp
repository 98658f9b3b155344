// Graceful shutdown on SIGTERM: a request already being read is answered (with
// Connection: close), a request that begins afterwards on an open connection gets a 503
// with Retry-After, no response is cut in the middle, every thread that got a 200 is in
// the store, and the process exits 0.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <set>
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

/// A create request on a keep-alive connection.
std::string create_request(const std::string& key) {
    const auto body = create_body(demo::kSupportBot);
    return "POST /api/v1/threads/web HTTP/1.1\r\nHost: t\r\nX-API-Key: " + key +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

/// Waits until the server has logged that it is shutting down.
void wait_for_draining(const ServerProcess& server) {
    for (int i = 0; i < 2000; ++i) {
        if (server.stderr_text().find("shutting down") != std::string::npos) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    BOOST_FAIL("the server never logged its shutdown");
}

/// What a client thread of the load test saw; guarded by `mutex`.
struct LoadResults {
    std::mutex mutex;
    std::vector<std::string> created;  ///< Thread ids of 200s.
    std::vector<std::string> cut;      ///< Partial responses (must stay empty).
    std::vector<unsigned> other;       ///< Statuses other than 200 and 503.
    std::atomic<int> answered{0};      ///< Responses of any status.
};

/// Creates threads over one keep-alive connection until the server closes it, keeping
/// each complete response and any partial one. No Boost.Test here: it is not thread safe.
void create_until_closed(unsigned short port, const std::string& key, LoadResults& results) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{};
    tv.tv_sec = 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return;
    }
    const auto request = create_request(key);
    for (;;) {
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size())) {
            break;
        }
        std::string bytes;
        std::optional<HttpResult> response;
        char chunk[4096];
        while (!response) {
            const auto n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                break;
            }
            bytes.append(chunk, static_cast<std::size_t>(n));
            response = parse_response(bytes);
        }
        std::lock_guard lock(results.mutex);
        if (!response) {
            if (!bytes.empty()) {
                results.cut.push_back(bytes);
            }
            break;
        }
        ++results.answered;
        const auto status = response->status();
        if (status == 200u) {
            results.created.emplace_back(
                boost::json::parse(response->message.body()).at("thread").at("id").as_string());
        } else if (status != 503u) {
            results.other.push_back(status);
        }
        if (response->header("Connection") == "close") {
            break;
        }
    }
    ::close(fd);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shutdown_http)

BOOST_AUTO_TEST_CASE(requests_in_flight_are_answered_and_late_ones_get_503) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--shutdown-grace", "10s"});

    // In flight: the head and half the body are there before the signal.
    const auto request = create_request(key);
    RawConnection in_flight(server.port(), 20);
    BOOST_TEST_REQUIRE(in_flight.write(request.substr(0, request.size() - 10)));
    // Open and idle, as a proxy's kept-alive connection is.
    RawConnection idle(server.port(), 20);
    HttpClient warm_up(server.port());
    BOOST_TEST_REQUIRE(
        warm_up.request(boost::beast::http::verb::get, "/healthz", std::nullopt, {}).status() ==
        200u);

    server.signal(SIGTERM);
    wait_for_draining(server);

    BOOST_TEST_REQUIRE(idle.write(request));
    const auto late = parse_response(idle.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(late.has_value());
    check_error(*late, 503, "SERVICE_UNAVAILABLE", "shutting down");
    BOOST_TEST(late->header("Retry-After") == "1");

    BOOST_TEST_REQUIRE(in_flight.write(request.substr(request.size() - 10)));
    const auto finished = parse_response(in_flight.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(finished.has_value());
    BOOST_TEST(finished->status() == 200u, finished->message.body());
    BOOST_TEST(finished->header("Connection") == "close");

    BOOST_TEST(server.wait_exit(20) == 0);
    BOOST_TEST(StoreRows(db).scalar("SELECT count(*) FROM threads") == "1");
    // The refused request is counted under its route (an operator sees which requests a
    // restart turned away), not as "unmatched".
    const auto log = server.stdout_text();
    BOOST_TEST(log.find(R"("route":"create","status":503)") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(under_load_no_response_is_cut_and_no_acknowledged_thread_is_lost) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--shutdown-grace", "10s"});
    LoadResults results;
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) {
        clients.emplace_back(create_until_closed, server.port(), std::cref(key), std::ref(results));
    }
    while (results.answered.load() < 200) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.signal(SIGTERM);
    for (auto& client : clients) {
        client.join();
    }
    BOOST_TEST(server.wait_exit(20) == 0);

    BOOST_TEST(results.cut.empty(), results.cut.size() << " responses were cut mid-way");
    BOOST_TEST(results.other.empty(), results.other.size() << " unexpected statuses");
    BOOST_TEST(results.created.size() >= 200u);
    const StoreRows store(db);
    BOOST_TEST(store.intact());
    std::set<std::string> stored;
    for (const auto& row : store.rows("SELECT id FROM threads")) {
        stored.insert(row.at(0).value_or(""));
    }
    std::size_t missing = 0;
    for (const auto& id : results.created) {
        missing += stored.count(id) == 0 ? 1 : 0;
    }
    BOOST_TEST(missing == 0u, missing << " acknowledged threads are missing");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
