// PgStore's messages (contract section 9) against the suite's throwaway cluster: sequences
// under the thread's row lock from two stores at once (two replicas), the conversation
// window and its sweep, pages and their plans, and the signals of LISTEN/NOTIFY.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/run_on_io.hpp"
#include "support/test_store.hpp"
#include "threadsd/store/postgres/open.hpp"
#include "threadsd/store/postgres/pg_connection.hpp"
#include "threadsd/store/postgres/pg_store.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/uuid.hpp"

// A namespace of its own: the suite is built as one unit with the other test files.
namespace threadsd::test::pg_messages {

namespace net = boost::asio;
using namespace std::chrono_literals;
using store::MessageDirection;
using store::PostResult;

constexpr const char* kDemoOrganization = "0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60";
constexpr const char* kOtherOrganization = "0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b61";
constexpr const char* kSupportBot = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01";
constexpr const char* kSupportBotV2 = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e12";
constexpr std::chrono::milliseconds kHour = 1h;

/// A new database of the suite's cluster with a second organization beside the demo one.
std::string new_database() {
    const auto uri = postgres_cluster().create_database();
    run_ok({"migrate", "--db", uri});
    StoreRows(uri).rows(std::string("INSERT INTO organizations (id, name, created_at) VALUES ('") +
                        kOtherOrganization + "', 'Other', 0)");
    return uri;
}

/// A store on `uri`, as `threadsd serve` opens it.
net::awaitable<std::unique_ptr<store::Store>> open_store(net::any_io_executor executor,
                                                         const std::string& uri) {
    return store::postgres::open_postgres_store(executor, uri, store::StoreOptions{});
}

/// The catalog generation now.
net::awaitable<std::int64_t> generation_of(store::Store& store) {
    const store::SecretHash nobody{};
    const auto answer = co_await store.api_key(nobody);
    co_return answer.generation;
}

/// A web thread of `organization` made at `created_at` (not stored).
store::ThreadRecord new_thread(const std::string& organization, std::int64_t created_at) {
    static util::Uuid7Generator ids;
    store::ThreadRecord thread;
    thread.id = ids.next(created_at);
    thread.organization_id = organization;
    thread.created_at = created_at;
    thread.updated_at = created_at;
    thread.agent.id = kSupportBot;
    thread.agent_version.id = kSupportBotV2;
    return thread;
}

/// Stores a thread of `organization` made at `created_at`.
net::awaitable<store::ThreadRecord> create(store::Store& store, std::int64_t generation,
                                           const std::string& organization,
                                           std::int64_t created_at) {
    auto thread = new_thread(organization, created_at);
    co_await store.create_thread(thread, generation);
    co_return thread;
}

/// A message for `thread` (not stored), with the body `text` as a JSON string literal.
store::MessageRecord new_message(const store::ThreadRecord& thread, MessageDirection direction,
                                 std::int64_t created_at, const std::string& text = "hi") {
    static util::Uuid7Generator ids;
    store::MessageRecord message;
    message.id = ids.next(created_at);
    message.organization_id = thread.organization_id;
    message.thread_id = thread.id;
    message.direction = direction;
    message.body_json = "\"" + text + "\"";
    message.created_at = created_at;
    return message;
}

/// An edit that closes a thread at `at` with `reason`.
store::ThreadEdit close_at(std::int64_t at, std::string reason) {
    return [at, reason = std::move(reason)](store::ThreadRecord& record) {
        record.is_active = false;
        record.closed_at = at;
        record.updated_at = at;
        record.closed_reason = reason;
    };
}

/// The key of `thread`.
store::ThreadKey key_of(const store::ThreadRecord& thread) {
    return {thread.organization_id, thread.id};
}

/// Runs every task at once on `executor` and waits for all; rethrows the first failure.
net::awaitable<void> all_at_once(net::any_io_executor executor,
                                 std::vector<std::function<net::awaitable<void>()>> tasks) {
    using Done = net::experimental::channel<void(boost::system::error_code, std::exception_ptr)>;
    Done done(executor, tasks.size());
    for (auto& task : tasks) {
        net::co_spawn(executor, task(), [&done](std::exception_ptr error) {
            done.try_send(boost::system::error_code{}, error);
        });
    }
    std::exception_ptr first;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        auto error = co_await done.async_receive(net::use_awaitable);
        if (error && !first) {
            first = error;
        }
    }
    if (first) {
        std::rethrow_exception(first);
    }
}

/// The sequences of `messages`, in their order.
std::vector<std::int64_t> sequences(const std::vector<store::MessageRecord>& messages) {
    std::vector<std::int64_t> out;
    for (const auto& message : messages) {
        out.push_back(message.sequence);
    }
    return out;
}

/// The database name in a URI made by PostgresCluster::create_database().
std::string database_name(const std::string& uri) {
    const auto name_at = uri.find("@/") + 2;
    return uri.substr(name_at, uri.find('?') - name_at);
}

/// The generic plan of `sql` run with `arguments`, after `settings`.
std::string generic_plan(const std::string& uri, const std::string& settings,
                         const std::string& sql, const std::string& arguments) {
    return postgres_cluster().psql(database_name(uri),
                                   settings +
                                       " SET plan_cache_mode = force_generic_plan;"
                                       " PREPARE statement AS " +
                                       sql + "; EXPLAIN EXECUTE statement(" + arguments + ");");
}

/// Signals as watch_threads() hands them over, from the store's strand.
using Signals =
    net::experimental::concurrent_channel<void(boost::system::error_code, store::ThreadSignal)>;

/// The next signal, or nothing within `within`.
net::awaitable<std::optional<store::ThreadSignal>> next_signal(Signals& signals,
                                                               std::chrono::milliseconds within) {
    using namespace net::experimental::awaitable_operators;
    const auto executor = co_await net::this_coro::executor;
    net::steady_timer timer(executor, within);
    auto got = co_await (signals.async_receive(net::use_awaitable) ||
                         timer.async_wait(net::use_awaitable));
    if (got.index() == 0) {
        co_return std::get<0>(std::move(got));
    }
    co_return std::nullopt;
}

/// The pid of the backend that LISTENs on the store's channel, once there is one other than
/// `not_this` (up to 10 s); "" when none came.
net::awaitable<std::string> listener_pid(const std::string& uri, const std::string& not_this) {
    const auto executor = co_await net::this_coro::executor;
    auto connection = co_await store::postgres::PgConnection::connect(executor, uri, 10s);
    for (int attempt = 0; attempt < 500; ++attempt) {
        std::vector<std::optional<std::string>> params{not_this};
        auto result = co_await connection->query(
            "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database()"
            " AND query = 'LISTEN threadsd_threads' AND pid::text <> $1",
            std::move(params));
        if (result.rows() > 0) {
            co_return std::string(result.text(0, 0));
        }
        net::steady_timer pause(executor, 20ms);
        co_await pause.async_wait(net::use_awaitable);
    }
    co_return std::string();
}

BOOST_AUTO_TEST_SUITE(postgres_store)
BOOST_AUTO_TEST_SUITE(messages)

BOOST_AUTO_TEST_CASE(posts_from_two_replicas_get_sequences_one_to_n_in_commit_order) {
    const auto uri = new_database();
    std::map<std::string, std::int64_t> sequence_of;  // message id -> its post's sequence
    std::vector<store::MessageRecord> posted;
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto first = co_await open_store(executor, uri);
        auto second = co_await open_store(executor, uri);
        const auto generation = co_await generation_of(*first);
        const auto now = util::unix_millis_now();
        const auto thread = co_await create(*first, generation, kDemoOrganization, now);
        std::vector<std::function<net::awaitable<void>()>> tasks;
        for (int i = 0; i < 40; ++i) {
            auto& replica = i % 2 == 0 ? *first : *second;
            const auto direction =
                i % 3 == 0 ? MessageDirection::kOutbound : MessageDirection::kInbound;
            posted.push_back(new_message(thread, direction, now + 1 + i, "m" + std::to_string(i)));
            tasks.push_back([&replica, &sequence_of, message = posted.back(),
                             generation]() -> net::awaitable<void> {
                const auto outcome = co_await replica.post_message(message, kHour, generation);
                BOOST_TEST((outcome.result == PostResult::kPosted));
                sequence_of[message.id] = outcome.sequence;
            });
        }
        co_await all_at_once(executor, std::move(tasks));

        // 1..40, each once, and as stored: newest first in one page.
        std::set<std::int64_t> taken;
        for (const auto& [id, sequence] : sequence_of) {
            taken.insert(sequence);
        }
        BOOST_TEST(sequence_of.size() == 40u);
        BOOST_TEST(taken.size() == 40u);
        BOOST_TEST(*taken.begin() == 1);
        BOOST_TEST(*taken.rbegin() == 40);
        const store::MessageFilter everything;
        const auto page = co_await second->list_messages(kDemoOrganization, thread.id, everything,
                                                         100, generation);
        BOOST_TEST_REQUIRE(page.messages.size() == 40u);
        for (std::size_t i = 0; i < page.messages.size(); ++i) {
            const auto& message = page.messages[i];
            BOOST_TEST(message.sequence == static_cast<std::int64_t>(40 - i));
            BOOST_TEST(sequence_of.at(message.id) == message.sequence);
        }
        const std::vector<store::ThreadKey> keys{key_of(thread)};
        const auto positions = co_await first->thread_positions(keys);
        BOOST_TEST_REQUIRE(positions.size() == 1u);
        BOOST_TEST(positions[0].last_sequence == 40);
    });
    // The window starts at the inbound message committed last.
    std::int64_t last_inbound = 0;
    for (const auto& message : posted) {
        if (message.direction == MessageDirection::kInbound &&
            sequence_of.at(message.id) > last_inbound) {
            last_inbound = sequence_of.at(message.id);
        }
    }
    std::string expected_window;
    for (const auto& message : posted) {
        if (sequence_of.at(message.id) == last_inbound) {
            expected_window = std::to_string(message.created_at);
        }
    }
    BOOST_TEST(StoreRows(uri).scalar("SELECT window_started_at FROM threads") == expected_window);
}

BOOST_AUTO_TEST_CASE(a_post_to_a_missing_closed_or_moved_thread_stores_nothing) {
    const auto uri = new_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto store = co_await open_store(executor, uri);
        const auto generation = co_await generation_of(*store);
        const auto now = util::unix_millis_now();

        auto missing = new_thread(kDemoOrganization, now);
        const auto none = co_await store->post_message(
            new_message(missing, MessageDirection::kInbound, now), kHour, generation);
        BOOST_TEST((none.result == PostResult::kNoThread));

        // Another organization's thread is no thread of this one.
        const auto other = co_await create(*store, generation, kOtherOrganization, now);
        auto foreign = new_message(other, MessageDirection::kInbound, now);
        foreign.organization_id = kDemoOrganization;
        const auto refused = co_await store->post_message(foreign, kHour, generation);
        BOOST_TEST((refused.result == PostResult::kNoThread));

        const auto thread = co_await create(*store, generation, kDemoOrganization, now);
        bool moved = false;
        try {
            co_await store->post_message(new_message(thread, MessageDirection::kInbound, now + 1),
                                         kHour, generation + 1);
        } catch (const store::CatalogChanged&) {
            moved = true;
        }
        BOOST_TEST(moved);
        const auto close = close_at(now + 2, "ENDED");
        const auto closed =
            co_await store->update_thread(kDemoOrganization, thread.id, generation, close);
        BOOST_TEST_REQUIRE(closed.has_value());
        const auto late = co_await store->post_message(
            new_message(thread, MessageDirection::kOutbound, now + 3), kHour, generation);
        BOOST_TEST((late.result == PostResult::kClosed));
        BOOST_TEST(!late.closed.has_value());
    });
    BOOST_TEST(StoreRows(uri).scalar("SELECT count(*) FROM messages") == "0");
    BOOST_TEST(StoreRows(uri).scalar("SELECT count(*) FROM threads WHERE last_sequence <> 0") ==
               "0");
}

BOOST_AUTO_TEST_CASE(an_inbound_post_starts_the_window_again_and_a_late_post_expires_once) {
    const auto uri = new_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto store = co_await open_store(executor, uri);
        const auto generation = co_await generation_of(*store);
        const auto start = util::unix_millis_now() - 3 * kHour.count();
        const auto thread = co_await create(*store, generation, kDemoOrganization, start);

        // An outbound reply leaves the window where it is, an inbound one moves it; neither
        // moves updatedAt.
        const auto reply = co_await store->post_message(
            new_message(thread, MessageDirection::kOutbound, start + 1000), kHour, generation);
        BOOST_TEST((reply.result == PostResult::kPosted));
        BOOST_TEST(reply.sequence == 1);
        BOOST_TEST(reply.window_started_at == start);
        const auto inbound = co_await store->post_message(
            new_message(thread, MessageDirection::kInbound, start + 2000), kHour, generation);
        BOOST_TEST(inbound.sequence == 2);
        BOOST_TEST(inbound.window_started_at == start + 2000);
        const auto just_in = co_await store->post_message(
            new_message(thread, MessageDirection::kOutbound, start + 2000 + kHour.count() - 1),
            kHour, generation);
        BOOST_TEST((just_in.result == PostResult::kPosted));
        const store::ThreadKey key = key_of(thread);
        const auto unchanged = co_await store->current_thread(key);
        BOOST_TEST_REQUIRE(unchanged.has_value());
        BOOST_TEST(unchanged->updated_at == start);

        // At the window's end the thread closes instead, once.
        const auto expires_at = start + 2000 + kHour.count();
        const auto late = co_await store->post_message(
            new_message(thread, MessageDirection::kInbound, expires_at), kHour, generation);
        BOOST_TEST_REQUIRE((late.result == PostResult::kExpired));
        BOOST_TEST_REQUIRE(late.closed.has_value());
        BOOST_TEST(late.closed->id == thread.id);
        BOOST_TEST(!late.closed->is_active);
        BOOST_TEST(late.closed->closed_reason.value_or("") == "EXPIRED");
        BOOST_TEST(late.closed->closed_at.value_or(0) == expires_at);
        BOOST_TEST(late.closed->updated_at == expires_at);
        BOOST_TEST(late.closed->agent.name == "Support bot");
        BOOST_TEST(late.closed->agent_version.id == kSupportBotV2);
        const auto again = co_await store->post_message(
            new_message(thread, MessageDirection::kInbound, expires_at + 1), kHour, generation);
        BOOST_TEST((again.result == PostResult::kClosed));
        const auto swept = co_await store->expire_threads(expires_at + 10, kHour, 10);
        BOOST_TEST(swept.empty());

        // A thread changed after its window ended closes one millisecond after that change.
        const auto patched = co_await create(*store, generation, kDemoOrganization, start);
        const store::ThreadEdit touch = [expires_at](store::ThreadRecord& record) {
            record.updated_at = expires_at + 500;
        };
        co_await store->update_thread(kDemoOrganization, patched.id, generation, touch);
        const auto closed = co_await store->post_message(
            new_message(patched, MessageDirection::kInbound, expires_at), kHour, generation);
        BOOST_TEST_REQUIRE(closed.closed.has_value());
        BOOST_TEST(closed.closed->closed_at.value_or(0) == expires_at + 501);
    });
    BOOST_TEST(StoreRows(uri).scalar("SELECT count(*) FROM messages") == "3");
}

BOOST_AUTO_TEST_CASE(message_pages_walk_newest_first_with_cursors_and_directions) {
    const auto uri = new_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto store = co_await open_store(executor, uri);
        const auto generation = co_await generation_of(*store);
        const auto now = util::unix_millis_now();
        const auto thread = co_await create(*store, generation, kDemoOrganization, now);
        const auto other = co_await create(*store, generation, kDemoOrganization, now);
        std::vector<store::MessageRecord> messages;  // [i] has sequence i + 1
        for (int i = 0; i < 7; ++i) {
            const auto direction =
                i % 2 == 0 ? MessageDirection::kInbound : MessageDirection::kOutbound;
            messages.push_back(new_message(thread, direction, now + i,
                                           "say \\\"" + std::to_string(i) + "\\\" \\u0000"));
            const auto outcome = co_await store->post_message(messages.back(), kHour, generation);
            BOOST_TEST_REQUIRE(outcome.sequence == i + 1);
        }
        const auto elsewhere = new_message(other, MessageDirection::kInbound, now);
        co_await store->post_message(elsewhere, kHour, generation);

        // Every message, three at a time, newest first, as it was posted.
        std::vector<std::int64_t> walked;
        store::MessageFilter filter;
        for (;;) {
            const auto page =
                co_await store->list_messages(kDemoOrganization, thread.id, filter, 3, generation);
            BOOST_TEST_REQUIRE(page.thread_found);
            BOOST_TEST(page.cursor_found);
            BOOST_TEST(page.thread.id == thread.id);
            BOOST_TEST(page.thread.agent.name == "Support bot");
            for (const auto& message : page.messages) {
                const auto& sent = messages.at(static_cast<std::size_t>(message.sequence - 1));
                BOOST_TEST(message.id == sent.id);
                BOOST_TEST(message.body_json == sent.body_json);
                BOOST_TEST((message.direction == sent.direction));
                BOOST_TEST(message.created_at == sent.created_at);
                BOOST_TEST(message.thread_id == thread.id);
                walked.push_back(message.sequence);
            }
            if (page.messages.size() < 3) {
                break;
            }
            filter.before_id = page.messages.back().id;
        }
        BOOST_TEST(walked == (std::vector<std::int64_t>{7, 6, 5, 4, 3, 2, 1}),
                   boost::test_tools::per_element());

        // One direction; a cursor may name a message of the other.
        store::MessageFilter outbound;
        outbound.direction = MessageDirection::kOutbound;
        const auto replies =
            co_await store->list_messages(kDemoOrganization, thread.id, outbound, 10, generation);
        BOOST_TEST(sequences(replies.messages) == (std::vector<std::int64_t>{6, 4, 2}),
                   boost::test_tools::per_element());
        outbound.before_id = messages[4].id;  // sequence 5, inbound
        const auto older =
            co_await store->list_messages(kDemoOrganization, thread.id, outbound, 1, generation);
        BOOST_TEST(sequences(older.messages) == (std::vector<std::int64_t>{4}),
                   boost::test_tools::per_element());

        // A cursor that is no message of this thread, or no UUID, finds none.
        store::MessageFilter foreign;
        foreign.before_id = elsewhere.id;
        const auto lost =
            co_await store->list_messages(kDemoOrganization, thread.id, foreign, 10, generation);
        BOOST_TEST(lost.thread_found);
        BOOST_TEST(!lost.cursor_found);
        BOOST_TEST(lost.messages.empty());
        foreign.before_id = "not-a-uuid";
        const auto malformed =
            co_await store->list_messages(kDemoOrganization, thread.id, foreign, 10, generation);
        BOOST_TEST(!malformed.cursor_found);

        const store::MessageFilter everything;
        const auto nothing = co_await store->list_messages(kOtherOrganization, thread.id,
                                                           everything, 10, generation);
        BOOST_TEST(!nothing.thread_found);
        bool moved = false;
        try {
            co_await store->list_messages(kDemoOrganization, thread.id, everything, 10,
                                          generation + 1);
        } catch (const store::CatalogChanged&) {
            moved = true;
        }
        BOOST_TEST(moved);
    });
}

BOOST_AUTO_TEST_CASE(outbound_after_sequences_positions_and_the_current_thread) {
    const auto uri = new_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto store = co_await open_store(executor, uri);
        const auto generation = co_await generation_of(*store);
        const auto now = util::unix_millis_now();
        const auto thread = co_await create(*store, generation, kDemoOrganization, now);
        const auto quiet = co_await create(*store, generation, kDemoOrganization, now);
        const auto closed = co_await create(*store, generation, kOtherOrganization, now);
        std::vector<store::MessageRecord> messages;
        for (int i = 0; i < 6; ++i) {
            const auto direction =
                i % 2 == 0 ? MessageDirection::kInbound : MessageDirection::kOutbound;
            messages.push_back(new_message(thread, direction, now + i));
            co_await store->post_message(messages.back(), kHour, generation);
        }
        co_await store->post_message(new_message(closed, MessageDirection::kInbound, now), kHour,
                                     generation);
        const auto close = close_at(now + 1, "DONE");
        co_await store->update_thread(kOtherOrganization, closed.id, generation, close);
        const auto key = key_of(thread);

        const auto all = co_await store->outbound_after(key, 0, 10);
        BOOST_TEST(sequences(all) == (std::vector<std::int64_t>{2, 4, 6}),
                   boost::test_tools::per_element());
        BOOST_TEST_REQUIRE(all.size() == 3u);
        BOOST_TEST(all[0].id == messages[1].id);
        const auto after_four = co_await store->outbound_after(key, 4, 10);
        BOOST_TEST(sequences(after_four) == (std::vector<std::int64_t>{6}),
                   boost::test_tools::per_element());
        const auto first_only = co_await store->outbound_after(key, 0, 1);
        BOOST_TEST(sequences(first_only) == (std::vector<std::int64_t>{2}),
                   boost::test_tools::per_element());
        const auto none_after = co_await store->outbound_after(key, 6, 10);
        BOOST_TEST(none_after.empty());

        const auto fifth = co_await store->message_sequence(key, messages[4].id);
        BOOST_TEST(fifth.value_or(0) == 5);
        const auto elsewhere = co_await store->message_sequence(key_of(quiet), messages[4].id);
        BOOST_TEST(!elsewhere.has_value());
        const auto malformed = co_await store->message_sequence(key, "not-a-uuid");
        BOOST_TEST(!malformed.has_value());

        const std::vector<store::ThreadKey> keys{key,
                                                 key_of(quiet),
                                                 key_of(closed),
                                                 key_of(new_thread(kDemoOrganization, now)),
                                                 {kDemoOrganization, closed.id}};
        const auto positions = co_await store->thread_positions(keys);
        std::map<std::string, store::ThreadPosition> by_id;
        for (const auto& position : positions) {
            by_id[position.key.thread_id] = position;
        }
        BOOST_TEST_REQUIRE(positions.size() == 3u);
        BOOST_TEST(by_id.at(thread.id).last_sequence == 6);
        BOOST_TEST(by_id.at(thread.id).is_active);
        BOOST_TEST(by_id.at(thread.id).key.organization_id == kDemoOrganization);
        BOOST_TEST(by_id.at(quiet.id).last_sequence == 0);
        BOOST_TEST(by_id.at(closed.id).last_sequence == 1);
        BOOST_TEST(!by_id.at(closed.id).is_active);
        const std::vector<store::ThreadKey> no_keys;
        const auto no_positions = co_await store->thread_positions(no_keys);
        BOOST_TEST(no_positions.empty());

        const auto current = co_await store->current_thread(key_of(closed));
        BOOST_TEST_REQUIRE(current.has_value());
        BOOST_TEST(current->closed_reason.value_or("") == "DONE");
        BOOST_TEST(current->agent.name == "Support bot");
        BOOST_TEST(current->agent_version.name == "v2 friendlier tone");
        const store::ThreadKey misnamed{kDemoOrganization, closed.id};
        const auto foreign = co_await store->current_thread(misnamed);
        BOOST_TEST(!foreign.has_value());
    });
}

BOOST_AUTO_TEST_CASE(two_sweeps_at_once_close_each_ended_window_once) {
    const auto uri = new_database();
    std::set<std::string> ended;
    std::set<std::string> fresh;
    std::vector<store::ThreadKey> closed_by_sweeps;
    const auto now = util::unix_millis_now();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto first = co_await open_store(executor, uri);
        auto second = co_await open_store(executor, uri);
        const auto generation = co_await generation_of(*first);
        for (int i = 0; i < 30; ++i) {
            const auto thread =
                co_await create(*first, generation, kDemoOrganization, now - 2 * kHour.count() + i);
            ended.insert(thread.id);
        }
        for (int i = 0; i < 3; ++i) {
            const auto thread = co_await create(*second, generation, kDemoOrganization, now);
            fresh.insert(thread.id);
        }
        std::vector<std::function<net::awaitable<void>()>> sweeps;
        for (auto* replica : {first.get(), second.get(), first.get(), second.get()}) {
            sweeps.push_back([replica, &closed_by_sweeps, now]() -> net::awaitable<void> {
                for (;;) {
                    const auto keys = co_await replica->expire_threads(now, kHour, 4);
                    if (keys.empty()) {
                        co_return;
                    }
                    closed_by_sweeps.insert(closed_by_sweeps.end(), keys.begin(), keys.end());
                }
            });
        }
        co_await all_at_once(executor, std::move(sweeps));
        const auto after = co_await first->expire_threads(now, kHour, 100);
        BOOST_TEST(after.empty());
    });
    std::set<std::string> closed_ids;
    for (const auto& key : closed_by_sweeps) {
        BOOST_TEST(key.organization_id == kDemoOrganization);
        closed_ids.insert(key.thread_id);
    }
    BOOST_TEST(closed_by_sweeps.size() == ended.size());
    BOOST_TEST(closed_ids == ended, boost::test_tools::per_element());
    const StoreRows rows(uri);
    BOOST_TEST(rows.scalar("SELECT count(*) FROM threads WHERE is_active = 0"
                           " AND closed_reason = 'EXPIRED' AND closed_at = " +
                           std::to_string(now) + " AND updated_at = closed_at") == "30");
    // New threads start their window when created: the sweep left them open.
    for (const auto& id : fresh) {
        BOOST_TEST(rows.scalar("SELECT is_active FROM threads WHERE id = '" + id + "'") == "1");
        BOOST_TEST(rows.scalar("SELECT window_started_at FROM threads WHERE id = '" + id + "'") ==
                   std::to_string(now));
    }
}

BOOST_AUTO_TEST_CASE(pages_and_sweeps_are_one_index_range_scan) {
    // Plans as the store's connections make them: generic, made once for any values
    // (store/postgres/connection_pool.cpp), on tables with statistics. On empty ones every
    // index of (organization_id, thread_id) costs the same and the planner picks any.
    const auto uri = new_database();
    const StoreRows rows(uri);
    rows.rows(std::string("INSERT INTO threads (organization_id, id, agent_id, agent_version_id,"
                          " to_phone_number, is_active, created_at, updated_at, window_started_at)"
                          " SELECT '") +
              kDemoOrganization + "', gen_random_uuid(), '" + kSupportBot + "', '" + kSupportBotV2 +
              "', '', CASE WHEN s % 10 = 0 THEN 0 ELSE 1 END, s, s, s"
              " FROM generate_series(1, 20000) AS s");
    rows.rows(
        "INSERT INTO messages SELECT t.organization_id, t.id, s, gen_random_uuid(),"
        " CASE WHEN s % 2 = 0 THEN 'INBOUND' ELSE 'OUTBOUND' END, '\"hi\"', s"
        " FROM (SELECT * FROM threads LIMIT 2000) AS t, generate_series(1, 20) AS s");
    rows.rows("ANALYZE threads");
    rows.rows("ANALYZE messages");

    // Pages: with whole-table scans and sorts priced out, an index that gives the page in
    // order by itself shows.
    for (unsigned mask = 0; mask < 4; ++mask) {
        store::MessageFilter filter;
        std::string arguments =
            "'0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60', '01890000-0000-7000-8000-000000000000'";
        if (mask & 1u) {
            filter.direction = MessageDirection::kOutbound;
            arguments += ", 'OUTBOUND'";
        }
        if (mask & 2u) {
            filter.before_id = "01890000-0000-7000-8000-000000000001";
            arguments += ", '" + *filter.before_id + "'";
        }
        arguments += ", 11";
        const auto plan = generic_plan(
            uri, "SET enable_seqscan = off; SET enable_sort = off; SET enable_bitmapscan = off;",
            store::postgres::PgStore::messages_sql(filter), arguments);
        BOOST_TEST_CONTEXT("filters " << mask << ":\n" << plan) {
            BOOST_TEST(plan.find("Sort") == std::string::npos);
            BOOST_TEST(plan.find("Seq Scan") == std::string::npos);
            const auto index = (mask & 1u) ? "Index Scan Backward using messages_by_direction"
                                           : "Index Scan Backward using messages_pkey";
            BOOST_TEST(plan.find(index) != std::string::npos);
            // The cursor: one lookup of its id.
            BOOST_TEST((plan.find("Index Scan using messages_by_id") != std::string::npos) ==
                       ((mask & 2u) != 0));
        }
    }
    // The sweep, as the planner would have it: a range of threads_by_window, then each
    // thread by its primary key, not a join over the whole table.
    const auto sweep =
        generic_plan(uri, "", store::postgres::PgStore::expire_sql(100), "1, 2, 'EXPIRED'");
    BOOST_TEST_CONTEXT("sweep:\n" << sweep) {
        BOOST_TEST(sweep.find("Index Scan using threads_by_window") != std::string::npos);
        BOOST_TEST(sweep.find("Index Scan using threads_pkey") != std::string::npos);
        BOOST_TEST(sweep.find("Seq Scan") == std::string::npos);
        BOOST_TEST(sweep.find("Sort") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(watch_threads_signals_another_stores_posts_and_closes) {
    const auto uri = new_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        Signals signals(executor, 64);  // outlives the store that sends to it
        auto watching = co_await open_store(executor, uri);
        auto other = co_await open_store(executor, uri);
        watching->watch_threads([&signals](store::ThreadSignal signal) {
            signals.try_send(boost::system::error_code{}, std::move(signal));
        });
        const auto listener = co_await listener_pid(uri, "");
        BOOST_TEST_REQUIRE(!listener.empty(), "the store never LISTENed");
        const auto generation = co_await generation_of(*other);
        const auto now = util::unix_millis_now();
        const auto thread = co_await create(*other, generation, kDemoOrganization, now);
        const auto key = key_of(thread);

        co_await other->post_message(new_message(thread, MessageDirection::kInbound, now + 1),
                                     kHour, generation);
        const auto posted = co_await next_signal(signals, 1s);
        BOOST_TEST_REQUIRE(posted.has_value(), "no signal of a post within a second");
        BOOST_TEST((posted->key == key));
        BOOST_TEST(posted->last_sequence == 1);
        BOOST_TEST(!posted->closed);

        const auto close = close_at(now + 2, "ENDED");
        co_await other->update_thread(kDemoOrganization, thread.id, generation, close);
        const auto closed = co_await next_signal(signals, 1s);
        BOOST_TEST_REQUIRE(closed.has_value(), "no signal of a close within a second");
        BOOST_TEST((closed->key == key));
        BOOST_TEST(closed->closed);

        // An edit of the maps alone is no close: no signal.
        const store::ThreadEdit patch = [](store::ThreadRecord& record) {
            record.metadata_json = R"({"a":"1"})";
        };
        co_await other->update_thread(kDemoOrganization, thread.id, generation, patch);
        const auto quiet = co_await next_signal(signals, 200ms);
        BOOST_TEST(!quiet.has_value());

        const auto old =
            co_await create(*other, generation, kDemoOrganization, now - 2 * kHour.count());
        const auto swept = co_await other->expire_threads(now, kHour, 10);
        BOOST_TEST_REQUIRE(swept.size() == 1u);
        const auto expired = co_await next_signal(signals, 1s);
        BOOST_TEST_REQUIRE(expired.has_value(), "no signal of an expiry within a second");
        BOOST_TEST((expired->key == key_of(old)));
        BOOST_TEST(expired->closed);

        const auto late =
            co_await create(*other, generation, kDemoOrganization, now - 2 * kHour.count());
        co_await other->post_message(new_message(late, MessageDirection::kInbound, now), kHour,
                                     generation);
        const auto expired_by_post = co_await next_signal(signals, 1s);
        BOOST_TEST_REQUIRE(expired_by_post.has_value(), "no signal of an expiring post");
        BOOST_TEST((expired_by_post->key == key_of(late)));
        BOOST_TEST(expired_by_post->closed);

        // The listening connection killed: the store listens again, and signals go on.
        auto admin = co_await store::postgres::PgConnection::connect(executor, uri, 10s);
        std::vector<std::optional<std::string>> pid{listener};
        co_await admin->query("SELECT pg_terminate_backend($1::int)", std::move(pid));
        const auto again = co_await listener_pid(uri, listener);
        BOOST_TEST_REQUIRE(!again.empty(), "the store did not LISTEN again");
        const auto next = co_await create(*other, generation, kDemoOrganization, now);
        co_await other->post_message(new_message(next, MessageDirection::kOutbound, now + 1), kHour,
                                     generation);
        const auto resumed = co_await next_signal(signals, 1s);
        BOOST_TEST_REQUIRE(resumed.has_value(), "no signal after listening again");
        BOOST_TEST((resumed->key == key_of(next)));
        BOOST_TEST(resumed->last_sequence == 1);
    });
}

BOOST_AUTO_TEST_SUITE_END()
BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test::pg_messages
