// Messages of a web chat thread against the real binary (contract section 9), on the store
// under test: every field of a message, the answer of a post, each error and limit, and
// pages walked while other clients post.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kMessageOrganization = "8e5a0000-0000-4000-8000-0000000000d1";
constexpr const char* kMessageAgent = "8e5a0000-0000-4000-8000-00000000a0d1";
/// Small, so that the limit is cheap to cross; the default is in the settings test.
constexpr std::size_t kMaxMessageBytes = 1024;

/// A demo store and another organization, served with a small message limit.
struct MessageState {
    MessageState() {
        const json::array agents{import_agent(
            kMessageAgent, kMessageOrganization, "Other bot",
            json::array{import_version("8e5a0000-0000-4000-8000-00000000c0d1", 1, true)})};
        import_agents(db, dir.file("agents.json"), json::serialize(agents));
        other_key = create_key(db, kMessageOrganization);
        server.emplace(
            db, std::vector<std::string>{"--max-message-bytes", std::to_string(kMaxMessageBytes)});
    }

    TempDir dir;
    std::string db = new_store(dir, "messages.db");
    std::string key = create_demo_key(db);
    std::string other_key;
    std::optional<ServerProcess> server;

    unsigned short port() const { return server->port(); }
};

using MessageServer = SuiteState<MessageState>;

MessageState& message_state() {
    return MessageServer::get();
}

std::string messages_path(const std::string& thread_id) {
    return "/api/v1/threads/" + thread_id + "/messages";
}

std::string new_thread_id(HttpClient& client) {
    return text_field(create_thread_ok(client, message_state().key, create_body(demo::kSupportBot)),
                      "id");
}

HttpResult post_message(HttpClient& client, const std::string& thread_id, const std::string& body,
                        const std::string& key = message_state().key) {
    return client.post_json(messages_path(thread_id), body, key);
}

/// Posts `text` (JSON-escaped here) in `direction`, expecting 200; the answer.
json::object post_ok(HttpClient& client, const std::string& thread_id, const std::string& text,
                     const std::string& direction = "") {
    json::object body{{"message", text}};
    if (!direction.empty()) {
        body["direction"] = direction;
    }
    const auto response = post_message(client, thread_id, json::serialize(body));
    BOOST_REQUIRE_MESSAGE(response.status() == 200, response.message.body());
    return response.json().as_object();
}

HttpResult list_messages(HttpClient& client, const std::string& thread_id,
                         const std::string& query = "",
                         const std::string& key = message_state().key) {
    return client.request(http::verb::get,
                          messages_path(thread_id) + (query.empty() ? "" : "?" + query),
                          std::nullopt, key_headers(key));
}

/// The page's thread object, expecting 200.
json::object list_ok(HttpClient& client, const std::string& thread_id,
                     const std::string& query = "") {
    const auto response = list_messages(client, thread_id, query);
    BOOST_REQUIRE_MESSAGE(response.status() == 200, response.message.body());
    return response.json().as_object().at("thread").as_object();
}

std::vector<std::string> message_ids(const json::object& page) {
    std::vector<std::string> ids;
    for (const auto& message : page.at("messages").as_array()) {
        ids.emplace_back(message.as_object().at("id").as_string());
    }
    return ids;
}

/// The contract's code for `status`.
std::string code_of(unsigned status) {
    switch (status) {
        case 400:
            return "BAD_REQUEST";
        case 401:
            return "UNAUTHORIZED";
        case 404:
            return "NOT_FOUND";
        case 405:
            return "METHOD_NOT_ALLOWED";
        case 409:
            return "CONFLICT";
        case 415:
            return "UNSUPPORTED_MEDIA_TYPE";
        default:
            return "?";
    }
}

/// Checks the envelope of a refusal whose message mentions `fragment`.
void expect_error(const HttpResult& response, unsigned status, const std::string& fragment = "") {
    check_error(response, status, code_of(status), fragment);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_messages, *boost::unit_test::fixture<MessageServer>())

BOOST_AUTO_TEST_CASE(post_answers_accepted_with_the_window_and_stores_every_field) {
    HttpClient client(message_state().port());
    const auto thread_id = new_thread_id(client);
    // Every character a body can hold, NUL and an astral one included, round-trips.
    const std::string text = std::string("hello\0\"\\/\n\t\xF0\x9F\x98\x80 \xE2\x80\xA8", 19);
    const auto answer = post_ok(client, thread_id, text);
    BOOST_TEST(answer.size() == 4u);
    BOOST_TEST(answer.at("status").as_string() == "accepted");
    BOOST_TEST(answer.at("threadId").as_string() == thread_id);
    BOOST_TEST(answer.at("windowExpiresIn").as_int64() == 86400);
    const std::string inbound_id(answer.at("messageId").as_string());
    BOOST_TEST(inbound_id.size() == 36u);
    BOOST_TEST(inbound_id[14] == '7');  // UUIDv7

    const auto reply = post_ok(client, thread_id, "an answer", "OUTBOUND");
    // The window runs from the inbound message: a reply does not move it.
    BOOST_TEST(reply.at("windowExpiresIn").as_int64() <= 86400);
    BOOST_TEST(reply.at("windowExpiresIn").as_int64() >= 86390);

    const auto page = list_ok(client, thread_id);
    // The page is the thread object with its messages and pagination.
    const auto thread = get_thread_ok(client, message_state().key, thread_id);
    for (const auto& [name, value] : thread) {
        BOOST_TEST(json::serialize(page.at(name)) == json::serialize(value), "member " << name);
    }
    BOOST_TEST(page.size() == thread.size() + 2);
    const auto& messages = page.at("messages").as_array();
    BOOST_REQUIRE(messages.size() == 2u);
    const auto& outbound = messages[0].as_object();  // newest first
    const auto& inbound = messages[1].as_object();
    const std::vector<std::string> fields{"id",
                                          "threadId",
                                          "direction",
                                          "messageBody",
                                          "status",
                                          "createdAt",
                                          "updatedAt",
                                          "sentAt",
                                          "deliveredAt",
                                          "readAt",
                                          "twilioMessageSid",
                                          "twilioAccountSid",
                                          "twilioNumSegments",
                                          "twilioPrice",
                                          "twilioPriceCurrency",
                                          "twilioErrorCode",
                                          "twilioErrorMessage"};
    for (const auto* message : {&inbound, &outbound}) {
        BOOST_TEST(message->size() == fields.size());
        for (const auto& field : fields) {
            BOOST_TEST(message->contains(field), "field " << field);
        }
        BOOST_TEST(message->at("threadId").as_string() == thread_id);
        BOOST_TEST(message->at("createdAt") == message->at("updatedAt"));
        BOOST_TEST(message->at("deliveredAt").is_null());
        BOOST_TEST(message->at("readAt").is_null());
        for (std::size_t i = 10; i < fields.size(); ++i) {
            BOOST_TEST(message->at(fields[i]).is_null(), "field " << fields[i]);
        }
    }
    BOOST_TEST(inbound.at("id").as_string() == inbound_id);
    BOOST_TEST(inbound.at("direction").as_string() == "INBOUND");
    BOOST_TEST(inbound.at("status").as_string() == "RECEIVED");
    BOOST_TEST(inbound.at("sentAt").is_null());
    BOOST_TEST(std::string(inbound.at("messageBody").as_string()) == text);
    BOOST_TEST(outbound.at("id").as_string() == reply.at("messageId").as_string());
    BOOST_TEST(outbound.at("direction").as_string() == "OUTBOUND");
    BOOST_TEST(outbound.at("status").as_string() == "SENT");
    BOOST_TEST(outbound.at("sentAt") == outbound.at("createdAt"));
    BOOST_TEST(outbound.at("messageBody").as_string() == "an answer");
    const auto created = parse_rfc3339_millis(std::string(inbound.at("createdAt").as_string()));
    BOOST_TEST(created >= parse_rfc3339_millis(std::string(thread.at("createdAt").as_string())));
    // Posting leaves the thread resource as it was.
    BOOST_TEST(thread.at("updatedAt") == thread.at("createdAt"));
}

BOOST_AUTO_TEST_CASE(the_message_limit_counts_utf8_bytes_and_empty_is_refused) {
    HttpClient client(message_state().port());
    const auto thread_id = new_thread_id(client);
    post_ok(client, thread_id, std::string(kMaxMessageBytes, 'a'));
    // 1023 bytes plus one two-byte character: 1025 bytes, 1024 characters.
    const std::string over = std::string(kMaxMessageBytes - 1, 'a') + "\xC3\xA9";
    expect_error(post_message(client, thread_id, json::serialize(json::object{{"message", over}})),
                 400, "message must be 1 character to 1024 bytes");
    expect_error(post_message(client, thread_id, R"({"message": ""})"), 400, "message");
    post_ok(client, thread_id, "\xC3\xA9");  // one character is enough
    BOOST_TEST(list_ok(client, thread_id).at("messages").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(each_error_in_the_contracts_order) {
    HttpClient client(message_state().port());
    const auto thread_id = new_thread_id(client);
    const std::string unknown = "01890000-0000-7000-8000-000000000000";
    // Credentials before the body, the body before the thread.
    expect_error(post_message(client, thread_id, "not json", ""), 401, "");
    expect_error(post_message(client, unknown, "not json"), 400, "not valid JSON");
    expect_error(post_message(client, "not-a-uuid", R"({"message": "x"})"), 400, "threadId");
    expect_error(post_message(client, thread_id, R"({})"), 400, "message is required");
    expect_error(post_message(client, thread_id, R"({"message": 5})"), 400, "message must be");
    expect_error(post_message(client, thread_id, R"({"message": "x", "direction": "SIDEWAYS"})"),
                 400, "direction must be INBOUND or OUTBOUND");
    expect_error(post_message(client, thread_id, R"({"message": "x", "message": "y"})"), 400,
                 "repeats");
    expect_error(post_message(client, thread_id, R"({"message": "\ud800"})"), 400, "");
    expect_error(post_message(client, unknown, R"({"message": "x"})"), 404, "threadId");
    // Another organization's thread is as missing as an unknown one, for posts and lists.
    expect_error(post_message(client, thread_id, R"({"message": "x"})", message_state().other_key),
                 404, "threadId");
    expect_error(list_messages(client, thread_id, "", message_state().other_key), 404, "threadId");
    const auto media = client.request(
        http::verb::post, messages_path(thread_id), std::string(R"({"message": "x"})"),
        Headers{{"X-API-Key", message_state().key}, {"Content-Type", "text/plain"}});
    expect_error(media, 415, "Content-Type");
    const auto wrong_method = client.request(http::verb::put, messages_path(thread_id),
                                             std::nullopt, key_headers(message_state().key));
    expect_error(wrong_method, 405);
    BOOST_TEST(wrong_method.header("Allow") == "GET, POST");
    // Nothing of these was stored.
    BOOST_TEST(list_ok(client, thread_id).at("messages").as_array().empty());

    close_thread_ok(client, message_state().key, thread_id);
    expect_error(post_message(client, thread_id, R"({"message": "late"})"), 409, "closed");
    expect_error(post_message(client, thread_id, R"({"message": "late", "direction": "OUTBOUND"})"),
                 409, "closed");
    BOOST_TEST(list_ok(client, thread_id).at("messages").as_array().empty());
}

BOOST_AUTO_TEST_CASE(list_query_rules) {
    HttpClient client(message_state().port());
    const auto thread_id = new_thread_id(client);
    const auto first = post_ok(client, thread_id, "in 1");
    for (const auto& query : {"limit=0", "limit=101", "limit=ten", "limit=", "cursor=nope",
                              "direction=inbound", "sort=asc", "limit=5&limit=6"}) {
        expect_error(list_messages(client, thread_id, query), 400);
    }
    // A cursor is a message of this thread, not merely a UUID.
    const auto other = new_thread_id(client);
    const auto foreign = post_ok(client, other, "elsewhere");
    expect_error(list_messages(client, thread_id,
                               "cursor=" + std::string(foreign.at("messageId").as_string())),
                 400, "cursor names no message of this thread");
    expect_error(list_messages(client, thread_id, "cursor=01890000-0000-7000-8000-000000000000"),
                 400, "cursor");
    // Upper case is normalised like every id.
    std::string upper(first.at("messageId").as_string());
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    BOOST_TEST(list_ok(client, thread_id, "cursor=" + upper).at("messages").as_array().empty());
    BOOST_TEST(list_ok(client, thread_id).at("pagination").as_object().at("limit") == 50);
}

BOOST_AUTO_TEST_CASE(filters_by_direction_and_status) {
    HttpClient client(message_state().port());
    const auto thread_id = new_thread_id(client);
    std::vector<std::string> inbound;
    std::vector<std::string> outbound;
    for (int i = 0; i < 5; ++i) {
        inbound.emplace_back(
            post_ok(client, thread_id, "in " + std::to_string(i)).at("messageId").as_string());
        outbound.emplace_back(post_ok(client, thread_id, "out " + std::to_string(i), "OUTBOUND")
                                  .at("messageId")
                                  .as_string());
    }
    std::vector<std::string> newest_in(inbound.rbegin(), inbound.rend());
    std::vector<std::string> newest_out(outbound.rbegin(), outbound.rend());
    BOOST_TEST(message_ids(list_ok(client, thread_id, "direction=INBOUND")) == newest_in);
    BOOST_TEST(message_ids(list_ok(client, thread_id, "status=RECEIVED")) == newest_in);
    BOOST_TEST(message_ids(list_ok(client, thread_id, "direction=OUTBOUND")) == newest_out);
    BOOST_TEST(message_ids(list_ok(client, thread_id, "status=SENT&direction=OUTBOUND")) ==
               newest_out);
    BOOST_TEST(message_ids(list_ok(client, thread_id, "status=SENT&direction=INBOUND")).empty());
    BOOST_TEST(message_ids(list_ok(client, thread_id, "status=DELIVERED")).empty());
    // Pages of a filter, by cursor.
    const auto page = list_ok(client, thread_id, "direction=OUTBOUND&limit=2");
    BOOST_TEST(message_ids(page) ==
               std::vector<std::string>(newest_out.begin(), newest_out.begin() + 2));
    const std::string cursor(page.at("pagination").as_object().at("nextCursor").as_string());
    BOOST_TEST(
        message_ids(list_ok(client, thread_id, "direction=OUTBOUND&limit=3&cursor=" + cursor)) ==
        std::vector<std::string>(newest_out.begin() + 2, newest_out.end()));
    // The last page says there is no next one; so does an exactly full one.
    BOOST_TEST(list_ok(client, thread_id, "direction=OUTBOUND&limit=5")
                   .at("pagination")
                   .as_object()
                   .at("nextCursor")
                   .is_null());
}

BOOST_AUTO_TEST_CASE(paging_while_others_post_neither_repeats_nor_skips) {
    HttpClient client(message_state().port());
    const auto thread_id = new_thread_id(client);
    std::vector<std::string> before;
    for (int i = 0; i < 60; ++i) {
        before.emplace_back(
            post_ok(client, thread_id, "m" + std::to_string(i), i % 3 == 0 ? "OUTBOUND" : "")
                .at("messageId")
                .as_string());
    }
    // Four clients post to the thread while the pages are walked.
    std::atomic<bool> stop{false};
    std::atomic<int> posted{0};
    std::vector<std::thread> posters;
    // Read here: Boost.Test (which message_state() calls) is not for other threads.
    const auto port = message_state().port();
    const auto key = message_state().key;
    for (int p = 0; p < 4; ++p) {
        posters.emplace_back([&, p] {
            HttpClient own(port);
            for (int i = 0; !stop.load() && i < 200; ++i) {
                const auto response = post_message(
                    own, thread_id,
                    json::serialize(json::object{{"message", "p" + std::to_string(p)}}), key);
                if (response.status() == 200) {
                    ++posted;
                }
            }
        });
    }
    std::vector<std::string> walked;
    std::string query = "limit=7";
    for (;;) {
        const auto page = list_ok(client, thread_id, query);
        for (auto& id : message_ids(page)) {
            walked.push_back(std::move(id));
        }
        const auto& next = page.at("pagination").as_object().at("nextCursor");
        if (next.is_null()) {
            break;
        }
        query = "limit=7&cursor=" + std::string(next.as_string());
    }
    stop = true;
    for (auto& poster : posters) {
        poster.join();
    }
    BOOST_TEST(posted.load() > 0);
    // No message twice; every message that existed before the walk, in commit order.
    BOOST_TEST(std::set<std::string>(walked.begin(), walked.end()).size() == walked.size());
    std::vector<std::string> old;
    for (const auto& id : walked) {
        if (std::find(before.begin(), before.end(), id) != before.end()) {
            old.push_back(id);
        }
    }
    BOOST_TEST(old == std::vector<std::string>(before.rbegin(), before.rend()));
}

BOOST_AUTO_TEST_CASE(metrics_count_messages_by_direction) {
    HttpClient client(message_state().port());
    const auto metrics_value = [&](const std::string& line) {
        const auto body = client.request(http::verb::get, "/metrics").message.body();
        const auto at = body.find("\n" + line + " ");
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no metric " << line);
        return std::stoll(body.substr(at + line.size() + 2));
    };
    const auto inbound = metrics_value("threadsd_messages_total{direction=\"inbound\"}");
    const auto outbound = metrics_value("threadsd_messages_total{direction=\"outbound\"}");
    const auto thread_id = new_thread_id(client);
    post_ok(client, thread_id, "a");
    post_ok(client, thread_id, "b");
    post_ok(client, thread_id, "c", "OUTBOUND");
    BOOST_TEST(metrics_value("threadsd_messages_total{direction=\"inbound\"}") == inbound + 2);
    BOOST_TEST(metrics_value("threadsd_messages_total{direction=\"outbound\"}") == outbound + 1);
    BOOST_TEST(metrics_value("threadsd_streams_open") >= 0);
    BOOST_TEST(metrics_value("threadsd_stream_events_total") >= 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
