#include "threadsd/auth/jwt.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>
#include <set>
#include <string>

#include "support/jwt_maker.hpp"
#include "threadsd/auth/jwt_key_set.hpp"

namespace threadsd::auth {
// For Boost.Test's messages: a failure prints as its sentence.
std::ostream& operator<<(std::ostream& out, TokenFailure failure) {
    return out << token_failure_message(failure);
}
}  // namespace threadsd::auth

namespace {

namespace json = boost::json;
using threadsd::auth::PublicKey;
using threadsd::auth::TokenFailure;
using threadsd::auth::TokenPolicy;
using threadsd::auth::VerifiedToken;
using threadsd::test::TestRsaKey;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr const char* kIssuer = "https://clerk.example.test";

/// The suite's key, made once (RSA key generation is slow under the sanitizers).
const TestRsaKey& jwt_test_key() {
    static const TestRsaKey key;
    return key;
}
/// A second key, never configured.
const TestRsaKey& jwt_other_key() {
    static const TestRsaKey key;
    return key;
}

/// A lookup that knows `kid-1` as jwt_test_key() and nothing else.
PublicKey lookup_test_key(std::string_view kid) {
    static const PublicKey key = threadsd::auth::parse_public_key_pem(jwt_test_key().public_pem());
    return kid == "kid-1" ? key : nullptr;
}

/// An RS256 header naming `kid`.
json::object rs256_header(const char* kid = "kid-1") {
    return {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}};
}

/// Claims of a Clerk session token valid at kNow.
json::object clerk_claims() {
    return {{"iss", kIssuer},
            {"sub", "user_2x"},
            {"azp", "https://app.example.test"},
            {"iat", kNow - 10},
            {"nbf", kNow - 10},
            {"exp", kNow + 60},
            {"o", {{"id", "org_2abc"}, {"rol", "admin"}}}};
}

/// kIssuer, no azp allow-list, 5 s leeway.
TokenPolicy test_policy() {
    return TokenPolicy{kIssuer, {}, std::chrono::seconds(5)};
}

/// verify_token with the suite's key lookup.
std::variant<VerifiedToken, TokenFailure> verify(const std::string& token,
                                                 const TokenPolicy& policy = test_policy(),
                                                 std::int64_t now = kNow) {
    return threadsd::auth::verify_token(token, lookup_test_key, policy, now);
}

/// Why `token` is refused; fails the test when it is accepted.
TokenFailure failure_of(const std::string& token, const TokenPolicy& policy = test_policy(),
                        std::int64_t now = kNow) {
    const auto result = verify(token, policy, now);
    BOOST_TEST_REQUIRE(std::holds_alternative<TokenFailure>(result), "token accepted: " << token);
    return std::get<TokenFailure>(result);
}

/// What `token` gives; fails the test when it is refused.
VerifiedToken accepted(const std::string& token, const TokenPolicy& policy = test_policy(),
                       std::int64_t now = kNow) {
    const auto result = verify(token, policy, now);
    if (const auto* failure = std::get_if<TokenFailure>(&result)) {
        BOOST_FAIL("token refused: " << threadsd::auth::token_failure_message(*failure));
    }
    return std::get<VerifiedToken>(result);
}

/// `claims` signed by jwt_test_key() under kid-1.
std::string good_token(const json::object& claims = clerk_claims()) {
    return threadsd::test::signed_token(jwt_test_key(), rs256_header(), claims);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jwt)

BOOST_AUTO_TEST_CASE(base64url_decodes_only_unpadded_base64url) {
    using threadsd::auth::decode_base64url;
    BOOST_TEST(decode_base64url("").value() == "");
    BOOST_TEST(decode_base64url("YQ").value() == "a");
    BOOST_TEST(decode_base64url("YWI").value() == "ab");
    BOOST_TEST(decode_base64url("YWJj").value() == "abc");
    BOOST_TEST(decode_base64url("-_8").value() == std::string("\xfb\xff"));
    // "YR" and "YWJk" differ from "YQ" and "YWI" only in bits beyond the data: refused, so
    // that no signature has two spellings.
    for (const char* bad :
         {"Y", "YQ=", "YQ==", "a+bc", "a/bc", "ab c", "ab.c", "abcde", "YR", "YWJ", "YWK"}) {
        BOOST_TEST(!decode_base64url(bad).has_value(), bad);
    }
}

BOOST_AUTO_TEST_CASE(a_good_token_gives_its_subject_and_organization_in_both_claim_forms) {
    const auto current = accepted(good_token());
    BOOST_TEST(current.subject == "user_2x");
    BOOST_TEST(current.organization == "org_2abc");
    // Clerk's older session tokens put the active organization in org_id.
    auto older = clerk_claims();
    older.erase("o");
    older["org_id"] = "org_older";
    BOOST_TEST(accepted(good_token(older)).organization == "org_older");
    // Without either, the token is valid but names no organization (refused later).
    auto none = clerk_claims();
    none.erase("o");
    BOOST_TEST(accepted(good_token(none)).organization.empty());
}

BOOST_AUTO_TEST_CASE(only_rs256_is_accepted_whatever_the_header_claims) {
    auto claims = clerk_claims();
    BOOST_TEST(failure_of(threadsd::test::unsigned_token({{"alg", "none"}, {"kid", "kid-1"}},
                                                         claims)) == TokenFailure::kAlgorithm);
    // The classic confusion: HS256 keyed with the RSA public key an attacker can read.
    BOOST_TEST(failure_of(threadsd::test::hs256_token(
                   jwt_test_key().public_pem(), {{"alg", "HS256"}, {"kid", "kid-1"}}, claims)) ==
               TokenFailure::kAlgorithm);
    BOOST_TEST(failure_of(threadsd::test::signed_token(
                   jwt_test_key(), {{"alg", "RS512"}, {"kid", "kid-1"}}, claims)) ==
               TokenFailure::kAlgorithm);
    BOOST_TEST(failure_of(threadsd::test::signed_token(jwt_test_key(), {{"kid", "kid-1"}},
                                                       claims)) == TokenFailure::kAlgorithm);
    auto critical = rs256_header();
    critical["crit"] = json::array{"exp"};
    BOOST_TEST(failure_of(threadsd::test::signed_token(jwt_test_key(), critical, claims)) ==
               TokenFailure::kAlgorithm);
}

BOOST_AUTO_TEST_CASE(the_key_must_be_known_and_the_signature_must_verify) {
    const auto claims = clerk_claims();
    BOOST_TEST(failure_of(threadsd::test::signed_token(jwt_test_key(), rs256_header("kid-2"),
                                                       claims)) == TokenFailure::kUnknownKey);
    // Another key's signature under a known kid.
    BOOST_TEST(failure_of(threadsd::test::signed_token(jwt_other_key(), rs256_header(), claims)) ==
               TokenFailure::kSignature);

    const auto token = good_token();
    const auto first_dot = token.find('.');
    const auto second_dot = token.find('.', first_dot + 1);
    // A payload changed after signing (another organization), the signature kept.
    auto changed = clerk_claims();
    changed["o"] = json::object{{"id", "org_victim"}};
    const auto tampered_payload = token.substr(0, first_dot + 1) +
                                  threadsd::test::base64url(json::serialize(changed)) +
                                  token.substr(second_dot);
    BOOST_TEST(failure_of(tampered_payload) == TokenFailure::kSignature);
    // One character of the signature changed.
    auto tampered_signature = token;
    auto& last = tampered_signature[second_dot + 10];
    last = last == 'A' ? 'B' : 'A';
    BOOST_TEST(failure_of(tampered_signature) == TokenFailure::kSignature);
}

BOOST_AUTO_TEST_CASE(malformed_tokens_are_refused) {
    const auto token = good_token();
    const auto first_dot = token.find('.');
    for (const std::string& bad :
         {std::string(""), std::string("abc"), std::string("a.b"), token + ".x", token + ".",
          std::string("%%%.") + token.substr(first_dot + 1),
          threadsd::test::base64url("not json") + token.substr(first_dot),
          threadsd::test::base64url("[1]") + token.substr(first_dot), token + "!",
          std::string(17 * 1024, 'a')}) {
        BOOST_TEST((failure_of(bad) == TokenFailure::kMalformed), bad.substr(0, 60));
    }
    // A signed payload that is not a JSON object.
    const auto input = threadsd::test::base64url(json::serialize(rs256_header())) + "." +
                       threadsd::test::base64url("[]");
    BOOST_TEST(failure_of(input + "." + threadsd::test::base64url(jwt_test_key().sign(input))) ==
               TokenFailure::kMalformed);
}

BOOST_AUTO_TEST_CASE(times_are_checked_with_the_leeway) {
    auto claims = clerk_claims();
    claims.erase("exp");
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kNoExpiry);
    claims["exp"] = "tomorrow";
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kNoExpiry);

    claims["exp"] = kNow - 4;  // Expired 4 s ago: within the 5 s leeway.
    accepted(good_token(claims));
    claims["exp"] = kNow - 5;
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kExpired);
    claims["exp"] = kNow + 60;

    claims["nbf"] = kNow + 5;
    accepted(good_token(claims));
    claims["nbf"] = kNow + 6;
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kNotYetValid);
    claims["nbf"] = kNow;
    claims["iat"] = kNow + 6;
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kNotYetValid);
    claims["iat"] = "now";
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kMalformed);

    // Extreme values neither overflow nor wrap (UBSan would report it).
    claims["iat"] = kNow;
    claims["nbf"] = std::numeric_limits<std::int64_t>::min();
    claims["exp"] = std::numeric_limits<std::int64_t>::max();
    accepted(good_token(claims));
    claims["exp"] = std::numeric_limits<std::uint64_t>::max();
    accepted(good_token(claims));
    claims["exp"] = std::numeric_limits<std::int64_t>::min();
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kExpired);
    claims["exp"] = kNow + 60;
    claims["nbf"] = std::numeric_limits<std::int64_t>::max();
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kNotYetValid);
    claims["nbf"] = 1e300;
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kMalformed);
    claims["nbf"] = kNow;

    // Leeway 0: exactly at exp is too late.
    claims["iat"] = kNow;
    claims["exp"] = kNow;
    auto strict = test_policy();
    strict.leeway = std::chrono::seconds(0);
    BOOST_TEST(failure_of(good_token(claims), strict) == TokenFailure::kExpired);
    claims["exp"] = kNow + 1;
    accepted(good_token(claims), strict);
}

BOOST_AUTO_TEST_CASE(issuer_and_authorized_party_must_match) {
    auto claims = clerk_claims();
    claims["iss"] = "https://other.example.test";
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kIssuer);
    claims.erase("iss");
    BOOST_TEST(failure_of(good_token(claims)) == TokenFailure::kIssuer);

    auto listed = test_policy();
    listed.authorized_parties = {"https://admin.example.test", "https://app.example.test"};
    accepted(good_token(), listed);
    claims = clerk_claims();
    claims["azp"] = "https://evil.example.test";
    BOOST_TEST(failure_of(good_token(claims), listed) == TokenFailure::kAuthorizedParty);
    claims.erase("azp");
    BOOST_TEST(failure_of(good_token(claims), listed) == TokenFailure::kAuthorizedParty);
    // Without an allow-list, azp is not looked at.
    accepted(good_token(claims));
}

BOOST_AUTO_TEST_CASE(every_failure_has_its_own_message_that_names_the_bearer_token) {
    std::set<std::string> messages;
    for (auto failure :
         {TokenFailure::kMalformed, TokenFailure::kAlgorithm, TokenFailure::kUnknownKey,
          TokenFailure::kSignature, TokenFailure::kNoExpiry, TokenFailure::kExpired,
          TokenFailure::kNotYetValid, TokenFailure::kIssuer, TokenFailure::kAuthorizedParty}) {
        const std::string message(threadsd::auth::token_failure_message(failure));
        BOOST_TEST(message.find("bearer token") == 0u, message);
        messages.insert(message);
    }
    BOOST_TEST(messages.size() == 9u);
}

BOOST_AUTO_TEST_CASE(key_files_accept_strong_rsa_keys_only) {
    using threadsd::auth::KeyFileError;
    using threadsd::auth::parse_jwks;
    using threadsd::auth::parse_public_key_pem;
    BOOST_TEST(parse_public_key_pem(jwt_test_key().public_pem()) != nullptr);
    BOOST_CHECK_THROW(parse_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n"), KeyFileError);
    const TestRsaKey weak(1024);
    BOOST_CHECK_THROW(parse_public_key_pem(weak.public_pem()), KeyFileError);

    auto ec_key = json::object{{"kty", "EC"}, {"kid", "ec"}, {"crv", "P-256"}};
    auto encryption = jwt_other_key().jwk("enc");
    encryption["use"] = "enc";
    auto no_kid = jwt_other_key().jwk("x");
    no_kid.erase("kid");
    const auto keys = parse_jwks(json::serialize(json::object{{"keys", json::array{
                                                                           ec_key,
                                                                           encryption,
                                                                           no_kid,
                                                                           jwt_test_key().jwk("a"),
                                                                           jwt_other_key().jwk("b"),
                                                                       }}}));
    BOOST_TEST(keys.size() == 2u);
    BOOST_TEST(keys.count("a") == 1u);
    BOOST_TEST(keys.count("b") == 1u);

    BOOST_CHECK_THROW(parse_jwks("[]"), KeyFileError);
    BOOST_CHECK_THROW(parse_jwks("{\"keys\": []}"), KeyFileError);
    BOOST_CHECK_THROW(parse_jwks(json::serialize(json::object{{"keys", json::array{ec_key}}})),
                      KeyFileError);
    auto broken = jwt_test_key().jwk("a");
    broken["n"] = "***";
    BOOST_CHECK_THROW(parse_jwks(json::serialize(json::object{{"keys", json::array{broken}}})),
                      KeyFileError);
    BOOST_CHECK_THROW(
        parse_jwks(json::serialize(json::object{{"keys", json::array{weak.jwk("w")}}})),
        KeyFileError);
}

BOOST_AUTO_TEST_SUITE_END()
