#include "threadsd/store/postgres/table_rows.hpp"

#include <libpq-fe.h>

#include <stdexcept>

#include "threadsd/store/copied_tables.hpp"
#include "threadsd/store/postgres/migrations.hpp"
#include "threadsd/store/postgres/pg_connection.hpp"

namespace threadsd::store::postgres {
namespace {

/// Rows fetched from a cursor per round trip.
constexpr int kFetchRows = 5000;

/// The PostgreSQL type a parameter compared with a column of `type` is cast to.
std::string_view pg_type(ColumnType type) {
    switch (type) {
        case ColumnType::kUuid:
            return "uuid";
        case ColumnType::kInteger:
            return "bigint";
        case ColumnType::kReal:
            return "double precision";
        case ColumnType::kBytes:
            return "bytea";
        default:
            return "text";
    }
}

/// Raw bytes from bytea's hex output (`\x0a1b...`, bytea_output = hex).
std::string from_hex(std::string_view text) {
    if (text.size() < 2 || text.substr(0, 2) != "\\x" || text.size() % 2 != 0) {
        throw std::runtime_error("PostgreSQL returned a bytea that is not in hex");
    }
    const auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string bytes;
    bytes.reserve(text.size() / 2 - 1);
    for (std::size_t i = 2; i < text.size(); i += 2) {
        bytes.push_back(static_cast<char>(digit(text[i]) * 16 + digit(text[i + 1])));
    }
    return bytes;
}

/// Raw bytes as bytea's hex input: `\x0a1b...`.
std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text = "\\x";
    for (const unsigned char byte : bytes) {
        text.push_back(kDigits[byte >> 4]);
        text.push_back(kDigits[byte & 0xf]);
    }
    return text;
}

/// `cell` as a statement parameter or COPY field takes it: bytea in hex, the rest as is.
std::optional<std::string> to_parameter(const std::optional<std::string>& cell, ColumnType type) {
    if (cell && type == ColumnType::kBytes) {
        return to_hex(*cell);
    }
    return cell;
}

/// Appends `field` to a COPY text-format line: a backslash and the characters that would
/// end a field or a line are escaped; every other byte (any UTF-8) goes as it is.
void append_copy_field(std::string& line, std::string_view field) {
    for (const char c : field) {
        switch (c) {
            case '\\':
                line += "\\\\";
                break;
            case '\t':
                line += "\\t";
                break;
            case '\n':
                line += "\\n";
                break;
            case '\r':
                line += "\\r";
                break;
            default:
                line.push_back(c);
        }
    }
}

/// Owns a PGresult.
struct ResultDeleter {
    /// PQclear(result).
    void operator()(PGresult* result) const { PQclear(result); }
};
/// A PGresult freed at scope end.
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// One blocking libpq connection.
class Session {
  public:
    /// Connects to `uri`; throws with a message without the password.
    explicit Session(const std::string& uri) : conninfo_(uri), shown_(redact_conninfo(uri)) {
        connection_ = PQconnectdb(uri.c_str());
        if (connection_ == nullptr || PQstatus(connection_) != CONNECTION_OK) {
            const std::string why = connection_ != nullptr ? PQerrorMessage(connection_) : "";
            PQfinish(connection_);
            throw std::runtime_error("cannot connect to " + shown_ + ": " +
                                     scrub_libpq_message(why, conninfo_));
        }
        // Text as UTF-8 whatever the server's default; doubles in their shortest exact
        // form; bytea in hex: the spellings copied rows use.
        exec("SET client_encoding TO 'UTF8'");
        exec("SET extra_float_digits TO 1");
        exec("SET bytea_output TO 'hex'");
    }
    ~Session() { PQfinish(connection_); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /// Runs `sql` with text `params`; throws unless it succeeded.
    Result exec(const std::string& sql,
                const std::vector<std::optional<std::string>>& params = {}) {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& param : params) {
            values.push_back(param ? param->c_str() : nullptr);
        }
        Result result(PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()),
                                   nullptr, values.data(), nullptr, nullptr, 0));
        check(result.get(), sql);
        return result;
    }

    /// Runs `COPY ... FROM STDIN` `sql` with `data`, whole lines of the text format.
    void copy_in(const std::string& sql, const std::string& data) {
        Result started(PQexec(connection_, sql.c_str()));
        if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
            check(started.get(), sql);
        }
        if (PQputCopyData(connection_, data.data(), static_cast<int>(data.size())) != 1 ||
            PQputCopyEnd(connection_, nullptr) != 1) {
            throw std::runtime_error("COPY to " + shown_ + " failed: " + error_text());
        }
        Result finished(PQgetResult(connection_));
        check(finished.get(), sql);
        while (Result rest{PQgetResult(connection_)}) {
        }
    }

    /// The URI without its password.
    const std::string& shown() const { return shown_; }

  private:
    /// Throws unless `result` is a success.
    void check(PGresult* result, const std::string& sql) {
        const auto status = PQresultStatus(result);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            const char* message = result != nullptr ? PQresultErrorMessage(result) : nullptr;
            throw std::runtime_error(shown_ + ": " + sql.substr(0, 60) + ": " +
                                     (message != nullptr && *message != '\0'
                                          ? scrub_libpq_message(message, conninfo_)
                                          : error_text()));
        }
    }

    /// libpq's last error on the connection, on one line, without a password.
    std::string error_text() const {
        return scrub_libpq_message(PQerrorMessage(connection_), conninfo_);
    }

    std::string conninfo_;          ///< The URI as given, to scrub its password from errors.
    std::string shown_;             ///< The URI without its password.
    PGconn* connection_ = nullptr;  ///< The connection.
};

/// The rows of one table through a server-side cursor in the snapshot's transaction.
class PgCursor : public RowCursor {
  public:
    /// Declares cursor `name` over `select` (parameters `params`) on `session`.
    PgCursor(Session& session, std::string name, const std::string& select,
             const std::vector<std::optional<std::string>>& params, const CopiedTable& table)
        : session_(session), name_(std::move(name)), table_(table) {
        session_.exec("DECLARE " + name_ + " NO SCROLL CURSOR FOR " + select, params);
    }

    /// Closes the cursor; a failed session is past caring.
    ~PgCursor() override {
        try {
            session_.exec("CLOSE " + name_);
        } catch (const std::exception&) {
            // The transaction ends with the session anyway.
        }
    }

    bool next(Row& row) override {
        if (!page_ || next_row_ >= PQntuples(page_.get())) {
            if (finished_) {
                return false;
            }
            page_ = session_.exec("FETCH " + std::to_string(kFetchRows) + " FROM " + name_);
            next_row_ = 0;
            finished_ = PQntuples(page_.get()) < kFetchRows;
            if (PQntuples(page_.get()) == 0) {
                return false;
            }
        }
        row.resize(table_.columns.size());
        for (std::size_t i = 0; i < row.size(); ++i) {
            const int column = static_cast<int>(i);
            if (PQgetisnull(page_.get(), next_row_, column) != 0) {
                row[i].reset();
                continue;
            }
            const std::string_view text(
                PQgetvalue(page_.get(), next_row_, column),
                static_cast<std::size_t>(PQgetlength(page_.get(), next_row_, column)));
            row[i] =
                table_.columns[i].type == ColumnType::kBytes ? from_hex(text) : std::string(text);
        }
        ++next_row_;
        return true;
    }

  private:
    Session& session_;          ///< The source's session, inside its snapshot.
    std::string name_;          ///< The cursor's name.
    const CopiedTable& table_;  ///< Its columns.
    Result page_;               ///< The rows of the last FETCH.
    int next_row_ = 0;          ///< The next row of page_ to hand out.
    bool finished_ = false;     ///< The last FETCH returned fewer rows than asked: no more.
};

/// A PostgreSQL database as tables of rows.
class PgTableRows : public TableRows {
  public:
    /// Connects to `uri`.
    explicit PgTableRows(const std::string& uri) : session_(uri) {}

    std::string description() const override { return session_.shown(); }
    std::string kind() const override { return "PostgreSQL"; }

    int schema_version() override {
        const auto exists = session_.exec("SELECT to_regclass('threadsd_schema') IS NOT NULL");
        if (std::string_view(PQgetvalue(exists.get(), 0, 0)) != "t") {
            return 0;
        }
        const auto version = session_.exec("SELECT version FROM threadsd_schema WHERE id = 1");
        return PQntuples(version.get()) == 0 ? 0 : std::stoi(PQgetvalue(version.get(), 0, 0));
    }

    int current_schema_version() const override { return latest_schema_version(); }

    void begin_snapshot() override {
        session_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    }

    std::unique_ptr<RowCursor> read(const CopiedTable& table,
                                    const std::optional<Row>& after) override {
        std::string key_parameters;
        std::vector<std::optional<std::string>> params;
        for (std::size_t i = 0; after && i < table.key_columns; ++i) {
            params.push_back(to_parameter((*after)[i], table.columns[i].type));
            key_parameters += (i == 0 ? "$" : ", $") + std::to_string(i + 1) +
                              "::" + std::string(pg_type(table.columns[i].type));
        }
        return std::make_unique<PgCursor>(session_, "threadsd_copy_" + std::to_string(++cursors_),
                                          select_in_key_order(table, key_parameters), params,
                                          table);
    }

    std::int64_t count(const CopiedTable& table) override {
        const auto result = session_.exec("SELECT count(*) FROM " + std::string(table.name));
        return std::stoll(PQgetvalue(result.get(), 0, 0));
    }

    std::optional<Row> last_key(const CopiedTable& table) override {
        const auto result = session_.exec(select_last_key(table));
        if (PQntuples(result.get()) == 0) {
            return std::nullopt;
        }
        Row key(table.key_columns);
        for (std::size_t i = 0; i < key.size(); ++i) {
            key[i] = std::string(PQgetvalue(result.get(), 0, static_cast<int>(i)));
        }
        return key;
    }

    void begin() override { session_.exec("BEGIN"); }
    void commit() override { session_.exec("COMMIT"); }

    void clear(const CopiedTable& table) override {
        session_.exec("DELETE FROM " + std::string(table.name));
    }

    void upsert(const CopiedTable& table, const std::vector<Row>& rows) override {
        std::string parameters;
        for (std::size_t i = 0; i < table.columns.size(); ++i) {
            parameters += (i == 0 ? "$" : ", $") + std::to_string(i + 1);
        }
        const auto sql = insert_row(table, parameters, true);
        std::vector<std::optional<std::string>> params(table.columns.size());
        for (const auto& row : rows) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                params[i] = to_parameter(row[i], table.columns[i].type);
            }
            session_.exec(sql, params);
        }
    }

    void append(const CopiedTable& table, const std::vector<Row>& rows) override {
        // COPY in the text format: one round trip per batch, and the server's fastest path.
        // A key already there fails the COPY, and with it the batch's transaction.
        copy_buffer_.clear();
        for (const auto& row : rows) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (i != 0) {
                    copy_buffer_.push_back('\t');
                }
                if (!row[i]) {
                    copy_buffer_ += "\\N";
                } else if (table.columns[i].type == ColumnType::kBytes) {
                    append_copy_field(copy_buffer_, to_hex(*row[i]));
                } else {
                    append_copy_field(copy_buffer_, *row[i]);
                }
            }
            copy_buffer_.push_back('\n');
        }
        session_.copy_in("COPY " + std::string(table.name) + " (" +
                             column_list(table, table.columns.size()) + ") FROM STDIN",
                         copy_buffer_);
    }

    // A freshly filled table has no statistics until autovacuum comes by, and list pages
    // are planned badly until then (docs/postgresql.md, Statistics). The copied tables by
    // name: a bare ANALYZE by the database's owner warns of every system catalog it may not
    // analyze.
    void finish() override {
        std::string tables;
        for (const auto& table : copied_tables()) {
            tables += (tables.empty() ? "" : ", ") + std::string(table.name);
        }
        session_.exec("ANALYZE " + tables);
    }

  private:
    Session session_;          ///< The one connection.
    unsigned cursors_ = 0;     ///< Names each cursor apart.
    std::string copy_buffer_;  ///< The batch being sent to COPY, reused.
};

}  // namespace

std::unique_ptr<TableRows> open_postgres_table_rows(const std::string& uri) {
    return std::make_unique<PgTableRows>(uri);
}

}  // namespace threadsd::store::postgres
