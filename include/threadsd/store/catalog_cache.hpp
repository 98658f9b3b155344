#pragma once
// API keys and agents held in memory for the request path, so that a request does not
// wait on a SELECT for either.
//
// The cache is only as good as the catalog generation it was filled at. Every request
// reads the generation (one row) and calls observe(): a newer generation empties the
// cache, so a key revoked by the CLI in another process is refused by the very next
// request. Entries are added only under the generation the cache holds, and each was
// read at that generation or later, so nothing older than the cache's generation is
// ever served.

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "threadsd/store/api_key_secret.hpp"
#include "threadsd/store/records.hpp"

namespace threadsd::store {

/// Hashes a SHA-256 digest for a hash map: its first 8 bytes are already uniformly random.
struct SecretHashHasher {
    std::size_t operator()(const SecretHash& hash) const noexcept;
};

/// Keys by hash and live agents by (organization, id); thread-safe.
class CatalogCache {
  public:
    /// Loads a key from the store when the cache does not hold it.
    using KeyLoader = std::function<std::optional<ApiKeyRecord>()>;
    /// Loads an agent from the store when the cache does not hold it.
    using AgentLoader = std::function<std::optional<AgentWithPublishedVersion>()>;
    /// Loads an agent by id alone (deleted or not) when the cache does not hold it.
    using AgentByIdLoader = std::function<std::optional<AgentRecord>()>;
    /// Loads a Clerk organization's mapping when the cache does not hold it.
    using ClerkLoader = std::function<std::optional<std::string>()>;
    /// Loads an agent version by id when the cache does not hold it.
    using VersionLoader = std::function<std::optional<AgentVersionRecord>()>;

    /// Most entries of each kind; beyond it the kind is emptied and refilled on demand.
    static constexpr std::size_t kMaxEntries = 100'000;

    /// Notes the generation a request just read; a newer one empties the cache.
    void observe(std::int64_t generation);

    /// The key with `hash`, from memory, or from `load` (then kept when `generation`,
    /// read before `load` runs, is still the cache's). Unknown keys are not kept, so
    /// guessing cannot fill memory.
    std::optional<ApiKeyRecord> api_key(const SecretHash& hash, std::int64_t generation,
                                        const KeyLoader& load);

    /// The live agent `agent_id` of `organization_id`, like api_key().
    std::optional<AgentWithPublishedVersion> live_agent(std::string_view organization_id,
                                                        std::string_view agent_id,
                                                        std::int64_t generation,
                                                        const AgentLoader& load);

    /// The agent `agent_id`, deleted or not, as a thread's agentDetails shows it.
    std::optional<AgentRecord> agent(const std::string& agent_id, std::int64_t generation,
                                     const AgentByIdLoader& load);

    /// The agent version `version_id`, as a thread's agentVersionDetails shows it.
    std::optional<AgentVersionRecord> version(const std::string& version_id,
                                              std::int64_t generation, const VersionLoader& load);

    /// The threadsd organization of the Clerk organization `clerk_organization_id`, like
    /// api_key() (unmapped ones are not kept).
    std::optional<std::string> clerk_organization(const std::string& clerk_organization_id,
                                                  std::int64_t generation, const ClerkLoader& load);

    /// The generation the entries belong to; -1 before the first observe().
    std::int64_t generation() const;

    // For a store whose loads are asynchronous (a database server): look up, and on a miss
    // load the generation and the entry in one snapshot, observe() that generation and
    // keep the entry under it.

    /// The cached key with `hash` and the generation the cache holds, read together;
    /// nothing when it is not cached.
    std::optional<AsOf<ApiKeyRecord>> find_api_key(const SecretHash& hash) const;
    /// Keeps `key` under `hash` when `generation` is still the cache's.
    void keep_api_key(const SecretHash& hash, std::int64_t generation, const ApiKeyRecord& key);
    /// The cached mapping of `clerk_organization_id`, like find_api_key().
    std::optional<AsOf<std::string>> find_clerk_organization(
        const std::string& clerk_organization_id) const;
    /// Keeps a mapping, like keep_api_key().
    void keep_clerk_organization(const std::string& clerk_organization_id, std::int64_t generation,
                                 const std::string& organization_id);
    /// The cached live agent, when the cache holds `generation`.
    std::optional<AgentWithPublishedVersion> find_live_agent(std::string_view organization_id,
                                                             std::string_view agent_id,
                                                             std::int64_t generation) const;
    /// Keeps a live agent, like keep_api_key().
    void keep_live_agent(std::string_view organization_id, std::string_view agent_id,
                         std::int64_t generation, const AgentWithPublishedVersion& agent);

  private:
    /// The entry of `map` under `key` with the cache's generation, read together.
    template <typename Map, typename Key>
    std::optional<AsOf<typename Map::mapped_type>> find(const Map& map, const Key& key) const;
    /// Keeps `value` under `key` in `map` when `generation` is the cache's; a full map is
    /// emptied first.
    template <typename Map, typename Key, typename Value>
    void keep(Map& map, Key&& key, std::int64_t generation, const Value& value);

    /// The entry of `map` under `key`, or what `load` returns, kept when `generation` is
    /// still the cache's (see the file comment).
    template <typename Map, typename Key, typename Load>
    std::optional<typename Map::mapped_type> get_or_load(Map& map, Key&& key,
                                                         std::int64_t generation, const Load& load);

    /// Compares key hashes in constant time (CRYPTO_memcmp). Only hashes are compared, and
    /// learning a hash's bytes does not give the key, but nothing here depends on where
    /// two of them first differ either.
    struct SecretHashEqual {
        bool operator()(const SecretHash& a, const SecretHash& b) const noexcept;
    };

    mutable std::mutex mutex_;      ///< Guards everything below.
    std::int64_t generation_ = -1;  ///< What the entries are current for; -1 before any.
    std::unordered_map<SecretHash, ApiKeyRecord, SecretHashHasher, SecretHashEqual>
        keys_;  ///< By hash.
    /// By organization id, a newline, and agent id (neither can contain a newline).
    std::unordered_map<std::string, AgentWithPublishedVersion> agents_;
    std::unordered_map<std::string, AgentRecord> agents_by_id_;           ///< By agent id.
    std::unordered_map<std::string, AgentVersionRecord> versions_by_id_;  ///< By version id.
    std::unordered_map<std::string, std::string> clerk_organizations_;    ///< By Clerk org id.
};

}  // namespace threadsd::store
