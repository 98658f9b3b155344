#pragma once
// JSON Web Tokens (RFC 7519) signed with RS256, verified offline with OpenSSL's EVP. RS256
// is the only algorithm: whatever a token's header claims (none, HS256 with the public key
// as the secret, ...), it is verified as RS256 with a configured RSA key or refused.

#include <openssl/types.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace threadsd::auth {

/// An RSA public key that verifies signatures; shared by the key set and verifications.
using PublicKey = std::shared_ptr<EVP_PKEY>;

/// Takes ownership of `key` (null stays null).
PublicKey adopt_public_key(EVP_PKEY* key);

/// The string member `name` of a JSON object (a claim, a JWK field), "" when it is absent
/// or not a string.
std::string string_member(const boost::json::object& object, std::string_view name);

/// Decodes unpadded base64url (RFC 7515 section 2); nothing when `text` is not that.
std::optional<std::string> decode_base64url(std::string_view text);

/// Why a token was refused, from the first check that failed.
enum class TokenFailure {
    kMalformed,        ///< Not three base64url parts, or a part is not a JSON object.
    kAlgorithm,        ///< `alg` is not RS256, or the header has `crit`.
    kUnknownKey,       ///< No configured key for its `kid`.
    kSignature,        ///< The signature does not verify.
    kNoExpiry,         ///< No numeric `exp`.
    kExpired,          ///< `exp` has passed (beyond the leeway).
    kNotYetValid,      ///< `nbf` or `iat` is in the future (beyond the leeway).
    kIssuer,           ///< `iss` is not the configured issuer.
    kAuthorizedParty,  ///< `azp` is not in the configured allow-list.
};

/// The sentence of the 401 for `failure`. It never quotes the token.
std::string_view token_failure_message(TokenFailure failure);

/// What a token must satisfy besides its signature.
struct TokenPolicy {
    std::string issuer;                           ///< `iss` must equal this.
    std::vector<std::string> authorized_parties;  ///< When not empty, `azp` must be one.
    std::chrono::seconds leeway{5};               ///< Clock skew allowed on exp, nbf, iat.
};

/// The claims threadsd uses from a token that passed every check.
struct VerifiedToken {
    std::string subject;          ///< `sub` (the Clerk user), "" when absent.
    std::string organization;     ///< Active organization: `o.id`, else `org_id`; "" when none.
    std::int64_t expires_at = 0;  ///< `exp`: valid before this (plus the leeway).
    std::int64_t not_before = 0;  ///< The later of `nbf` and `iat` (an early bound if neither).
};

/// Checks a verified token's times again at `now`: kExpired or kNotYetValid, or nothing
/// when it is still valid. (For a token verified earlier and remembered.)
std::optional<TokenFailure> check_token_times(const VerifiedToken& token,
                                              std::chrono::seconds leeway, std::int64_t now);

/// The key for a token's `kid` ("" when its header has none); null when there is none.
using KeyLookup = std::function<PublicKey(std::string_view kid)>;

/// Verifies a compact JWS `token` at `now` (seconds since the epoch): RS256 signature with
/// the key `keys` gives for its kid, then exp, nbf, iat, iss and azp per `policy`.
std::variant<VerifiedToken, TokenFailure> verify_token(std::string_view token,
                                                       const KeyLookup& keys,
                                                       const TokenPolicy& policy, std::int64_t now);

}  // namespace threadsd::auth
