#pragma once
// Schema migrations, tracked with PRAGMA user_version.

#include "threadsd/store/options.hpp"
#include "threadsd/store/sqlite/connection.hpp"

namespace threadsd::store::sqlite {

/// Applies every embedded migration newer than the store's user_version, in order, in one
/// IMMEDIATE transaction, so that concurrent processes (server and CLI) apply each once.
/// The demo data is inserted in the same transaction when `seed` says so. A store whose
/// schema is newer than this binary is refused.
MigrationResult migrate(Connection& connection, DemoSeed seed);

/// The newest schema version this binary knows.
int latest_schema_version();

}  // namespace threadsd::store::sqlite
