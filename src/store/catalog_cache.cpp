#include "threadsd/store/catalog_cache.hpp"

#include <openssl/crypto.h>

#include <cstring>

namespace threadsd::store {
namespace {

// The agents_ map's key.
std::string agent_key(std::string_view organization_id, std::string_view agent_id) {
    std::string key;
    key.reserve(organization_id.size() + 1 + agent_id.size());
    key.append(organization_id).push_back('\n');
    key.append(agent_id);
    return key;
}

}  // namespace

bool CatalogCache::SecretHashEqual::operator()(const SecretHash& a,
                                               const SecretHash& b) const noexcept {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::size_t SecretHashHasher::operator()(const SecretHash& hash) const noexcept {
    std::size_t value = 0;
    std::memcpy(&value, hash.data(), sizeof value);
    return value;
}

void CatalogCache::observe(std::int64_t generation) {
    std::lock_guard lock(mutex_);
    if (generation > generation_) {
        keys_.clear();
        agents_.clear();
        agents_by_id_.clear();
        versions_by_id_.clear();
        clerk_organizations_.clear();
        generation_ = generation;
    }
}

template <typename Map, typename Key>
std::optional<AsOf<typename Map::mapped_type>> CatalogCache::find(const Map& map,
                                                                  const Key& key) const {
    std::lock_guard lock(mutex_);
    if (const auto found = map.find(key); found != map.end()) {
        return AsOf<typename Map::mapped_type>{generation_, found->second};
    }
    return std::nullopt;
}

template <typename Map, typename Key, typename Value>
void CatalogCache::keep(Map& map, Key&& key, std::int64_t generation, const Value& value) {
    std::lock_guard lock(mutex_);
    if (generation == generation_) {
        if (map.size() >= kMaxEntries) {
            map.clear();
        }
        map.emplace(std::forward<Key>(key), value);
    }
}

template <typename Map, typename Key, typename Load>
std::optional<typename Map::mapped_type> CatalogCache::get_or_load(Map& map, Key&& key,
                                                                   std::int64_t generation,
                                                                   const Load& load) {
    if (auto found = find(map, key)) {
        return std::move(found->value);
    }
    auto loaded = load();  // Outside the lock: other requests need not wait on the store.
    if (loaded) {
        keep(map, std::forward<Key>(key), generation, *loaded);
    }
    return loaded;
}

std::optional<std::string> CatalogCache::clerk_organization(
    const std::string& clerk_organization_id, std::int64_t generation, const ClerkLoader& load) {
    return get_or_load(clerk_organizations_, clerk_organization_id, generation, load);
}

std::optional<ApiKeyRecord> CatalogCache::api_key(const SecretHash& hash, std::int64_t generation,
                                                  const KeyLoader& load) {
    return get_or_load(keys_, hash, generation, load);
}

std::optional<AgentWithPublishedVersion> CatalogCache::live_agent(std::string_view organization_id,
                                                                  std::string_view agent_id,
                                                                  std::int64_t generation,
                                                                  const AgentLoader& load) {
    return get_or_load(agents_, agent_key(organization_id, agent_id), generation, load);
}

std::optional<AgentRecord> CatalogCache::agent(const std::string& agent_id, std::int64_t generation,
                                               const AgentByIdLoader& load) {
    return get_or_load(agents_by_id_, agent_id, generation, load);
}

std::optional<AgentVersionRecord> CatalogCache::version(const std::string& version_id,
                                                        std::int64_t generation,
                                                        const VersionLoader& load) {
    return get_or_load(versions_by_id_, version_id, generation, load);
}

std::optional<AsOf<ApiKeyRecord>> CatalogCache::find_api_key(const SecretHash& hash) const {
    return find(keys_, hash);
}

void CatalogCache::keep_api_key(const SecretHash& hash, std::int64_t generation,
                                const ApiKeyRecord& key) {
    keep(keys_, hash, generation, key);
}

std::optional<AsOf<std::string>> CatalogCache::find_clerk_organization(
    const std::string& clerk_organization_id) const {
    return find(clerk_organizations_, clerk_organization_id);
}

void CatalogCache::keep_clerk_organization(const std::string& clerk_organization_id,
                                           std::int64_t generation,
                                           const std::string& organization_id) {
    keep(clerk_organizations_, clerk_organization_id, generation, organization_id);
}

std::optional<AgentWithPublishedVersion> CatalogCache::find_live_agent(
    std::string_view organization_id, std::string_view agent_id, std::int64_t generation) const {
    auto found = find(agents_, agent_key(organization_id, agent_id));
    if (!found || found->generation != generation) {
        return std::nullopt;
    }
    return std::move(found->value);
}

void CatalogCache::keep_live_agent(std::string_view organization_id, std::string_view agent_id,
                                   std::int64_t generation,
                                   const AgentWithPublishedVersion& agent) {
    keep(agents_, agent_key(organization_id, agent_id), generation, agent);
}

std::int64_t CatalogCache::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

}  // namespace threadsd::store
