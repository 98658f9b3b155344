#include "threadsd/util/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace threadsd::util {
namespace {

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

Sha256Digest sha256(std::string_view bytes) {
    thread_local Sha256 sha;
    Sha256Digest digest{};
    unsigned int length = 0;
    if (EVP_DigestInit_ex2(sha.context, sha.md, nullptr) != 1 ||
        EVP_DigestUpdate(sha.context, bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(sha.context, digest.data(), &length) != 1 || length != digest.size()) {
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
    return digest;
}

}  // namespace threadsd::util
