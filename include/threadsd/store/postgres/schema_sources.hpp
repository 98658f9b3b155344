#pragma once
// The SQL of schema/postgres/ and schema/seed/, compiled in by cmake/embed_schema.cmake.

#include <string_view>
#include <vector>

namespace threadsd::store::postgres {

/// One numbered migration file.
struct EmbeddedMigration {
    int version;            ///< The file's number; the schema version after it is applied.
    std::string_view name;  ///< The file name, for messages.
    std::string_view sql;   ///< Its statements.
};

/// Every migration, in ascending version order.
const std::vector<EmbeddedMigration>& embedded_migrations();

/// The demo organization and its agents (schema/seed/demo.sql).
std::string_view embedded_demo_seed();

}  // namespace threadsd::store::postgres
