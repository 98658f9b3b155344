// Clerk session tokens (Authorization: Bearer) against the real binary: the tests make
// their own RSA keys and sign their own tokens, write the JWKS or PEM file threadsd reads,
// and map Clerk organizations with `threadsd clerk map`.

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/clerk_session.hpp"
#include "support/error_envelope.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/jwt_maker.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using boost::beast::http::verb;

constexpr const char* kClerkDemo = "org_2demo";
constexpr const char* kClerkOther = "org_2other";
constexpr const char* kClerkUnmapped = "org_2nobody";
// A second threadsd organization with an agent of its own.
constexpr const char* kSecondOrganization = "8e5a0000-0000-4000-8000-0000000000c7";
constexpr const char* kSecondAgent = "8e5a0000-0000-4000-8000-00000000a0c7";

/// A second signing key, made once.
const TestRsaKey& rotated_key() {
    static const TestRsaKey key;
    return key;
}

/// Claims of a session token of the demo organization's Clerk organization, valid now.
json::object session_claims() {
    return threadsd::test::session_claims(kClerkDemo);
}
using threadsd::test::session_claims;

/// A token of session_claims().
std::string session_token() {
    return threadsd::test::session_token(session_claims());
}
using threadsd::test::session_token;

/// Replaces `path` whole, as an operator should (write, then rename over it).
void replace_file(const fs::path& path, const std::string& content) {
    const auto temporary = path.string() + ".new";
    write_file(temporary, content);
    fs::rename(temporary, path);
}

/// A demo store with a second organization, Clerk organizations mapped to both, a JWKS
/// holding clerk_key() as ins_1, and threadsd serving with Clerk verification.
struct ClerkServer {
    /// `extra` options for serve; `with_pem` adds rotated_key() as --clerk-public-key.
    explicit ClerkServer(std::vector<std::string> extra = {}, bool with_pem = false) {
        import_agents(
            db, dir.file("agents.json"),
            json::serialize(json::array{import_agent(
                kSecondAgent, kSecondOrganization, "Second bot",
                json::array{import_version("8e5a0000-0000-4000-8000-00000000c0c7", 1, true)})}));
        run_ok({"clerk", "map", kClerkDemo, "--org", demo::kOrganization, "--db", db});
        run_ok({"clerk", "map", kClerkOther, "--org", kSecondOrganization, "--db", db});
        auto options = clerk_serve_options(jwks);
        if (with_pem) {
            write_file(dir.path() / "clerk.pem", rotated_key().public_pem());
            options.push_back("--clerk-public-key");
            options.push_back(dir.file("clerk.pem"));
        }
        options.insert(options.end(), extra.begin(), extra.end());
        server.emplace(db, options);
    }

    /// POST a create of `agent` with `Authorization: Bearer token`.
    HttpResult create_with(const std::string& token, const char* agent = demo::kSupportBot) {
        HttpClient client(server->port());
        return client.request(
            verb::post, kCreatePath, create_body(agent),
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    }

    TempDir dir;                                  ///< Store and key files.
    std::string db = new_store(dir, "clerk.db");  ///< The store.
    std::string key = create_demo_key(db);        ///< An API key of the demo organization.
    fs::path jwks = dir.path() / "jwks.json";     ///< The JWKS file threadsd reads.
    std::optional<ServerProcess> server;          ///< threadsd.
};

/// The organizationId of a 200 create.
std::string organization_of(const HttpResult& created) {
    BOOST_TEST_REQUIRE(created.status() == 200u, created.message.body());
    return std::string(created.json().at("thread").at("organizationId").as_string());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bearer_tokens)

BOOST_AUTO_TEST_CASE(a_clerk_token_acts_for_the_mapped_organization) {
    ClerkServer clerk;
    const auto token = session_token();
    const auto created = clerk.create_with(token);
    BOOST_TEST(organization_of(created) == demo::kOrganization);

    // The thread reads back with the same token, and lists with it.
    HttpClient client(clerk.server->port());
    const std::string id(created.json().at("thread").at("id").as_string());
    const Headers bearer{{"Authorization", "Bearer " + token}};
    BOOST_TEST(client.request(verb::get, "/api/v1/threads/" + id, std::nullopt, bearer).status() ==
               200u);
    BOOST_TEST(client.request(verb::get, "/api/v1/threads", std::nullopt, bearer).status() == 200u);
    // The scheme is case-insensitive (RFC 9110 11.1).
    BOOST_TEST(client
                   .request(verb::get, "/api/v1/threads/" + id, std::nullopt,
                            {{"Authorization", "bearer " + token}})
                   .status() == 200u);

    // Clerk's older claim form, org_id, names the organization too.
    auto older = session_claims();
    older.erase("o");
    older["org_id"] = kClerkOther;
    BOOST_TEST(organization_of(clerk.create_with(session_token(older), kSecondAgent)) ==
               kSecondOrganization);
}

BOOST_AUTO_TEST_CASE(every_refusal_is_a_401_that_says_what_failed_and_never_shows_the_token) {
    ClerkServer clerk;
    const auto now = now_seconds();
    /// One refused token and what its 401 must say.
    struct Refusal {
        std::string what;     ///< The case.
        std::string token;    ///< What is sent after "Bearer ".
        std::string message;  ///< Part of the 401's message.
    };
    std::vector<Refusal> refusals;
    const auto with = [](json::object claims, const char* name, json::value value) {
        claims[name] = std::move(value);
        return claims;
    };
    refusals.push_back(
        {"expired", session_token(with(session_claims(), "exp", now - 60)), "expired"});
    refusals.push_back({"not yet valid", session_token(with(session_claims(), "nbf", now + 600)),
                        "not valid yet"});
    refusals.push_back({"wrong issuer",
                        session_token(with(session_claims(), "iss", "https://evil.test")),
                        "issuer"});
    refusals.push_back({"unlisted azp",
                        session_token(with(session_claims(), "azp", "https://evil.test")),
                        "authorized party"});
    {
        const auto token = session_token();
        const auto first_dot = token.find('.');
        const auto second_dot = token.find('.', first_dot + 1);
        refusals.push_back({"tampered payload",
                            token.substr(0, first_dot + 1) +
                                base64url(json::serialize(session_claims(kClerkOther))) +
                                token.substr(second_dot),
                            "signature"});
        auto tampered = token;
        tampered[second_dot + 5] = tampered[second_dot + 5] == 'A' ? 'B' : 'A';
        refusals.push_back({"tampered signature", tampered, "signature"});
    }
    refusals.push_back({"alg none",
                        unsigned_token({{"alg", "none"}, {"kid", "ins_1"}}, session_claims()),
                        "RS256"});
    refusals.push_back({"HS256 keyed with the public key",
                        hs256_token(clerk_key().public_pem(), {{"alg", "HS256"}, {"kid", "ins_1"}},
                                    session_claims()),
                        "RS256"});
    refusals.push_back({"unknown kid",
                        signed_token(rotated_key(), header_for("ins_2"), session_claims()),
                        "unknown key"});
    refusals.push_back(
        {"unmapped organization", session_token(session_claims(kClerkUnmapped)), "not mapped"});
    {
        auto claims = session_claims();
        claims.erase("o");
        refusals.push_back(
            {"no organization claim", session_token(claims), "no active organization"});
        auto anonymous = session_claims();
        anonymous.erase("sub");
        refusals.push_back({"no subject", session_token(anonymous), "no subject"});
    }
    refusals.push_back({"malformed", "not.a.jwt", "malformed"});
    refusals.push_back({"empty", "", "needs a token"});

    HttpClient client(clerk.server->port());
    for (const auto& refusal : refusals) {
        BOOST_TEST_CONTEXT(refusal.what) {
            const auto response =
                client.request(verb::post, kCreatePath, create_body(demo::kSupportBot),
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer " + refusal.token}});
            check_error(response, 401, "UNAUTHORIZED", refusal.message);
            if (refusal.token.size() > 8) {
                BOOST_TEST(response.message.body().find(refusal.token.substr(0, 20)) ==
                           std::string::npos);
            }
        }
    }
    check_error(client.request(verb::get, "/api/v1/threads", std::nullopt,
                               {{"Authorization", "Basic dXNlcjpwYXNz"}}),
                401, "UNAUTHORIZED", "Bearer scheme");
    check_error(client.request(verb::get, "/api/v1/threads", std::nullopt, {}), 401, "UNAUTHORIZED",
                "Authorization: Bearer");

    // Nothing of any token reaches the logs.
    clerk.server->signal(SIGTERM);
    BOOST_TEST_REQUIRE(clerk.server->wait_exit(20) == 0);
    const auto logs = clerk.server->stdout_text() + clerk.server->stderr_text();
    // Each part of each token (header, claims, signature) is looked for on its own.
    for (const auto& refusal : refusals) {
        std::string_view rest = refusal.token;
        while (!rest.empty()) {
            const auto dot = rest.find('.');
            const auto part = rest.substr(0, dot);
            if (part.size() >= 16) {
                BOOST_TEST(logs.find(part.substr(0, 16)) == std::string::npos,
                           refusal.what << " shows in the log");
            }
            rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_key_added_to_the_jwks_is_used_without_a_restart) {
    ClerkServer clerk;
    const auto rotated = signed_token(rotated_key(), header_for("ins_2"), session_claims());
    check_error(clerk.create_with(rotated), 401, "UNAUTHORIZED", "unknown key");

    // Rotation: the new key joins the set, then the old one leaves it.
    replace_file(clerk.jwks, jwks_document({{"ins_1", &clerk_key()}, {"ins_2", &rotated_key()}}));
    BOOST_TEST(organization_of(clerk.create_with(rotated)) == demo::kOrganization);
    BOOST_TEST(clerk.create_with(session_token()).status() == 200u);
    replace_file(clerk.jwks, jwks_document({{"ins_2", &rotated_key()}}));
    check_error(clerk.create_with(session_token()), 401, "UNAUTHORIZED", "unknown key");
    BOOST_TEST(clerk.create_with(rotated).status() == 200u);

    // A changed file that cannot be used is logged, and the keys read before stay.
    replace_file(clerk.jwks, "{\"keys\": \"truncated");
    BOOST_TEST(clerk.create_with(rotated).status() == 200u);
    BOOST_TEST(
        clerk.server->stderr_text().find("the keys read before stay in use") != std::string::npos,
        clerk.server->stderr_text());
}

BOOST_AUTO_TEST_CASE(tokens_checked_from_many_connections_while_the_keys_rotate) {
    // Several I/O threads verify, remember and look up tokens while the key file changes
    // under them (the TSan run of this suite watches the key set and the remembered tokens).
    ClerkServer clerk({"--workers", "4"});
    std::atomic<bool> stop{false};
    std::atomic<int> answered{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) {
        clients.emplace_back([&, i] {
            HttpClient client(clerk.server->port());
            auto claims = session_claims();
            claims["sub"] = "user_" + std::to_string(i);
            const auto remembered = session_token(claims);
            for (int n = 0; !stop.load(); ++n) {
                // Alternate a token seen before with one never seen.
                claims["sid"] = "sess_" + std::to_string(n);
                const auto token = n % 2 == 0 ? remembered : session_token(claims);
                const auto status = client
                                        .request(verb::get, "/api/v1/threads?limit=1", std::nullopt,
                                                 {{"Authorization", "Bearer " + token}})
                                        .status();
                (status == 200u ? answered : refused).fetch_add(1);
            }
        });
    }
    // Every version of the file keeps ins_1, so every request must pass.
    for (int round = 0; round < 20; ++round) {
        replace_file(clerk.jwks, round % 2 == 0 ? jwks_document({{"ins_1", &clerk_key()},
                                                                 {"ins_2", &rotated_key()}})
                                                : jwks_document({{"ins_1", &clerk_key()}}));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop = true;
    for (auto& client : clients) {
        client.join();
    }
    BOOST_TEST(refused.load() == 0);
    BOOST_TEST(answered.load() > 20);
}

BOOST_AUTO_TEST_CASE(a_token_used_again_expires_on_time) {
    // threadsd remembers verified tokens; a remembered one must still expire.
    ClerkServer clerk({"--clerk-leeway", "0"});
    auto claims = session_claims();
    const auto expiry = now_seconds() + 2;
    claims["exp"] = expiry;
    const auto token = session_token(claims);
    BOOST_TEST(clerk.create_with(token).status() == 200u);
    BOOST_TEST(clerk.create_with(token).status() == 200u);
    while (now_seconds() < expiry) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    check_error(clerk.create_with(token), 401, "UNAUTHORIZED", "expired");
}

BOOST_AUTO_TEST_CASE(a_pem_key_verifies_tokens_of_any_kid) {
    TempDir dir;
    const auto db = new_store(dir, "pem.db");
    create_demo_key(db);
    run_ok({"clerk", "map", kClerkDemo, "--org", demo::kOrganization, "--db", db});
    const auto pem = dir.file("clerk.pem");
    write_file(pem, clerk_key().public_pem());
    ServerProcess server(db, {"--clerk-public-key", pem, "--clerk-issuer", kClerkIssuer});
    HttpClient client(server.port());
    const Headers json_type{{"Content-Type", "application/json"}};
    for (const char* kid : {"ins_1", "ins_anything"}) {
        const auto token = signed_token(clerk_key(), header_for(kid), session_claims());
        BOOST_TEST(client
                       .request(verb::post, kCreatePath, create_body(demo::kSupportBot),
                                {{"Content-Type", "application/json"},
                                 {"Authorization", "Bearer " + token}})
                       .status() == 200u);
    }
    // No azp allow-list configured: any azp passes.
    auto claims = session_claims();
    claims["azp"] = "https://elsewhere.test";
    BOOST_TEST(client
                   .request(verb::post, kCreatePath, create_body(demo::kSupportBot),
                            {{"Content-Type", "application/json"},
                             {"Authorization", "Bearer " + session_token(claims)}})
                   .status() == 200u);
}

BOOST_AUTO_TEST_CASE(next_to_a_jwks_the_pem_key_serves_only_tokens_without_a_kid) {
    ClerkServer clerk({}, true);  // PEM: rotated_key(); JWKS: clerk_key() as ins_1.
    BOOST_TEST(clerk.create_with(session_token()).status() == 200u);
    BOOST_TEST(clerk.create_with(signed_token(rotated_key(), {{"alg", "RS256"}}, session_claims()))
                   .status() == 200u);
    // A kid that the JWKS does not have is refused, even though the PEM key signed it.
    check_error(
        clerk.create_with(signed_token(rotated_key(), header_for("ins_9"), session_claims())), 401,
        "UNAUTHORIZED", "unknown key");
}

BOOST_AUTO_TEST_CASE(a_bearer_caller_over_its_rate_limit_is_told_about_its_token) {
    ClerkServer clerk({"--rate-limit", "1"});
    const auto token = session_token();
    HttpClient client(clerk.server->port());
    const Headers bearer{{"Authorization", "Bearer " + token}};
    std::optional<HttpResult> limited;
    for (int i = 0; i < 5 && !limited; ++i) {
        auto response = client.request(verb::get, "/api/v1/threads", std::nullopt, bearer);
        if (response.status() == 429u) {
            limited = std::move(response);
        }
    }
    BOOST_TEST_REQUIRE(limited.has_value());
    // The message names what was sent: a bearer token, not an X-API-Key it never sent.
    check_error(*limited, 429, "TOO_MANY_REQUESTS", "bearer token");
    BOOST_TEST(limited->message.body().find("X-API-Key") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_401_names_both_schemes_in_www_authenticate) {
    ClerkServer clerk;
    HttpClient client(clerk.server->port());
    const auto refused = client.request(verb::get, "/api/v1/threads");
    check_error(refused, 401, "UNAUTHORIZED");
    BOOST_TEST(refused.header("WWW-Authenticate") ==
               R"(ApiKey realm="threadsd", Bearer realm="threadsd")");
    const auto bad_token = client.request(verb::get, "/api/v1/threads", std::nullopt,
                                          {{"Authorization", "Bearer not.a.token"}});
    check_error(bad_token, 401, "UNAUTHORIZED");
    BOOST_TEST(bad_token.header("WWW-Authenticate").find("Bearer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_api_key_wins_over_a_bearer_token) {
    ClerkServer clerk;
    HttpClient client(clerk.server->port());
    // The key is the demo organization's, the token the second one's: the key decides.
    const auto other_token = session_token(session_claims(kClerkOther));
    const auto both = client.request(verb::post, kCreatePath, create_body(demo::kSupportBot),
                                     {{"Content-Type", "application/json"},
                                      {"X-API-Key", clerk.key},
                                      {"Authorization", "Bearer " + other_token}});
    BOOST_TEST(organization_of(both) == demo::kOrganization);
    // A bad key is not rescued by a good token.
    check_error(client.request(verb::post, kCreatePath, create_body(demo::kSupportBot),
                               {{"Content-Type", "application/json"},
                                {"X-API-Key", "thd_wrong"},
                                {"Authorization", "Bearer " + session_token()}}),
                401, "UNAUTHORIZED", "X-API-Key");
}

BOOST_AUTO_TEST_CASE(a_token_sees_only_its_organizations_agents_and_threads) {
    ClerkServer clerk;
    const auto other_token = session_token(session_claims(kClerkOther));
    // The demo organization's agent does not exist for the second organization.
    check_error(clerk.create_with(other_token, demo::kSupportBot), 404, "NOT_FOUND");
    const auto created = clerk.create_with(session_token());
    const std::string id(created.json().at("thread").at("id").as_string());
    HttpClient client(clerk.server->port());
    check_error(client.request(verb::get, "/api/v1/threads/" + id, std::nullopt,
                               {{"Authorization", "Bearer " + other_token}}),
                404, "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(an_unmapped_organization_is_refused_from_the_next_request) {
    ClerkServer clerk;
    BOOST_TEST(clerk.create_with(session_token()).status() == 200u);
    run_ok({"clerk", "unmap", kClerkDemo, "--db", clerk.db});
    check_error(clerk.create_with(session_token()), 401, "UNAUTHORIZED", "not mapped");
    // Mapped again, to the second organization: the same token now acts for it.
    run_ok({"clerk", "map", kClerkDemo, "--org", kSecondOrganization, "--db", clerk.db});
    BOOST_TEST(organization_of(clerk.create_with(session_token(), kSecondAgent)) ==
               kSecondOrganization);
}

BOOST_AUTO_TEST_CASE(without_clerk_settings_bearer_tokens_are_refused_and_keys_work) {
    TempDir dir;
    const auto db = new_store(dir, "plain.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db);
    HttpClient client(server.port());
    check_error(client.request(verb::get, "/api/v1/threads", std::nullopt,
                               {{"Authorization", "Bearer " + session_token()}}),
                401, "UNAUTHORIZED", "not accepted");
    BOOST_TEST(
        client.request(verb::get, "/api/v1/threads", std::nullopt, {{"X-API-Key", key}}).status() ==
        200u);
}

BOOST_AUTO_TEST_CASE(unusable_key_files_stop_serve_with_one_line) {
    TempDir dir;
    const auto db = new_store(dir, "bad.db");
    create_demo_key(db);
    const auto garbage = dir.file("garbage.pem");
    write_file(garbage, "not a key\n");
    const auto weak = dir.file("weak.json");
    const TestRsaKey weak_key(1024);
    write_file(weak, jwks_document({{"weak", &weak_key}}));
    for (const auto& [option, file, says] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"--clerk-public-key", garbage, "not a public key"},
             {"--clerk-jwks", weak, "shorter than 2048 bits"},
             {"--clerk-jwks", dir.file("missing.json"), "cannot read"}}) {
        const auto result = run_threadsd_bounded({"serve", "--listen", "127.0.0.1:0", "--db", db,
                                                  option, file, "--clerk-issuer", kClerkIssuer});
        BOOST_TEST(result.exit_code == 1, option << " " << file);
        BOOST_TEST(result.err.find(says) != std::string::npos, result.err);
        BOOST_TEST(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    }
    const auto no_issuer = run_threadsd_bounded({"serve", "--db", db, "--clerk-jwks", weak});
    BOOST_TEST(no_issuer.exit_code == 2);
    BOOST_TEST(no_issuer.err.find("need --clerk-issuer") != std::string::npos, no_issuer.err);
}

BOOST_AUTO_TEST_CASE(clerk_map_list_and_unmap) {
    TempDir dir;
    const auto db = new_store(dir, "cli.db");
    run_ok({"migrate", "--db", db});
    run_ok({"clerk", "map", "org_2zz", "--org", demo::kOrganization, "--db", db});
    run_ok({"clerk", "map", "org_2aa", "--org", demo::kOrganization, "--db", db});
    const auto listed = json::parse(run_ok({"clerk", "list", "--db", db})).as_array();
    BOOST_TEST_REQUIRE(listed.size() == 2u);
    BOOST_TEST(listed[0].at("clerkOrganizationId").as_string() == "org_2aa");
    BOOST_TEST(listed[0].at("organizationId").as_string() == demo::kOrganization);
    BOOST_TEST(listed[0].as_object().size() == 3u);
    BOOST_TEST(listed[1].at("clerkOrganizationId").as_string() == "org_2zz");

    run_ok({"clerk", "unmap", "org_2zz", "--db", db});
    BOOST_TEST(json::parse(run_ok({"clerk", "list", "--db", db})).as_array().size() == 1u);

    const auto unknown_org = run_threadsd(
        {"clerk", "map", "org_2x", "--org", "8e5a0000-0000-4000-8000-0000000000ff", "--db", db});
    BOOST_TEST(unknown_org.exit_code == 1);
    BOOST_TEST(unknown_org.err.find("unknown organization") != std::string::npos);
    const auto not_mapped = run_threadsd({"clerk", "unmap", "org_2zz", "--db", db});
    BOOST_TEST(not_mapped.exit_code == 1);
    BOOST_TEST(not_mapped.err.find("is not mapped") != std::string::npos);
    const auto bad_id =
        run_threadsd({"clerk", "map", "user_2x", "--org", demo::kOrganization, "--db", db});
    BOOST_TEST(bad_id.exit_code == 2);
    BOOST_TEST(bad_id.err.find("Clerk organization id") != std::string::npos);
    const auto no_org = run_threadsd({"clerk", "map", "org_2x", "--db", db});
    BOOST_TEST(no_org.exit_code == 2);
    BOOST_TEST(no_org.err.find("needs --org") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
