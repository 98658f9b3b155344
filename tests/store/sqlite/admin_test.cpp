#include "threadsd/store/sqlite/admin.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/api_key_secret.hpp"
#include "threadsd/store/sqlite/catalog.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"
#include "threadsd/util/clock.hpp"

namespace {

using threadsd::store::AdminError;
using threadsd::store::CreatedApiKey;
using threadsd::store::DemoSeed;
using threadsd::store::sqlite::Catalog;
using threadsd::store::sqlite::Connection;
using threadsd::store::sqlite::create_api_key;
using threadsd::store::sqlite::OpenMode;
using threadsd::test::parse_import_ok;
using threadsd::test::query_int;
using threadsd::test::query_text;
using threadsd::test::read_file;
using threadsd::test::StoreFixture;
namespace demo = threadsd::test::demo;

constexpr const char* kUnknownOrg = "99999999-9999-4999-8999-999999999999";

std::string hex(const threadsd::store::SecretHash& hash) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (const auto byte : hash) {
        out.push_back(kDigits[byte >> 4]);
        out.push_back(kDigits[byte & 0x0f]);
    }
    return out;
}

bool is_base64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_admin)

BOOST_AUTO_TEST_CASE(create_api_key_returns_a_thd_secret_and_stores_only_its_hash) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    const auto before_ms = threadsd::util::unix_millis_now();
    const CreatedApiKey key = create_api_key(c, demo::kOrganization, "ci key");
    const auto after_ms = threadsd::util::unix_millis_now();

    BOOST_TEST(key.secret.rfind("thd_", 0) == 0u, key.secret);
    BOOST_TEST(key.secret.size() == 4u + 43u);
    for (std::size_t i = 4; i < key.secret.size(); ++i) {
        BOOST_TEST(is_base64url(key.secret[i]), "character " << i << " of " << key.secret);
    }
    BOOST_TEST(!key.id.empty());
    BOOST_TEST(key.id != key.secret);

    BOOST_REQUIRE(query_int(c, "SELECT count(*) FROM api_keys") == 1);
    const std::string where = " FROM api_keys WHERE id = '" + key.id + "'";
    BOOST_TEST(query_text(c, "SELECT organization_id" + where) == demo::kOrganization);
    BOOST_TEST(query_text(c, "SELECT name" + where) == "ci key");
    BOOST_TEST(query_text(c, "SELECT prefix" + where) == key.secret.substr(0, 12));
    BOOST_TEST(query_text(c, "SELECT hex(secret_hash)" + where) ==
               hex(threadsd::store::hash_api_key(key.secret)));
    BOOST_TEST(query_text(c, "SELECT typeof(secret_hash)" + where) == "blob");
    BOOST_TEST(query_int(c, "SELECT length(secret_hash)" + where) == 32);
    const auto created_at = query_int(c, "SELECT created_at" + where);
    BOOST_TEST(created_at >= before_ms);
    BOOST_TEST(created_at <= after_ms);
    BOOST_TEST(query_int(c, "SELECT revoked_at IS NULL" + where) == 1);
}

BOOST_AUTO_TEST_CASE(the_secret_is_nowhere_in_the_database_file) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    std::vector<CreatedApiKey> keys;
    for (int i = 0; i < 3; ++i) {
        keys.push_back(create_api_key(c, demo::kOrganization, "key " + std::to_string(i)));
    }

    // Every column of every row, as text and as bytes.
    {
        auto rows = c.prepare(
            "SELECT id, organization_id, name, prefix, CAST(secret_hash AS TEXT), hex(secret_hash),"
            " CAST(created_at AS TEXT), CAST(revoked_at AS TEXT) FROM api_keys");
        int count = 0;
        while (rows.step()) {
            ++count;
            for (int column = 0; column < 8; ++column) {
                const std::string value = rows.text(column);
                for (const auto& key : keys) {
                    BOOST_TEST(value.find(key.secret) == std::string::npos,
                               "column " << column << " holds a secret");
                    // Not even the random part without the "thd_" prefix.
                    BOOST_TEST(value.find(key.secret.substr(4)) == std::string::npos,
                               "column " << column << " holds a secret's random part");
                }
            }
        }
        BOOST_TEST(count == 3);
    }

    // The raw bytes of every file of the store, once the WAL is checkpointed into the
    // main file. The visible prefixes must be found there, which shows the scan sees rows.
    {
        auto checkpoint = c.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
        BOOST_REQUIRE(checkpoint.step());
        BOOST_TEST(checkpoint.integer(0) == 0);  // not busy
    }
    const std::string main_file = read_file(store.path);
    BOOST_REQUIRE(!main_file.empty());
    for (const auto& key : keys) {
        BOOST_TEST(main_file.find(key.secret.substr(0, 12)) != std::string::npos,
                   "prefix of a key missing from the checkpointed file");
        BOOST_TEST(main_file.find(key.secret) == std::string::npos);
        BOOST_TEST(main_file.find(key.secret.substr(4)) == std::string::npos);
    }
    for (const auto& entry : std::filesystem::directory_iterator(store.dir.path())) {
        const std::string bytes = read_file(entry.path());
        for (const auto& key : keys) {
            BOOST_TEST(bytes.find(key.secret.substr(4)) == std::string::npos,
                       entry.path().filename().string() << " holds a secret");
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_organization_gets_no_key) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    BOOST_CHECK_THROW(create_api_key(c, kUnknownOrg, "nope"), AdminError);
    BOOST_CHECK_THROW(create_api_key(c, "", "nope"), AdminError);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM api_keys") == 0);
    BOOST_TEST(!threadsd::store::sqlite::has_any_api_key(c));
    try {
        create_api_key(c, kUnknownOrg, "nope");
    } catch (const AdminError& error) {
        BOOST_TEST(std::string(error.what()).find(kUnknownOrg) != std::string::npos, error.what());
    }
    // The connection is not left inside a transaction: a later key is created.
    create_api_key(c, demo::kOrganization, "yes");
    BOOST_TEST(query_int(c, "SELECT count(*) FROM api_keys") == 1);
}

BOOST_AUTO_TEST_CASE(list_api_keys_shows_every_key_oldest_first_without_secrets) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    BOOST_TEST(threadsd::store::sqlite::list_api_keys(c).empty());

    // A second organization, so that the listing is not grouped by organization.
    threadsd::store::sqlite::apply_agent_import(
        c, parse_import_ok(
               R"([{"id": "a1a1a1a1-1111-4111-8111-000000000001",
                    "organizationId": "bbbbbbbb-0000-4000-8000-000000000002",
                    "name": "Other", "agentType": "TEXT"}])"));

    std::vector<CreatedApiKey> created;
    std::vector<std::string> orgs;
    for (int i = 0; i < 12; ++i) {
        orgs.push_back(i % 3 == 1 ? "bbbbbbbb-0000-4000-8000-000000000002" : demo::kOrganization);
        created.push_back(create_api_key(c, orgs.back(), "key " + std::to_string(i)));
    }
    const auto listed = threadsd::store::sqlite::list_api_keys(c);
    BOOST_REQUIRE(listed.size() == created.size());
    std::set<std::string> ids;
    for (std::size_t i = 0; i < listed.size(); ++i) {
        BOOST_TEST(listed[i].id == created[i].id, "position " << i);
        BOOST_TEST(listed[i].name == "key " + std::to_string(i));
        BOOST_TEST(listed[i].organization_id == orgs[i]);
        BOOST_TEST(listed[i].prefix == created[i].secret.substr(0, 12));
        BOOST_TEST(!listed[i].revoked_at.has_value());
        if (i > 0) {
            BOOST_TEST(listed[i].created_at >= listed[i - 1].created_at);
        }
        ids.insert(listed[i].id);
    }
    BOOST_TEST(ids.size() == created.size());
}

BOOST_AUTO_TEST_CASE(revoke_sets_revoked_at_once) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    const CreatedApiKey keep = create_api_key(c, demo::kOrganization, "keep");
    const CreatedApiKey revoke = create_api_key(c, demo::kOrganization, "revoke");

    Catalog catalog(c);
    const auto hash = threadsd::store::hash_api_key(revoke.secret);
    {
        const auto found = catalog.find_api_key(hash);
        BOOST_REQUIRE(found.has_value());
        BOOST_TEST(found->id == revoke.id);
        BOOST_TEST(found->organization_id == demo::kOrganization);
        BOOST_TEST(!found->revoked_at.has_value());
    }

    const auto before_ms = threadsd::util::unix_millis_now();
    threadsd::store::sqlite::revoke_api_key(c, revoke.id);
    const auto after_ms = threadsd::util::unix_millis_now();

    const auto listed = threadsd::store::sqlite::list_api_keys(c);
    BOOST_REQUIRE(listed.size() == 2u);
    for (const auto& key : listed) {
        if (key.id == revoke.id) {
            BOOST_REQUIRE(key.revoked_at.has_value());
            BOOST_TEST(*key.revoked_at >= before_ms);
            BOOST_TEST(*key.revoked_at <= after_ms);
        } else {
            BOOST_TEST(key.id == keep.id);
            BOOST_TEST(!key.revoked_at.has_value());
        }
    }
    {
        const auto found = catalog.find_api_key(hash);
        BOOST_REQUIRE(found.has_value());
        BOOST_TEST(found->id == revoke.id);
        BOOST_REQUIRE(found->revoked_at.has_value());
        BOOST_TEST(*found->revoked_at >= before_ms);
    }
    {
        const auto found = catalog.find_api_key(threadsd::store::hash_api_key(keep.secret));
        BOOST_REQUIRE(found.has_value());
        BOOST_TEST(!found->revoked_at.has_value());
    }
    BOOST_TEST(!catalog.find_api_key(threadsd::store::hash_api_key("thd_not-a-key")).has_value());
    BOOST_TEST(!catalog.find_api_key(threadsd::store::hash_api_key(revoke.secret.substr(0, 12)))
                    .has_value());

    // Revoking again is refused and changes nothing.
    const auto revoked_at =
        query_int(c, "SELECT revoked_at FROM api_keys WHERE id = '" + revoke.id + "'");
    BOOST_CHECK_THROW(threadsd::store::sqlite::revoke_api_key(c, revoke.id), AdminError);
    BOOST_TEST(query_int(c, "SELECT revoked_at FROM api_keys WHERE id = '" + revoke.id + "'") ==
               revoked_at);
    BOOST_CHECK_THROW(threadsd::store::sqlite::revoke_api_key(c, kUnknownOrg), AdminError);
    BOOST_CHECK_THROW(threadsd::store::sqlite::revoke_api_key(c, ""), AdminError);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL") == 1);

    // The connection is usable after the refusals.
    threadsd::store::sqlite::revoke_api_key(c, keep.id);
    BOOST_TEST(query_int(c, "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL") == 2);
}

BOOST_AUTO_TEST_CASE(revocation_is_seen_by_another_connection) {
    StoreFixture store(DemoSeed::kWhenCreated);
    const CreatedApiKey key = create_api_key(store.connection, demo::kOrganization, "k");
    Connection reader(store.path, OpenMode::kReadOnly);
    Catalog catalog(reader);
    const auto hash = threadsd::store::hash_api_key(key.secret);
    BOOST_REQUIRE(catalog.find_api_key(hash).has_value());
    BOOST_TEST(!catalog.find_api_key(hash)->revoked_at.has_value());
    threadsd::store::sqlite::revoke_api_key(store.connection, key.id);
    const auto found = catalog.find_api_key(hash);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->revoked_at.has_value());
}

BOOST_AUTO_TEST_CASE(has_any_api_key_counts_revoked_keys_too) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    BOOST_TEST(!threadsd::store::sqlite::has_any_api_key(c));
    const CreatedApiKey key = create_api_key(c, demo::kOrganization, "k");
    BOOST_TEST(threadsd::store::sqlite::has_any_api_key(c));
    threadsd::store::sqlite::revoke_api_key(c, key.id);
    BOOST_TEST(threadsd::store::sqlite::has_any_api_key(c));
}

BOOST_AUTO_TEST_CASE(organization_exists_knows_the_demo_organization) {
    StoreFixture store(DemoSeed::kWhenCreated);
    BOOST_TEST(threadsd::store::sqlite::organization_exists(store.connection, demo::kOrganization));
    BOOST_TEST(!threadsd::store::sqlite::organization_exists(store.connection, kUnknownOrg));
    BOOST_TEST(!threadsd::store::sqlite::organization_exists(store.connection, ""));
    // Ids are stored in canonical lower case.
    BOOST_TEST(!threadsd::store::sqlite::organization_exists(
        store.connection, "0B7C6C8E-5D0A-4C1E-9A57-2F1D3E4A5B60"));

    StoreFixture empty(DemoSeed::kNever);
    BOOST_TEST(
        !threadsd::store::sqlite::organization_exists(empty.connection, demo::kOrganization));
}

BOOST_AUTO_TEST_CASE(list_agents_shows_published_versions_and_deleted_flags) {
    StoreFixture store(DemoSeed::kWhenCreated);
    auto& c = store.connection;
    auto agents = threadsd::store::sqlite::list_agents(c);
    BOOST_REQUIRE(agents.size() == 4u);
    // Ordered by organization, then name.
    BOOST_TEST(agents[0].agent.name == "Appointment booker");
    BOOST_TEST(agents[1].agent.name == "Draft agent");
    BOOST_TEST(agents[2].agent.name == "Front desk voice agent");
    BOOST_TEST(agents[3].agent.name == "Support bot");

    BOOST_TEST(agents[1].agent.id == demo::kDraftAgent);
    BOOST_TEST(!agents[1].published_version_id.has_value());

    BOOST_TEST(agents[3].agent.id == demo::kSupportBot);
    BOOST_TEST(agents[3].agent.organization_id == demo::kOrganization);
    BOOST_TEST(agents[3].agent.agent_type == "TEXT");
    BOOST_REQUIRE(agents[3].agent.description.has_value());
    BOOST_TEST(*agents[3].agent.description == "Answers product questions over web chat");
    BOOST_REQUIRE(agents[3].published_version_id.has_value());
    BOOST_TEST(*agents[3].published_version_id == demo::kSupportBotV2);

    BOOST_TEST(agents[2].agent.id == demo::kVoiceAgent);
    BOOST_TEST(agents[2].agent.agent_type == "CALL");
    BOOST_TEST(!agents[2].agent.description.has_value());
    BOOST_TEST(agents[2].published_version_id.value_or("null") == demo::kVoiceAgentV1);
    for (const auto& listing : agents) {
        BOOST_TEST(!listing.agent.deleted, listing.agent.name);
    }

    // A deleted agent in a second organization ("00..." sorts before the demo org).
    threadsd::store::sqlite::apply_agent_import(
        c, parse_import_ok(
               R"([{"id": "a1a1a1a1-1111-4111-8111-000000000001",
                    "organizationId": "00000000-0000-4000-8000-000000000001",
                    "name": "Retired", "agentType": "CALL", "deleted": true,
                    "versions": [{"id": "e1e1e1e1-1111-4111-8111-000000000011", "version": 4,
                                  "name": "last", "mode": "FLOW", "published": true}]}])"));
    agents = threadsd::store::sqlite::list_agents(c);
    BOOST_REQUIRE(agents.size() == 5u);
    BOOST_TEST(agents[0].agent.name == "Retired");
    BOOST_TEST(agents[0].agent.organization_id == "00000000-0000-4000-8000-000000000001");
    BOOST_TEST(agents[0].agent.deleted);
    BOOST_TEST(agents[0].published_version_id.value_or("null") ==
               "e1e1e1e1-1111-4111-8111-000000000011");
    BOOST_TEST(agents[4].agent.name == "Support bot");
    BOOST_TEST(!agents[4].agent.deleted);
}

BOOST_AUTO_TEST_SUITE_END()
