#pragma once
// The state most integration suites share (with SuiteState): one server on a fresh store
// of the store under test (test_store.hpp), seeded with the demo data, and a demo key.

#include <string>

#include "support/process.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {

/// A running server on a fresh store with a demo key.
struct DemoServerState {
    TempDir dir;  ///< Holds the SQLite file, when that is the store.
    std::string db = new_store(dir, "threads.db");  ///< The store: a path or a URI.
    std::string key = create_demo_key(db);          ///< Also creates and seeds the store.
    ServerProcess server{db};                       ///< Serves `db` on a free port.
};

}  // namespace threadsd::test
