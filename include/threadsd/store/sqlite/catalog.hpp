#pragma once
// Read queries of the request path: API keys and agents. One Catalog per connection.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

/// The agent in columns `first` to `first + 5` of `row`: id, organization_id, name,
/// description, agent_type, deleted (in that order in every query that reads one).
AgentRecord read_agent(const Statement& row, int first);

/// The version in columns `first` to `first + 6` of `row`: id, version, name, mode,
/// sms_max_tokens, sms_temperature, discard_inbound_sms.
AgentVersionRecord read_version(const Statement& row, int first);

/// Prepared read statements over one connection; not thread-safe, like the connection.
class Catalog {
  public:
    /// Prepares the statements on `connection`, which must outlive the catalog.
    explicit Catalog(Connection& connection);

    /// The key whose SHA-256 is `secret_hash`, revoked or not.
    std::optional<ApiKeyRecord> find_api_key(const std::array<std::uint8_t, 32>& secret_hash);

    /// The agent `agent_id` of `organization_id` when it exists and is not deleted.
    std::optional<AgentWithPublishedVersion> find_live_agent(std::string_view organization_id,
                                                             std::string_view agent_id);

    /// The threadsd organization the Clerk organization `clerk_organization_id` is mapped to.
    std::optional<std::string> find_clerk_organization(std::string_view clerk_organization_id);

    /// The catalog generation: it moves whenever keys, agents or versions change.
    std::int64_t generation();

  private:
    Statement find_key_;    ///< api_keys by secret_hash.
    Statement find_agent_;  ///< agents left-joined with their published version.
    Statement find_clerk_;  ///< clerk_organizations by Clerk id.
    Statement generation_;  ///< The catalog_generation row.
};

}  // namespace threadsd::store::sqlite
