// The live stream of a thread (GET /api/v1/threads/{id}/stream, contract section 9) against
// the real binary, on the store under test: replies arrive live, a reconnect with
// Last-Event-ID loses and repeats nothing while replies are being posted, closing and expiry
// end streams with `event: closed`, keep-alives flow past the idle and request timeouts,
// and shutdown ends open streams cleanly.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/event_stream_client.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

/// Streams are exempt from these; short, so that a stream outlives both in the tests.
const std::vector<std::string> kShortTimeouts{"--stream-keepalive", "300ms", "--idle-timeout", "1s",
                                              "--request-timeout",  "2s"};

/// A demo store served with short keep-alive, idle and request timeouts.
struct StreamState {
    TempDir dir;
    std::string db = new_store(dir, "streams.db");
    std::string key = create_demo_key(db);
    ServerProcess server{db, kShortTimeouts};
};

using StreamServer = SuiteState<StreamState>;

StreamState& stream_state() {
    return StreamServer::get();
}

std::string stream_path(const std::string& thread_id) {
    return "/api/v1/threads/" + thread_id + "/stream";
}

std::string new_stream_thread(HttpClient& client, const std::string& key) {
    return text_field(create_thread_ok(client, key, create_body(demo::kSupportBot)), "id");
}

/// Posts `text` to the thread, expecting 200; the new message's id.
std::string post_reply(HttpClient& client, const std::string& key, const std::string& thread_id,
                       const std::string& text, bool outbound) {
    json::object body{{"message", text}};
    if (outbound) {
        body["direction"] = "OUTBOUND";
    }
    const auto response =
        client.post_json("/api/v1/threads/" + thread_id + "/messages", json::serialize(body), key);
    BOOST_REQUIRE_MESSAGE(response.status() == 200, response.message.body());
    return std::string(response.json().as_object().at("messageId").as_string());
}

/// Opens the thread's stream with the key (and Last-Event-ID when given).
std::unique_ptr<EventStreamClient> open_stream(unsigned short port, const std::string& key,
                                               const std::string& thread_id,
                                               const std::string& last_event_id = "") {
    std::vector<std::pair<std::string, std::string>> headers{{"X-API-Key", key}};
    if (!last_event_id.empty()) {
        headers.emplace_back("Last-Event-ID", last_event_id);
    }
    return std::make_unique<EventStreamClient>(port, stream_path(thread_id), headers);
}

/// The thread's messages as the list gives them, oldest first, optionally outbound only.
std::vector<json::object> all_messages(HttpClient& client, const std::string& key,
                                       const std::string& thread_id, bool outbound_only) {
    std::vector<json::object> messages;
    std::string query = "limit=100" + std::string(outbound_only ? "&direction=OUTBOUND" : "");
    for (;;) {
        const auto response =
            client.request(http::verb::get, "/api/v1/threads/" + thread_id + "/messages?" + query,
                           std::nullopt, key_headers(key));
        BOOST_REQUIRE(response.status() == 200);
        const auto document = response.json();
        const auto& page = document.as_object().at("thread").as_object();
        for (const auto& message : page.at("messages").as_array()) {
            messages.push_back(message.as_object());
        }
        const auto& next = page.at("pagination").as_object().at("nextCursor");
        if (next.is_null()) {
            break;
        }
        query = "limit=100&cursor=" + std::string(next.as_string()) +
                (outbound_only ? "&direction=OUTBOUND" : "");
    }
    return {messages.rbegin(), messages.rend()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_stream, *boost::unit_test::fixture<StreamServer>())

BOOST_AUTO_TEST_CASE(replies_arrive_live_as_message_events_and_inbound_ones_do_not) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    auto stream = open_stream(stream_state().server.port(), stream_state().key, thread_id);
    BOOST_TEST(stream->status() == 200u);
    BOOST_TEST(stream->header("Content-Type") == "text/event-stream");
    BOOST_TEST(stream->header("Cache-Control") == "no-cache");
    post_reply(client, stream_state().key, thread_id, "a question", false);
    const auto reply =
        post_reply(client, stream_state().key, thread_id, "line one\nline two", true);
    const auto event = stream->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply);
    BOOST_TEST(event->event == "message");
    // The data is the message object on one line, as the list has it.
    BOOST_TEST(event->data.find('\n') == std::string::npos);
    const auto listed = all_messages(client, stream_state().key, thread_id, true);
    BOOST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(json::parse(event->data) == json::value(listed[0]));
    BOOST_TEST(listed[0].at("messageBody").as_string() == "line one\nline two");
}

BOOST_AUTO_TEST_CASE(one_post_reaches_every_stream_of_its_thread_without_a_read_per_stream) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    std::vector<std::unique_ptr<EventStreamClient>> streams;
    for (int i = 0; i < 20; ++i) {
        streams.push_back(open_stream(stream_state().server.port(), stream_state().key, thread_id));
    }
    const auto reads = [&] {
        const auto body = client.request(http::verb::get, "/metrics").message.body();
        const std::string name = "\nthreadsd_stream_thread_reads_total ";
        const auto at = body.find(name);
        BOOST_REQUIRE(at != std::string::npos);
        return std::stoll(body.substr(at + name.size()));
    };
    const auto before = reads();
    std::vector<std::string> replies;
    for (int i = 0; i < 3; ++i) {
        replies.push_back(post_reply(client, stream_state().key, thread_id, "to all", true));
    }
    for (auto& stream : streams) {
        for (const auto& reply : replies) {
            const auto event = stream->next_event();
            BOOST_REQUIRE(event.has_value());
            BOOST_TEST(event->id == reply);
        }
    }
    // Posts made here are handed to the streams as they are. On SQLite no read at all; on
    // PostgreSQL a post's own notification may come first and cost one read for the thread,
    // never one per stream.
    const auto made = reads() - before;
    BOOST_TEST(made <= static_cast<long long>(on_postgres() ? replies.size() : 0));
}

BOOST_AUTO_TEST_CASE(quiet_streams_get_keepalives_past_the_idle_and_request_timeouts) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    auto stream = open_stream(stream_state().server.port(), stream_state().key, thread_id);
    const auto until = std::chrono::steady_clock::now() + 3s;
    int comments = 0;
    while (std::chrono::steady_clock::now() < until) {
        const auto event = stream->next(2s);
        BOOST_REQUIRE_MESSAGE(event.has_value(), "the stream went quiet or closed");
        BOOST_TEST(event->comment);
        BOOST_TEST(event->data == " keep-alive");
        ++comments;
    }
    BOOST_TEST(comments >= 3);
    BOOST_TEST(!stream->closed());
    // And it still carries replies (posted on a new connection: the old one was idle for
    // longer than the idle timeout, which streams alone are exempt from).
    HttpClient poster(stream_state().server.port());
    const auto reply = post_reply(poster, stream_state().key, thread_id, "still here", true);
    const auto event = stream->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply);
}

BOOST_AUTO_TEST_CASE(reconnects_with_last_event_id_lose_and_repeat_nothing_under_posting) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    constexpr int kPosters = 2;
    constexpr int kRepliesEach = 550;  // over 1,000 replies in all
    std::vector<std::thread> posters;
    // The posters use no Boost.Test check (it is not for other threads): they count refusals.
    const auto port = stream_state().server.port();
    const auto key = stream_state().key;
    std::atomic<int> refused{0};
    for (int p = 0; p < kPosters; ++p) {
        posters.emplace_back([&, p] {
            HttpClient own(port);
            const std::string path = "/api/v1/threads/" + thread_id + "/messages";
            for (int i = 0; i < kRepliesEach; ++i) {
                const std::string reply = R"({"message": "r)" + std::to_string(p) + "-" +
                                          std::to_string(i) + R"(", "direction": "OUTBOUND"})";
                refused += own.post_json(path, reply, key).status() == 200 ? 0 : 1;
                if (i % 10 == 0) {
                    refused +=
                        own.post_json(path, R"({"message": "question"})", key).status() == 200 ? 0
                                                                                               : 1;
                }
            }
        });
    }
    std::vector<std::string> received;
    std::string last;
    int reconnects = 0;
    while (received.size() < static_cast<std::size_t>(kPosters * kRepliesEach)) {
        auto stream =
            open_stream(stream_state().server.port(), stream_state().key, thread_id, last);
        BOOST_REQUIRE(stream->status() == 200u);
        // A few events per connection, a different number each time, then away.
        const std::size_t take = 50 + static_cast<std::size_t>(reconnects * 37 % 120);
        for (std::size_t i = 0; i < take; ++i) {
            const auto event = stream->next_event(20s);
            if (!event) {
                break;
            }
            BOOST_REQUIRE(event->event == "message");
            received.push_back(event->id);
            last = event->id;
            if (received.size() == static_cast<std::size_t>(kPosters * kRepliesEach)) {
                break;
            }
        }
        ++reconnects;
        BOOST_REQUIRE_MESSAGE(reconnects < 200, "the stream stopped delivering");
    }
    for (auto& poster : posters) {
        poster.join();
    }
    BOOST_TEST(refused.load() == 0);
    BOOST_TEST(reconnects > 5);
    HttpClient reader(stream_state().server.port());  // `client` has been idle too long
    // Exactly the thread's replies, once each, in its commit order.
    std::vector<std::string> expected;
    for (const auto& message : all_messages(reader, stream_state().key, thread_id, true)) {
        expected.emplace_back(message.at("id").as_string());
    }
    BOOST_TEST(std::set<std::string>(received.begin(), received.end()).size() == received.size());
    BOOST_TEST(received == expected);
}

BOOST_AUTO_TEST_CASE(any_message_id_of_the_thread_resumes_after_its_place) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    const auto reply1 = post_reply(client, stream_state().key, thread_id, "r1", true);
    const auto question = post_reply(client, stream_state().key, thread_id, "q", false);
    const auto reply2 = post_reply(client, stream_state().key, thread_id, "r2", true);
    const auto reply3 = post_reply(client, stream_state().key, thread_id, "r3", true);
    // After an inbound message: the replies after it.
    auto stream =
        open_stream(stream_state().server.port(), stream_state().key, thread_id, question);
    auto event = stream->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply2);
    event = stream->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply3);
    // After the first reply, from another connection: the rest, the question left out.
    auto again = open_stream(stream_state().server.port(), stream_state().key, thread_id, reply1);
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        event = again->next_event();
        BOOST_REQUIRE(event.has_value());
        ids.push_back(event->id);
    }
    BOOST_TEST(ids == (std::vector<std::string>{reply2, reply3}));
    // Without Last-Event-ID: from now on only.
    auto fresh = open_stream(stream_state().server.port(), stream_state().key, thread_id);
    const auto reply4 = post_reply(client, stream_state().key, thread_id, "r4", true);
    event = fresh->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply4);
}

BOOST_AUTO_TEST_CASE(refusals_come_before_the_stream_in_the_envelope) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    const auto other_thread = new_stream_thread(client, stream_state().key);
    const auto foreign = post_reply(client, stream_state().key, other_thread, "elsewhere", true);
    const auto port = stream_state().server.port();
    const auto check = [&](const std::string& key, const std::string& path,
                           const std::string& last_event_id, unsigned status,
                           const std::string& code) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!key.empty()) {
            headers.emplace_back("X-API-Key", key);
        }
        if (!last_event_id.empty()) {
            headers.emplace_back("Last-Event-ID", last_event_id);
        }
        EventStreamClient stream(port, path, headers);
        BOOST_TEST(stream.status() == status);
        BOOST_TEST(stream.header("Content-Type") == "application/json");
        const auto body = json::parse(stream.body()).as_object();
        BOOST_TEST(body.at("code").as_string() == code);
    };
    check("", stream_path(thread_id), "", 401, "UNAUTHORIZED");
    check(stream_state().key, stream_path("nope"), "", 400, "BAD_REQUEST");
    check(stream_state().key, stream_path("01890000-0000-7000-8000-000000000000"), "", 404,
          "NOT_FOUND");
    check(stream_state().key, stream_path(thread_id), "not-an-id", 400, "BAD_REQUEST");
    check(stream_state().key, stream_path(thread_id), foreign, 400, "BAD_REQUEST");
    check(stream_state().key, stream_path(thread_id) + "/", "", 404, "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(closing_sends_what_is_left_then_closed_and_ends) {
    HttpClient client(stream_state().server.port());
    const auto thread_id = new_stream_thread(client, stream_state().key);
    auto stream = open_stream(stream_state().server.port(), stream_state().key, thread_id);
    auto second = open_stream(stream_state().server.port(), stream_state().key, thread_id);
    const auto reply = post_reply(client, stream_state().key, thread_id, "bye", true);
    const auto closed = close_thread_ok(client, stream_state().key, thread_id);
    for (auto* each : {stream.get(), second.get()}) {
        auto event = each->next_event();
        BOOST_REQUIRE(event.has_value());
        BOOST_TEST(event->id == reply);
        event = each->next_event();
        BOOST_REQUIRE(event.has_value());
        BOOST_TEST(event->event == "closed");
        BOOST_TEST(json::parse(event->data) == json::value(closed));
        BOOST_TEST(!each->next_event(5s).has_value());
        BOOST_TEST(each->ended());
    }
    // A stream of a closed thread sends only its closed event.
    auto late = open_stream(stream_state().server.port(), stream_state().key, thread_id);
    const auto event = late->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->event == "closed");
    BOOST_TEST(!late->next_event(5s).has_value());
    BOOST_TEST(late->ended());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(thread_stream_lifetime)

BOOST_AUTO_TEST_CASE(an_ended_window_closes_the_thread_as_expired_and_ends_its_streams) {
    TempDir dir;
    const auto db = new_store(dir, "expiry.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db,
                         {"--conversation-window", "1500ms", "--expiry-sweep-interval", "100ms"});
    HttpClient client(server.port());
    const auto thread_id = new_stream_thread(client, key);
    const auto kept_open = new_stream_thread(client, key);
    auto stream = open_stream(server.port(), key, thread_id);
    // An inbound message starts the window again; replies do not.
    post_reply(client, key, thread_id, "hi", false);
    const auto reply = post_reply(client, key, thread_id, "hello", true);
    auto event = stream->next_event();
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->id == reply);
    // The other thread is kept open by inbound messages more often than the window, until
    // the first one's stream says it closed.
    const auto give_up = std::chrono::steady_clock::now() + 15s;
    do {
        post_reply(client, key, kept_open, "still here", false);
        event = stream->next_event(400ms);
    } while (!event && std::chrono::steady_clock::now() < give_up);
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST(event->event == "closed");
    const auto closed = json::parse(event->data).as_object();
    BOOST_TEST(closed.at("closedReason").as_string() == "EXPIRED");
    BOOST_TEST(closed.at("isActive").as_bool() == false);
    // The other thread's last inbound message is under 400 ms old: open.
    BOOST_TEST(get_thread_ok(client, key, kept_open).at("isActive").as_bool() == true);
    // The stream's body has ended (the connection may stay open for another request).
    BOOST_TEST(!stream->next_event(5s).has_value());
    BOOST_TEST(stream->ended());
    const auto stored = get_thread_ok(client, key, thread_id);
    BOOST_TEST(stored.at("closedReason").as_string() == "EXPIRED");
    const auto late = client.post_json("/api/v1/threads/" + thread_id + "/messages",
                                       R"({"message": "too late"})", key);
    check_error(late, 409, "CONFLICT", "closed");
}

BOOST_AUTO_TEST_CASE(a_post_after_the_window_closes_the_thread_itself) {
    TempDir dir;
    const auto db = new_store(dir, "late.db");
    const auto key = create_demo_key(db);
    // A sweep that does not come within the test: the post finds the window over.
    ServerProcess server(db, {"--conversation-window", "500ms", "--expiry-sweep-interval", "60s"});
    HttpClient client(server.port());
    const auto thread_id = new_stream_thread(client, key);
    std::this_thread::sleep_for(1s);
    check_error(client.post_json("/api/v1/threads/" + thread_id + "/messages",
                                 R"({"message": "anyone?"})", key),
                409, "CONFLICT", "conversation window has ended");
    const auto stored = get_thread_ok(client, key, thread_id);
    BOOST_TEST(stored.at("closedReason").as_string() == "EXPIRED");
    BOOST_TEST(stored.at("isActive").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(shutdown_ends_open_streams_cleanly_and_exits_zero) {
    TempDir dir;
    const auto db = new_store(dir, "shutdown.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db, {"--shutdown-grace", "20s"});
    HttpClient client(server.port());
    std::vector<std::unique_ptr<EventStreamClient>> streams;
    for (int i = 0; i < 3; ++i) {
        streams.push_back(open_stream(server.port(), key, new_stream_thread(client, key)));
    }
    const auto started = std::chrono::steady_clock::now();
    server.signal(SIGTERM);
    for (auto& stream : streams) {
        BOOST_TEST(!stream->next_event(10s).has_value());
        BOOST_TEST(stream->ended());
    }
    BOOST_TEST(server.wait_exit(15) == 0);
    // Well within the grace period: streams do not hold shutdown up.
    BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
}

BOOST_AUTO_TEST_CASE(streams_count_against_the_connection_limit) {
    TempDir dir;
    const auto db = new_store(dir, "limit.db");
    const auto key = create_demo_key(db);
    std::string thread_id;
    {
        ServerProcess setup(db);
        HttpClient client(setup.port());
        thread_id = new_stream_thread(client, key);
    }
    ServerProcess server(db, {"--max-connections", "2"});
    auto first = open_stream(server.port(), key, thread_id);
    auto second = open_stream(server.port(), key, thread_id);
    BOOST_TEST(first->status() == 200u);
    BOOST_TEST(second->status() == 200u);
    HttpClient third(server.port());
    check_error(third.request(http::verb::get, "/healthz"), 503, "SERVICE_UNAVAILABLE");
    first.reset();
    // The slot is given back once the server sees the client leave.
    bool served = false;
    for (int i = 0; i < 50 && !served; ++i) {
        std::this_thread::sleep_for(100ms);
        HttpClient again(server.port());
        served = again.request(http::verb::get, "/healthz").status() == 200;
    }
    BOOST_TEST(served);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
