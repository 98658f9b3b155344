#include "threadsd/auth/bearer_token.hpp"

#include "threadsd/util/sha256.hpp"
#include "threadsd/util/text.hpp"

namespace threadsd::auth {

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view kScheme = "Bearer";
    if (!util::starts_with_ascii_nocase(authorization, kScheme)) {
        return std::nullopt;
    }
    const auto rest = authorization.substr(kScheme.size());
    if (!rest.empty() && rest.front() != ' ') {
        return std::nullopt;  // "Bearerx ...": another scheme.
    }
    const auto start = rest.find_first_not_of(' ');
    return start == std::string_view::npos ? std::string_view{} : rest.substr(start);
}

BearerAuthenticator::BearerAuthenticator(const BearerSettings& settings)
    : keys_(settings.public_key_file, settings.jwks_file),
      policy_{settings.issuer, settings.authorized_parties, settings.leeway} {}

std::variant<VerifiedToken, TokenFailure> BearerAuthenticator::verify(std::string_view token,
                                                                      std::int64_t now) {
    keys_.refresh();
    const auto key_generation = keys_.generation();
    const auto digest = util::sha256(token);  // whatever the string is
    {
        std::lock_guard lock(remembered_mutex_);
        const auto found = remembered_.find(digest);
        if (found != remembered_.end() && found->second.key_generation == key_generation) {
            // Signature, issuer and azp held, and still hold: only the clock moved.
            if (const auto failure = check_token_times(found->second.claims, policy_.leeway, now)) {
                remembered_.erase(found);
                return *failure;
            }
            return found->second.claims;
        }
    }
    auto verified = verify_token(
        token, [this](std::string_view kid) { return keys_.find(kid); }, policy_, now);
    if (const auto* claims = std::get_if<VerifiedToken>(&verified)) {
        std::lock_guard lock(remembered_mutex_);
        if (remembered_.size() >= kMaxRememberedTokens) {
            std::erase_if(remembered_, [&](const auto& entry) {
                return check_token_times(entry.second.claims, policy_.leeway, now).has_value();
            });
            if (remembered_.size() >= kMaxRememberedTokens) {
                remembered_.clear();
            }
        }
        remembered_.insert_or_assign(digest, RememberedToken{*claims, key_generation});
    }
    return verified;
}

boost::asio::awaitable<std::variant<Caller, Refusal>> BearerAuthenticator::authenticate(
    store::Store& store, std::string_view token, std::int64_t now) {
    if (token.empty()) {
        co_return Refusal{"Authorization: Bearer needs a token"};
    }
    const auto verified = verify(token, now);
    if (const auto* failure = std::get_if<TokenFailure>(&verified)) {
        co_return Refusal{std::string(token_failure_message(*failure))};
    }
    const auto& claims = std::get<VerifiedToken>(verified);
    if (claims.subject.empty()) {
        // Every Clerk session token names its user; rate limits count per user.
        co_return Refusal{"bearer token has no subject (sub)"};
    }
    if (claims.organization.empty()) {
        co_return Refusal{"bearer token has no active organization (o.id or org_id)"};
    }
    // As of the catalog now, so that an unmapping is seen by the very next request.
    const auto organization = co_await store.clerk_organization(claims.organization);
    if (!organization.value) {
        co_return Refusal{"bearer token's organization is not mapped to a threadsd organization"};
    }
    // Rate limits count per Clerk user and organization, as they count per API key.
    co_return Caller{*organization.value, "clerk:" + claims.subject + "@" + claims.organization,
                     organization.generation, std::nullopt, Credential::kBearerToken};
}

}  // namespace threadsd::auth
