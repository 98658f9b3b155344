#pragma once
// API keys: how they are made, how they are stored, and how a request's key is checked.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "threadsd/api/error.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::auth {

/// SHA-256 of a key: what the store keeps instead of the key.
using KeyHash = store::SecretHash;

/// A freshly generated key, shown once to whoever created it.
struct GeneratedKey {
    std::string secret;  ///< `thd_` + 43 base64url characters (256 random bits).
    std::string prefix;  ///< The first 12 characters, safe to list and log.
    KeyHash hash;        ///< SHA-256 of `secret`.
};

/// Makes a new key from OpenSSL's CSPRNG.
GeneratedKey generate_api_key();

/// SHA-256 of `secret` via OpenSSL.
KeyHash hash_api_key(std::string_view secret);

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

/// A 401 UNAUTHORIZED envelope with `message`, for every way credentials are refused.
api::ApiError unauthorized(std::string message);

/// Checks an `X-API-Key` header value (already trimmed) against the store's current
/// catalog. Unknown, revoked and missing keys are all 401s; the message never echoes the key.
std::variant<Caller, api::ApiError> authenticate_api_key(store::Store& store,
                                                         std::string_view header_value);

}  // namespace threadsd::auth
