#include "threadsd/auth/authenticator.hpp"

namespace threadsd::auth {

namespace net = boost::asio;

net::awaitable<std::variant<Caller, Refusal>> Authenticator::authenticate(
    std::optional<std::string_view> api_key, std::optional<std::string_view> authorization,
    std::int64_t now) {
    if (api_key) {
        if (api_key->empty()) {
            co_return Refusal{"X-API-Key header is required"};
        }
        // Only the hash is looked up, so lookup timing says nothing about the key.
        const auto hash = store::hash_api_key(*api_key);
        const auto key = co_await store_.api_key(hash);
        if (!key.value) {
            co_return Refusal{"X-API-Key is not a valid API key"};
        }
        if (key.value->revoked_at) {
            co_return Refusal{"X-API-Key has been revoked"};
        }
        co_return Caller{key.value->organization_id, key.value->id, key.generation,
                         key.value->rate_limit, Credential::kApiKey};
    }
    if (!authorization) {
        co_return Refusal{bearer_ != nullptr
                              ? "X-API-Key header or Authorization: Bearer token is required"
                              : "X-API-Key header is required"};
    }
    const auto token = bearer_token(*authorization);
    if (!token) {
        co_return Refusal{"Authorization must use the Bearer scheme"};
    }
    if (bearer_ == nullptr) {
        co_return Refusal{"bearer tokens are not accepted by this server; use X-API-Key"};
    }
    co_return co_await bearer_->authenticate(store_, *token, now);
}

}  // namespace threadsd::auth
