#pragma once
// Who a request acts for, from whichever credential it carries: an API key, else a Clerk
// session token when the server accepts them (docs/api.md, Authentication).

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "threadsd/auth/api_key.hpp"
#include "threadsd/auth/bearer_token.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::auth {

/// Checks a request's credentials against the store; thread-safe.
class Authenticator {
  public:
    /// Checks keys against `store`, and bearer tokens with `bearer` (refused when null).
    Authenticator(store::Store& store, BearerAuthenticator* bearer)
        : store_(store), bearer_(bearer) {}

    /// The caller named by `api_key` (an X-API-Key value), else by `authorization` (an
    /// Authorization value), both trimmed; an API key wins when both are sent. `now` is
    /// in seconds since the epoch. Unknown, revoked and empty keys are all refused, and no
    /// message echoes a credential. May throw what the store throws.
    boost::asio::awaitable<std::variant<Caller, Refusal>> authenticate(
        std::optional<std::string_view> api_key, std::optional<std::string_view> authorization,
        std::int64_t now);

    /// Completes while the catalog is at the generation `caller` was checked at; throws
    /// store::CatalogChanged once it moved (authenticate() again), or what the store throws.
    boost::asio::awaitable<void> confirm(const Caller& caller) {
        return store_.confirm_catalog(caller.catalog_generation);
    }

    /// The schemes a 401 names in WWW-Authenticate (RFC 9110 section 11.6.1).
    std::string_view challenge() const {
        return bearer_ != nullptr ? R"(ApiKey realm="threadsd", Bearer realm="threadsd")"
                                  : R"(ApiKey realm="threadsd")";
    }

  private:
    store::Store& store_;          ///< Keys and Clerk mappings.
    BearerAuthenticator* bearer_;  ///< Verifies bearer tokens; null: refused.
};

}  // namespace threadsd::auth
