#pragma once
// Operator actions on a SQLite store, each in its own transaction on the given connection.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "threadsd/store/admin.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

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

/// Upserts `agents` in one transaction: all or nothing. Organizations are created when
/// missing. Versions not in the file are kept (threads may be bound to them) but lose
/// their published flag, so the file says exactly which version is published. An agent
/// or version id that belongs to another organization or agent is refused (AdminError).
ImportSummary apply_agent_import(Connection& connection, const std::vector<ImportedAgent>& agents);

}  // namespace threadsd::store::sqlite
