#pragma once
// The SQL of schema/, compiled into the binary by cmake/embed_schema.cmake.

#include <string_view>
#include <vector>

namespace threadsd::store::sqlite {

/// One numbered migration file.
struct EmbeddedMigration {
    int version;            ///< The file's number; PRAGMA user_version after it is applied.
    std::string_view name;  ///< The file name, for messages.
    std::string_view sql;   ///< Its statements.
};

/// Every migration, in ascending version order.
const std::vector<EmbeddedMigration>& embedded_migrations();

/// The demo organization and its agents (schema/seed/demo.sql).
std::string_view embedded_demo_seed();

}  // namespace threadsd::store::sqlite
