#pragma once
// Makes what a Clerk instance would: RSA key pairs, their PEM and JWKS forms, and signed
// session tokens, with OpenSSL, so the tests need no network and no fixed key material.

#include <openssl/types.h>

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace threadsd::test {

/// Unpadded base64url (RFC 7515 section 2).
std::string base64url(std::string_view bytes);

/// A fresh RSA key pair.
class TestRsaKey {
  public:
    /// Generates a key of `bits` bits.
    explicit TestRsaKey(int bits = 2048);

    /// The public key as `-----BEGIN PUBLIC KEY-----` PEM text.
    std::string public_pem() const;
    /// The public key as a JWK object with `kid`.
    boost::json::object jwk(const std::string& kid) const;
    /// The RS256 signature of `data`.
    std::string sign(std::string_view data) const;

  private:
    std::shared_ptr<EVP_PKEY> key_;  ///< Private and public parts.
};

/// `header.claims.signature` signed with `key` (RS256 whatever `header` says).
std::string signed_token(const TestRsaKey& key, const boost::json::object& header,
                         const boost::json::object& claims);

/// `header.claims.signature` with an HMAC-SHA256 signature under `secret`.
std::string hs256_token(std::string_view secret, const boost::json::object& header,
                        const boost::json::object& claims);

/// `header.claims.` with no signature (alg none).
std::string unsigned_token(const boost::json::object& header, const boost::json::object& claims);

/// A JWKS document with each key under its kid.
std::string jwks_document(const std::vector<std::pair<std::string, const TestRsaKey*>>& keys);

}  // namespace threadsd::test
