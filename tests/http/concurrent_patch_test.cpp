// Concurrent writes to one thread against the real binary: PATCHes of different keys from many
// connections all survive, in one order that every response agrees with; racing closes have one
// winner; the key limit holds for racing additions.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <latch>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/demo_server.hpp"
#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/plain_http_client.hpp"
#include "support/process.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr int kWorkers = 8;
constexpr int kPatchesPerWorker = 25;

using ConcurrentServer = SuiteState<DemoServerState>;

DemoServerState& patch_race_fixture() {
    return ConcurrentServer::get();
}

/// The demo key for workers, read on the main thread before they start: getting the suite's
/// state logs through Boost.Test, which is not thread-safe.
std::string worker_key;

/// Runs `work(worker, client)` on `workers` threads at once, each with its own connection,
/// and returns each worker's results in order. The workers never call Boost.Test.
std::vector<std::vector<PlainResult>> run_workers(
    int workers,
    const std::function<void(int, PlainHttpClient&, std::vector<PlainResult>&)>& work) {
    std::vector<std::vector<PlainResult>> results(static_cast<std::size_t>(workers));
    const unsigned short port = patch_race_fixture().server.port();
    worker_key = patch_race_fixture().key;
    std::latch ready(workers);
    {
        std::vector<std::jthread> threads;
        for (int w = 0; w < workers; ++w) {
            threads.emplace_back([&, w] {
                auto& mine = results[static_cast<std::size_t>(w)];
                try {
                    PlainHttpClient client(port);
                    ready.arrive_and_wait();  // Connected; now all start together.
                    work(w, client, mine);
                } catch (const std::exception& e) {
                    PlainResult failed;
                    failed.error = std::string("exception: ") + e.what();
                    mine.push_back(failed);
                }
            });
        }
    }  // jthreads join here.
    return results;
}

/// A PATCH with a JSON body and the demo key, from a worker.
PlainResult plain_patch(PlainHttpClient& client, const std::string& path, const std::string& body) {
    return client.request(http::verb::patch, path, body,
                          {{"Content-Type", "application/json"}, {"X-API-Key", worker_key}});
}

/// The thread of a worker's 200 answer (checked on the test's thread).
json::object thread_of(const PlainResult& result) {
    BOOST_REQUIRE_MESSAGE(result.ok(), result.error);
    BOOST_REQUIRE_MESSAGE(result.status == 200,
                          "expected 200, got " << result.status << ": " << result.body);
    boost::system::error_code ec;
    const auto value = json::parse(result.body, ec);
    BOOST_REQUIRE_MESSAGE(!ec && value.is_object() && value.as_object().contains("thread"),
                          result.body);
    const auto& thread = value.as_object().at("thread");
    BOOST_REQUIRE(thread.is_object());
    check_thread_members(thread.as_object());
    return thread.as_object();
}

/// True when `value` is the string `expected`.
bool text_is(const json::value* value, const std::string& expected) {
    return value != nullptr && value->is_string() && value->as_string() == expected;
}

std::string key_name(int worker, int slot) {
    return "w" + std::to_string(worker) + "k" + std::to_string(slot);
}

std::string temp_name(int worker) {
    return "w" + std::to_string(worker) + "tmp";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(concurrent_patch_http, *boost::unit_test::fixture<ConcurrentServer>())

BOOST_AUTO_TEST_CASE(concurrent_patches_of_different_keys_all_survive) {
    auto& fixture = patch_race_fixture();
    HttpClient client(fixture.server.port());
    const auto created = create_thread_ok(
        client, fixture.key,
        create_body(demo::kSupportBot, R"("metadata":{"base":"0"},"variables":{"base":"0"})"));
    const std::string id = text_field(created, "id");

    // Worker w, patch j: metadata key w<w>k<j%4> = j and variable w<w> = j; patch 10 also
    // sets a temporary key that patch 20 removes. One more worker closes the thread
    // halfway, which must not disturb any patch.
    const auto results = run_workers(
        kWorkers + 1, [&](int worker, PlainHttpClient& plain, std::vector<PlainResult>& out) {
            if (worker == kWorkers) {
                for (int j = 0; j < kPatchesPerWorker / 2; ++j) {
                    out.push_back(plain.request(http::verb::get, thread_path(id), std::nullopt,
                                                {{"X-API-Key", worker_key}}));
                }
                out.push_back(plain_patch(plain, close_path(id), R"({"reason":"racing"})"));
                return;
            }
            for (int j = 0; j < kPatchesPerWorker; ++j) {
                const std::string value = std::to_string(j);
                std::string metadata = "\"" + key_name(worker, j % 4) + "\":\"" + value + "\"";
                if (j == 10) {
                    metadata += ",\"" + temp_name(worker) + "\":\"x\"";
                } else if (j == 20) {
                    metadata += ",\"" + temp_name(worker) + "\":null";
                }
                out.push_back(plain_patch(plain, thread_path(id),
                                          "{\"metadata\":{" + metadata + "},\"variables\":{\"w" +
                                              std::to_string(worker) + "\":\"" + value + "\"}}"));
            }
        });

    // Every patch succeeded; collect the states they answered, with what each one set.
    struct Answer {
        std::int64_t updated_ms;
        json::object thread;
        int worker;  // kWorkers for the close.
        int patch;
    };
    std::vector<Answer> answers;
    for (int w = 0; w <= kWorkers; ++w) {
        const auto& mine = results[static_cast<std::size_t>(w)];
        BOOST_TEST_CONTEXT("worker " << w) {
            if (w == kWorkers) {
                BOOST_REQUIRE(mine.size() == static_cast<std::size_t>(kPatchesPerWorker / 2 + 1));
                for (std::size_t r = 0; r + 1 < mine.size(); ++r) {
                    thread_of(mine[r]);  // Reads during the writes are whole threads.
                }
                const auto closed = thread_of(mine.back());
                BOOST_TEST(text_field(closed, "closedReason") == "racing");
                answers.push_back(
                    {parse_rfc3339_millis(text_field(closed, "updatedAt")), closed, w, -1});
                continue;
            }
            BOOST_REQUIRE(mine.size() == static_cast<std::size_t>(kPatchesPerWorker));
            for (int j = 0; j < kPatchesPerWorker; ++j) {
                const auto thread = thread_of(mine[static_cast<std::size_t>(j)]);
                // The answer holds this patch's own writes.
                const auto& metadata = thread.at("metadata").as_object();
                BOOST_TEST(text_is(metadata.if_contains(key_name(w, j % 4)), std::to_string(j)));
                BOOST_TEST(
                    text_is(thread.at("variables").as_object().if_contains("w" + std::to_string(w)),
                            std::to_string(j)));
                answers.push_back(
                    {parse_rfc3339_millis(text_field(thread, "updatedAt")), thread, w, j});
            }
        }
    }

    // One commit order: updatedAt strictly increases with it, so no two answers share one,
    // and along it no key ever goes back to an older value (a lost update would).
    std::sort(answers.begin(), answers.end(),
              [](const Answer& a, const Answer& b) { return a.updated_ms < b.updated_ms; });
    for (std::size_t i = 1; i < answers.size(); ++i) {
        BOOST_TEST(answers[i - 1].updated_ms < answers[i].updated_ms,
                   "two writes answered the same updatedAt");
    }
    std::map<std::string, int> latest;  // key -> newest patch number seen so far.
    std::vector<std::string> first_seen{"base"};
    bool closed = false;
    for (const auto& answer : answers) {
        closed = closed || answer.worker == kWorkers;
        BOOST_TEST_CONTEXT("answer of worker " << answer.worker << " patch " << answer.patch) {
            BOOST_TEST(answer.thread.at("isActive").as_bool() == !closed);
            for (const auto& entry : answer.thread.at("metadata").as_object()) {
                const std::string key(entry.key());
                if (key == "base" || key.find("tmp") != std::string::npos) {
                    continue;
                }
                const int value = std::stoi(std::string(entry.value().as_string()));
                auto [it, inserted] = latest.emplace(key, value);
                if (inserted) {
                    first_seen.push_back(key);
                } else {
                    BOOST_TEST(value >= it->second, key << " went back from " << it->second);
                    it->second = value;
                }
            }
            // Every key seen before is still there.
            const auto& now = answer.thread.at("metadata").as_object();
            const bool all_kept = std::all_of(latest.begin(), latest.end(), [&](const auto& seen) {
                return now.contains(seen.first);
            });
            BOOST_TEST((all_kept && now.contains("base")), "a key was lost");
        }
    }

    // Finally every key has its last value, the temporary keys are gone, the base keys
    // are kept, and the keys stand in the order they were first written.
    const auto final_thread = get_thread_ok(client, fixture.key, id);
    const auto& metadata = final_thread.at("metadata").as_object();
    BOOST_TEST(metadata.size() == static_cast<std::size_t>(1 + kWorkers * 4));
    BOOST_TEST(text_is(metadata.if_contains("base"), "0"));
    std::vector<std::string> order;
    for (const auto& entry : metadata) {
        order.emplace_back(entry.key());
    }
    BOOST_TEST(order == first_seen);
    const auto& variables = final_thread.at("variables").as_object();
    BOOST_TEST(variables.size() == static_cast<std::size_t>(1 + kWorkers));
    BOOST_TEST(text_is(variables.if_contains("base"), "0"));
    for (int w = 0; w < kWorkers; ++w) {
        BOOST_TEST_CONTEXT("worker " << w) {
            for (int slot = 0; slot < 4; ++slot) {
                const int last = kPatchesPerWorker - 1 - ((kPatchesPerWorker - 1 - slot) % 4);
                BOOST_TEST(text_is(metadata.if_contains(key_name(w, slot)), std::to_string(last)),
                           key_name(w, slot));
            }
            BOOST_TEST(!metadata.contains(temp_name(w)));
            BOOST_TEST(text_is(variables.if_contains("w" + std::to_string(w)),
                               std::to_string(kPatchesPerWorker - 1)));
        }
    }
    BOOST_TEST(member_text(final_thread, "isActive") == "false");
    BOOST_TEST(text_field(final_thread, "closedReason") == "racing");
    BOOST_TEST(json::serialize(final_thread) == json::serialize(answers.back().thread));
    for (const auto& name : {"id", "organizationId", "agentId", "agentVersionId", "createdAt",
                             "toPhoneNumber", "agentDetails", "agentVersionDetails"}) {
        BOOST_TEST(member_text(final_thread, name) == member_text(created, name), name);
    }
}

BOOST_AUTO_TEST_CASE(racing_closes_have_exactly_one_winner) {
    auto& fixture = patch_race_fixture();
    HttpClient client(fixture.server.port());
    const auto created = create_thread_ok(client, fixture.key, create_body(demo::kVoiceAgent));
    const std::string id = text_field(created, "id");

    const auto results = run_workers(
        kWorkers, [&](int worker, PlainHttpClient& plain, std::vector<PlainResult>& out) {
            out.push_back(plain_patch(plain, close_path(id),
                                      "{\"reason\":\"worker " + std::to_string(worker) + "\"}"));
        });
    int winners = 0;
    json::object winner;
    for (int w = 0; w < kWorkers; ++w) {
        const auto& mine = results[static_cast<std::size_t>(w)];
        BOOST_REQUIRE(mine.size() == 1u);
        BOOST_REQUIRE_MESSAGE(mine[0].ok(), mine[0].error);
        BOOST_TEST_CONTEXT("worker " << w << ": " << mine[0].status << " " << mine[0].body) {
            if (mine[0].status == 200) {
                ++winners;
                winner = thread_of(mine[0]);
                BOOST_TEST(text_field(winner, "closedReason") == "worker " + std::to_string(w));
            } else {
                BOOST_TEST(mine[0].status == 409u);
                BOOST_TEST(mine[0].body.find("\"code\":\"CONFLICT\"") != std::string::npos);
            }
        }
    }
    BOOST_TEST(winners == 1);
    BOOST_TEST(json::serialize(get_thread_ok(client, fixture.key, id)) == json::serialize(winner));
}

BOOST_AUTO_TEST_CASE(racing_additions_stop_at_the_key_limit) {
    auto& fixture = patch_race_fixture();
    HttpClient client(fixture.server.port());
    std::string metadata = "{";
    for (int i = 0; i < 60; ++i) {
        metadata += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":\"v\"";
    }
    metadata += "}";
    const auto created = create_thread_ok(
        client, fixture.key, create_body(demo::kSupportBot, "\"metadata\":" + metadata));
    const std::string id = text_field(created, "id");

    // Eight new keys on sixty: whatever the order, exactly four fit under 64.
    const auto results = run_workers(kWorkers, [&](int worker, PlainHttpClient& plain,
                                                   std::vector<PlainResult>& out) {
        out.push_back(plain_patch(plain, thread_path(id),
                                  "{\"metadata\":{\"new" + std::to_string(worker) + "\":\"x\"}}"));
    });
    std::set<std::string> added;
    int refused = 0;
    for (int w = 0; w < kWorkers; ++w) {
        const auto& mine = results[static_cast<std::size_t>(w)];
        BOOST_REQUIRE(mine.size() == 1u);
        BOOST_REQUIRE_MESSAGE(mine[0].ok(), mine[0].error);
        BOOST_TEST_CONTEXT("worker " << w << ": " << mine[0].status << " " << mine[0].body) {
            if (mine[0].status == 200) {
                added.insert("new" + std::to_string(w));
                BOOST_TEST(thread_of(mine[0]).at("metadata").as_object().size() <= 64u);
            } else {
                ++refused;
                BOOST_TEST(mine[0].status == 400u);
                BOOST_TEST(mine[0].body.find("\"code\":\"BAD_REQUEST\"") != std::string::npos);
            }
        }
    }
    BOOST_TEST(added.size() == 4u);
    BOOST_TEST(refused == 4);
    const auto final_thread = get_thread_ok(client, fixture.key, id);
    const auto& final_metadata = final_thread.at("metadata").as_object();
    BOOST_TEST(final_metadata.size() == 64u);
    std::set<std::string> new_keys;
    for (const auto& entry : final_metadata) {
        if (entry.key().starts_with("new")) {
            new_keys.emplace(entry.key());
        }
    }
    BOOST_TEST((new_keys == added));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
