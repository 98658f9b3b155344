#pragma once
// Helpers for the store tests: migrated stores on temporary files and one-value queries
// through the store's own Connection.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"

namespace threadsd::test {

/// A store migrated with `seed` on a file `name` of its own, open read-write.
struct StoreFixture {
    /// Creates and migrates the file.
    explicit StoreFixture(store::DemoSeed seed, const std::string& name = "store.db");
    TempDir dir;                           ///< Holds the file.
    std::string path;                      ///< The file.
    store::sqlite::Connection connection;  ///< Open on it.
};

/// The integer in the first column of the first row of `sql` (fails the test when no row).
std::int64_t query_int(store::sqlite::Connection& connection, const std::string& sql);

/// The text in the first column of the first row of `sql` (fails the test when no row).
std::string query_text(store::sqlite::Connection& connection, const std::string& sql);

/// The text or NULL in the first column of the first row of `sql` (fails when no row).
std::optional<std::string> query_optional_text(store::sqlite::Connection& connection,
                                               const std::string& sql);

/// The number or NULL in the first column of the first row of `sql` (fails when no row).
std::optional<double> query_optional_real(store::sqlite::Connection& connection,
                                          const std::string& sql);

/// "table <name>" and every row of it in key order, typed, as comparable text.
std::string dump_table(store::sqlite::Connection& connection, const std::string& table);

/// The agents of an `agents import` file; fails the test when the file is refused.
std::vector<store::ImportedAgent> parse_import_ok(const std::string& text);

}  // namespace threadsd::test
