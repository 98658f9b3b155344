// The catalog generation (migration 0003) moves whenever keys, agents or versions change,
// and only then: the server's key and agent cache relies on both halves.

#include "threadsd/store/sqlite/catalog.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

#include "support/store_fixture.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/sqlite/admin.hpp"
#include "threadsd/store/sqlite/migrations.hpp"

namespace {

using threadsd::store::DemoSeed;
using threadsd::store::sqlite::Catalog;
using threadsd::test::StoreFixture;
namespace demo = threadsd::test::demo;

constexpr const char* kImport = R"([
  {"id": "a1a1a1a1-1111-4111-8111-000000000001", "organizationId": "aaaaaaaa-0000-4000-8000-000000000001",
   "name": "One", "agentType": "TEXT",
   "versions": [{"id": "e1e1e1e1-1111-4111-8111-000000000011", "version": 1, "name": "v1",
                 "mode": "PROMPT", "published": true}]}
])";

}  // namespace

BOOST_AUTO_TEST_SUITE(store_catalog)

BOOST_AUTO_TEST_CASE(the_generation_moves_with_every_key_and_agent_change) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    Catalog catalog(c);
    auto last = catalog.generation();
    const auto moved = [&](const char* what) {
        const auto now = catalog.generation();
        BOOST_TEST(now > last, what << ": generation " << now << " after " << last);
        last = now;
    };

    const auto key = threadsd::store::sqlite::create_api_key(c, demo::kOrganization, "k");
    moved("key created");
    threadsd::store::sqlite::revoke_api_key(c, key.id);
    moved("key revoked");
    threadsd::store::sqlite::apply_agent_import(c, threadsd::test::parse_import_ok(kImport));
    moved("agents imported");
    c.exec(
        "UPDATE agent_versions SET published = 0 WHERE agent_id = 'a1a1a1a1-1111-4111-8111-"
        "000000000001'");
    moved("version unpublished by plain SQL");
    c.exec(std::string("UPDATE agents SET deleted = 1 WHERE id = '") + demo::kBooker + "'");
    moved("agent deleted by plain SQL");
    c.exec("DELETE FROM api_keys");
    moved("keys deleted by plain SQL");
}

BOOST_AUTO_TEST_CASE(writing_threads_leaves_the_generation_alone) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    Catalog catalog(c);
    const auto before = catalog.generation();
    c.exec(
        std::string("INSERT INTO threads (id, organization_id, agent_id, agent_version_id,"
                    " created_at, updated_at) VALUES ('019ad1c0-0000-7000-8000-000000000001', '") +
        demo::kOrganization + "', '" + demo::kSupportBot + "', '" + demo::kSupportBotV2 +
        "', 1, 1)");
    c.exec("UPDATE threads SET is_active = 0, closed_at = 2");
    c.exec("UPDATE organizations SET name = 'renamed'");
    BOOST_TEST(catalog.generation() == before);
}

BOOST_AUTO_TEST_SUITE_END()
