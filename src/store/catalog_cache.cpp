#include "threadsd/store/catalog_cache.hpp"

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

std::size_t CatalogCache::SecretHashHasher::operator()(const SecretHash& hash) const noexcept {
    std::size_t value = 0;
    std::memcpy(&value, hash.data(), sizeof value);
    return value;
}

void CatalogCache::observe(std::int64_t generation) {
    std::lock_guard lock(mutex_);
    if (generation > generation_) {
        keys_.clear();
        agents_.clear();
        generation_ = generation;
    }
}

std::optional<ApiKeyRecord> CatalogCache::api_key(const SecretHash& hash, std::int64_t generation,
                                                  const KeyLoader& load) {
    {
        std::lock_guard lock(mutex_);
        if (const auto found = keys_.find(hash); found != keys_.end()) {
            return found->second;
        }
    }
    auto loaded = load();  // Outside the lock: other requests need not wait on the store.
    if (loaded) {
        std::lock_guard lock(mutex_);
        if (generation == generation_) {
            if (keys_.size() >= kMaxEntries) {
                keys_.clear();
            }
            keys_.emplace(hash, *loaded);
        }
    }
    return loaded;
}

std::optional<AgentWithPublishedVersion> CatalogCache::live_agent(std::string_view organization_id,
                                                                  std::string_view agent_id,
                                                                  std::int64_t generation,
                                                                  const AgentLoader& load) {
    auto key = agent_key(organization_id, agent_id);
    {
        std::lock_guard lock(mutex_);
        if (const auto found = agents_.find(key); found != agents_.end()) {
            return found->second;
        }
    }
    auto loaded = load();
    if (loaded) {
        std::lock_guard lock(mutex_);
        if (generation == generation_) {
            if (agents_.size() >= kMaxEntries) {
                agents_.clear();
            }
            agents_.emplace(std::move(key), *loaded);
        }
    }
    return loaded;
}

std::int64_t CatalogCache::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

}  // namespace threadsd::store
