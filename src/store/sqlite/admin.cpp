#include "threadsd/store/sqlite/admin.hpp"

#include "threadsd/store/api_key_secret.hpp"
#include "threadsd/store/sqlite/catalog.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::store::sqlite {

bool organization_exists(Connection& connection, const std::string& organization_id) {
    auto statement = connection.prepare("SELECT 1 FROM organizations WHERE id = ?1");
    statement.bind(1, organization_id);
    return statement.step();
}

bool has_any_api_key(Connection& connection) {
    auto statement = connection.prepare("SELECT EXISTS (SELECT 1 FROM api_keys)");
    statement.step();
    return statement.integer(0) != 0;
}

CreatedApiKey create_api_key(Connection& connection, const std::string& organization_id,
                             const std::string& name, std::optional<std::int64_t> rate_limit) {
    Transaction transaction(connection);
    if (!organization_exists(connection, organization_id)) {
        throw AdminError("unknown organization " + organization_id);
    }
    const auto key = store::generate_api_key();
    // One generator for the process, so that keys made within one millisecond still get
    // increasing ids and list_api_keys (created_at, id) shows them oldest first.
    static util::Uuid7Generator ids;
    CreatedApiKey created{ids.next(), key.secret};
    auto insert = connection.prepare(
        "INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, created_at,"
        " rate_limit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert.bind(1, created.id)
        .bind(2, organization_id)
        .bind(3, name)
        .bind(4, key.prefix)
        .bind_blob(5, key.hash.data(), key.hash.size())
        .bind(6, util::unix_millis_now());
    if (rate_limit) {
        insert.bind(7, *rate_limit);
    }
    insert.run();
    transaction.commit();
    return created;
}

std::vector<ApiKeyListing> list_api_keys(Connection& connection) {
    auto statement = connection.prepare(
        "SELECT id, organization_id, name, prefix, created_at, revoked_at, rate_limit"
        "  FROM api_keys"
        " ORDER BY created_at, id");
    std::vector<ApiKeyListing> keys;
    while (statement.step()) {
        keys.push_back({statement.text(0), statement.text(1), statement.text(2), statement.text(3),
                        statement.integer(4), statement.optional_integer(5),
                        statement.optional_integer(6)});
    }
    return keys;
}

void revoke_api_key(Connection& connection, const std::string& key_id) {
    Transaction transaction(connection);
    auto find = connection.prepare("SELECT revoked_at FROM api_keys WHERE id = ?1");
    find.bind(1, key_id);
    if (!find.step()) {
        throw AdminError("unknown API key " + key_id);
    }
    if (!find.is_null(0)) {
        throw AdminError("API key " + key_id + " is already revoked");
    }
    find.reset();
    auto revoke = connection.prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1");
    revoke.bind(1, key_id).bind(2, util::unix_millis_now());
    revoke.run();
    transaction.commit();
}

bool map_clerk_organization(Connection& connection, const std::string& clerk_organization_id,
                            const std::string& organization_id) {
    Transaction transaction(connection);
    if (!organization_exists(connection, organization_id)) {
        throw AdminError("unknown organization " + organization_id);
    }
    auto find =
        connection.prepare("SELECT 1 FROM clerk_organizations WHERE clerk_organization_id = ?1");
    find.bind(1, clerk_organization_id);
    const bool replaced = find.step();
    find.reset();
    auto upsert = connection.prepare(
        "INSERT INTO clerk_organizations (clerk_organization_id, organization_id, created_at)"
        " VALUES (?1, ?2, ?3)"
        " ON CONFLICT (clerk_organization_id) DO UPDATE"
        " SET organization_id = excluded.organization_id, created_at = excluded.created_at");
    upsert.bind(1, clerk_organization_id).bind(2, organization_id).bind(3, util::unix_millis_now());
    upsert.run();
    transaction.commit();
    return replaced;
}

std::vector<ClerkMapping> list_clerk_organizations(Connection& connection) {
    auto statement = connection.prepare(
        "SELECT clerk_organization_id, organization_id, created_at FROM clerk_organizations"
        " ORDER BY clerk_organization_id");
    std::vector<ClerkMapping> mappings;
    while (statement.step()) {
        mappings.push_back({statement.text(0), statement.text(1), statement.integer(2)});
    }
    return mappings;
}

void unmap_clerk_organization(Connection& connection, const std::string& clerk_organization_id) {
    auto remove =
        connection.prepare("DELETE FROM clerk_organizations WHERE clerk_organization_id = ?1");
    remove.bind(1, clerk_organization_id);
    remove.run();
    if (sqlite3_changes(connection.handle()) == 0) {
        throw AdminError("Clerk organization " + clerk_organization_id + " is not mapped");
    }
}

std::vector<AgentListing> list_agents(Connection& connection) {
    auto statement = connection.prepare(
        "SELECT a.id, a.organization_id, a.name, a.description, a.agent_type, a.deleted, v.id"
        "  FROM agents a LEFT JOIN agent_versions v ON v.agent_id = a.id AND v.published = 1"
        " ORDER BY a.organization_id, a.name, a.id");
    std::vector<AgentListing> agents;
    while (statement.step()) {
        agents.push_back({read_agent(statement, 0), statement.optional_text(6)});
    }
    return agents;
}

ImportSummary apply_agent_import(Connection& connection, const std::vector<ImportedAgent>& agents) {
    Transaction transaction(connection);
    auto insert_org = connection.prepare(
        "INSERT INTO organizations (id, name, created_at) VALUES (?1, ?1, ?2)"
        " ON CONFLICT (id) DO NOTHING");
    auto agent_owner = connection.prepare("SELECT organization_id FROM agents WHERE id = ?1");
    auto upsert_agent = connection.prepare(
        "INSERT INTO agents (id, organization_id, name, description, agent_type, deleted)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,"
        "   agent_type = excluded.agent_type, deleted = excluded.deleted");
    auto unpublish = connection.prepare(
        "UPDATE agent_versions SET published = 0 WHERE agent_id = ?1 AND published = 1");
    auto version_owner = connection.prepare("SELECT agent_id FROM agent_versions WHERE id = ?1");
    auto upsert_version = connection.prepare(
        "INSERT INTO agent_versions (id, agent_id, version, name, mode, sms_max_tokens,"
        "   sms_temperature, discard_inbound_sms, published)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name,"
        "   mode = excluded.mode, sms_max_tokens = excluded.sms_max_tokens,"
        "   sms_temperature = excluded.sms_temperature,"
        "   discard_inbound_sms = excluded.discard_inbound_sms, published = excluded.published");

    ImportSummary summary;
    const std::int64_t now = util::unix_millis_now();
    for (std::size_t i = 0; i < agents.size(); ++i) {
        const auto& agent = agents[i];
        const std::string where = "agents[" + std::to_string(i) + "]";
        insert_org.bind(1, agent.record.organization_id).bind(2, now);
        insert_org.run();
        summary.organizations_created += static_cast<std::size_t>(connection.changes());

        agent_owner.bind(1, agent.record.id);
        if (agent_owner.step() && agent_owner.text(0) != agent.record.organization_id) {
            throw AdminError(where +
                             ".organizationId differs from the organization that owns agent " +
                             agent.record.id);
        }
        agent_owner.reset();
        upsert_agent.bind(1, agent.record.id)
            .bind(2, agent.record.organization_id)
            .bind(3, agent.record.name)
            .bind(4, agent.record.description)
            .bind(5, agent.record.agent_type)
            .bind(6, std::int64_t{agent.record.deleted ? 1 : 0});
        upsert_agent.run();
        // Clear first so the one-published index holds at every step of the upsert.
        unpublish.bind(1, agent.record.id);
        unpublish.run();

        for (std::size_t j = 0; j < agent.versions.size(); ++j) {
            const auto& version = agent.versions[j];
            version_owner.bind(1, version.record.id);
            if (version_owner.step() && version_owner.text(0) != agent.record.id) {
                throw AdminError(where + ".versions[" + std::to_string(j) +
                                 "].id belongs to another agent");
            }
            version_owner.reset();
            upsert_version.bind(1, version.record.id)
                .bind(2, agent.record.id)
                .bind(3, version.record.version)
                .bind(4, version.record.name)
                .bind(5, version.record.mode)
                .bind(6, version.record.sms_max_tokens)
                .bind(7, version.record.sms_temperature)
                .bind(8, std::int64_t{version.record.discard_inbound_sms ? 1 : 0})
                .bind(9, std::int64_t{version.published ? 1 : 0});
            try {
                upsert_version.run();
            } catch (const SqliteError& error) {
                if ((error.code() & 0xff) == SQLITE_CONSTRAINT) {
                    throw AdminError(where + ".versions[" + std::to_string(j) +
                                     "].version is already used by another version of this agent");
                }
                throw;
            }
            ++summary.versions;
        }
        ++summary.agents;
    }
    transaction.commit();
    return summary;
}

}  // namespace threadsd::store::sqlite
