#pragma once
// The tables `threadsd db copy` moves, store-independently: their columns, their keys and
// their order. A later table (messages) is one more entry in copied_tables().

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace threadsd::store {

/// How a column's value is spelled in a copied row, whatever the store keeps it as.
enum class ColumnType {
    kText,     ///< UTF-8 text, verbatim.
    kUuid,     ///< A canonical lower-case UUID (text in SQLite, uuid in PostgreSQL).
    kInteger,  ///< A decimal 64-bit integer (flags are 0 or 1).
    kReal,     ///< A double, in the shortest decimal that reads back to the same value.
    kBytes,    ///< Raw bytes (blob in SQLite, bytea in PostgreSQL).
};

/// One column of a copied table.
struct CopiedColumn {
    std::string_view name;  ///< Its name, the same in both stores.
    ColumnType type;        ///< How its value is spelled.
};

/// How a table is brought into the destination.
enum class CopyMode {
    /// The catalog (keys, agents...): small, copied whole in one transaction, replacing
    /// the destination's rows with the same key (and all of them on a first copy).
    kCatalog,
    /// Bulk rows (threads): appended in key order, a batch per transaction, so that a copy
    /// that stopped continues after the destination's highest key.
    kAppend,
};

/// One copied table: columns in the order rows carry them, the key first.
struct CopiedTable {
    std::string_view name;              ///< The table, the same in both stores.
    CopyMode mode;                      ///< Catalog or appended.
    std::vector<CopiedColumn> columns;  ///< Every column; the first key_columns are the key.
    std::size_t key_columns;            ///< The primary key: the first this many columns.
};

/// Every copied table, parents before children (foreign keys hold at every commit).
std::span<const CopiedTable> copied_tables();

/// `a, b, c`: the first `count` columns of `table`, each followed by `suffix` (" DESC").
std::string column_list(const CopiedTable& table, std::size_t count, std::string_view suffix = "");

// SQL that SQLite and PostgreSQL both take; each store spells its own parameters.

/// Every column of `table` in key order; with `key_parameters` (the key's parameters,
/// `?, ?` or `$1::uuid, $2::uuid`), only the rows after that key.
std::string select_in_key_order(const CopiedTable& table, std::string_view key_parameters);

/// The key of the last row of `table` in key order.
std::string select_last_key(const CopiedTable& table);

/// An INSERT of one row of `table` from `parameters` (one per column); with `upsert`, a
/// row already there with the same key gets every other column replaced.
std::string insert_row(const CopiedTable& table, std::string_view parameters, bool upsert);

}  // namespace threadsd::store
