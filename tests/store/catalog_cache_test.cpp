#include "threadsd/store/catalog_cache.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

namespace {

using threadsd::store::AgentRecord;
using threadsd::store::AgentWithPublishedVersion;
using threadsd::store::ApiKeyRecord;
using threadsd::store::CatalogCache;
using threadsd::store::SecretHash;

SecretHash hash_of(std::uint8_t first) {
    SecretHash hash{};
    hash[0] = first;
    return hash;
}

ApiKeyRecord key(const std::string& id) {
    return ApiKeyRecord{id, "org", std::nullopt, std::nullopt};
}

AgentWithPublishedVersion agent(const std::string& name) {
    AgentWithPublishedVersion found;
    found.agent = AgentRecord{"agent", "org", name, std::nullopt, "TEXT", false};
    return found;
}

// A loader that counts its calls and answers `value`.
template <typename T>
struct CountingLoader {
    std::optional<T> value;  ///< What the store would answer.
    int calls = 0;           ///< How often the store was asked.
    std::function<std::optional<T>()> fn() {
        return [this] {
            ++calls;
            return value;
        };
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_catalog_cache)

BOOST_AUTO_TEST_CASE(a_key_is_loaded_once_per_generation) {
    CatalogCache cache;
    cache.observe(3);
    CountingLoader<ApiKeyRecord> store{key("k1")};
    for (int i = 0; i < 3; ++i) {
        const auto found = cache.api_key(hash_of(1), 3, store.fn());
        BOOST_REQUIRE(found.has_value());
        BOOST_TEST(found->id == "k1");
    }
    BOOST_TEST(store.calls == 1);
    BOOST_TEST(cache.generation() == 3);
}

BOOST_AUTO_TEST_CASE(a_newer_generation_empties_the_cache_and_an_older_one_does_not) {
    CatalogCache cache;
    cache.observe(1);
    CountingLoader<ApiKeyRecord> store{key("k1")};
    cache.api_key(hash_of(1), 1, store.fn());
    cache.observe(0);  // A request that read before the cache moved on.
    cache.observe(1);
    cache.api_key(hash_of(1), 1, store.fn());
    BOOST_TEST(store.calls == 1);

    // The key was revoked elsewhere: the generation moved, the next lookup reloads.
    store.value->revoked_at = 42;
    cache.observe(2);
    const auto found = cache.api_key(hash_of(1), 2, store.fn());
    BOOST_TEST(store.calls == 2);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->revoked_at.value_or(0) == 42);
}

BOOST_AUTO_TEST_CASE(what_was_read_at_an_older_generation_is_not_kept) {
    CatalogCache cache;
    cache.observe(5);
    CountingLoader<ApiKeyRecord> store{key("old")};
    // Loaded by a request that read generation 4: served to it, never cached.
    BOOST_TEST(cache.api_key(hash_of(1), 4, store.fn())->id == "old");
    store.value = key("new");
    BOOST_TEST(cache.api_key(hash_of(1), 5, store.fn())->id == "new");
    BOOST_TEST(store.calls == 2);
}

BOOST_AUTO_TEST_CASE(unknown_keys_and_agents_are_asked_for_every_time) {
    CatalogCache cache;
    cache.observe(0);
    CountingLoader<ApiKeyRecord> keys{std::nullopt};
    CountingLoader<AgentWithPublishedVersion> agents{std::nullopt};
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(!cache.api_key(hash_of(static_cast<std::uint8_t>(i)), 0, keys.fn()));
        BOOST_TEST(!cache.live_agent("org", "agent", 0, agents.fn()));
    }
    BOOST_TEST(keys.calls == 3);
    BOOST_TEST(agents.calls == 3);
}

BOOST_AUTO_TEST_CASE(agents_are_cached_per_organization) {
    CatalogCache cache;
    cache.observe(0);
    CountingLoader<AgentWithPublishedVersion> org_a{agent("in a")};
    CountingLoader<AgentWithPublishedVersion> org_b{std::nullopt};
    BOOST_TEST(cache.live_agent("org-a", "agent", 0, org_a.fn())->agent.name == "in a");
    BOOST_TEST(cache.live_agent("org-a", "agent", 0, org_a.fn())->agent.name == "in a");
    // The same agent id asked for by another organization is a separate entry.
    BOOST_TEST(!cache.live_agent("org-b", "agent", 0, org_b.fn()).has_value());
    BOOST_TEST(org_a.calls == 1);
    BOOST_TEST(org_b.calls == 1);
}

BOOST_AUTO_TEST_CASE(agents_and_versions_by_id_are_cached_until_the_generation_moves) {
    CatalogCache cache;
    cache.observe(1);
    CountingLoader<AgentRecord> agents{
        AgentRecord{"a1", "org", "Bot", std::nullopt, "TEXT", false}};
    threadsd::store::AgentVersionRecord v1;
    v1.id = "v1";
    CountingLoader<threadsd::store::AgentVersionRecord> versions{v1};
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(cache.agent("a1", 1, agents.fn())->name == "Bot");
        BOOST_TEST(cache.version("v1", 1, versions.fn())->id == "v1");
    }
    BOOST_TEST(agents.calls == 1);
    BOOST_TEST(versions.calls == 1);

    agents.value->name = "Renamed";
    cache.observe(2);
    BOOST_TEST(cache.agent("a1", 2, agents.fn())->name == "Renamed");
    cache.version("v1", 2, versions.fn());
    BOOST_TEST(agents.calls == 2);
    BOOST_TEST(versions.calls == 2);
}

BOOST_AUTO_TEST_CASE(a_full_cache_starts_over_instead_of_growing) {
    CatalogCache cache;
    cache.observe(0);
    CountingLoader<AgentWithPublishedVersion> store{agent("a")};
    for (std::size_t i = 0; i <= CatalogCache::kMaxEntries; ++i) {
        cache.live_agent("org", std::to_string(i), 0, store.fn());
    }
    // Entry 0 was dropped when the cache filled; the last one is still there.
    cache.live_agent("org", std::to_string(CatalogCache::kMaxEntries), 0, store.fn());
    BOOST_TEST(store.calls == static_cast<int>(CatalogCache::kMaxEntries) + 1);
    cache.live_agent("org", "0", 0, store.fn());
    BOOST_TEST(store.calls == static_cast<int>(CatalogCache::kMaxEntries) + 2);
}

BOOST_AUTO_TEST_CASE(find_and_keep_label_each_entry_with_the_generation_it_was_read_at) {
    CatalogCache cache;
    BOOST_TEST(!cache.find_api_key(hash_of(1)).has_value());
    // Loaded at generation 4 (the load's own snapshot), kept under it.
    cache.observe(4);
    cache.keep_api_key(hash_of(1), 4, key("k1"));
    const auto found = cache.find_api_key(hash_of(1));
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->generation == 4);
    BOOST_TEST(found->value->id == "k1");
    // A load that raced a newer generation is not kept under it.
    cache.observe(5);
    cache.keep_api_key(hash_of(1), 4, key("k1"));
    BOOST_TEST(!cache.find_api_key(hash_of(1)).has_value());

    cache.keep_clerk_organization("org_1", 5, "org");
    BOOST_TEST(cache.find_clerk_organization("org_1")->value.value() == "org");
    // A live agent is served only to a request checked at the cache's generation.
    cache.keep_live_agent("org", "agent", 5, agent("a"));
    BOOST_TEST(cache.find_live_agent("org", "agent", 5).has_value());
    BOOST_TEST(!cache.find_live_agent("org", "agent", 4).has_value());
    BOOST_TEST(!cache.find_live_agent("other", "agent", 5).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
