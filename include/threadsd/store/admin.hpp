#pragma once
// Operator actions on the store (the command line's keys and agents subcommands).

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite.hpp"

namespace threadsd::store {

/// The demo organization seeded by schema/seed/demo.sql.
inline constexpr const char* kDemoOrganizationId = "0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60";

/// A refused operator action; `what()` is the one-line message for stderr.
class AdminError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// An API key as `keys list` shows it (never the secret, never the hash).
struct ApiKeyListing {
    std::string id;                          ///< Key id.
    std::string organization_id;             ///< Owner.
    std::string name;                        ///< Operator's label.
    std::string prefix;                      ///< Visible start of the secret.
    std::int64_t created_at = 0;             ///< Creation instant.
    std::optional<std::int64_t> revoked_at;  ///< Revocation instant.
    std::optional<std::int64_t> rate_limit;  ///< Requests per second, or the server default.
};

/// A key that was just created; the only time its secret exists outside the caller.
struct CreatedApiKey {
    std::string id;      ///< Key id.
    std::string secret;  ///< The key to hand to the client.
};

/// An agent as `agents list` shows it.
struct AgentListing {
    AgentRecord agent;                                ///< The agent.
    std::optional<std::string> published_version_id;  ///< Or null.
};

/// True when the organization exists.
bool organization_exists(Connection& connection, const std::string& organization_id);

/// True when the store holds at least one API key, revoked or not.
bool has_any_api_key(Connection& connection);

/// Creates a key for `organization_id` (AdminError when unknown).
CreatedApiKey create_api_key(Connection& connection, const std::string& organization_id,
                             const std::string& name,
                             std::optional<std::int64_t> rate_limit = std::nullopt);

/// Every key, oldest first.
std::vector<ApiKeyListing> list_api_keys(Connection& connection);

/// Revokes a key (AdminError when unknown or already revoked).
void revoke_api_key(Connection& connection, const std::string& key_id);

/// A Clerk organization mapped to a threadsd organization, as `clerk list` shows it.
struct ClerkMapping {
    std::string clerk_organization_id;  ///< e.g. org_2abc...
    std::string organization_id;        ///< The threadsd organization its tokens act for.
    std::int64_t created_at = 0;        ///< When the mapping was made (or last changed).
};

/// Maps the Clerk organization to `organization_id` (AdminError when that is unknown);
/// an existing mapping of the Clerk organization is replaced. True when it replaced one.
bool map_clerk_organization(Connection& connection, const std::string& clerk_organization_id,
                            const std::string& organization_id);

/// Every mapping, by Clerk organization id.
std::vector<ClerkMapping> list_clerk_organizations(Connection& connection);

/// Removes the mapping (AdminError when there is none): that organization's tokens are
/// refused from the next request on.
void unmap_clerk_organization(Connection& connection, const std::string& clerk_organization_id);

/// Every agent, ordered by organization and name.
std::vector<AgentListing> list_agents(Connection& connection);

}  // namespace threadsd::store
