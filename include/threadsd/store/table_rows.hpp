#pragma once
// A store seen as tables of rows, for `threadsd db copy`: what each store (SQLite,
// PostgreSQL) implements so that one copier moves rows between any two of them.
//
// Rows carry their cells as text spelled as copied_tables.hpp says, so that a value read
// from one store is written to the other without passing through a type that could change
// it. Every call is synchronous: the copy is a command-line tool with nothing else to do.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "threadsd/store/copied_tables.hpp"

namespace threadsd::store {

/// One row: a cell per column of its table, in the table's order; nothing for NULL.
using Row = std::vector<std::optional<std::string>>;

/// The rows of one table, in key order, read a few at a time.
class RowCursor {
  public:
    virtual ~RowCursor() = default;
    /// Reads the next row into `row`; false after the last one.
    virtual bool next(Row& row) = 0;
};

/// One store opened for copying, as the source or as the destination.
class TableRows {
  public:
    virtual ~TableRows() = default;

    /// What to call it in a message: a file path, or a URI without its password.
    virtual std::string description() const = 0;
    /// "SQLite" or "PostgreSQL", for messages.
    virtual std::string kind() const = 0;
    /// The schema version it is at; 0 when it holds no threadsd schema.
    virtual int schema_version() = 0;
    /// The schema version of its kind that this threadsd writes (and copies).
    virtual int current_schema_version() const = 0;

    // --- As the source ---

    /// Starts one read-only snapshot: every later read sees the store as it was now, so
    /// the threads copied always find the catalog copied before them.
    virtual void begin_snapshot() = 0;
    /// The rows of `table` whose key comes after `after` (all of them when nothing), in
    /// key order.
    virtual std::unique_ptr<RowCursor> read(const CopiedTable& table,
                                            const std::optional<Row>& after) = 0;

    // --- Either way ---

    /// How many rows `table` holds.
    virtual std::int64_t count(const CopiedTable& table) = 0;

    // --- As the destination ---

    /// The key (its first key_columns cells) of the row of `table` that comes last in key
    /// order, or nothing when the table is empty.
    virtual std::optional<Row> last_key(const CopiedTable& table) = 0;
    /// Begins a write transaction.
    virtual void begin() = 0;
    /// Commits it; once this returns the rows are as durable as the store's commits are.
    virtual void commit() = 0;
    /// Deletes every row of `table` (children first: the caller orders the calls).
    virtual void clear(const CopiedTable& table) = 0;
    /// Inserts `rows`, replacing every column of a row already there with the same key.
    virtual void upsert(const CopiedTable& table, const std::vector<Row>& rows) = 0;
    /// Inserts `rows`; a key already there fails the transaction (never a duplicate).
    virtual void append(const CopiedTable& table, const std::vector<Row>& rows) = 0;
    /// After the last batch: whatever makes the store fast to serve from once filled.
    virtual void finish() = 0;
};

}  // namespace threadsd::store
