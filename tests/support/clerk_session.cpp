#include "support/clerk_session.hpp"

#include <ctime>

#include "support/files.hpp"

namespace threadsd::test {

namespace json = boost::json;

const TestRsaKey& clerk_key() {
    static const TestRsaKey key;
    return key;
}

std::int64_t now_seconds() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

json::object header_for(const char* kid) {
    return {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}};
}

json::object session_claims(const char* clerk_organization) {
    const auto now = now_seconds();
    return {{"iss", kClerkIssuer}, {"sub", "user_2abc"},
            {"azp", kClerkApp},    {"sid", "sess_2abc"},
            {"iat", now - 5},      {"nbf", now - 5},
            {"exp", now + 60},     {"o", {{"id", clerk_organization}, {"rol", "admin"}}}};
}

std::string session_token(const json::object& claims) {
    return signed_token(clerk_key(), header_for("ins_1"), claims);
}

std::vector<std::string> clerk_serve_options(const std::filesystem::path& jwks) {
    write_file(jwks, jwks_document({{"ins_1", &clerk_key()}}));
    return {"--clerk-jwks",
            jwks.string(),
            "--clerk-issuer",
            kClerkIssuer,
            "--clerk-authorized-parties",
            std::string("https://admin.threadsd.test,") + kClerkApp};
}

}  // namespace threadsd::test
