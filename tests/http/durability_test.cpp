// A 200 is sent only after the thread is durably committed: a crash or kill -9 right
// after the response loses nothing (docs/security.md, "What a 200 guarantees"). The real server is
// killed with SIGKILL right after a 200, sequentially and while other clients are still sending,
// and the store is then read from outside (the SQLite file, or psql on PostgreSQL).

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"

namespace {

namespace json = boost::json;
namespace net = boost::asio;
namespace http = boost::beast::http;
using threadsd::test::create_body;
using threadsd::test::create_demo_key;
using threadsd::test::HttpClient;
using threadsd::test::new_store;
using threadsd::test::ServerProcess;
using threadsd::test::StoreRows;
using threadsd::test::TempDir;
namespace demo = threadsd::test::demo;

/// The published version of the demo's "Appointment booker" (schema/seed/demo.sql).
constexpr const char* kBookerV3 = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e31";

/// A demo agent and the version a new thread for it is bound to.
struct AgentChoice {
    const char* agent;
    const char* version;
};
const AgentChoice kAgents[] = {
    {demo::kSupportBot, demo::kSupportBotV2},
    {demo::kVoiceAgent, demo::kVoiceAgentV1},
    {demo::kBooker, kBookerV3},
};

/// A thread the server acknowledged with a 200, and what it must hold.
struct Ack {
    std::string id;         ///< thread.id of the response.
    std::string agent;      ///< agentId sent.
    std::string version;    ///< The version it must be bound to.
    std::string metadata;   ///< metadata sent (JSON text).
    std::string variables;  ///< variables sent (JSON text).
};

/// One create request's body and the Ack it becomes on a 200 (id still empty).
std::pair<std::string, Ack> make_request(int round, int worker, int sequence) {
    const auto& choice = kAgents[static_cast<std::size_t>(sequence) % std::size(kAgents)];
    const std::string tag =
        std::to_string(round) + "-" + std::to_string(worker) + "-" + std::to_string(sequence);
    Ack ack;
    ack.agent = choice.agent;
    ack.version = choice.version;
    ack.metadata = R"({"round":")" + std::to_string(round) + R"(","worker":")" +
                   std::to_string(worker) + R"(","seq":")" + std::to_string(sequence) +
                   R"(","note":"caf\u00e9 \u2713"})";
    ack.variables = R"({"tag":")" + tag + R"("})";
    return {create_body(choice.agent,
                        R"("metadata":)" + ack.metadata + R"(,"variables":)" + ack.variables),
            ack};
}

/// thread.id of a 200 body, or "" when the body is not what a 200 promises.
std::string thread_id_of(const std::string& body) {
    boost::system::error_code ec;
    const auto value = json::parse(body, ec);
    if (ec || !value.is_object()) {
        return "";
    }
    const auto* thread = value.as_object().if_contains("thread");
    if (thread == nullptr || !thread->is_object()) {
        return "";
    }
    const auto* id = thread->as_object().if_contains("id");
    return id != nullptr && id->is_string() ? std::string(id->as_string()) : "";
}

/// A blocking HTTP client for worker threads: never uses Boost.Test (which is not
/// thread safe) and reports a dead server as "no response" instead of failing.
class QuietClient {
  public:
    explicit QuietClient(unsigned short port) : socket_(io_) {
        boost::system::error_code ec;
        socket_.connect({net::ip::make_address("127.0.0.1"), port}, ec);
        open_ = !ec;
        if (open_) {
            timeval tv{};
            tv.tv_sec = 15;
            setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }
    }

    /// POSTs a create; the response, or nothing once the connection is gone.
    std::optional<http::response<http::string_body>> create(const std::string& body,
                                                            const std::string& key) {
        return post("/api/v1/threads/web", body, key);
    }

    /// POSTs `body` to `target`; the response, or nothing once the connection is gone.
    std::optional<http::response<http::string_body>> post(const std::string& target,
                                                          const std::string& body,
                                                          const std::string& key) {
        if (!open_) {
            return std::nullopt;
        }
        http::request<http::string_body> request{http::verb::post, target, 11};
        request.set(http::field::host, "127.0.0.1");
        request.set(http::field::content_type, "application/json");
        request.set("X-API-Key", key);
        request.body() = body;
        request.prepare_payload();
        boost::system::error_code ec;
        http::write(socket_, request, ec);
        if (!ec) {
            http::response<http::string_body> response;
            http::read(socket_, buffer_, response, ec);
            if (!ec) {
                return response;
            }
        }
        open_ = false;
        return std::nullopt;
    }

  private:
    net::io_context io_;                ///< For the socket.
    net::ip::tcp::socket socket_;       ///< The connection.
    boost::beast::flat_buffer buffer_;  ///< Read buffer.
    bool open_ = false;                 ///< False once anything failed.
};

/// Every stored thread by id: organization, agent, version, metadata, variables, is_active,
/// created_at, updated_at, closed_at, closed_reason, to_phone_number.
std::map<std::string, threadsd::test::Row> stored_threads(const StoreRows& database) {
    std::map<std::string, threadsd::test::Row> threads;
    for (auto& row : database.rows(
             "SELECT id, organization_id, agent_id, agent_version_id, metadata, variables,"
             " is_active, created_at, updated_at, closed_at, closed_reason, to_phone_number"
             " FROM threads")) {
        const std::string id = row.at(0).value_or("");
        row.erase(row.begin());
        threads.emplace(id, std::move(row));
    }
    return threads;
}

/// Column `column` of a stored_threads() row as text ("<null>" for NULL).
std::string text(const threadsd::test::Row& row, std::size_t column) {
    return row.at(column).value_or("<null>");
}

/// Checks that every acknowledged thread is stored in `database` with what was sent.
void expect_all_present(const StoreRows& database, const std::vector<Ack>& acks) {
    const auto threads = stored_threads(database);
    std::size_t missing = 0;
    for (const auto& ack : acks) {
        const auto found = threads.find(ack.id);
        if (found == threads.end()) {
            ++missing;
            BOOST_TEST_MESSAGE("acknowledged thread " << ack.id << " is missing");
            continue;
        }
        const auto& row = found->second;
        BOOST_TEST_CONTEXT("thread " << ack.id) {
            BOOST_TEST(text(row, 0) == demo::kOrganization);
            BOOST_TEST(text(row, 1) == ack.agent);
            BOOST_TEST(text(row, 2) == ack.version);
            // Same members in the same order, whatever the stored spelling.
            BOOST_TEST(json::serialize(json::parse(text(row, 3))) ==
                       json::serialize(json::parse(ack.metadata)));
            BOOST_TEST(json::serialize(json::parse(text(row, 4))) ==
                       json::serialize(json::parse(ack.variables)));
            BOOST_TEST(text(row, 5) == "1");
        }
    }
    BOOST_TEST(missing == 0u,
               missing << " of " << acks.size() << " acknowledged threads are missing");
}

/// Checks that every row of `threads` is one whole create that some client sent: its tag
/// (variables.tag, "round-worker-sequence") names the request, and every column holds what
/// that request asked for. A torn or half-applied write would show up here, acknowledged
/// or not.
void expect_every_row_whole(const StoreRows& database) {
    const auto threads = stored_threads(database);
    std::size_t broken = 0;
    for (const auto& [id, row] : threads) {
        boost::system::error_code ec;
        const auto variables = json::parse(text(row, 4), ec);
        const auto* tag =
            !ec && variables.is_object() ? variables.as_object().if_contains("tag") : nullptr;
        int round = -1;
        int worker = -1;
        int sequence = -1;
        if (tag == nullptr || !tag->is_string() ||
            std::sscanf(std::string(tag->as_string()).c_str(), "%d-%d-%d", &round, &worker,
                        &sequence) != 3) {
            ++broken;
            BOOST_TEST_MESSAGE("row " << id << " has no request tag: " << text(row, 4));
            continue;
        }
        const auto expected = make_request(round, worker, sequence).second;
        const bool whole =
            text(row, 0) == demo::kOrganization && text(row, 1) == expected.agent &&
            text(row, 2) == expected.version &&
            json::serialize(json::parse(text(row, 3))) ==
                json::serialize(json::parse(expected.metadata)) &&
            json::serialize(variables) == json::serialize(json::parse(expected.variables)) &&
            text(row, 5) == "1" && text(row, 6) == text(row, 7) && text(row, 8) == "<null>" &&
            text(row, 9) == "<null>" && text(row, 10).empty();
        if (!whole) {
            ++broken;
            BOOST_TEST_MESSAGE("row " << id << " is not the request it names");
        }
    }
    BOOST_TEST(!threads.empty());
    BOOST_TEST(broken == 0u, broken << " of " << threads.size() << " stored threads are not whole");
}

/// What the worker threads of one round share; guarded by `mutex`.
struct Round {
    std::mutex mutex;
    std::vector<Ack> acks;            ///< Every 200, in the order they arrived.
    std::vector<std::string> errors;  ///< Anything but a 200 or a dead connection.
    std::size_t kill_after = 0;       ///< SIGKILL the server right after this many 200s.
    pid_t server = -1;                ///< Whom to kill.
    bool killed = false;              ///< SIGKILL sent.
};

/// One client thread: creates threads over its own connection until the server dies
/// (or `limit` requests, a safety net).
void run_worker(Round& round, int round_number, int worker, unsigned short port,
                const std::string& key, int limit) {
    QuietClient client(port);
    for (int sequence = 0; sequence < limit; ++sequence) {
        auto [body, ack] = make_request(round_number, worker, sequence);
        const auto response = client.create(body, key);
        if (!response) {
            return;  // the server is gone: this request may or may not have been stored
        }
        std::lock_guard lock(round.mutex);
        if (response->result_int() != 200) {
            round.errors.push_back("status " + std::to_string(response->result_int()) + ": " +
                                   response->body());
            return;
        }
        ack.id = thread_id_of(response->body());
        if (ack.id.empty()) {
            round.errors.push_back("200 without thread.id: " + response->body());
            return;
        }
        round.acks.push_back(std::move(ack));
        if (!round.killed && round.acks.size() >= round.kill_after) {
            ::kill(round.server, SIGKILL);  // at once, while the other workers are mid-request
            round.killed = true;
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(kill9_right_after_the_last_200_of_sequential_creates_loses_nothing) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    constexpr int kThreads = 200;
    std::vector<Ack> acks;
    {
        ServerProcess server(db);
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(std::make_unique<HttpClient>(server.port()));
        }
        for (int sequence = 0; sequence < kThreads; ++sequence) {
            auto [body, ack] = make_request(0, sequence % 3, sequence);
            const auto response = clients[static_cast<std::size_t>(sequence % 3)]->post_json(
                "/api/v1/threads/web", body, key);
            BOOST_TEST_REQUIRE(response.status() == 200u, response.message.body());
            ack.id = thread_id_of(response.message.body());
            BOOST_TEST_REQUIRE(!ack.id.empty(), response.message.body());
            acks.push_back(std::move(ack));
        }
        server.kill9();  // immediately after the last 200
    }
    {
        const StoreRows database(db);
        BOOST_TEST(database.intact());
        BOOST_TEST(database.scalar("SELECT count(*) FROM threads") == std::to_string(kThreads));
        expect_all_present(database, acks);
    }

    // The server starts again on the crashed store and keeps working.
    {
        ServerProcess server(db);
        HttpClient client(server.port());
        auto [body, ack] = make_request(1, 0, 0);
        const auto response = client.post_json("/api/v1/threads/web", body, key);
        BOOST_TEST_REQUIRE(response.status() == 200u, response.message.body());
        ack.id = thread_id_of(response.message.body());
        acks.push_back(std::move(ack));
        server.kill9();
    }
    const StoreRows database(db);
    BOOST_TEST(database.intact());
    BOOST_TEST(database.scalar("SELECT count(*) FROM threads") == std::to_string(kThreads + 1));
    expect_all_present(database, acks);
}

BOOST_AUTO_TEST_CASE(kill9_while_clients_are_still_sending_loses_no_acknowledged_thread) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    constexpr int kWorkers = 4;
    constexpr int kLimit = 2000;  // per worker and round; the kill comes long before
    std::vector<Ack> all_acks;
    // Kill at a different point in each round; the server is restarted on the same
    // (crashed) database for the next one. The points are spread so that some land in a
    // group commit's fsync, some between batches, and the later ones after the WAL has
    // been checkpointed into the database file (1000 frames).
    const std::size_t kill_points[] = {1, 2, 5, 11, 23, 37, 64, 120, 201, 333, 517, 800};
    for (std::size_t round_number = 0; round_number < std::size(kill_points); ++round_number) {
        BOOST_TEST_CONTEXT("round " << round_number << ", kill after " << kill_points[round_number]
                                    << " 200s") {
            Round round;
            round.kill_after = kill_points[round_number];
            {
                ServerProcess server(db);
                round.server = server.pid();
                std::vector<std::thread> workers;
                for (int worker = 0; worker < kWorkers; ++worker) {
                    workers.emplace_back(run_worker, std::ref(round),
                                         static_cast<int>(round_number), worker, server.port(),
                                         std::cref(key), kLimit);
                }
                for (auto& worker : workers) {
                    worker.join();
                }
                server.kill9();  // reaps it (and kills it, if no worker got that far)
            }
            BOOST_TEST(round.errors.empty(),
                       "unexpected responses: "
                           << round.errors.size()
                           << (round.errors.empty() ? "" : ", first: " + round.errors[0]));
            BOOST_TEST(round.killed);
            BOOST_TEST(round.acks.size() >= round.kill_after);
            all_acks.insert(all_acks.end(), round.acks.begin(), round.acks.end());

            const StoreRows database(db);
            BOOST_TEST(database.intact());
            // Unanswered requests may or may not have been stored; answered ones must be.
            const auto rows = std::stoul(database.scalar("SELECT count(*) FROM threads"));
            BOOST_TEST_MESSAGE("round " << round_number << ": " << round.acks.size()
                                        << " acknowledged, " << rows << " stored in all");
            BOOST_TEST(rows >= all_acks.size());
            expect_all_present(database, all_acks);
            expect_every_row_whole(database);
        }
    }
}

BOOST_AUTO_TEST_CASE(kill9_while_clients_post_messages_loses_no_acknowledged_message) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    constexpr int kWorkers = 4;
    // Two threads per worker's turn, so that workers also post to the same thread.
    std::vector<std::string> threads;
    {
        ServerProcess server(db);
        HttpClient client(server.port());
        for (int i = 0; i < kWorkers; ++i) {
            auto [body, ack] = make_request(99, i, 0);
            threads.push_back(
                thread_id_of(client.post_json("/api/v1/threads/web", body, key).message.body()));
        }
    }
    // message id -> (thread, body): every acknowledged message, over every round.
    std::map<std::string, std::pair<std::string, std::string>> acknowledged;
    for (const std::size_t kill_after : {3u, 40u, 300u}) {
        std::mutex mutex;
        bool killed = false;
        std::vector<std::string> errors;  // Boost.Test checks only on the test's thread
        ServerProcess server(db);
        const pid_t pid = server.pid();
        std::vector<std::thread> workers;
        for (int worker = 0; worker < kWorkers; ++worker) {
            workers.emplace_back([&, worker] {
                QuietClient client(server.port());
                for (int i = 0; i < 2000; ++i) {
                    const auto& thread = threads[static_cast<std::size_t>((worker + i) % kWorkers)];
                    const std::string text = "k" + std::to_string(kill_after) + " w" +
                                             std::to_string(worker) + " #" + std::to_string(i);
                    const std::string body = "{\"message\": \"" + text + "\"" +
                                             (i % 2 == 0 ? ", \"direction\": \"OUTBOUND\"" : "") +
                                             "}";
                    const auto response =
                        client.post("/api/v1/threads/" + thread + "/messages", body, key);
                    if (!response) {
                        return;
                    }
                    std::lock_guard lock(mutex);
                    if (response->result_int() != 200) {
                        errors.push_back(response->body());
                        return;
                    }
                    const auto answer = boost::json::parse(response->body()).as_object();
                    acknowledged.emplace(std::string(answer.at("messageId").as_string()),
                                         std::make_pair(thread, "\"" + text + "\""));
                    if (!killed && acknowledged.size() >= kill_after) {
                        ::kill(pid, SIGKILL);
                        killed = true;
                    }
                }
            });
        }
        for (auto& worker : workers) {
            worker.join();
        }
        server.kill9();
        BOOST_TEST(killed);
        BOOST_TEST(errors.empty(), "unexpected answer: " << (errors.empty() ? "" : errors[0]));
        const StoreRows database(db);
        BOOST_TEST(database.intact());
        std::map<std::string, std::pair<std::string, std::string>> stored;
        for (const auto& row : database.rows("SELECT id, thread_id, body FROM messages")) {
            stored.emplace(*row[0], std::make_pair(*row[1], *row[2]));
        }
        std::size_t missing = 0;
        for (const auto& [id, message] : acknowledged) {
            const auto found = stored.find(id);
            if (found == stored.end() || found->second != message) {
                ++missing;
            }
        }
        BOOST_TEST(missing == 0u, missing << " of " << acknowledged.size()
                                          << " acknowledged messages are not stored as sent");
        // Each thread's sequences are 1..n with no gap, whatever the crash cut off.
        for (const auto& thread : threads) {
            const auto count =
                database.scalar("SELECT count(*) FROM messages WHERE thread_id = '" + thread + "'");
            const auto top = database.scalar(
                "SELECT coalesce(max(sequence), 0) FROM messages WHERE thread_id = '" + thread +
                "'");
            BOOST_TEST(count == top);
            BOOST_TEST(database.scalar("SELECT last_sequence FROM threads WHERE id = '" + thread +
                                       "'") == top);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
