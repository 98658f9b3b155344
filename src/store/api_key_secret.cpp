#include "threadsd/store/api_key_secret.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace threadsd::store {
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

}  // namespace

SecretHash hash_api_key(std::string_view secret) {
    return util::sha256(secret);
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

}  // namespace threadsd::store
