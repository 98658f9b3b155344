// GET, PATCH and close of one thread and the shape of the list against the real binary: each
// endpoint's happy path and every error row, with the thread read back after each refused request
// to show that nothing changed.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

// Another organization, for isolation, and one whose threads only the list test makes.
constexpr const char* kOtherOrganization = "8e5a0000-0000-4000-8000-0000000000b1";
constexpr const char* kOtherAgent = "8e5a0000-0000-4000-8000-00000000a001";
constexpr const char* kListOrganization = "8e5a0000-0000-4000-8000-0000000000b2";
constexpr const char* kListAgent = "8e5a0000-0000-4000-8000-00000000a002";
// Well-formed ids that name no thread.
constexpr const char* kUnknownThread = "01890000-0000-7000-8000-000000000000";
constexpr const char* kUnknownV4Thread = "c0ffee00-1234-4abc-9def-0123456789ab";

/// A demo store with two more organizations, each with a key, served for the whole suite.
struct ResourceState {
    ResourceState() {
        const json::array agents{
            import_agent(
                kOtherAgent, kOtherOrganization, "Other bot",
                json::array{import_version("8e5a0000-0000-4000-8000-00000000c001", 1, true)}),
            import_agent(
                kListAgent, kListOrganization, "List bot",
                json::array{import_version("8e5a0000-0000-4000-8000-00000000c002", 1, true)})};
        import_agents(db, dir.file("agents.json"), json::serialize(agents));
        other_key = create_key(db, kOtherOrganization);
        list_key = create_key(db, kListOrganization);
        server.emplace(db);
    }

    TempDir dir;
    std::string db = new_store(dir, "resource.db");
    std::string key = create_demo_key(db);
    std::string other_key;
    std::string list_key;
    std::optional<ServerProcess> server;

    unsigned short port() const { return server->port(); }
};

using ResourceServer = SuiteState<ResourceState>;

ResourceState& resource_fixture() {
    return ResourceServer::get();
}

/// A new Support bot thread of the demo organization with `extra` create members.
json::object new_thread(HttpClient& client, const std::string& extra = "") {
    return create_thread_ok(client, resource_fixture().key, create_body(demo::kSupportBot, extra));
}

/// Fails unless every member of the two thread objects but `changed` is the same.
void check_same_except(const json::object& before, const json::object& after,
                       const std::set<std::string>& changed) {
    for (const auto& name : thread_fields()) {
        if (changed.count(name) == 0) {
            BOOST_TEST(member_text(before, name) == member_text(after, name),
                       "member " << name << " changed");
        }
    }
}

/// Fails unless `after` is later than `before` (both RFC 3339 with milliseconds).
void check_later(const std::string& before, const std::string& after) {
    BOOST_TEST(parse_rfc3339_millis(after) > parse_rfc3339_millis(before),
               after << " is not after " << before);
}

/// Fails unless GET of `id` answers exactly `expected` (same text, key order included).
void check_stored(HttpClient& client, const std::string& id, const json::object& expected) {
    BOOST_TEST(json::serialize(get_thread_ok(client, resource_fixture().key, id)) ==
               json::serialize(expected));
}

/// `{"k0":"v0",...}` with `count` keys.
std::string map_with_keys(std::size_t count, const std::string& prefix = "k") {
    std::string text = "{";
    for (std::size_t i = 0; i < count; ++i) {
        text += (i == 0 ? "\"" : ",\"") + prefix + std::to_string(i) + "\":\"v" +
                std::to_string(i) + "\"";
    }
    return text + "}";
}

std::string upper_cased(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'f') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

/// `count` copies of `unit`.
std::string repeat(const std::string& unit, std::size_t count) {
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        text += unit;
    }
    return text;
}

/// A close reason of `count` copies of `unit`, as a JSON body.
std::string reason_body(const std::string& unit, std::size_t count) {
    return "{\"reason\":\"" + repeat(unit, count) + "\"}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_resource_http, *boost::unit_test::fixture<ResourceServer>())

// ---- GET /api/v1/threads/{threadId} ----

BOOST_AUTO_TEST_CASE(get_answers_the_same_object_as_create) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(
        client, R"("metadata":{"zeta":"1","alpha":"2"},"variables":{"name":"Ada","city":"Paris"})");
    const std::string id = text_field(created, "id");
    BOOST_TEST(json::serialize(get_thread_ok(client, resource_fixture().key, id)) ==
               json::serialize(created));
    // An upper-case id names the same thread.
    BOOST_TEST(json::serialize(get_thread_ok(client, resource_fixture().key, upper_cased(id))) ==
               json::serialize(created));
    // A query string on a path that takes none is ignored.
    const auto with_query =
        client.request(http::verb::get, thread_path(id) + "?limit=0&x=", std::nullopt,
                       key_headers(resource_fixture().key));
    BOOST_TEST(json::serialize(thread_from(with_query)) == json::serialize(created));

    // Null maps, a null description and null sms settings survive the round trip too.
    const auto voice =
        create_thread_ok(client, resource_fixture().key, create_body(demo::kVoiceAgent));
    BOOST_TEST(json::serialize(get_thread_ok(client, resource_fixture().key,
                                             text_field(voice, "id"))) == json::serialize(voice));
}

// ---- PATCH /api/v1/threads/{threadId} ----

BOOST_AUTO_TEST_CASE(patch_sets_removes_and_keeps_keys_in_their_places) {
    HttpClient client(resource_fixture().port());
    const auto created =
        new_thread(client, R"("metadata":{"a":"1","b":"2","c":"3"},"variables":{"x":"1"})");
    const std::string id = text_field(created, "id");

    // a removed, b overwritten in place, c kept, d and e appended in the patch's order;
    // variables not named, so kept.
    const auto patched = patch_thread_ok(client, resource_fixture().key, id,
                                         R"({"metadata":{"e":"5","b":"B","a":null,"d":"4"}})");
    BOOST_TEST(member_text(patched, "metadata") == R"({"b":"B","c":"3","e":"5","d":"4"})");
    BOOST_TEST(member_text(patched, "variables") == R"({"x":"1"})");
    check_later(text_field(created, "updatedAt"), text_field(patched, "updatedAt"));
    check_same_except(created, patched, {"metadata", "updatedAt"});
    check_stored(client, id, patched);

    // Removing the last key leaves an empty object; a key that is not there is no error;
    // "metadata": null leaves metadata as it is.
    const auto emptied = patch_thread_ok(client, resource_fixture().key, id,
                                         R"({"metadata":null,"variables":{"x":null,"y":null}})");
    BOOST_TEST(member_text(emptied, "variables") == "{}");
    BOOST_TEST(member_text(emptied, "metadata") == R"({"b":"B","c":"3","e":"5","d":"4"})");
    check_later(text_field(patched, "updatedAt"), text_field(emptied, "updatedAt"));
    check_same_except(patched, emptied, {"variables", "updatedAt"});
    check_stored(client, id, emptied);

    // Both maps in one patch; an overwrite with the same value keeps the place too.
    const auto both = patch_thread_ok(client, resource_fixture().key, id,
                                      R"({"variables":{"q":"1"},"metadata":{"c":"3","b":null}})");
    BOOST_TEST(member_text(both, "metadata") == R"({"c":"3","e":"5","d":"4"})");
    BOOST_TEST(member_text(both, "variables") == R"({"q":"1"})");
    check_same_except(emptied, both, {"metadata", "variables", "updatedAt"});
    check_stored(client, id, both);
}

BOOST_AUTO_TEST_CASE(patch_of_null_maps) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client);
    const std::string id = text_field(created, "id");
    BOOST_REQUIRE(member_text(created, "metadata") == "null");
    BOOST_REQUIRE(member_text(created, "variables") == "null");

    // Removing keys from a null map leaves it null.
    const auto removed =
        patch_thread_ok(client, resource_fixture().key, id, R"({"metadata":{"gone":null}})");
    BOOST_TEST(member_text(removed, "metadata") == "null");
    BOOST_TEST(member_text(removed, "variables") == "null");
    check_same_except(created, removed, {"updatedAt"});
    check_later(text_field(created, "updatedAt"), text_field(removed, "updatedAt"));

    // Setting a key on a null map makes it an object (nulls in the same patch are dropped).
    const auto set = patch_thread_ok(client, resource_fixture().key, id,
                                     R"({"variables":{"n":null,"first":"1","second":"2"}})");
    BOOST_TEST(member_text(set, "variables") == R"({"first":"1","second":"2"})");
    BOOST_TEST(member_text(set, "metadata") == "null");
    check_same_except(removed, set, {"variables", "updatedAt"});
    check_stored(client, id, set);

    // An empty patch map on a null map leaves it null.
    const auto empty = patch_thread_ok(client, resource_fixture().key, id, R"({"metadata":{}})");
    BOOST_TEST(member_text(empty, "metadata") == "null");
    check_same_except(set, empty, {"updatedAt"});
}

BOOST_AUTO_TEST_CASE(every_patch_moves_updated_at_even_one_that_changes_nothing) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client, R"("metadata":{"k":"v"})");
    const std::string id = text_field(created, "id");
    json::object previous = created;
    // Nothing to change, and read-only or unknown fields, which are ignored.
    for (const std::string body :
         {"{}", R"({"metadata":null,"variables":null})", R"({"metadata":{"k":"v"}})",
          R"({"id":"01890000-0000-7000-8000-000000000001","organizationId":"x",)"
          R"("agentId":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e02","isActive":false,)"
          R"("closedReason":"HACKED","closedAt":"2020-01-01T00:00:00.000Z",)"
          R"("createdAt":"2020-01-01T00:00:00.000Z","updatedAt":"2020-01-01T00:00:00.000Z",)"
          R"("toPhoneNumber":"+15550000000","leadId":"lead","unknown":[1,{"a":2}]})"}) {
        BOOST_TEST_CONTEXT("body " << body) {
            const auto patched = patch_thread_ok(client, resource_fixture().key, id, body);
            check_later(text_field(previous, "updatedAt"), text_field(patched, "updatedAt"));
            check_same_except(created, patched, {"updatedAt"});
            check_stored(client, id, patched);
            previous = patched;
        }
    }
}

BOOST_AUTO_TEST_CASE(patch_is_allowed_on_a_closed_thread) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client, R"("metadata":{"a":"1"})");
    const std::string id = text_field(created, "id");
    const auto closed = close_thread_ok(client, resource_fixture().key, id, R"({"reason":"DONE"})");

    const auto patched =
        patch_thread_ok(client, resource_fixture().key, id, R"({"metadata":{"after":"close"}})");
    BOOST_TEST(member_text(patched, "metadata") == R"({"a":"1","after":"close"})");
    BOOST_TEST(member_text(patched, "isActive") == "false");
    BOOST_TEST(member_text(patched, "closedReason") == R"("DONE")");
    // closedAt stays when the thread is patched after closing; updatedAt moves on.
    BOOST_TEST(member_text(patched, "closedAt") == member_text(closed, "closedAt"));
    check_later(text_field(closed, "updatedAt"), text_field(patched, "updatedAt"));
    check_same_except(closed, patched, {"metadata", "updatedAt"});
    check_stored(client, id, patched);
}

// ---- PATCH /api/v1/threads/{threadId}/close ----

BOOST_AUTO_TEST_CASE(close_with_no_reason_sets_the_default_reason) {
    HttpClient client(resource_fixture().port());
    // No body at all, an empty one with a JSON type, an empty object, and a null reason
    // (with other fields ignored).
    const std::vector<std::optional<std::string>> bodies{
        std::nullopt, std::string(), std::string("{}"),
        std::string(R"({"reason":null,"isActive":true})")};
    for (const auto& body : bodies) {
        BOOST_TEST_CONTEXT("body " << body.value_or("<none>")) {
            const auto created = new_thread(client, R"("metadata":{"m":"1"})");
            const std::string id = text_field(created, "id");
            const auto closed = close_thread_ok(client, resource_fixture().key, id, body);
            BOOST_TEST(member_text(closed, "isActive") == "false");
            BOOST_TEST(member_text(closed, "closedReason") == R"("ENDED")");
            BOOST_TEST(member_text(closed, "closedAt") == member_text(closed, "updatedAt"));
            check_later(text_field(created, "updatedAt"), text_field(closed, "updatedAt"));
            check_same_except(created, closed,
                              {"isActive", "closedAt", "closedReason", "updatedAt"});
            check_stored(client, id, closed);
        }
    }
}

BOOST_AUTO_TEST_CASE(close_with_a_reason_of_one_to_64_characters) {
    HttpClient client(resource_fixture().port());
    // Not limited to upstream's enum; 64 code points of two bytes each is still 64.
    const std::vector<std::pair<std::string, std::string>> reasons{
        {R"({"reason":"user left"})", "user left"},
        {R"({"reason":"x"})", "x"},
        {reason_body("\xC3\xA9", 64), repeat("\xC3\xA9", 64)},
        {reason_body("\\u00e9", 64), repeat("\xC3\xA9", 64)},
        {reason_body("r", 64), std::string(64, 'r')}};
    for (const auto& [body, reason] : reasons) {
        BOOST_TEST_CONTEXT("body " << body) {
            const auto created = new_thread(client);
            const std::string id = text_field(created, "id");
            const auto closed = close_thread_ok(client, resource_fixture().key, id, body);
            BOOST_TEST(text_field(closed, "closedReason") == reason);
            BOOST_TEST(member_text(closed, "isActive") == "false");
            BOOST_TEST(member_text(closed, "closedAt") == member_text(closed, "updatedAt"));
            check_same_except(created, closed,
                              {"isActive", "closedAt", "closedReason", "updatedAt"});
            check_stored(client, id, closed);
        }
    }
}

BOOST_AUTO_TEST_CASE(close_with_a_bad_reason_is_400_and_leaves_the_thread_open) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client);
    const std::string id = text_field(created, "id");
    for (const std::string& body :
         {std::string(R"({"reason":""})"), reason_body("r", 65), reason_body("\xC3\xA9", 65),
          std::string(R"({"reason":"a\nb"})"), std::string(R"({"reason":"tab\there"})"),
          std::string(R"({"reason":"nul\u0000"})"), std::string(R"({"reason":"del\u007f"})"),
          std::string(R"({"reason":"c1\u0085"})"), std::string(R"({"reason":5})"),
          std::string(R"({"reason":true})"), std::string(R"({"reason":["ENDED"]})"),
          std::string(R"({"reason":{"text":"ENDED"}})"), std::string("[]"),
          std::string("\"ENDED\""), std::string("{not json"),
          std::string(R"({"reason":"a","reason":"b"})")}) {
        BOOST_TEST_CONTEXT("body " << body) {
            check_error(close_thread(client, resource_fixture().key, id, body), 400, "BAD_REQUEST");
        }
    }
    check_stored(client, id, created);
}

BOOST_AUTO_TEST_CASE(closing_a_closed_thread_is_409_and_changes_nothing) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client, R"("variables":{"v":"1"})");
    const std::string id = text_field(created, "id");
    const auto closed =
        close_thread_ok(client, resource_fixture().key, id, R"({"reason":"FIRST"})");
    const std::vector<std::optional<std::string>> bodies{std::nullopt, std::string("{}"),
                                                         std::string(R"({"reason":"SECOND"})")};
    for (const auto& body : bodies) {
        BOOST_TEST_CONTEXT("body " << body.value_or("<none>")) {
            check_error(close_thread(client, resource_fixture().key, id, body), 409, "CONFLICT");
            check_stored(client, id, closed);
        }
    }
    BOOST_TEST(text_field(closed, "closedReason") == "FIRST");
}

// ---- GET /api/v1/threads ----

BOOST_AUTO_TEST_CASE(list_pages_are_full_thread_objects_newest_first) {
    // The list organization's threads are made only here, so its list is known exactly.
    auto& fixture = resource_fixture();
    HttpClient client(fixture.port());
    std::vector<json::object> made;
    for (int i = 0; i < 3; ++i) {
        made.push_back(create_thread_ok(
            client, fixture.list_key,
            create_body(kListAgent, "\"metadata\":{\"n\":\"" + std::to_string(i) + "\"}")));
    }
    made[1] = close_thread_ok(client, fixture.list_key, text_field(made[1], "id"));
    for (auto& thread : made) {  // As stored now.
        thread = get_thread_ok(client, fixture.list_key, text_field(thread, "id"));
    }

    // The default limit is 10; everything fits, so no cursor.
    auto page = list_page_ok(client, fixture.list_key, "");
    BOOST_TEST(page.limit == 10);
    BOOST_TEST(!page.next_cursor.has_value());
    BOOST_REQUIRE(page.threads.size() == 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(json::serialize(page.threads[i]) == json::serialize(made[2 - i]));
    }

    // Two pages of two: the cursor is the last id of the first page.
    page = list_page_ok(client, fixture.list_key, "limit=2");
    BOOST_TEST(page.limit == 2);
    BOOST_REQUIRE(page.threads.size() == 2u);
    BOOST_TEST(json::serialize(page.threads[0]) == json::serialize(made[2]));
    BOOST_TEST(json::serialize(page.threads[1]) == json::serialize(made[1]));
    BOOST_REQUIRE(page.next_cursor.has_value());
    BOOST_TEST(*page.next_cursor == text_field(made[1], "id"));
    page = list_page_ok(client, fixture.list_key, "limit=2&cursor=" + *page.next_cursor);
    BOOST_REQUIRE(page.threads.size() == 1u);
    BOOST_TEST(json::serialize(page.threads[0]) == json::serialize(made[0]));
    BOOST_TEST(!page.next_cursor.has_value());

    // A page that is exactly full with nothing after it has no next cursor.
    page = list_page_ok(client, fixture.list_key, "limit=3");
    BOOST_TEST(page.threads.size() == 3u);
    BOOST_TEST(!page.next_cursor.has_value());

    // The edges of limit.
    page = list_page_ok(client, fixture.list_key, "limit=1");
    BOOST_TEST(page.limit == 1);
    BOOST_TEST(page.threads.size() == 1u);
    BOOST_TEST(page.next_cursor.value_or("") == text_field(made[2], "id"));
    page = list_page_ok(client, fixture.list_key, "limit=100");
    BOOST_TEST(page.limit == 100);
    BOOST_TEST(page.threads.size() == 3u);

    // Filters on the known set.
    page = list_page_ok(client, fixture.list_key, "isActive=false");
    BOOST_REQUIRE(page.threads.size() == 1u);
    BOOST_TEST(json::serialize(page.threads[0]) == json::serialize(made[1]));
    page =
        list_page_ok(client, fixture.list_key, "isActive=true&agentId=" + upper_cased(kListAgent));
    BOOST_REQUIRE(page.threads.size() == 2u);
    BOOST_TEST(text_field(page.threads[0], "id") == text_field(made[2], "id"));
    BOOST_TEST(text_field(page.threads[1], "id") == text_field(made[0], "id"));
    page = list_page_ok(client, fixture.list_key, "closedReason=ENDED");
    BOOST_REQUIRE(page.threads.size() == 1u);
    BOOST_TEST(text_field(page.threads[0], "id") == text_field(made[1], "id"));
    // Another organization's agent, and the demo organization's, give nothing here.
    BOOST_TEST(list_page_ok(client, fixture.list_key, std::string("agentId=") + kOtherAgent)
                   .threads.empty());
    BOOST_TEST(list_page_ok(client, fixture.list_key, std::string("agentId=") + demo::kSupportBot)
                   .threads.empty());
}

BOOST_AUTO_TEST_CASE(list_refuses_bad_query_parameters_naming_them) {
    HttpClient client(resource_fixture().port());
    const std::vector<std::pair<std::string, std::string>> cases{
        // Unknown.
        {"foo=1", "foo"},
        {"limit=5&Limit=5", "Limit"},
        {"page=2", "page"},
        // Repeated, also with equal values and when the second is spelled with escapes.
        {"limit=5&limit=5", "limit"},
        {"isActive=true&isActive=false", "isActive"},
        {"agentId=3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01&agent%49d=3f2a9c1e-7b4d-4e8a-9c2f-"
         "1a2b3c4d5e01",
         "agentId"},
        {"closedReason=A&closedReason=B", "closedReason"},
        // Empty values, with and without '='.
        {"agentId=", "agentId"},
        {"toPhoneNumber=", "toPhoneNumber"},
        {"closedReason=", "closedReason"},
        {"cursor=", "cursor"},
        {"createdAfter=", "createdAfter"},
        {"isActive", "isActive"},
        {"limit", "limit"},
        // Malformed values.
        {"isActive=yes", "isActive"},
        {"isActive=TRUE", "isActive"},
        {"isActive=1", "isActive"},
        {"isActive=true%20", "isActive"},
        {"agentId=not-a-uuid", "agentId"},
        {"agentId=3f2a9c1e7b4d4e8a9c2f1a2b3c4d5e01", "agentId"},
        {"cursor=zzz", "cursor"},
        {"cursor=%7B3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01%7D", "cursor"},
        {"createdAfter=yesterday", "createdAfter"},
        {"createdAfter=2026-13-01T00:00:00Z", "createdAfter"},
        {"createdAfter=2026-02-30T00:00:00Z", "createdAfter"},
        {"createdAfter=2026-01-01", "createdAfter"},
        {"createdAfter=2026-01-01T00:00:00", "createdAfter"},
        {"createdAfter=1764633600000", "createdAfter"},
        {"createdBefore=2026-01-01T25:00:00Z", "createdBefore"},
        {"createdBefore=not-a-date", "createdBefore"},
    };
    for (const auto& [query, name] : cases) {
        BOOST_TEST_CONTEXT("query " << query) {
            check_error(list_threads(client, resource_fixture().key, query), 400, "BAD_REQUEST",
                        name);
        }
    }
    // A broken percent escape is a 400 as well.
    check_error(list_threads(client, resource_fixture().key, "closedReason=%zz"), 400,
                "BAD_REQUEST");
}

BOOST_AUTO_TEST_CASE(list_limit_out_of_range_is_400) {
    HttpClient client(resource_fixture().port());
    for (const std::string limit : {"0", "101", "abc", "-1", "1.5", "1e2", "+5", "%205", "5%20",
                                    "0x10", "1000", "99999999999999999999999"}) {
        BOOST_TEST_CONTEXT("limit=" << limit) {
            check_error(list_threads(client, resource_fixture().key, "limit=" + limit), 400,
                        "BAD_REQUEST", "limit");
        }
    }
    // Plain decimal digits from 1 to 100 are fine, leading zeros included.
    for (const auto& [text, value] : std::vector<std::pair<std::string, std::int64_t>>{
             {"1", 1}, {"100", 100}, {"07", 7}, {"0100", 100}, {"0000000001", 1}}) {
        BOOST_TEST_CONTEXT("limit=" << text) {
            BOOST_TEST(list_page_ok(client, resource_fixture().key, "limit=" + text).limit ==
                       value);
        }
    }
}

// ---- Error rows shared by the endpoints ----

BOOST_AUTO_TEST_CASE(thread_id_that_is_not_a_uuid_is_400) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client);
    const std::string id = text_field(created, "id");
    std::string no_hyphens;
    for (char c : id) {
        if (c != '-') {
            no_hyphens += c;
        }
    }
    for (const std::string& bad :
         {std::string("not-a-uuid"), std::string("123"), no_hyphens, "urn:uuid:" + id,
          id.substr(0, 35), id + "0", "g" + id.substr(1), "%7B" + id + "%7D"}) {
        BOOST_TEST_CONTEXT("threadId " << bad) {
            check_error(get_thread(client, resource_fixture().key, bad), 400, "BAD_REQUEST",
                        "threadId");
            check_error(
                patch_thread(client, resource_fixture().key, bad, R"({"metadata":{"a":"1"}})"), 400,
                "BAD_REQUEST", "threadId");
            check_error(close_thread(client, resource_fixture().key, bad), 400, "BAD_REQUEST",
                        "threadId");
        }
    }
    check_stored(client, id, created);
}

BOOST_AUTO_TEST_CASE(unknown_thread_is_404) {
    HttpClient client(resource_fixture().port());
    for (const std::string id : {kUnknownThread, kUnknownV4Thread}) {
        BOOST_TEST_CONTEXT("threadId " << id) {
            check_error(get_thread(client, resource_fixture().key, id), 404, "NOT_FOUND",
                        "threadId");
            check_error(
                patch_thread(client, resource_fixture().key, id, R"({"metadata":{"a":"1"}})"), 404,
                "NOT_FOUND", "threadId");
            check_error(close_thread(client, resource_fixture().key, id), 404, "NOT_FOUND",
                        "threadId");
        }
    }
}

BOOST_AUTO_TEST_CASE(another_organizations_thread_is_indistinguishable_from_a_missing_one) {
    auto& fixture = resource_fixture();
    HttpClient client(fixture.port());
    const auto open = create_thread_ok(client, fixture.other_key,
                                       create_body(kOtherAgent, R"("metadata":{"own":"1"})"));
    auto closed_before = create_thread_ok(client, fixture.other_key, create_body(kOtherAgent));
    closed_before = close_thread_ok(client, fixture.other_key, text_field(closed_before, "id"));

    const std::string patch = R"({"metadata":{"intruder":"1"}})";
    const auto missing_get = get_thread(client, fixture.key, kUnknownThread);
    const auto missing_patch = patch_thread(client, fixture.key, kUnknownThread, patch);
    const auto missing_close = close_thread(client, fixture.key, kUnknownThread);
    check_error(missing_get, 404, "NOT_FOUND");
    check_error(missing_patch, 404, "NOT_FOUND");
    check_error(missing_close, 404, "NOT_FOUND");

    // The open thread, and the closed one (whose close would be a 409 for its owner).
    for (const auto& thread : {open, closed_before}) {
        const std::string id = text_field(thread, "id");
        BOOST_TEST_CONTEXT("thread " << id) {
            const auto got = get_thread(client, fixture.key, id);
            const auto patched = patch_thread(client, fixture.key, id, patch);
            const auto closed = close_thread(client, fixture.key, id);
            check_error(got, 404, "NOT_FOUND");
            check_error(patched, 404, "NOT_FOUND");
            check_error(closed, 404, "NOT_FOUND");
            BOOST_TEST(got.message.body() == missing_get.message.body());
            BOOST_TEST(patched.message.body() == missing_patch.message.body());
            BOOST_TEST(closed.message.body() == missing_close.message.body());
            BOOST_TEST(got.header("Content-Type") == missing_get.header("Content-Type"));
            // The owner sees it as it was.
            BOOST_TEST(json::serialize(get_thread_ok(client, fixture.other_key, id)) ==
                       json::serialize(thread));
        }
    }
    // It is in neither the demo organization's list nor the other way round.
    BOOST_TEST(
        list_page_ok(client, fixture.key, std::string("agentId=") + kOtherAgent).threads.empty());
    const auto demo_thread = new_thread(client);
    check_error(get_thread(client, fixture.other_key, text_field(demo_thread, "id")), 404,
                "NOT_FOUND");
    const auto other_page = list_page_ok(client, fixture.other_key, "limit=100");
    for (const auto& item : other_page.threads) {
        BOOST_TEST(text_field(item, "organizationId") == kOtherOrganization);
    }
    check_stored(client, text_field(demo_thread, "id"), demo_thread);
}

BOOST_AUTO_TEST_CASE(patch_that_breaks_a_limit_after_merging_is_400_and_changes_nothing) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(
        client, "\"metadata\":" + map_with_keys(64) + ",\"variables\":" + map_with_keys(60, "x"));
    const std::string id = text_field(created, "id");

    // 64 keys then one more: refused whole, so the variables part is not applied either.
    check_error(patch_thread(client, resource_fixture().key, id,
                             R"({"variables":{"ok":"1"},"metadata":{"k64":"v"}})"),
                400, "BAD_REQUEST", "metadata");
    check_stored(client, id, created);
    // Five new variables on sixty.
    check_error(patch_thread(client, resource_fixture().key, id,
                             "{\"variables\":" + map_with_keys(5, "new") + "}"),
                400, "BAD_REQUEST", "variables");
    check_stored(client, id, created);

    // Per-key rules of the patch object itself.
    const std::string long_key(129, 'k');
    const std::string long_value(8193, 'v');
    const std::vector<std::string> bodies{
        R"({"metadata":{"":"x"}})", "{\"metadata\":{\"" + long_key + "\":\"x\"}}",
        "{\"variables\":{\"big\":\"" + long_value + "\"}}", R"({"metadata":{"a":"1","a":"2"}})",
        R"({"metadata":{"bad":"\ud800"}})"};
    for (const auto& body : bodies) {
        BOOST_TEST_CONTEXT("body of " << body.size() << " bytes: " << body.substr(0, 60)) {
            check_error(patch_thread(client, resource_fixture().key, id, body), 400, "BAD_REQUEST");
            check_stored(client, id, created);
        }
    }

    // One out and one in stays at 64: the new key goes last. Overwriting at 64 is fine,
    // and so are the largest key and value.
    const auto swapped = patch_thread_ok(client, resource_fixture().key, id,
                                         R"({"metadata":{"k0":null,"k64":"new"}})");
    const auto& metadata = swapped.at("metadata").as_object();
    BOOST_TEST(metadata.size() == 64u);
    BOOST_TEST(!metadata.contains("k0"));
    BOOST_TEST(metadata.begin()->key() == "k1");
    BOOST_TEST((metadata.end() - 1)->key() == "k64");
    const auto overwritten =
        patch_thread_ok(client, resource_fixture().key, id,
                        "{\"metadata\":{\"k1\":\"" + std::string(8192, 'v') +
                            "\"},\"variables\":{\"" + std::string(128, 'k') + "\":\"x\"}}");
    BOOST_TEST(overwritten.at("metadata").as_object().size() == 64u);
    BOOST_TEST(overwritten.at("metadata").as_object().begin()->value().as_string().size() == 8192u);
    BOOST_TEST(overwritten.at("variables").as_object().size() == 61u);
    check_stored(client, id, overwritten);
}

BOOST_AUTO_TEST_CASE(patch_that_is_not_a_map_of_strings_is_400_and_changes_nothing) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client, R"("metadata":{"a":"1"},"variables":{"b":"2"})");
    const std::string id = text_field(created, "id");
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"metadata":{"a":1}})", "metadata"},
        {R"({"metadata":{"a":true}})", "metadata"},
        {R"({"metadata":{"a":{}}})", "metadata"},
        {R"({"metadata":{"a":["x"]}})", "metadata"},
        {R"({"metadata":{"ok":"1","a":2.5}})", "metadata"},
        {R"({"metadata":"a"})", "metadata"},
        {R"({"metadata":[]})", "metadata"},
        {R"({"metadata":false})", "metadata"},
        {R"({"variables":5})", "variables"},
        {R"({"metadata":{"fine":"1"},"variables":{"b":0}})", "variables"},
        {"[]", ""},
        {"\"metadata\"", ""},
        {"null", ""},
        {"{not json", ""},
        {"", ""},
    };
    for (const auto& [body, field] : cases) {
        BOOST_TEST_CONTEXT("body " << body) {
            check_error(patch_thread(client, resource_fixture().key, id, body), 400, "BAD_REQUEST",
                        field);
            check_stored(client, id, created);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_endpoint_needs_credentials) {
    auto& fixture = resource_fixture();
    HttpClient client(fixture.port());
    const auto created = new_thread(client);
    const std::string id = text_field(created, "id");
    for (const std::string& key : {std::string(), std::string("thd_not-a-real-key")}) {
        BOOST_TEST_CONTEXT("key '" << key << "'") {
            check_error(get_thread(client, key, id), 401, "UNAUTHORIZED");
            check_error(patch_thread(client, key, id, R"({"metadata":{"a":"1"}})"), 401,
                        "UNAUTHORIZED");
            check_error(close_thread(client, key, id), 401, "UNAUTHORIZED");
            check_error(close_thread(client, key, id, "{}"), 401, "UNAUTHORIZED");
            check_error(list_threads(client, key, ""), 401, "UNAUTHORIZED");
            // Credentials come before anything about the request's content.
            check_error(list_threads(client, key, "limit=0&foo=1"), 401, "UNAUTHORIZED");
            check_error(get_thread(client, key, "not-a-uuid"), 401, "UNAUTHORIZED");
            check_error(get_thread(client, key, kUnknownThread), 401, "UNAUTHORIZED");
            check_error(patch_thread(client, key, id, "{not json"), 401, "UNAUTHORIZED");
        }
    }
    check_stored(client, id, created);
}

BOOST_AUTO_TEST_CASE(wrong_method_is_405_with_allow) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client);
    const std::string id = text_field(created, "id");
    struct Case {
        http::verb method;
        std::string target;
        std::string allow;
    };
    const std::vector<Case> cases{
        {http::verb::delete_, thread_path(id), "GET, PATCH"},
        {http::verb::post, thread_path(id), "GET, PATCH"},
        {http::verb::put, thread_path(id), "GET, PATCH"},
        {http::verb::delete_, thread_path(kUnknownThread), "GET, PATCH"},
        {http::verb::delete_, thread_path("not-a-uuid"), "GET, PATCH"},
        {http::verb::get, close_path(id), "PATCH"},
        {http::verb::post, close_path(id), "PATCH"},
        {http::verb::put, close_path(id), "PATCH"},
        {http::verb::post, kThreadsPath, "GET"},
        {http::verb::patch, kThreadsPath, "GET"},
        {http::verb::delete_, kThreadsPath, "GET"},
        {http::verb::post, std::string(kThreadsPath) + "?limit=5", "GET"},
        {http::verb::get, "/api/v1/threads/web", "POST"},
        {http::verb::patch, "/api/v1/threads/web", "POST"},
    };
    for (const auto& [method, target, allow] : cases) {
        BOOST_TEST_CONTEXT(http::to_string(method) << " " << target) {
            // With a key and a JSON body, and with neither: the route answers first.
            const auto with_key = client.request(
                method, target, std::string(R"({"metadata":{"a":"1"}})"),
                {{"Content-Type", "application/json"}, {"X-API-Key", resource_fixture().key}});
            check_error(with_key, 405, "METHOD_NOT_ALLOWED");
            BOOST_TEST(with_key.header("Allow") == allow);
            const auto without_key = client.request(method, target);
            check_error(without_key, 405, "METHOD_NOT_ALLOWED");
            BOOST_TEST(without_key.header("Allow") == allow);
        }
    }
    // HEAD is a method like any other: 405 where only GET is allowed, and no body.
    for (const auto& [target, allow] : std::vector<std::pair<std::string, std::string>>{
             {thread_path(id), "GET, PATCH"}, {kThreadsPath, "GET"}, {close_path(id), "PATCH"}}) {
        BOOST_TEST_CONTEXT("HEAD " << target) {
            RawConnection raw(resource_fixture().port());
            BOOST_REQUIRE(raw.write("HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                    "X-API-Key: " + resource_fixture().key +
                                    "\r\nConnection: close\r\n\r\n"));
            const auto received = raw.read_until_closed();
            std::size_t used = 0;
            const auto response = parse_response(received.bytes, true, &used);
            BOOST_REQUIRE_MESSAGE(response.has_value(), received.bytes);
            BOOST_TEST(response->status() == 405u);
            BOOST_TEST(response->header("Allow") == allow);
            BOOST_TEST(used == received.bytes.size(), "a body followed the HEAD response");
        }
    }
    // Paths are exact: a trailing slash is another, unknown path.
    for (const std::string& target :
         {thread_path(id) + "/", close_path(id) + "/", std::string(kThreadsPath) + "/"}) {
        BOOST_TEST_CONTEXT("GET " << target) {
            check_error(client.request(http::verb::get, target, std::nullopt,
                                       key_headers(resource_fixture().key)),
                        404, "NOT_FOUND");
        }
    }
    check_stored(client, id, created);
}

BOOST_AUTO_TEST_CASE(patch_bodies_must_be_json) {
    HttpClient client(resource_fixture().port());
    const auto created = new_thread(client);
    const std::string id = text_field(created, "id");
    for (const std::string type : {"text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonx", "application/merge-patch+json"}) {
        BOOST_TEST_CONTEXT("Content-Type " << type) {
            for (const auto& path : {thread_path(id), close_path(id)}) {
                const auto response = client.request(
                    http::verb::patch, path, std::string(R"({"metadata":{"a":"1"}})"),
                    {{"Content-Type", type}, {"X-API-Key", resource_fixture().key}});
                check_error(response, 415, "UNSUPPORTED_MEDIA_TYPE");
            }
        }
    }
    // No Content-Type at all on a body.
    check_error(client.request(http::verb::patch, thread_path(id), std::string("{}"),
                               key_headers(resource_fixture().key)),
                415, "UNSUPPORTED_MEDIA_TYPE");
    check_stored(client, id, created);

    // Parameters and case do not matter.
    const auto patched =
        client.request(http::verb::patch, thread_path(id), std::string(R"({"metadata":{"a":"1"}})"),
                       {{"Content-Type", "Application/JSON; charset=utf-8"},
                        {"X-API-Key", resource_fixture().key}});
    BOOST_TEST(member_text(thread_from(patched), "metadata") == R"({"a":"1"})");
    const auto closed =
        client.request(http::verb::patch, close_path(id), std::string(R"({"reason":"typed"})"),
                       {{"Content-Type", "application/json;charset=UTF-8"},
                        {"X-API-Key", resource_fixture().key}});
    BOOST_TEST(text_field(thread_from(closed), "closedReason") == "typed");
}

BOOST_AUTO_TEST_CASE(checks_run_in_the_contracts_order) {
    // Route, then credentials, then the body's framing, then the resources.
    auto& fixture = resource_fixture();
    HttpClient client(fixture.port());
    auto closed = new_thread(client);
    closed = close_thread_ok(client, fixture.key, text_field(closed, "id"));
    const std::string closed_id = text_field(closed, "id");
    const std::string big(65 * 1024, ' ');
    const Headers text_plain{{"Content-Type", "text/plain"}, {"X-API-Key", fixture.key}};

    // Credentials before the body and the resource.
    check_error(client.request(http::verb::patch, thread_path(kUnknownThread), std::string("{}"),
                               {{"Content-Type", "text/plain"}}),
                401, "UNAUTHORIZED");
    check_error(close_thread(client, "", closed_id, "{not json"), 401, "UNAUTHORIZED");
    // The body's framing before the resource: an unknown thread and a closed one.
    for (const std::string& id : {std::string(kUnknownThread), closed_id}) {
        BOOST_TEST_CONTEXT("thread " << id) {
            for (const auto& path : {thread_path(id), close_path(id)}) {
                BOOST_TEST_CONTEXT("path " << path) {
                    check_error(
                        client.request(http::verb::patch, path, std::string("{}"), text_plain), 415,
                        "UNSUPPORTED_MEDIA_TYPE");
                    check_error(patch_json(client, fixture.key, path, "{not json"), 400,
                                "BAD_REQUEST");
                    check_error(patch_json(client, fixture.key, path, "[]"), 400, "BAD_REQUEST");
                    HttpClient fresh(fixture.port());  // 413 may close the connection.
                    check_error(patch_json(fresh, fixture.key, path, "{\"metadata\":{}}" + big),
                                413, "PAYLOAD_TOO_LARGE");
                }
            }
            check_error(close_thread(client, fixture.key, id, R"({"reason":""})"), 400,
                        "BAD_REQUEST");
            check_error(patch_thread(client, fixture.key, id, R"({"metadata":{"a":1}})"), 400,
                        "BAD_REQUEST");
        }
    }
    check_stored(client, closed_id, closed);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
