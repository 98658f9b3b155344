#pragma once
// Choices an operator makes about a store, whatever the store.

#include <cstddef>

#include "threadsd/store/limits.hpp"

namespace threadsd::store {

/// What a COMMIT that returned promises (SQLite: `synchronous` in WAL mode; PostgreSQL:
/// `synchronous_commit`).
enum class Durability {
    kFull,    ///< FULL: the WAL is fsynced at every commit; survives a power cut.
    kNormal,  ///< NORMAL: survives a crash of the process, not of the machine.
};

/// When a migration inserts the demo organization and its agents.
enum class DemoSeed {
    kNever,        ///< --no-demo.
    kWhenCreated,  ///< Only into a store that had no schema yet (every subcommand).
    kWhenEmpty,    ///< Also into an existing store with no organization (`threadsd migrate`).
};

/// What a migration did.
struct MigrationResult {
    int from_version = 0;  ///< Schema version before.
    int to_version = 0;    ///< Schema version after.
    bool seeded = false;   ///< The demo data was inserted.
};

/// How a store is opened.
struct StoreOptions {
    Durability durability = Durability::kFull;                ///< What a commit promises.
    std::size_t max_queued_writes = kDefaultMaxQueuedWrites;  ///< Writes that may wait.
    DemoSeed seed = DemoSeed::kWhenCreated;                   ///< When the demo data goes in.
};

}  // namespace threadsd::store
