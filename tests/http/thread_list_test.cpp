// GET /api/v1/threads over a few hundred threads: every filter walked page by page at several
// page sizes while a background thread keeps creating threads, cursors that name no thread,
// exclusive created bounds, and items that show their agent as it is now.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/plain_http_client.hpp"
#include "support/process.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

// An organization whose threads only this suite's walk makes, with three agents.
constexpr const char* kWalkOrganization = "5a1c0000-0000-4000-8000-0000000000b1";
const std::vector<std::string> kWalkAgents{"5a1c0000-0000-4000-8000-00000000a001",
                                           "5a1c0000-0000-4000-8000-00000000a002",
                                           "5a1c0000-0000-4000-8000-00000000a003"};
constexpr int kThreadCount = 300;

/// The close reason of the i-th pre-existing thread: none (open), or a body and the reason.
struct Closing {
    std::optional<std::string> body;  ///< The close request's body (none: no body).
    std::string reason;               ///< What closedReason becomes.
};

std::optional<Closing> closing_of(int i) {
    switch (i % 8) {
        case 1:
            return Closing{std::nullopt, "ENDED"};
        case 2:
            return Closing{std::string(R"({"reason":"user left"})"), "user left"};
        case 5:
            return Closing{std::string(R"({"reason":"opt+out"})"), "opt+out"};
        case 6:
            return Closing{std::string(R"({"reason":"ENDED"})"), "ENDED"};
        default:
            return std::nullopt;
    }
}

/// The walk organization with kThreadCount threads spread over its agents, some closed,
/// and a demo key; one server for the whole suite.
struct ListState {
    ListState() {
        json::array agents;
        for (std::size_t i = 0; i < kWalkAgents.size(); ++i) {
            std::string version = kWalkAgents[i];
            version.replace(version.size() - 4, 1, "c");  // ...a001 -> ...c001
            agents.push_back(import_agent(kWalkAgents[i], kWalkOrganization,
                                          "Walker " + std::to_string(i),
                                          json::array{import_version(version, 1, true)}));
        }
        import_agents(db, dir.file("agents.json"), json::serialize(agents));
        walk_key = create_key(db, kWalkOrganization);
        server.emplace(db);

        HttpClient client(server->port());
        for (int i = 0; i < kThreadCount; ++i) {
            const std::string& agent = kWalkAgents[static_cast<std::size_t>(i) % 3];
            auto thread = create_thread_ok(
                client, walk_key,
                create_body(agent, "\"metadata\":{\"n\":\"" + std::to_string(i) + "\"}"));
            if (const auto closing = closing_of(i)) {
                thread = close_thread_ok(client, walk_key, text_field(thread, "id"), closing->body);
            }
            made.push_back(std::move(thread));
        }
    }

    TempDir dir;
    std::string db = new_store(dir, "list.db");
    std::string demo_key = create_demo_key(db);
    std::string walk_key;
    std::optional<ServerProcess> server;
    std::vector<json::object> made;  ///< The walk organization's threads, oldest first.

    unsigned short port() const { return server->port(); }
};

using ListServer = SuiteState<ListState>;

ListState& list_fixture() {
    return ListServer::get();
}

/// Creates open threads of the walk organization's first two agents on its own connection,
/// as many as the test allows, while the test goes on. Never calls Boost.Test; the test
/// checks its results after join().
class BackgroundCreator {
  public:
    BackgroundCreator(unsigned short port, std::string key)
        : port_(port), key_(std::move(key)), thread_([this] { run(); }) {}
    ~BackgroundCreator() { join(); }
    BackgroundCreator(const BackgroundCreator&) = delete;
    BackgroundCreator& operator=(const BackgroundCreator&) = delete;

    /// Lets it create `more` threads more; returns at once.
    void allow(std::size_t more) {
        std::lock_guard lock(mutex_);
        budget_ += more;
        changed_.notify_all();
    }

    /// Lets it create one more thread and waits until it has (true), or it failed or 30 s
    /// passed (false). A liveness guard, not a timing assertion.
    bool create_one() {
        std::size_t before = 0;
        {
            std::lock_guard lock(mutex_);
            before = ids_.size() + budget_ + (in_flight_ ? 1 : 0);
        }
        allow(1);
        return wait_beyond(before);
    }

    /// Waits until more than `count` threads were created (true), or it failed or 30 s
    /// passed (false). A liveness guard, not a timing assertion.
    bool wait_beyond(std::size_t count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(30), [&] {
            return ids_.size() > count || !error_.empty() || finished_;
        }) && ids_.size() > count;
    }

    /// How many it has created so far.
    std::size_t count() {
        std::lock_guard lock(mutex_);
        return ids_.size();
    }

    /// Stops it and waits for its thread.
    void join() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            changed_.notify_all();
        }
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    /// The threads it has created so far, as their create answers gave them.
    std::vector<json::object> snapshot() {
        std::lock_guard lock(mutex_);
        return threads_;
    }

    /// The ids it created (after join()).
    const std::vector<std::string>& ids() const { return ids_; }
    /// What went wrong, or "" (after join()).
    const std::string& error() const { return error_; }

  private:
    void run() {
        try {
            PlainHttpClient client(port_);
            for (std::size_t i = 0;; ++i) {
                {
                    std::unique_lock lock(mutex_);
                    changed_.wait(lock, [&] { return stop_ || budget_ > 0; });
                    if (stop_) {
                        break;
                    }
                    --budget_;
                    in_flight_ = true;
                }
                const auto result = client.request(
                    http::verb::post, "/api/v1/threads/web",
                    create_body(kWalkAgents[i % 2], R"("metadata":{"background":"1"})"),
                    {{"Content-Type", "application/json"}, {"X-API-Key", key_}});
                json::object created;
                std::string problem = result.error;
                if (problem.empty() && result.status != 200) {
                    problem =
                        "create answered " + std::to_string(result.status) + ": " + result.body;
                }
                if (problem.empty()) {
                    boost::system::error_code ec;
                    const auto value = json::parse(result.body, ec);
                    const json::value* thread = !ec && value.is_object()
                                                    ? value.as_object().if_contains("thread")
                                                    : nullptr;
                    const json::value* field = thread != nullptr && thread->is_object()
                                                   ? thread->as_object().if_contains("id")
                                                   : nullptr;
                    if (field == nullptr || !field->is_string()) {
                        problem = "create answered no thread id: " + result.body;
                    } else {
                        created = thread->as_object();
                    }
                }
                std::lock_guard lock(mutex_);
                in_flight_ = false;
                if (!problem.empty()) {
                    error_ = problem;
                    break;
                }
                ids_.emplace_back(created.at("id").as_string());
                threads_.push_back(std::move(created));
                changed_.notify_all();
            }
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex_);
            error_ = std::string("exception: ") + e.what();
        }
        std::lock_guard lock(mutex_);
        finished_ = true;
        changed_.notify_all();
    }

    unsigned short port_;
    std::string key_;
    std::mutex mutex_;
    bool stop_ = false;       ///< Guarded by mutex_.
    std::size_t budget_ = 0;  ///< Creations allowed and not yet started; mutex_.
    bool in_flight_ = false;  ///< A creation is under way; mutex_.
    std::condition_variable changed_;
    std::vector<std::string> ids_;       ///< Guarded by mutex_ until joined.
    std::vector<json::object> threads_;  ///< The same threads; mutex_.
    std::string error_;                  ///< Guarded by mutex_ until joined.
    bool finished_ = false;              ///< Guarded by mutex_.
    std::thread thread_;                 ///< Last, so that it starts once the rest is built.
};

/// What a walk of the pages gave.
struct Walk {
    std::vector<json::object> items;  ///< Every item of every page, in order.
    std::size_t pages = 0;            ///< Pages read.
};

/// Walks every page of `?limit=page_size&filter` from the first (or from `start`), checking
/// each page: its limit, every page but the last full, nextCursor the last id of its page
/// and null exactly on the last page. `between_pages(n)` runs after page n (from 1) of
/// every page but the last.
Walk walk_pages(HttpClient& client, const std::string& key, const std::string& filter,
                std::size_t page_size, const std::optional<std::string>& start = std::nullopt,
                const std::function<void(std::size_t)>& between_pages = {}) {
    Walk walk;
    std::optional<std::string> cursor = start;
    while (true) {
        std::string query = "limit=" + std::to_string(page_size);
        if (!filter.empty()) {
            query += "&" + filter;
        }
        if (cursor) {
            query += "&cursor=" + *cursor;
        }
        const auto page = list_page_ok(client, key, query);
        ++walk.pages;
        BOOST_TEST(page.limit == static_cast<std::int64_t>(page_size));
        BOOST_REQUIRE(page.threads.size() <= page_size);
        walk.items.insert(walk.items.end(), page.threads.begin(), page.threads.end());
        if (!page.next_cursor) {
            // A further page would exist if this one were full only by chance; the last
            // page is empty only when there is nothing at all.
            BOOST_TEST((!page.threads.empty() || walk.pages == 1),
                       "empty last page after " << walk.pages - 1 << " full ones");
            return walk;
        }
        BOOST_REQUIRE_MESSAGE(page.threads.size() == page_size,
                              "page " << walk.pages << " of ?" << query << " has "
                                      << page.threads.size() << " items and a next cursor");
        BOOST_TEST(*page.next_cursor == text_field(page.threads.back(), "id"));
        BOOST_REQUIRE_MESSAGE(walk.pages <= 100000, "the walk does not end");
        cursor = page.next_cursor;
        if (between_pages) {
            between_pages(walk.pages);
        }
    }
}

/// A filter as a query and as a predicate on a thread object.
struct Filter {
    std::string query;                                 ///< Parameters, without limit.
    std::function<bool(const json::object&)> matches;  ///< Which threads it keeps.
    bool may_be_empty = false;                         ///< Expected to match nothing.
};

std::int64_t created_ms(const json::object& thread) {
    return parse_rfc3339_millis(text_field(thread, "createdAt"));
}

bool is_active(const json::object& thread) {
    return thread.at("isActive").as_bool();
}

std::string closed_reason(const json::object& thread) {
    const auto& reason = thread.at("closedReason");
    return reason.is_string() ? std::string(reason.as_string()) : std::string();
}

std::string upper_hex_digits(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'f') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

/// Every filter of the contract, alone and combined, with bounds taken from the made threads.
std::vector<Filter> every_filter(const std::vector<json::object>& made) {
    const std::int64_t after = created_ms(made[100]);
    const std::int64_t before = created_ms(made[200]);
    const std::string after_text = text_field(made[100], "createdAt");
    const std::string before_text = text_field(made[200], "createdAt");
    const auto agent_is = [](const std::string& agent) {
        return [agent](const json::object& t) { return text_field(t, "agentId") == agent; };
    };
    const auto reason_is = [](const std::string& reason) {
        return [reason](const json::object& t) { return closed_reason(t) == reason; };
    };
    const auto created_after = [after](const json::object& t) { return created_ms(t) > after; };
    const auto created_before = [before](const json::object& t) { return created_ms(t) < before; };
    return {
        {"", [](const json::object&) { return true; }},
        {"agentId=" + kWalkAgents[0], agent_is(kWalkAgents[0])},
        {"agentId=" + upper_hex_digits(kWalkAgents[1]), agent_is(kWalkAgents[1])},
        {"agentId=" + kWalkAgents[2], agent_is(kWalkAgents[2])},
        {"isActive=true", [](const json::object& t) { return is_active(t); }},
        {"isActive=false", [](const json::object& t) { return !is_active(t); }},
        {"closedReason=ENDED", reason_is("ENDED")},
        {"closedReason=user%20left", reason_is("user left")},
        // '+' is a literal plus, as is %2B.
        {"closedReason=opt+out", reason_is("opt+out")},
        {"closedReason=opt%2Bout", reason_is("opt+out")},
        {"closedReason=opt%20out", reason_is("opt out"), true},
        {"createdAfter=" + after_text, created_after},
        {"createdBefore=" + before_text, created_before},
        {"createdAfter=" + after_text + "&createdBefore=" + before_text,
         [=](const json::object& t) { return created_after(t) && created_before(t); }},
        // The same instants at an offset, with '+' unencoded and encoded.
        {"createdAfter=" + format_rfc3339_millis(after, 330), created_after},
        {"createdAfter=" +
             [&] {
                 std::string text = format_rfc3339_millis(after, 60);
                 text.replace(text.size() - 6, 1, "%2B");
                 return text;
             }(),
         created_after},
        {"createdBefore=" + format_rfc3339_millis(before, -180), created_before},
        {"agentId=" + kWalkAgents[1] + "&isActive=false",
         [=](const json::object& t) { return agent_is(kWalkAgents[1])(t) && !is_active(t); }},
        {"closedReason=ENDED&agentId=" + kWalkAgents[2],
         [=](const json::object& t) {
             return reason_is("ENDED")(t) && agent_is(kWalkAgents[2])(t);
         }},
        {"isActive=true&createdBefore=" + before_text + "&agentId=" + kWalkAgents[0],
         [=](const json::object& t) {
             return is_active(t) && created_before(t) && agent_is(kWalkAgents[0])(t);
         }},
        {"createdAfter=" + after_text + "&closedReason=user%20left",
         [=](const json::object& t) { return created_after(t) && reason_is("user left")(t); }},
        // Web threads have no phone number, so any number matches nothing.
        {"toPhoneNumber=%2B15551234567",
         [](const json::object& t) { return text_field(t, "toPhoneNumber") == "+15551234567"; },
         true},
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_list_http, *boost::unit_test::fixture<ListServer>())

BOOST_AUTO_TEST_CASE(walks_yield_every_thread_once_while_threads_are_created) {
    auto& fixture = list_fixture();
    BOOST_REQUIRE(fixture.made.size() == static_cast<std::size_t>(kThreadCount));
    const auto filters = every_filter(fixture.made);
    HttpClient client(fixture.port());

    BackgroundCreator creator(fixture.port(), fixture.walk_key);
    // One thread made before the first walk, which the first page must then show.
    BOOST_REQUIRE_MESSAGE(creator.create_one(), "the background creator made nothing");

    std::vector<std::string> extras;  // Walked ids made after their walk began.
    for (const auto& filter : filters) {
        std::size_t made_matching = 0;
        for (const auto& thread : fixture.made) {
            made_matching += filter.matches(thread) ? 1 : 0;
        }
        BOOST_TEST((made_matching == 0) == filter.may_be_empty, "filter " << filter.query);
        for (const std::size_t page_size : {1u, 7u, 100u}) {
            BOOST_TEST_CONTEXT("filter ?" << filter.query << ", pages of " << page_size) {
                // What exists as the walk begins: the made threads and what the background
                // creator has made so far. Newest (highest id) first.
                std::map<std::string, json::object, std::greater<>> pre_existing;
                for (const auto& thread : fixture.made) {
                    pre_existing.emplace(text_field(thread, "id"), thread);
                }
                for (auto& thread : creator.snapshot()) {
                    pre_existing.emplace(text_field(thread, "id"), std::move(thread));
                }
                std::vector<std::string> expected;
                for (const auto& [id, thread] : pre_existing) {
                    if (filter.matches(thread)) {
                        expected.push_back(id);
                    }
                }
                // Threads are created while the walk goes on: one as it starts, and more
                // between pages, running alongside the next page's request. Walks in pages
                // of 7 wait for a creation after the snapshot (so the first page shows one
                // made after the walk began) and every third page (so some certainly fall
                // between two pages). Each creation makes later walks longer: rationed.
                if (page_size == 7) {
                    BOOST_REQUIRE(creator.create_one());
                } else {
                    creator.allow(1);
                }
                const std::function<void(std::size_t)> interleave = [&](std::size_t page) {
                    if (page_size == 7 && page % 3 == 0) {
                        BOOST_REQUIRE(creator.create_one());
                    } else if (page_size == 100 || page % 25 == 0) {
                        creator.allow(1);
                    }
                };
                const auto walk =
                    walk_pages(client, fixture.walk_key, filter.query, page_size, {}, interleave);
                std::vector<std::string> walked_pre_existing;
                std::set<std::string> seen;
                std::string previous;
                for (const auto& item : walk.items) {
                    const std::string id = text_field(item, "id");
                    BOOST_TEST(seen.insert(id).second, "repeated " << id);
                    if (!previous.empty()) {
                        BOOST_TEST(id < previous,
                                   "not newest first: " << id << " after " << previous);
                    }
                    previous = id;
                    BOOST_TEST(filter.matches(item), "does not match: " << json::serialize(item));
                    BOOST_TEST(text_field(item, "organizationId") == kWalkOrganization);
                    const auto found = pre_existing.find(id);
                    if (found == pre_existing.end()) {
                        extras.push_back(id);
                    } else {
                        walked_pre_existing.push_back(id);
                        // A full object, the same as when it was made (or closed).
                        BOOST_TEST(json::serialize(item) == json::serialize(found->second));
                    }
                }
                BOOST_TEST(walked_pre_existing == expected,
                           "pre-existing threads missed or out of order");
                if (expected.empty()) {
                    BOOST_TEST(walk.pages == 1u);
                }
            }
        }
    }

    const std::size_t created_meanwhile = creator.count();
    creator.join();
    BOOST_REQUIRE_MESSAGE(creator.error().empty(), "background creator: " << creator.error());
    BOOST_TEST(created_meanwhile > 0u);
    // Whatever else a walk showed was made by the background creator during that walk.
    const std::set<std::string> background(creator.ids().begin(), creator.ids().end());
    for (const auto& id : extras) {
        BOOST_TEST(background.count(id) == 1u, id << " is neither pre-existing nor new");
    }
    // The unfiltered walk in pages of 7 showed at least the one made as it began.
    BOOST_TEST(!extras.empty(), "no walk saw a thread made during the walks");
    // The background threads are all there now, newest first above the pre-existing ones.
    const auto everything = walk_pages(client, fixture.walk_key, "", 100);
    BOOST_TEST(everything.items.size() == fixture.made.size() + background.size());
    if (!everything.items.empty()) {
        BOOST_TEST(text_field(everything.items.front(), "id") == creator.ids().back());
    }
}

BOOST_AUTO_TEST_CASE(a_cursor_is_a_position_and_need_not_name_a_thread) {
    auto& fixture = list_fixture();
    HttpClient client(fixture.port());
    // Every thread of the organization now (other tests may have added some), oldest first.
    std::vector<std::string> all;
    for (const auto& item : walk_pages(client, fixture.walk_key, "", 100).items) {
        all.push_back(text_field(item, "id"));
    }
    std::reverse(all.begin(), all.end());
    BOOST_REQUIRE(all.size() >= static_cast<std::size_t>(kThreadCount));
    const auto ids_below = [&](const std::string& cursor) {
        std::vector<std::string> below;  // Newest first.
        for (auto it = all.rbegin(); it != all.rend(); ++it) {
            if (*it < cursor) {
                below.push_back(*it);
            }
        }
        return below;
    };
    const auto ids_of = [](const Walk& walk) {
        std::vector<std::string> ids;
        for (const auto& item : walk.items) {
            ids.push_back(text_field(item, "id"));
        }
        return ids;
    };

    // Positions between, above and below the threads, none of them a thread.
    const std::string middle = all[150];
    const std::vector<std::string> cursors{
        middle.substr(0, 24) + (middle[24] == '0' ? "f" : "0") + middle.substr(25),
        middle.substr(0, 35) + (middle[35] == '0' ? "1" : "0"),
        "c0ffee00-1234-4abc-9def-0123456789ab",
        all.front().substr(0, 9) + "0000-0000-0000-000000000000",
    };
    for (const auto& cursor : cursors) {
        BOOST_TEST_CONTEXT("cursor " << cursor) {
            BOOST_REQUIRE(std::find(all.begin(), all.end(), cursor) == all.end());
            for (const auto& spelled : {cursor, upper_hex_digits(cursor)}) {
                BOOST_TEST(ids_of(walk_pages(client, fixture.walk_key, "", 7, spelled)) ==
                           ids_below(cursor));
            }
        }
    }
    // The lowest and highest UUIDs.
    const auto bottom =
        list_page_ok(client, fixture.walk_key, "cursor=00000000-0000-0000-0000-000000000000");
    BOOST_TEST(bottom.threads.empty());
    BOOST_TEST(!bottom.next_cursor.has_value());
    const auto top = list_page_ok(client, fixture.walk_key,
                                  "limit=1&cursor=ffffffff-ffff-ffff-ffff-ffffffffffff");
    BOOST_REQUIRE(top.threads.size() == 1u);
    BOOST_TEST(text_field(top.threads[0], "id") == all.back());

    // A cursor and a filter.
    std::vector<std::string> expected_by_agent;
    for (int i = 199; i >= 0; --i) {
        if (i % 3 == 2) {
            expected_by_agent.push_back(
                text_field(fixture.made[static_cast<std::size_t>(i)], "id"));
        }
    }
    BOOST_TEST(ids_of(walk_pages(client, fixture.walk_key, "agentId=" + kWalkAgents[2], 7,
                                 text_field(fixture.made[200], "id"))) == expected_by_agent);

    // A cursor and createdBefore are both upper bounds: the lower one wins.
    const std::int64_t before_ms = created_ms(fixture.made[200]);
    const std::string before = "createdBefore=" + text_field(fixture.made[200], "createdAt");
    for (const std::size_t cursor_index : {150u, 250u}) {
        BOOST_TEST_CONTEXT("cursor at thread " << cursor_index) {
            const std::string cursor = text_field(fixture.made[cursor_index], "id");
            std::vector<std::string> expected;
            for (auto it = fixture.made.rbegin(); it != fixture.made.rend(); ++it) {
                const std::string id = text_field(*it, "id");
                if (id < cursor && created_ms(*it) < before_ms) {
                    expected.push_back(id);
                }
            }
            BOOST_TEST(ids_of(walk_pages(client, fixture.walk_key, before, 100, cursor)) ==
                       expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(created_bounds_are_exclusive) {
    auto& fixture = list_fixture();
    HttpClient client(fixture.port());
    // Two adjacent distinct creation instants of the made threads.
    std::vector<std::int64_t> instants;
    for (const auto& thread : fixture.made) {
        instants.push_back(created_ms(thread));
    }
    std::sort(instants.begin(), instants.end());
    instants.erase(std::unique(instants.begin(), instants.end()), instants.end());
    BOOST_REQUIRE(instants.size() >= 3u);
    const std::int64_t low = instants[instants.size() / 2];
    const std::int64_t high = instants[instants.size() / 2 + 1];
    std::vector<std::string> at_low;  // Newest first.
    for (auto it = fixture.made.rbegin(); it != fixture.made.rend(); ++it) {
        if (created_ms(*it) == low) {
            at_low.push_back(text_field(*it, "id"));
        }
    }
    BOOST_REQUIRE(!at_low.empty());

    // Nothing lies strictly between two adjacent instants.
    const auto between = list_page_ok(client, fixture.walk_key,
                                      "limit=100&createdAfter=" + format_rfc3339_millis(low) +
                                          "&createdBefore=" + format_rfc3339_millis(high));
    BOOST_TEST(between.threads.empty());
    BOOST_TEST(!between.next_cursor.has_value());
    // One millisecond earlier, the threads of `low` are inside.
    for (const auto& query : {"limit=100&createdAfter=" + format_rfc3339_millis(low - 1) +
                                  "&createdBefore=" + format_rfc3339_millis(high),
                              "limit=100&createdAfter=" + format_rfc3339_millis(low - 1, 120) +
                                  "&createdBefore=" + format_rfc3339_millis(high, -600)}) {
        BOOST_TEST_CONTEXT("query " << query) {
            const auto page = list_page_ok(client, fixture.walk_key, query);
            std::vector<std::string> ids;
            for (const auto& item : page.threads) {
                ids.push_back(text_field(item, "id"));
            }
            BOOST_TEST(ids == at_low);
        }
    }
    // createdAfter at or after createdBefore gives nothing, without an error.
    BOOST_TEST(list_page_ok(client, fixture.walk_key,
                            "createdAfter=" + format_rfc3339_millis(high) +
                                "&createdBefore=" + format_rfc3339_millis(low))
                   .threads.empty());
}

BOOST_AUTO_TEST_CASE(to_phone_number_filters_and_must_not_be_empty) {
    auto& fixture = list_fixture();
    HttpClient client(fixture.port());
    const auto page = list_page_ok(client, fixture.walk_key, "toPhoneNumber=%2B15551234567");
    BOOST_TEST(page.threads.empty());
    BOOST_TEST(!page.next_cursor.has_value());
    check_error(list_threads(client, fixture.walk_key, "toPhoneNumber="), 400, "BAD_REQUEST",
                "toPhoneNumber");
}

BOOST_AUTO_TEST_CASE(items_show_the_agent_as_it_is_now_and_the_version_they_are_bound_to) {
    auto& fixture = list_fixture();
    const std::string agent = "5a1c0000-0000-4000-8000-00000000a0f1";
    const std::string v1 = "5a1c0000-0000-4000-8000-00000000c0f1";
    const std::string v2 = "5a1c0000-0000-4000-8000-00000000c0f2";
    const auto agent_file = [&](const std::string& name, const json::value& description,
                                const std::string& type, int published) {
        auto first = import_version(v1, 1, published == 1);
        first["smsMaxTokens"] = 32;
        auto second = import_version(v2, 2, published == 2);
        second["mode"] = "FLOW";
        auto object = import_agent(agent, demo::kOrganization, name, json::array{first, second});
        object["description"] = description;
        object["agentType"] = type;
        return "[" + json::serialize(object) + "]";
    };
    const std::string file = fixture.dir.file("rename.json");
    import_agents(fixture.db, file, agent_file("Before rename", nullptr, "TEXT", 1));

    HttpClient client(fixture.port());
    std::vector<json::object> before;
    for (int i = 0; i < 3; ++i) {
        before.push_back(create_thread_ok(client, fixture.demo_key, create_body(agent)));
        BOOST_TEST(text_field(before.back(), "agentVersionId") == v1);
        BOOST_TEST(text_field(before.back().at("agentDetails").as_object(), "name") ==
                   "Before rename");
    }

    // Renamed, described, retyped, and v2 published, while the server runs.
    import_agents(fixture.db, file, agent_file("After rename", "now described", "CALL", 2));
    const std::string expected_details =
        R"({"id":")" + agent +
        R"(","name":"After rename","description":"now described","agentType":"CALL"})";

    const auto page = list_page_ok(client, fixture.demo_key, "agentId=" + agent);
    BOOST_REQUIRE(page.threads.size() == 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& item = page.threads[i];
        const auto& old = before[2 - i];
        BOOST_TEST_CONTEXT("thread " << text_field(old, "id")) {
            BOOST_TEST(text_field(item, "id") == text_field(old, "id"));
            BOOST_TEST(member_text(item, "agentDetails") == expected_details);
            BOOST_TEST(text_field(item, "agentVersionId") == v1);
            BOOST_TEST(member_text(item, "agentVersionDetails") ==
                       member_text(old, "agentVersionDetails"));
            for (const auto& name : thread_fields()) {
                if (name != "agentDetails") {
                    BOOST_TEST(member_text(item, name) == member_text(old, name), name);
                }
            }
            // GET agrees with the list.
            BOOST_TEST(
                json::serialize(get_thread_ok(client, fixture.demo_key, text_field(old, "id"))) ==
                json::serialize(item));
        }
    }

    // A new thread is bound to v2 and lists first; the old ones keep v1.
    const auto newer = create_thread_ok(client, fixture.demo_key, create_body(agent));
    BOOST_TEST(text_field(newer, "agentVersionId") == v2);
    const auto after = list_page_ok(client, fixture.demo_key, "limit=2&agentId=" + agent);
    BOOST_REQUIRE(after.threads.size() == 2u);
    BOOST_TEST(json::serialize(after.threads[0]) == json::serialize(newer));
    BOOST_TEST(text_field(after.threads[1], "agentVersionId") == v1);
    BOOST_TEST(member_text(after.threads[0], "agentDetails") == expected_details);
    BOOST_TEST(text_field(after.threads[0].at("agentVersionDetails").as_object(), "mode") ==
               "FLOW");
    BOOST_TEST(after.next_cursor.value_or("") == text_field(before[2], "id"));

    // Another organization's agent lists nothing for the demo key.
    BOOST_TEST(list_page_ok(client, fixture.demo_key, "agentId=" + kWalkAgents[0]).threads.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
