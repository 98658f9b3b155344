#include "support/jwt_maker.hpp"

#include "support/require.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json/serialize.hpp>

namespace threadsd::test {

namespace json = boost::json;

namespace {

/// The bytes of a big number parameter of `key`, big-endian.
std::string bignum_bytes(EVP_PKEY* key, const char* name) {
    BIGNUM* number = nullptr;
    require(EVP_PKEY_get_bn_param(key, name, &number) == 1, "EVP_PKEY_get_bn_param failed");
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
    BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(number);
    return bytes;
}

/// The signed part of a token: base64url header, a dot, base64url claims.
std::string signing_input(const json::object& header, const json::object& claims) {
    return base64url(json::serialize(header)) + "." + base64url(json::serialize(claims));
}

}  // namespace

std::string base64url(std::string_view bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(length));
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    for (auto& c : text) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return text;
}

TestRsaKey::TestRsaKey(int bits) : key_(EVP_RSA_gen(static_cast<unsigned>(bits)), &EVP_PKEY_free) {
    require(key_ != nullptr, "EVP_RSA_gen failed");
}

std::string TestRsaKey::public_pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    require(PEM_write_bio_PUBKEY(bio.get(), key_.get()) == 1, "PEM_write_bio_PUBKEY failed");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

json::object TestRsaKey::jwk(const std::string& kid) const {
    return {{"kty", "RSA"},
            {"use", "sig"},
            {"alg", "RS256"},
            {"kid", kid},
            {"n", base64url(bignum_bytes(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", base64url(bignum_bytes(key_.get(), OSSL_PKEY_PARAM_RSA_E))}};
}

std::string TestRsaKey::sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    require(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1,
            "EVP_DigestSignInit failed");
    std::size_t size = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    require(EVP_DigestSign(context.get(), nullptr, &size, bytes, data.size()) == 1,
            "EVP_DigestSign failed");
    std::string signature(size, '\0');
    require(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                           bytes, data.size()) == 1,
            "EVP_DigestSign failed");
    signature.resize(size);
    return signature;
}

std::string signed_token(const TestRsaKey& key, const json::object& header,
                         const json::object& claims) {
    const auto input = signing_input(header, claims);
    return input + "." + base64url(key.sign(input));
}

std::string hs256_token(std::string_view secret, const json::object& header,
                        const json::object& claims) {
    const auto input = signing_input(header, claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t size = 0;
    require(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof mac, &size) != nullptr,
            "EVP_Q_mac failed");
    return input + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac), size));
}

std::string unsigned_token(const json::object& header, const json::object& claims) {
    return signing_input(header, claims) + ".";
}

std::string jwks_document(const std::vector<std::pair<std::string, const TestRsaKey*>>& keys) {
    json::array entries;
    for (const auto& [kid, key] : keys) {
        entries.push_back(key->jwk(kid));
    }
    return json::serialize(json::object{{"keys", std::move(entries)}});
}

}  // namespace threadsd::test
