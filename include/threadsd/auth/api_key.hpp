#pragma once
// Who a request acts for, once its credentials are checked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "threadsd/store/store.hpp"

namespace threadsd::auth {

/// How a caller proved who it is.
enum class Credential {
    kNone,         ///< Nothing needed (health and metrics).
    kApiKey,       ///< An X-API-Key header.
    kBearerToken,  ///< An Authorization: Bearer token (Clerk).
};

/// The caller a request acts for, once authenticated.
struct Caller {
    std::string organization_id;  ///< Every query is scoped to this organization.
    std::string key_id;           ///< Which key was used (never the key itself).
    /// The catalog generation the key was checked at; later lookups for this request
    /// (its agent) use it too.
    std::int64_t catalog_generation = 0;
    std::optional<std::int64_t> rate_limit;     ///< The key's own requests per second, if set.
    Credential credential = Credential::kNone;  ///< What the request carried.
};

/// Credentials refused: the request gets a 401 with `message`.
struct Refusal {
    std::string message;  ///< Says what failed; never quotes the credential.
};

}  // namespace threadsd::auth
