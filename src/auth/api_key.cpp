#include "threadsd/auth/api_key.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace threadsd::auth {
namespace {

constexpr std::string_view kKeyPrefix = "thd_";
constexpr std::size_t kVisiblePrefixLength = 12;
constexpr std::size_t kRandomBytes = 32;

std::string base64url(const unsigned char* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(written));
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    for (char& c : out) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return out;
}

// SHA-256 fetched from OpenSSL's provider once, and a digest context per thread: the
// one-shot EVP_Digest fetches and allocates on every call, which every request pays.
struct Sha256 {
    Sha256() : md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), context(EVP_MD_CTX_new()) {
        if (md == nullptr || context == nullptr) {
            throw std::runtime_error("OpenSSL has no SHA-256");
        }
    }
    ~Sha256() {
        EVP_MD_CTX_free(context);
        EVP_MD_free(md);
    }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    EVP_MD* md;           ///< The fetched algorithm.
    EVP_MD_CTX* context;  ///< Reused for every digest on this thread.
};

}  // namespace

api::ApiError unauthorized(std::string message) {
    return {api::ErrorCode::kUnauthorized, std::move(message)};
}

KeyHash hash_api_key(std::string_view secret) {
    thread_local Sha256 sha256;
    KeyHash hash{};
    unsigned int length = 0;
    if (EVP_DigestInit_ex2(sha256.context, sha256.md, nullptr) != 1 ||
        EVP_DigestUpdate(sha256.context, secret.data(), secret.size()) != 1 ||
        EVP_DigestFinal_ex(sha256.context, hash.data(), &length) != 1 || length != hash.size()) {
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
    return hash;
}

GeneratedKey generate_api_key() {
    unsigned char random[kRandomBytes];
    if (RAND_bytes(random, sizeof random) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    GeneratedKey key;
    key.secret = std::string(kKeyPrefix) + base64url(random, sizeof random);
    key.prefix = key.secret.substr(0, kVisiblePrefixLength);
    key.hash = hash_api_key(key.secret);
    return key;
}

std::variant<Caller, api::ApiError> authenticate_api_key(store::Store& store,
                                                         std::string_view header_value) {
    if (header_value.empty()) {
        return unauthorized("X-API-Key header is required");
    }
    // Read first, so a key revoked a moment ago is refused now (see CatalogCache).
    const std::int64_t generation = store.observe_catalog();
    // Only the hash is looked up, so lookup timing says nothing about the key.
    const auto key = store.api_key(hash_api_key(header_value), generation);
    if (!key) {
        return unauthorized("X-API-Key is not a valid API key");
    }
    if (key->revoked_at) {
        return unauthorized("X-API-Key has been revoked");
    }
    return Caller{key->organization_id, key->id, generation, key->rate_limit, Credential::kApiKey};
}

}  // namespace threadsd::auth
