#pragma once
// Clerk session tokens the tests sign themselves, and the serve options that make threadsd
// verify them against a JWKS file holding the suite's key.

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/jwt_maker.hpp"

namespace threadsd::test {

/// The issuer (`iss`) of every test token, and the one threadsd is told to accept.
inline constexpr const char* kClerkIssuer = "https://clerk.threadsd.test";
/// The authorized party (`azp`) of every test token.
inline constexpr const char* kClerkApp = "https://app.threadsd.test";

/// The signing key published as kid ins_1, made once (RSA generation is slow under the
/// sanitizers).
const TestRsaKey& clerk_key();

/// Seconds since the epoch, as the server's clock reads them.
std::int64_t now_seconds();

/// An RS256 header naming `kid`.
boost::json::object header_for(const char* kid);

/// Claims of a session token of `clerk_organization`, valid for the next minute.
boost::json::object session_claims(const char* clerk_organization);

/// `claims` signed by clerk_key() under kid ins_1.
std::string session_token(const boost::json::object& claims);

/// Writes a JWKS holding clerk_key() as ins_1 to `jwks`; serve's options that verify
/// tokens against it (issuer kClerkIssuer, authorized parties including kClerkApp).
std::vector<std::string> clerk_serve_options(const std::filesystem::path& jwks);

}  // namespace threadsd::test
