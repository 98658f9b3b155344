#pragma once
// Calls of the thread resource for integration tests, each
// checking the status and the shape of the answer, and RFC 3339 helpers for its times.
// Header-only; for the test's own thread (they use Boost.Test checks).

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace threadsd::test {

/// The collection path.
inline constexpr const char* kThreadsPath = "/api/v1/threads";

/// Every member of a thread object (section 3).
inline const std::vector<std::string>& thread_fields() {
    static const std::vector<std::string> fields{"id",
                                                 "organizationId",
                                                 "agentVersionId",
                                                 "toPhoneNumber",
                                                 "fromPhoneNumber",
                                                 "fromPhoneNumberId",
                                                 "leadId",
                                                 "isActive",
                                                 "createdAt",
                                                 "updatedAt",
                                                 "closedAt",
                                                 "closedReason",
                                                 "metadata",
                                                 "variables",
                                                 "agentId",
                                                 "agentDetails",
                                                 "agentVersionDetails"};
    return fields;
}

/// /api/v1/threads/{id}.
inline std::string thread_path(const std::string& id) {
    return std::string(kThreadsPath) + "/" + id;
}

/// /api/v1/threads/{id}/close.
inline std::string close_path(const std::string& id) {
    return thread_path(id) + "/close";
}

/// Fails unless `thread` has exactly the members of a thread object.
inline void check_thread_members(const boost::json::object& thread) {
    BOOST_TEST_CONTEXT("thread " << boost::json::serialize(thread)) {
        BOOST_TEST(thread.size() == thread_fields().size());
        for (const auto& name : thread_fields()) {
            BOOST_TEST(thread.contains(name), "member " << name << " is missing");
        }
    }
}

/// The "thread" of a 200 `{"thread": {...}}` answer (fails the test on anything else).
inline boost::json::object thread_from(const HttpResult& response) {
    BOOST_REQUIRE_MESSAGE(response.status() == 200, "expected 200, got "
                                                        << response.status() << ": "
                                                        << response.message.body());
    BOOST_TEST(response.header("Content-Type") == "application/json");
    const auto value = response.json();
    BOOST_REQUIRE(value.is_object());
    BOOST_TEST(value.as_object().size() == 1u, "only a thread: " << response.message.body());
    const auto* thread = value.as_object().if_contains("thread");
    BOOST_REQUIRE_MESSAGE(thread != nullptr && thread->is_object(), response.message.body());
    check_thread_members(thread->as_object());
    return thread->as_object();
}

/// A string member (fails the test when missing or not a string).
inline std::string text_field(const boost::json::object& object, std::string_view name) {
    const auto* value = object.if_contains(name);
    BOOST_REQUIRE_MESSAGE(
        value != nullptr && value->is_string(),
        name << " is missing or not a string in " << boost::json::serialize(object));
    return std::string(value->as_string());
}

/// The serialized member (its text, so key order counts); "<missing>" when absent.
inline std::string member_text(const boost::json::object& object, std::string_view name) {
    const auto* value = object.if_contains(name);
    return value == nullptr ? "<missing>" : boost::json::serialize(*value);
}

/// The X-API-Key header, or none for an empty key.
inline Headers key_headers(const std::string& key) {
    Headers headers;
    if (!key.empty()) {
        headers.emplace_back("X-API-Key", key);
    }
    return headers;
}

/// POST /api/v1/threads/web with `body`, expecting 200.
inline boost::json::object create_thread_ok(HttpClient& client, const std::string& key,
                                            const std::string& body) {
    return thread_from(client.post_json("/api/v1/threads/web", body, key));
}

/// GET /api/v1/threads/{id}.
inline HttpResult get_thread(HttpClient& client, const std::string& key, const std::string& id) {
    return client.request(boost::beast::http::verb::get, thread_path(id), std::nullopt,
                          key_headers(key));
}

/// GET /api/v1/threads/{id}, expecting 200.
inline boost::json::object get_thread_ok(HttpClient& client, const std::string& key,
                                         const std::string& id) {
    return thread_from(get_thread(client, key, id));
}

/// PATCH `path` with a JSON body (or no body and no Content-Type).
inline HttpResult patch_json(HttpClient& client, const std::string& key, const std::string& path,
                             const std::optional<std::string>& body) {
    Headers headers = key_headers(key);
    if (body) {
        headers.emplace_back("Content-Type", "application/json");
    }
    return client.request(boost::beast::http::verb::patch, path, body, headers);
}

/// PATCH /api/v1/threads/{id} with `body`.
inline HttpResult patch_thread(HttpClient& client, const std::string& key, const std::string& id,
                               const std::string& body) {
    return patch_json(client, key, thread_path(id), body);
}

/// PATCH /api/v1/threads/{id} with `body`, expecting 200.
inline boost::json::object patch_thread_ok(HttpClient& client, const std::string& key,
                                           const std::string& id, const std::string& body) {
    return thread_from(patch_thread(client, key, id, body));
}

/// PATCH /api/v1/threads/{id}/close with `body` (none: no body at all).
inline HttpResult close_thread(HttpClient& client, const std::string& key, const std::string& id,
                               const std::optional<std::string>& body = std::nullopt) {
    return patch_json(client, key, close_path(id), body);
}

/// PATCH /api/v1/threads/{id}/close, expecting 200.
inline boost::json::object close_thread_ok(HttpClient& client, const std::string& key,
                                           const std::string& id,
                                           const std::optional<std::string>& body = std::nullopt) {
    return thread_from(close_thread(client, key, id, body));
}

/// GET /api/v1/threads?query (no '?' when `query` is empty).
inline HttpResult list_threads(HttpClient& client, const std::string& key,
                               const std::string& query) {
    const std::string target =
        query.empty() ? std::string(kThreadsPath) : std::string(kThreadsPath) + "?" + query;
    return client.request(boost::beast::http::verb::get, target, std::nullopt, key_headers(key));
}

/// One page of the list.
struct ThreadPage {
    std::vector<boost::json::object> threads;  ///< Its items, in order.
    std::int64_t limit = 0;                    ///< pagination.limit.
    std::optional<std::string> next_cursor;    ///< pagination.nextCursor, none for null.
};

/// GET /api/v1/threads?query, expecting 200 and exactly the contract's page shape.
inline ThreadPage list_page_ok(HttpClient& client, const std::string& key,
                               const std::string& query) {
    const auto response = list_threads(client, key, query);
    BOOST_REQUIRE_MESSAGE(response.status() == 200, "list ?" << query << " answered "
                                                             << response.status() << ": "
                                                             << response.message.body());
    BOOST_TEST(response.header("Content-Type") == "application/json");
    const auto value = response.json();
    BOOST_REQUIRE(value.is_object());
    const auto& body = value.as_object();
    BOOST_TEST(body.size() == 2u);
    const auto* threads = body.if_contains("threads");
    const auto* pagination = body.if_contains("pagination");
    BOOST_REQUIRE_MESSAGE(threads != nullptr && threads->is_array(), response.message.body());
    BOOST_REQUIRE_MESSAGE(pagination != nullptr && pagination->is_object(),
                          response.message.body());
    const auto& page_info = pagination->as_object();
    BOOST_TEST(page_info.size() == 2u);
    const auto* limit = page_info.if_contains("limit");
    const auto* cursor = page_info.if_contains("nextCursor");
    BOOST_REQUIRE_MESSAGE(limit != nullptr && limit->is_int64(), response.message.body());
    BOOST_REQUIRE_MESSAGE(cursor != nullptr && (cursor->is_null() || cursor->is_string()),
                          response.message.body());
    ThreadPage page;
    page.limit = limit->as_int64();
    if (cursor->is_string()) {
        page.next_cursor = std::string(cursor->as_string());
    }
    for (const auto& item : threads->as_array()) {
        BOOST_REQUIRE(item.is_object());
        check_thread_members(item.as_object());
        page.threads.push_back(item.as_object());
    }
    return page;
}

/// `2026-11-28T19:54:33.123Z` as unix milliseconds; fails the test on any other shape.
inline std::int64_t parse_rfc3339_millis(const std::string& text) {
    static const std::regex shape(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$)");
    std::smatch m;
    BOOST_REQUIRE_MESSAGE(std::regex_match(text, m, shape),
                          "not RFC 3339 UTC with milliseconds: " << text);
    std::tm tm{};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
    tm.tm_sec = std::stoi(m[6]);
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + std::stoi(m[7]);
}

/// Unix milliseconds as RFC 3339 with milliseconds, in UTC (`Z`) or at an offset of
/// `offset_minutes` east of UTC (`+01:00`).
inline std::string format_rfc3339_millis(std::int64_t unix_ms, int offset_minutes = 0) {
    const std::int64_t local_ms = unix_ms + std::int64_t{offset_minutes} * 60000;
    const auto seconds = static_cast<std::time_t>(local_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(local_ms % 1000));
    std::string out(text);
    if (offset_minutes == 0) {
        return out + "Z";
    }
    const int magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(text, sizeof text, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', magnitude / 60,
                  magnitude % 60);
    return out + text;
}

}  // namespace threadsd::test
