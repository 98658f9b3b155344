#include "threadsd/auth/jwt.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace threadsd::auth {

namespace json = boost::json;

namespace {

/// The largest token looked at; the header limit (16 KiB by default) keeps real ones far
/// below it.
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

/// A part of the token decoded and parsed as a JSON object, or nothing.
std::optional<json::object> decode_object(std::string_view part) {
    const auto bytes = decode_base64url(part);
    if (!bytes) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    auto value = json::parse(*bytes, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

/// A NumericDate claim (RFC 7519 2) in whole seconds; nothing when absent or not a number.
std::optional<std::int64_t> numeric_date(const json::object& claims, std::string_view name) {
    const auto* value = claims.if_contains(name);
    if (value == nullptr) {
        return std::nullopt;
    }
    // Clamped far inside int64, so that adding a leeway can never overflow.
    constexpr std::int64_t kLimit = std::int64_t{1} << 62;
    if (value->is_int64()) {
        return std::clamp(value->as_int64(), -kLimit, kLimit);
    }
    if (value->is_uint64()) {
        return static_cast<std::int64_t>(
            std::min<std::uint64_t>(value->as_uint64(), static_cast<std::uint64_t>(kLimit)));
    }
    if (value->is_double() && std::isfinite(value->as_double()) &&
        std::fabs(value->as_double()) < 1e15) {
        return static_cast<std::int64_t>(std::floor(value->as_double()));
    }
    return std::nullopt;
}

/// The active organization: Clerk's current `o: {id}` claim, else the older `org_id`.
std::string organization_claim(const json::object& claims) {
    if (const auto* o = claims.if_contains("o"); o != nullptr && o->is_object()) {
        if (auto id = string_member(o->as_object(), "id"); !id.empty()) {
            return id;
        }
    }
    return string_member(claims, "org_id");
}

/// True when `signature` is `key`'s RS256 (RSASSA-PKCS1-v1_5, SHA-256) signature of `data`.
bool rs256_verifies(EVP_PKEY* key, std::string_view data, std::string_view signature) {
    // Fetched once: an implicit fetch (EVP_sha256()) costs a lookup on every verification.
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    const bool verified =
        sha256 != nullptr && context &&
        EVP_DigestVerifyInit(context.get(), nullptr, sha256, nullptr, key) == 1 &&
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                         data.size()) == 1;
    // A refused signature leaves errors on the thread's queue; other OpenSSL users on this
    // thread must not find them.
    ERR_clear_error();
    return verified;
}

}  // namespace

std::string string_member(const json::object& object, std::string_view name) {
    const auto* value = object.if_contains(name);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

PublicKey adopt_public_key(EVP_PKEY* key) {
    return PublicKey(key, &EVP_PKEY_free);
}

std::optional<std::string> decode_base64url(std::string_view text) {
    // OpenSSL decodes standard base64 with padding; translate the alphabet and pad.
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string standard;
    standard.reserve(text.size() + 3);
    for (const char c : text) {
        if (c == '-') {
            standard.push_back('+');
        } else if (c == '_') {
            standard.push_back('/');
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            standard.push_back(c);
        } else {
            return std::nullopt;  // '+', '/', '=' and anything else are not base64url.
        }
    }
    // The bits of the last character beyond the data must be zero: otherwise several
    // strings would decode to the same bytes (and one signature have many spellings).
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!standard.empty() && standard.size() % 4 != 0) {
        const auto last = kAlphabet.find(standard.back());
        const std::size_t unused_bits = standard.size() % 4 == 2 ? 4 : 2;
        if ((last & ((1u << unused_bits) - 1)) != 0) {
            return std::nullopt;
        }
    }
    const std::size_t padding = (4 - standard.size() % 4) % 4;
    standard.append(padding, '=');
    std::string bytes(standard.size() / 4 * 3, '\0');
    const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                        reinterpret_cast<const unsigned char*>(standard.data()),
                                        static_cast<int>(standard.size()));
    if (decoded < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the padding's zero bytes too.
    bytes.resize(static_cast<std::size_t>(decoded) - padding);
    return bytes;
}

std::string_view token_failure_message(TokenFailure failure) {
    switch (failure) {
        case TokenFailure::kMalformed:
            return "bearer token is malformed";
        case TokenFailure::kAlgorithm:
            return "bearer token must be signed with RS256";
        case TokenFailure::kUnknownKey:
            return "bearer token is signed with an unknown key (kid)";
        case TokenFailure::kSignature:
            return "bearer token's signature is invalid";
        case TokenFailure::kNoExpiry:
            return "bearer token has no expiry (exp)";
        case TokenFailure::kExpired:
            return "bearer token has expired";
        case TokenFailure::kNotYetValid:
            return "bearer token is not valid yet (nbf or iat)";
        case TokenFailure::kIssuer:
            return "bearer token's issuer (iss) is not accepted";
        case TokenFailure::kAuthorizedParty:
            return "bearer token's authorized party (azp) is not accepted";
    }
    return "bearer token is invalid";
}

std::variant<VerifiedToken, TokenFailure> verify_token(std::string_view token,
                                                       const KeyLookup& keys,
                                                       const TokenPolicy& policy,
                                                       std::int64_t now) {
    if (token.size() > kMaxTokenBytes) {
        return TokenFailure::kMalformed;
    }
    const auto first_dot = token.find('.');
    const auto second_dot =
        first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return TokenFailure::kMalformed;
    }
    const auto header = decode_object(token.substr(0, first_dot));
    if (!header) {
        return TokenFailure::kMalformed;
    }
    // The algorithm is fixed here, never taken from the token: a header saying "none" or
    // "HS256" is refused before any key is touched.
    const auto* alg = header->if_contains("alg");
    if (alg == nullptr || !alg->is_string() || alg->as_string() != "RS256" ||
        header->contains("crit")) {
        return TokenFailure::kAlgorithm;
    }
    const auto* kid = header->if_contains("kid");
    if (kid != nullptr && !kid->is_string()) {
        return TokenFailure::kMalformed;
    }
    const auto key = keys(kid != nullptr ? std::string_view(kid->as_string()) : std::string_view());
    if (!key) {
        return TokenFailure::kUnknownKey;
    }
    const auto signature = decode_base64url(token.substr(second_dot + 1));
    if (!signature) {
        return TokenFailure::kMalformed;
    }
    if (!rs256_verifies(key.get(), token.substr(0, second_dot), *signature)) {
        return TokenFailure::kSignature;
    }

    // Signed by a key we trust: now the claims.
    const auto claims = decode_object(token.substr(first_dot + 1, second_dot - first_dot - 1));
    if (!claims) {
        return TokenFailure::kMalformed;
    }
    VerifiedToken verified;
    const auto expiry = numeric_date(*claims, "exp");
    if (!expiry) {
        return TokenFailure::kNoExpiry;
    }
    verified.expires_at = *expiry;
    verified.not_before = std::numeric_limits<std::int32_t>::min();
    for (const char* claim : {"nbf", "iat"}) {
        if (claims->contains(claim)) {
            const auto instant = numeric_date(*claims, claim);
            if (!instant) {
                return TokenFailure::kMalformed;
            }
            verified.not_before = std::max(verified.not_before, *instant);
        }
    }
    if (const auto failure = check_token_times(verified, policy.leeway, now)) {
        return *failure;
    }
    if (string_member(*claims, "iss") != policy.issuer) {
        return TokenFailure::kIssuer;
    }
    if (!policy.authorized_parties.empty()) {
        const auto azp = string_member(*claims, "azp");
        const auto& allowed = policy.authorized_parties;
        if (std::find(allowed.begin(), allowed.end(), azp) == allowed.end()) {
            return TokenFailure::kAuthorizedParty;
        }
    }
    verified.subject = string_member(*claims, "sub");
    verified.organization = organization_claim(*claims);
    return verified;
}

std::optional<TokenFailure> check_token_times(const VerifiedToken& token,
                                              std::chrono::seconds leeway, std::int64_t now) {
    // Both sides stay far inside int64: numeric_date clamps to 2^62, leeway is minutes.
    if (now - leeway.count() >= token.expires_at) {
        return TokenFailure::kExpired;
    }
    if (token.not_before - leeway.count() > now) {
        return TokenFailure::kNotYetValid;
    }
    return std::nullopt;
}

}  // namespace threadsd::auth
