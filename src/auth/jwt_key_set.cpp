#include "threadsd/auth/jwt_key_set.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>

#include <fstream>
#include <mutex>
#include <sstream>

#include "threadsd/util/log.hpp"
#include "threadsd/util/text.hpp"

namespace threadsd::auth {

namespace json = boost::json;

namespace {

/// Shorter RSA keys are refused: 2048 bits is the floor of current guidance, and Clerk's
/// keys are 2048 bits.
constexpr int kMinimumRsaBits = 2048;

/// Throws unless `key` is an RSA key of at least kMinimumRsaBits.
PublicKey require_strong_rsa(PublicKey key, const std::string& what) {
    if (!key || EVP_PKEY_is_a(key.get(), "RSA") != 1) {
        throw KeyFileError(what + " is not an RSA public key");
    }
    if (EVP_PKEY_get_bits(key.get()) < kMinimumRsaBits) {
        throw KeyFileError(what + " is shorter than " + std::to_string(kMinimumRsaBits) + " bits");
    }
    return key;
}

/// An RSA public key from a JWK's base64url `n` and `e`; null when they are not that.
PublicKey rsa_key_from_jwk(const json::object& jwk) {
    const auto* n = jwk.if_contains("n");
    const auto* e = jwk.if_contains("e");
    if (n == nullptr || e == nullptr || !n->is_string() || !e->is_string()) {
        return nullptr;
    }
    const auto modulus = decode_base64url(n->as_string());
    const auto exponent = decode_base64url(e->as_string());
    if (!modulus || !exponent || modulus->empty() || exponent->empty()) {
        return nullptr;
    }
    using Bignum = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
    const Bignum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(modulus->data()),
                                static_cast<int>(modulus->size()), nullptr),
                      &BN_free);
    const Bignum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(exponent->data()),
                                static_cast<int>(exponent->size()), nullptr),
                      &BN_free);
    // An exponent of 1 (no encryption at all) or an even one is not an RSA key.
    if (bn_e && (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()))) {
        return nullptr;
    }
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                            &OSSL_PARAM_BLD_free);
    if (!bn_n || !bn_e || !builder ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return nullptr;
    }
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
        OSSL_PARAM_BLD_to_param(builder.get()), &OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return nullptr;
    }
    return adopt_public_key(key);
}

/// The whole file, or KeyFileError.
std::string read_key_file(const std::string& path) {
    auto text = util::read_file(path);
    if (!text) {
        throw KeyFileError("cannot read " + path);
    }
    return std::move(*text);
}

}  // namespace

PublicKey parse_public_key_pem(std::string_view pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) {
        throw KeyFileError("out of memory reading a PEM key");
    }
    auto key = adopt_public_key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();  // A failed parse leaves errors on the thread's queue.
    if (!key) {
        throw KeyFileError("the PEM text is not a public key (-----BEGIN PUBLIC KEY-----)");
    }
    return require_strong_rsa(std::move(key), "the PEM key");
}

std::unordered_map<std::string, PublicKey> parse_jwks(std::string_view document) {
    boost::system::error_code ec;
    const auto value = json::parse(document, ec);
    const auto* keys = !ec && value.is_object() ? value.as_object().if_contains("keys") : nullptr;
    if (keys == nullptr || !keys->is_array()) {
        throw KeyFileError("not a JWKS document (a JSON object with a \"keys\" array)");
    }
    std::unordered_map<std::string, PublicKey> found;
    for (std::size_t i = 0; i < keys->as_array().size(); ++i) {
        const auto& entry = keys->as_array()[i];
        if (!entry.is_object()) {
            continue;
        }
        const auto& jwk = entry.as_object();
        const auto use = string_member(jwk, "use");
        const auto alg = string_member(jwk, "alg");
        const auto kid = string_member(jwk, "kid");
        if (string_member(jwk, "kty") != "RSA" || (!use.empty() && use != "sig") ||
            (!alg.empty() && alg != "RS256") || kid.empty()) {
            continue;  // Not a key that can verify RS256 tokens by kid.
        }
        auto key = rsa_key_from_jwk(jwk);
        if (!key) {
            throw KeyFileError("keys[" + std::to_string(i) + "] (kid " + kid +
                               ") has no valid RSA modulus and exponent (n, e)");
        }
        found[kid] = require_strong_rsa(std::move(key), "keys[" + std::to_string(i) + "]");
    }
    if (found.empty()) {
        throw KeyFileError("the JWKS has no RSA key for RS256 with a kid");
    }
    return found;
}

JwtKeySet::JwtKeySet(std::string pem_file, std::string jwks_file)
    : pem_file_(std::move(pem_file)), jwks_file_(std::move(jwks_file)) {
    reload_changed(true);
}

JwtKeySet::FileStamp JwtKeySet::stamp_of(const std::string& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        return {};
    }
    return {
        static_cast<std::uint64_t>(status.st_dev), static_cast<std::uint64_t>(status.st_ino),
        static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 + status.st_mtim.tv_nsec,
        static_cast<std::int64_t>(status.st_size)};
}

void JwtKeySet::reload_changed(bool initial) {
    // The common case costs two stats and a shared lock; lookups never wait on a reload.
    if (!initial) {
        const auto pem_now = stamp_of_configured(pem_file_);
        const auto jwks_now = stamp_of_configured(jwks_file_);
        std::shared_lock read(mutex_);
        if (pem_now == pem_stamp_ && jwks_now == jwks_stamp_) {
            return;
        }
    }
    // One reload at a time; stat again under it, so a thread with an older stat cannot
    // read the file again after another thread already did.
    std::lock_guard reloading(reload_mutex_);
    const auto pem_now = stamp_of_configured(pem_file_);
    const auto jwks_now = stamp_of_configured(jwks_file_);
    FileStamp pem_tried;
    FileStamp jwks_tried;
    {
        std::shared_lock read(mutex_);
        pem_tried = pem_stamp_;
        jwks_tried = jwks_stamp_;
    }
    // Read and parse outside the lock; then swap the new keys in. A file that cannot be
    // used is not read again (nor logged again) until it changes once more.
    const auto load = [initial](const std::string& path, const FileStamp& now,
                                const FileStamp& tried, const auto& parse) {
        if (path.empty() || (!initial && now == tried)) {
            return false;
        }
        try {
            parse(read_key_file(path));
            if (!initial) {
                util::log_info("read the changed key file " + path);
            }
            return true;
        } catch (const KeyFileError& error) {
            if (initial) {
                throw KeyFileError(path + ": " + error.what());
            }
            util::log_error(path + " changed but cannot be used (" + error.what() +
                            "); the keys read before stay in use");
            return false;
        }
    };
    PublicKey pem_key;
    std::unordered_map<std::string, PublicKey> jwks_keys;
    const bool new_pem = load(pem_file_, pem_now, pem_tried, [&pem_key](const std::string& text) {
        pem_key = parse_public_key_pem(text);
    });
    const bool new_jwks =
        load(jwks_file_, jwks_now, jwks_tried,
             [&jwks_keys](const std::string& text) { jwks_keys = parse_jwks(text); });
    std::unique_lock write(mutex_);
    pem_stamp_ = pem_now;
    jwks_stamp_ = jwks_now;
    if (new_pem) {
        pem_key_ = std::move(pem_key);
    }
    if (new_jwks) {
        jwks_keys_ = std::move(jwks_keys);
    }
    if (new_pem || new_jwks) {
        generation_.fetch_add(1, std::memory_order_release);
    }
}

JwtKeySet::FileStamp JwtKeySet::stamp_of_configured(const std::string& path) {
    return path.empty() ? FileStamp{} : stamp_of(path);
}

PublicKey JwtKeySet::find(std::string_view kid) {
    std::shared_lock read(mutex_);
    // With a JWKS, a kid must be in it: removing a key from the JWKS revokes it, whatever
    // the PEM file holds. The PEM key serves tokens without a kid, and, when it is the only
    // file, tokens of any kid (Clerk's PEM key comes without one).
    if (!kid.empty() && !jwks_file_.empty()) {
        const auto it = jwks_keys_.find(std::string(kid));
        return it != jwks_keys_.end() ? it->second : nullptr;
    }
    return pem_key_;
}

}  // namespace threadsd::auth
