// A change to the catalog made through another process (the command line here) is seen by
// the very next request of every kind, on both stores. The PostgreSQL store answers keys
// and agents from memory and checks the catalog's generation with each request's own
// statement (store/postgres/pg_store.hpp); each case here fills that memory first, so the
// request right after the change is the one that has to notice it.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "support/demo_server.hpp"
#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"
#include "support/thread_calls.hpp"

namespace threadsd::test {
namespace {

namespace json = boost::json;

/// The suite fixture: one server for every test.
using FreshnessServer = SuiteState<DemoServerState>;

/// A create body for `agent`, with metadata.
std::string body_for(const std::string& agent) {
    return create_body(agent, R"("metadata":{"a":"1"})");
}

/// An import file of one agent of the demo organization, with one version.
std::string one_agent(const std::string& agent, const std::string& version, bool published,
                      bool deleted) {
    auto element = import_agent(agent, demo::kOrganization, "Freshness",
                                json::array{import_version(version, 1, published)});
    element["deleted"] = deleted;
    return json::serialize(json::array{element});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(catalog_freshness_http, *boost::unit_test::fixture<FreshnessServer>())

BOOST_AUTO_TEST_CASE(a_revoked_key_is_refused_by_the_next_request_of_every_kind) {
    auto& fixture = FreshnessServer::get();
    HttpClient client(fixture.server.port());
    const auto thread = create_thread_ok(client, fixture.key, body_for(demo::kSupportBot));
    const std::string id = text_field(thread, "id");

    // Each request is refused with the key's own 401, before anything else about it is
    // looked at: not the 400 of its body, nor the 404 of its agent.
    const std::vector<std::pair<std::string, std::function<HttpResult(const std::string&)>>>
        requests{
            {"get", [&](const std::string& key) { return get_thread(client, key, id); }},
            {"list", [&](const std::string& key) { return list_threads(client, key, "limit=5"); }},
            {"patch",
             [&](const std::string& key) {
                 return patch_thread(client, key, id, R"({"metadata":{"k":"v"}})");
             }},
            {"close",
             [&](const std::string& key) {
                 return close_thread(client, key, id, std::string(R"({"reason":"DONE"})"));
             }},
            {"create",
             [&](const std::string& key) {
                 return client.post_json("/api/v1/threads/web", body_for(demo::kSupportBot), key);
             }},
            {"create with a malformed body",
             [&](const std::string& key) {
                 return client.post_json("/api/v1/threads/web", "{", key);
             }},
            {"create for an unknown agent",
             [&](const std::string& key) {
                 return client.post_json("/api/v1/threads/web",
                                         body_for("99999999-9999-4999-8999-999999999999"), key);
             }},
        };
    for (const auto& [name, request] : requests) {
        BOOST_TEST_CONTEXT(name) {
            const auto key = create_demo_key(fixture.db);
            get_thread_ok(client, key, id);  // the key is now known to the server
            run_ok({"keys", "revoke", key_id_of(fixture.db, key), "--db", fixture.db});
            check_error(request(key), 401, "UNAUTHORIZED", "revoked");
        }
    }
    // The thread was neither patched nor closed.
    const auto after = get_thread_ok(client, fixture.key, id);
    BOOST_TEST(after.at("isActive").as_bool());
    BOOST_TEST(json::serialize(after.at("metadata")) == R"({"a":"1"})");
}

BOOST_AUTO_TEST_CASE(a_key_over_its_rate_limit_then_revoked_gets_401_not_429) {
    auto& fixture = FreshnessServer::get();
    HttpClient client(fixture.server.port());
    const auto key = create_key(fixture.db, demo::kOrganization, {"--rate", "1"});
    const auto thread = create_thread_ok(client, key, body_for(demo::kSupportBot));
    run_ok({"keys", "revoke", key_id_of(fixture.db, key), "--db", fixture.db});
    check_error(get_thread(client, key, text_field(thread, "id")), 401, "UNAUTHORIZED", "revoked");
}

BOOST_AUTO_TEST_CASE(an_agent_changed_by_an_import_is_seen_by_the_next_create) {
    auto& fixture = FreshnessServer::get();
    HttpClient client(fixture.server.port());
    const std::string agent = "5e1f0a00-2222-4a2b-8c3d-000000000001";
    const std::string version = "5e1f0a00-2222-4a2b-8c3d-0000000000a1";
    const std::string file = fixture.dir.file("freshness.json");
    const auto create = [&] {
        return client.post_json("/api/v1/threads/web", body_for(agent), fixture.key);
    };

    import_agents(fixture.db, file, one_agent(agent, version, true, false));
    BOOST_TEST(text_field(thread_from(create()), "agentVersionId") == version);

    import_agents(fixture.db, file, one_agent(agent, version, false, false));
    check_error(create(), 409, "CONFLICT", "no published version");

    import_agents(fixture.db, file, one_agent(agent, version, true, true));
    check_error(create(), 404, "NOT_FOUND", "agentId");

    import_agents(fixture.db, file, one_agent(agent, version, true, false));
    BOOST_TEST(text_field(thread_from(create()), "agentVersionId") == version);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
