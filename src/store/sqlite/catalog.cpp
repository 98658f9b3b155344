#include "threadsd/store/sqlite/catalog.hpp"

namespace threadsd::store::sqlite {

AgentRecord read_agent(const Statement& row, int first) {
    return AgentRecord{row.text(first),     row.text(first + 1),
                       row.text(first + 2), row.optional_text(first + 3),
                       row.text(first + 4), row.integer(first + 5) != 0};
}

AgentVersionRecord read_version(const Statement& row, int first) {
    return AgentVersionRecord{row.text(first),
                              row.integer(first + 1),
                              row.text(first + 2),
                              row.text(first + 3),
                              row.optional_real(first + 4),
                              row.optional_real(first + 5),
                              row.integer(first + 6) != 0};
}

Catalog::Catalog(Connection& connection)
    : find_key_(
          connection.prepare("SELECT id, organization_id, revoked_at, rate_limit FROM api_keys"
                             " WHERE secret_hash = ?1")),
      find_agent_(connection.prepare(
          "SELECT a.id, a.organization_id, a.name, a.description, a.agent_type, a.deleted,"
          "       v.id, v.version, v.name, v.mode, v.sms_max_tokens, v.sms_temperature,"
          "       v.discard_inbound_sms"
          "  FROM agents a LEFT JOIN agent_versions v ON v.agent_id = a.id AND v.published = 1"
          " WHERE a.id = ?1 AND a.organization_id = ?2 AND a.deleted = 0")),
      find_clerk_(connection.prepare("SELECT organization_id FROM clerk_organizations"
                                     " WHERE clerk_organization_id = ?1")),
      generation_(connection.prepare("SELECT generation FROM catalog_generation WHERE id = 1")) {}

std::int64_t Catalog::generation() {
    const bool found = generation_.step();
    const std::int64_t value = found ? generation_.integer(0) : 0;
    generation_.reset();
    return value;
}

std::optional<ApiKeyRecord> Catalog::find_api_key(const std::array<std::uint8_t, 32>& secret_hash) {
    find_key_.bind_blob(1, secret_hash.data(), secret_hash.size());
    std::optional<ApiKeyRecord> key;
    if (find_key_.step()) {
        key = ApiKeyRecord{find_key_.text(0), find_key_.text(1), find_key_.optional_integer(2),
                           find_key_.optional_integer(3)};
    }
    find_key_.reset();
    return key;
}

std::optional<std::string> Catalog::find_clerk_organization(
    std::string_view clerk_organization_id) {
    find_clerk_.bind(1, clerk_organization_id);
    std::optional<std::string> organization;
    if (find_clerk_.step()) {
        organization = find_clerk_.text(0);
    }
    find_clerk_.reset();
    return organization;
}

std::optional<AgentWithPublishedVersion> Catalog::find_live_agent(std::string_view organization_id,
                                                                  std::string_view agent_id) {
    find_agent_.bind(1, agent_id).bind(2, organization_id);
    std::optional<AgentWithPublishedVersion> found;
    if (find_agent_.step()) {
        AgentWithPublishedVersion result;
        result.agent = read_agent(find_agent_, 0);
        if (!find_agent_.is_null(6)) {
            result.published = read_version(find_agent_, 6);
        }
        found = std::move(result);
    }
    find_agent_.reset();
    return found;
}

}  // namespace threadsd::store::sqlite
