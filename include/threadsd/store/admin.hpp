#pragma once
// What the operator's commands (keys, clerk, agents) give and take, whatever the store.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "threadsd/store/records.hpp"

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

/// A Clerk organization mapped to a threadsd organization, as `clerk list` shows it.
struct ClerkMapping {
    std::string clerk_organization_id;  ///< e.g. org_2abc...
    std::string organization_id;        ///< The threadsd organization its tokens act for.
    std::int64_t created_at = 0;        ///< When the mapping was made (or last changed).
};

}  // namespace threadsd::store
