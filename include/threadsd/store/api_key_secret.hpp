#pragma once
// How API keys are made and what the store keeps of them: the SHA-256, never the key.

#include <string>
#include <string_view>

#include "threadsd/util/sha256.hpp"

namespace threadsd::store {

/// SHA-256 of an API key: what the store keeps and looks keys up by.
using SecretHash = util::Sha256Digest;

/// A freshly generated key, shown once to whoever created it.
struct GeneratedKey {
    std::string secret;  ///< `thd_` + 43 base64url characters (256 random bits).
    std::string prefix;  ///< The first 12 characters, safe to list and log.
    SecretHash hash;     ///< SHA-256 of `secret`.
};

/// Makes a new key from OpenSSL's CSPRNG.
GeneratedKey generate_api_key();

/// SHA-256 of `secret`.
SecretHash hash_api_key(std::string_view secret);

}  // namespace threadsd::store
