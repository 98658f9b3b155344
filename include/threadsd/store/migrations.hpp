#pragma once
// Schema migrations, tracked with PRAGMA user_version.

#include "threadsd/store/sqlite.hpp"

namespace threadsd::store {

/// When migrate() inserts the demo organization and its agents.
enum class DemoSeed {
    kNever,        ///< --no-demo.
    kWhenCreated,  ///< Only into a store that had no schema yet (every subcommand).
    kWhenEmpty,    ///< Also into an existing store with no organization (`threadsd migrate`).
};

/// What migrate() did.
struct MigrationResult {
    int from_version = 0;  ///< user_version before.
    int to_version = 0;    ///< user_version after.
    bool seeded = false;   ///< The demo data was inserted.
};

/// Applies every embedded migration newer than the store's user_version, in order, in one
/// IMMEDIATE transaction, so that concurrent processes (server and CLI) apply each once.
/// The demo data is inserted in the same transaction when `seed` says so. A store whose
/// schema is newer than this binary is refused.
MigrationResult migrate(Connection& connection, DemoSeed seed);

/// The newest schema version this binary knows.
int latest_schema_version();

}  // namespace threadsd::store
