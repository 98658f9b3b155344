#include "threadsd/store/admin.hpp"

#include "threadsd/auth/api_key.hpp"
#include "threadsd/store/catalog.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::store {

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
    const auto key = auth::generate_api_key();
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

}  // namespace threadsd::store
