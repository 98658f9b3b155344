#include "threadsd/store/sqlite/table_rows.hpp"

#include <charconv>
#include <map>
#include <stdexcept>

#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"

namespace threadsd::store::sqlite {
namespace {

/// Parses a whole cell as `T` (an integer or a double); a row that does not is refused.
template <typename T>
T parse_cell(const std::string& text, const CopiedTable& table) {
    T value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        throw std::runtime_error("a row of " + std::string(table.name) + " holds '" + text +
                                 "' where a number belongs");
    }
    return value;
}

/// Reads column `index` of the current row of `statement` as copied rows spell it.
std::optional<std::string> read_cell(const Statement& statement, int index, ColumnType type) {
    if (statement.is_null(index)) {
        return std::nullopt;
    }
    switch (type) {
        case ColumnType::kBytes:
            return statement.blob(index);
        case ColumnType::kReal: {
            // The shortest text that reads back as the same double (std::to_chars).
            char buffer[32];
            const auto value = *statement.optional_real(index);
            const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
            return std::string(buffer, end);
        }
        default:
            return statement.text(index);
    }
}

/// Binds `cell` to parameter `index` as the column's type: STRICT tables refuse text in an
/// INTEGER or REAL column.
void bind_cell(Statement& statement, int index, const std::optional<std::string>& cell,
               const CopiedTable& table, ColumnType type) {
    if (!cell) {
        statement.bind_null(index);
        return;
    }
    switch (type) {
        case ColumnType::kInteger:
            statement.bind(index, parse_cell<std::int64_t>(*cell, table));
            break;
        case ColumnType::kReal:
            statement.bind(index, parse_cell<double>(*cell, table));
            break;
        case ColumnType::kBytes:
            statement.bind_blob(index, cell->data(), cell->size());
            break;
        default:
            statement.bind(index, std::string_view(*cell));
    }
}

/// The rows of one table, stepped through one statement.
class SqliteCursor : public RowCursor {
  public:
    /// Steps `statement` (already bound), whose columns are those of `table`.
    SqliteCursor(Statement statement, const CopiedTable& table)
        : statement_(std::move(statement)), table_(table) {}

    bool next(Row& row) override {
        if (!statement_.step()) {
            return false;
        }
        row.resize(table_.columns.size());
        for (std::size_t i = 0; i < row.size(); ++i) {
            row[i] = read_cell(statement_, static_cast<int>(i), table_.columns[i].type);
        }
        return true;
    }

  private:
    Statement statement_;       ///< SELECT ... ORDER BY the key.
    const CopiedTable& table_;  ///< Its columns.
};

/// A SQLite file as tables of rows.
class SqliteTableRows : public TableRows {
  public:
    /// Opens `path`, read-only unless `writable`.
    SqliteTableRows(const std::string& path, bool writable)
        : path_(path), connection_(path, writable ? OpenMode::kReadWrite : OpenMode::kReadOnly) {}

    /// Rolls back a transaction begun and not committed (a failed batch).
    ~SqliteTableRows() override {
        if (in_transaction_) {
            try {
                connection_.exec("ROLLBACK");
            } catch (const std::exception&) {
                // Closing the connection rolls back as well.
            }
        }
    }

    std::string description() const override { return path_; }
    std::string kind() const override { return "SQLite"; }

    int schema_version() override {
        auto statement = connection_.prepare("PRAGMA user_version");
        statement.step();
        return static_cast<int>(statement.integer(0));
    }

    int current_schema_version() const override { return latest_schema_version(); }

    void begin_snapshot() override {
        // A read transaction sees the file as of its first read, whoever writes meanwhile.
        connection_.exec("BEGIN");
        in_transaction_ = true;
        connection_.exec("SELECT count(*) FROM sqlite_schema");
    }

    std::unique_ptr<RowCursor> read(const CopiedTable& table,
                                    const std::optional<Row>& after) override {
        auto statement = connection_.prepare(
            select_in_key_order(table, after ? placeholders(table.key_columns) : ""));
        for (std::size_t i = 0; after && i < table.key_columns; ++i) {
            bind_cell(statement, static_cast<int>(i + 1), (*after)[i], table,
                      table.columns[i].type);
        }
        return std::make_unique<SqliteCursor>(std::move(statement), table);
    }

    std::int64_t count(const CopiedTable& table) override {
        auto statement = connection_.prepare("SELECT count(*) FROM " + std::string(table.name));
        statement.step();
        return statement.integer(0);
    }

    std::optional<Row> last_key(const CopiedTable& table) override {
        auto statement = connection_.prepare(select_last_key(table));
        if (!statement.step()) {
            return std::nullopt;
        }
        Row key(table.key_columns);
        for (std::size_t i = 0; i < key.size(); ++i) {
            key[i] = read_cell(statement, static_cast<int>(i), table.columns[i].type);
        }
        return key;
    }

    void begin() override {
        connection_.exec("BEGIN IMMEDIATE");
        in_transaction_ = true;
    }

    void commit() override {
        connection_.exec("COMMIT");
        in_transaction_ = false;
    }

    void clear(const CopiedTable& table) override {
        connection_.exec("DELETE FROM " + std::string(table.name));
    }

    void upsert(const CopiedTable& table, const std::vector<Row>& rows) override {
        write(table, rows, true);
    }

    void append(const CopiedTable& table, const std::vector<Row>& rows) override {
        write(table, rows, false);
    }

    // SQLite plans from its indexes alone (threadsd runs no ANALYZE): nothing to do.
    void finish() override {}

  private:
    /// `?, ?, ?`: `count` parameters.
    static std::string placeholders(std::size_t count) {
        std::string list;
        for (std::size_t i = 0; i < count; ++i) {
            list += i == 0 ? "?" : ", ?";
        }
        return list;
    }

    /// Inserts `rows` with one prepared statement per table and kind of write, bound and
    /// stepped row by row: SQLite has no faster path than that inside one transaction.
    void write(const CopiedTable& table, const std::vector<Row>& rows, bool replace) {
        const std::string name = std::string(table.name) + (replace ? "+upsert" : "+append");
        auto found = inserts_.find(name);
        if (found == inserts_.end()) {
            const auto sql = insert_row(table, placeholders(table.columns.size()), replace);
            found = inserts_.emplace(name, connection_.prepare(sql)).first;
        }
        auto& statement = found->second;
        for (const auto& row : rows) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                bind_cell(statement, static_cast<int>(i + 1), row[i], table, table.columns[i].type);
            }
            statement.run();
        }
    }

    std::string path_;                          ///< The file, for messages.
    Connection connection_;                     ///< The one connection.
    std::map<std::string, Statement> inserts_;  ///< Prepared writes, by table and kind.
    bool in_transaction_ = false;               ///< Rolled back on destruction if still set.
};

}  // namespace

std::unique_ptr<TableRows> open_sqlite_table_rows(const std::string& path, bool writable) {
    return std::make_unique<SqliteTableRows>(path, writable);
}

}  // namespace threadsd::store::sqlite
