#pragma once
// The second way in (Clerk session tokens): `Authorization: Bearer <JWT>`
// with a Clerk session token, verified offline against configured keys, its Clerk
// organization mapped to a threadsd organization by the operator (`threadsd clerk map`).

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "threadsd/auth/api_key.hpp"
#include "threadsd/auth/jwt.hpp"
#include "threadsd/auth/jwt_key_set.hpp"
#include "threadsd/store/catalog_cache.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::auth {

/// How bearer tokens are verified (`serve --clerk-*`); empty key files: tokens refused.
struct BearerSettings {
    std::string public_key_file;                  ///< A PEM public key; "" for none.
    std::string jwks_file;                        ///< A JWKS document; "" for none.
    std::string issuer;                           ///< Required `iss` (the Clerk instance URL).
    std::vector<std::string> authorized_parties;  ///< Allowed `azp` values; empty: any.
    std::chrono::seconds leeway{5};               ///< Clock skew allowed on exp, nbf, iat.

    /// True when a key file is configured, so that tokens can be verified at all.
    bool enabled() const { return !public_key_file.empty() || !jwks_file.empty(); }
};

/// Checks bearer tokens; thread-safe.
class BearerAuthenticator {
  public:
    /// Reads the key files of `settings` (which must be enabled()); throws KeyFileError.
    explicit BearerAuthenticator(const BearerSettings& settings);

    /// Checks the `token` of an `Authorization: Bearer` header (see bearer_token()), at
    /// `now` (seconds since the epoch). Every refusal is a 401 that says what kind of
    /// failure it was; none quotes the token.
    boost::asio::awaitable<std::variant<Caller, Refusal>> authenticate(store::Store& store,
                                                                       std::string_view token,
                                                                       std::int64_t now);

    /// Most tokens remembered as verified; beyond it the expired ones are dropped, then all.
    static constexpr std::size_t kMaxRememberedTokens = 10'000;

  private:
    /// A token that passed verification: its claims, and the keys it was verified with.
    struct RememberedToken {
        VerifiedToken claims;          ///< What verification gave.
        std::uint64_t key_generation;  ///< JwtKeySet::generation() then.
    };
    /// The token's claims: remembered ones (their times checked again), else a full
    /// verification, remembered when it passes.
    std::variant<VerifiedToken, TokenFailure> verify(std::string_view token, std::int64_t now);

    JwtKeySet keys_;               ///< The verification keys, kept current.
    TokenPolicy policy_;           ///< Issuer, authorized parties, leeway.
    std::mutex remembered_mutex_;  ///< Guards remembered_.
    /// Verified tokens by SHA-256, so that a session token sent again (a dashboard sends
    /// the same one for its whole minute) costs a hash instead of an RSA verification.
    std::unordered_map<util::Sha256Digest, RememberedToken, store::SecretHashHasher> remembered_;
};

/// The token of an `Authorization` value that uses the Bearer scheme (case-insensitive,
/// RFC 9110), "" when it has none; nothing for another scheme.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace threadsd::auth
