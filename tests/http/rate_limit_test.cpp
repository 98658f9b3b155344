// Per-key rate limits: `keys create --rate N` and `serve --rate-limit N`. Beyond a key's
// rate a request gets a 429 envelope with Retry-After, other keys are not affected, and
// the key is served again once its bucket has refilled.

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

using boost::beast::http::verb;

// A keep-alive GET of one thread-list item with `key`.
HttpResult list_one(HttpClient& client, const std::string& key) {
    return client.request(verb::get, "/api/v1/threads?limit=1", std::nullopt, {{"X-API-Key", key}});
}

/// What `attempts` back-to-back requests with `key` got.
struct Burst {
    int ok = 0;              ///< 200s.
    int limited = 0;         ///< 429s with the right envelope and Retry-After.
    int first_refused = -1;  ///< Index of the first non-200, or -1.
};

Burst burst(HttpClient& client, const std::string& key, int attempts) {
    Burst result;
    for (int i = 0; i < attempts; ++i) {
        const auto response = list_one(client, key);
        if (response.status() == 200u) {
            ++result.ok;
            continue;
        }
        if (result.first_refused < 0) {
            result.first_refused = i;
        }
        check_error(response, 429, "TOO_MANY_REQUESTS", "rate limit");
        BOOST_TEST(response.header("Retry-After") == "1");
        ++result.limited;
    }
    return result;
}

// The key made with `keys create --org demo --rate rate`.
std::string create_limited_key(const std::string& db, int rate) {
    return create_key(db, demo::kOrganization, {"--rate", std::to_string(rate)});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rate_limit_http)

BOOST_AUTO_TEST_CASE(a_key_over_its_own_rate_gets_429_and_others_are_not_affected) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto limited = create_limited_key(db, 3);
    const auto unlimited = create_demo_key(db);
    ServerProcess server(db);
    HttpClient client(server.port());

    // The bucket starts full (3 tokens) and refills 3 per second, so 30 requests in a row
    // cannot all pass; the first three always do.
    const auto result = burst(client, limited, 30);
    BOOST_TEST(result.first_refused >= 3);
    BOOST_TEST(result.limited > 0);
    // Writes are limited the same way, before their body is looked at.
    const auto create =
        client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), limited);
    if (create.status() != 200u) {
        check_error(create, 429, "TOO_MANY_REQUESTS");
    }

    // Another key of the same organization has no limit.
    const auto other = burst(client, unlimited, 30);
    BOOST_TEST(other.ok == 30);

    // Once the bucket has had time to refill, the key is served again.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    BOOST_TEST(list_one(client, limited).status() == 200u);

    // keys list shows each key's limit.
    const auto listing = boost::json::parse(run_ok({"keys", "list", "--db", db})).as_array();
    int with_rate = 0;
    int without = 0;
    for (const auto& entry : listing) {
        const auto& rate = entry.as_object().at("rateLimit");
        with_rate += rate.is_int64() && rate.as_int64() == 3 ? 1 : 0;
        without += rate.is_null() ? 1 : 0;
    }
    BOOST_TEST(with_rate == 1);
    BOOST_TEST(without == 1);
}

BOOST_AUTO_TEST_CASE(serve_rate_limit_is_the_default_for_keys_without_their_own) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto defaulted = create_demo_key(db);
    const auto own = create_limited_key(db, 1000);
    ServerProcess server(db, {"--rate-limit", "2"});
    HttpClient client(server.port());

    const auto result = burst(client, defaulted, 20);
    BOOST_TEST(result.first_refused >= 2);
    BOOST_TEST(result.limited > 0);
    // A key's own rate wins over the default, also when it is higher.
    BOOST_TEST(burst(client, own, 20).ok == 20);
}

BOOST_AUTO_TEST_CASE(without_limits_nothing_is_refused) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db);
    HttpClient client(server.port());
    BOOST_TEST(burst(client, key, 200).ok == 200);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
