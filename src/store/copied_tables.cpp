#include "threadsd/store/copied_tables.hpp"

namespace threadsd::store {
namespace {

constexpr auto kText = ColumnType::kText;
constexpr auto kUuid = ColumnType::kUuid;
constexpr auto kInteger = ColumnType::kInteger;
constexpr auto kReal = ColumnType::kReal;
constexpr auto kBytes = ColumnType::kBytes;

// The schema of schema/migrations/ (SQLite, through 0007) and schema/postgres/ (0003),
// which agree on names and meaning. catalog_generation is not copied: the destination's
// own moves forward with every catalog change (its triggers), so caches of it reload.
// Threads are keyed by (organization_id, id) in both stores, so that is their copy order.
const std::vector<CopiedTable> kTables = {
    {"organizations",
     CopyMode::kCatalog,
     {{"id", kUuid}, {"name", kText}, {"created_at", kInteger}},
     1},
    {"agents",
     CopyMode::kCatalog,
     {{"id", kUuid},
      {"organization_id", kUuid},
      {"name", kText},
      {"description", kText},
      {"agent_type", kText},
      {"deleted", kInteger}},
     1},
    {"agent_versions",
     CopyMode::kCatalog,
     {{"id", kUuid},
      {"agent_id", kUuid},
      {"version", kInteger},
      {"name", kText},
      {"mode", kText},
      {"sms_max_tokens", kReal},
      {"sms_temperature", kReal},
      {"discard_inbound_sms", kInteger},
      {"published", kInteger}},
     1},
    // Keys are copied as stored: the hash of the secret, never a secret, so every key
    // given out still works against the destination.
    {"api_keys",
     CopyMode::kCatalog,
     {{"id", kUuid},
      {"organization_id", kUuid},
      {"name", kText},
      {"prefix", kText},
      {"secret_hash", kBytes},
      {"created_at", kInteger},
      {"revoked_at", kInteger},
      {"rate_limit", kInteger}},
     1},
    {"clerk_organizations",
     CopyMode::kCatalog,
     {{"clerk_organization_id", kText}, {"organization_id", kUuid}, {"created_at", kInteger}},
     1},
    {"threads",
     CopyMode::kAppend,
     {{"organization_id", kUuid},
      {"id", kUuid},
      {"agent_id", kUuid},
      {"agent_version_id", kUuid},
      {"to_phone_number", kText},
      {"from_phone_number", kText},
      {"from_phone_number_id", kText},
      {"lead_id", kText},
      {"is_active", kInteger},
      {"created_at", kInteger},
      {"updated_at", kInteger},
      {"closed_at", kInteger},
      {"closed_reason", kText},
      {"metadata", kText},
      {"variables", kText},
      {"last_sequence", kInteger},
      {"window_started_at", kInteger}},
     2},
    // After their threads (a foreign key), in the order of their key.
    {"messages",
     CopyMode::kAppend,
     {{"organization_id", kUuid},
      {"thread_id", kUuid},
      {"sequence", kInteger},
      {"id", kUuid},
      {"direction", kText},
      {"body", kText},
      {"created_at", kInteger}},
     3},
};

}  // namespace

std::span<const CopiedTable> copied_tables() {
    return kTables;
}

std::string column_list(const CopiedTable& table, std::size_t count, std::string_view suffix) {
    std::string list;
    for (std::size_t i = 0; i < count; ++i) {
        list.append(i == 0 ? "" : ", ").append(table.columns[i].name).append(suffix);
    }
    return list;
}

std::string select_in_key_order(const CopiedTable& table, std::string_view key_parameters) {
    const auto keys = column_list(table, table.key_columns);
    std::string sql =
        "SELECT " + column_list(table, table.columns.size()) + " FROM " + std::string(table.name);
    if (!key_parameters.empty()) {
        // A row-value comparison on the primary key: both stores serve it as a range of
        // the key's index, so resuming costs no scan of what was copied.
        sql.append(" WHERE (").append(keys).append(") > (").append(key_parameters).append(")");
    }
    return sql + " ORDER BY " + keys;
}

std::string select_last_key(const CopiedTable& table) {
    return "SELECT " + column_list(table, table.key_columns) + " FROM " + std::string(table.name) +
           " ORDER BY " + column_list(table, table.key_columns, " DESC") + " LIMIT 1";
}

std::string insert_row(const CopiedTable& table, std::string_view parameters, bool upsert) {
    std::string sql = "INSERT INTO " + std::string(table.name) + " (" +
                      column_list(table, table.columns.size()) + ") VALUES (";
    sql.append(parameters).append(")");
    if (!upsert) {
        return sql;
    }
    sql += " ON CONFLICT (" + column_list(table, table.key_columns) + ") DO UPDATE SET ";
    for (std::size_t i = table.key_columns; i < table.columns.size(); ++i) {
        const auto column = table.columns[i].name;
        sql.append(i == table.key_columns ? "" : ", ")
            .append(column)
            .append(" = excluded.")
            .append(column);
    }
    return sql;
}

}  // namespace threadsd::store
