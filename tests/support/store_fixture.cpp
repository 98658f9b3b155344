#include "support/store_fixture.hpp"

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include <utility>
#include <variant>

namespace threadsd::test {

StoreFixture::StoreFixture(store::DemoSeed seed, const std::string& name)
    : path(dir.file(name)), connection(path, store::sqlite::OpenMode::kReadWrite) {
    store::sqlite::migrate(connection, seed);
}

std::int64_t query_int(store::sqlite::Connection& connection, const std::string& sql) {
    auto statement = connection.prepare(sql);
    BOOST_REQUIRE_MESSAGE(statement.step(), "no row from " << sql);
    return statement.integer(0);
}

std::string query_text(store::sqlite::Connection& connection, const std::string& sql) {
    auto statement = connection.prepare(sql);
    BOOST_REQUIRE_MESSAGE(statement.step(), "no row from " << sql);
    return statement.text(0);
}

std::optional<std::string> query_optional_text(store::sqlite::Connection& connection,
                                               const std::string& sql) {
    auto statement = connection.prepare(sql);
    BOOST_REQUIRE_MESSAGE(statement.step(), "no row from " << sql);
    return statement.optional_text(0);
}

std::optional<double> query_optional_real(store::sqlite::Connection& connection,
                                          const std::string& sql) {
    auto statement = connection.prepare(sql);
    BOOST_REQUIRE_MESSAGE(statement.step(), "no row from " << sql);
    return statement.optional_real(0);
}

std::string dump_table(store::sqlite::Connection& connection, const std::string& table) {
    std::string out = "table " + table + "\n";
    sqlite3_stmt* raw = nullptr;
    // Threads and messages have no rowid (WITHOUT ROWID tables, ordered by their keys).
    const std::string order = table == "threads"    ? "organization_id, id"
                              : table == "messages" ? "organization_id, thread_id, sequence"
                                                    : "rowid";
    const std::string sql = "SELECT * FROM \"" + table + "\" ORDER BY " + order;
    BOOST_REQUIRE(sqlite3_prepare_v2(connection.handle(), sql.c_str(), -1, &raw, nullptr) ==
                  SQLITE_OK);
    while (sqlite3_step(raw) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(raw); ++i) {
            const int type = sqlite3_column_type(raw, i);
            out += std::to_string(type) + ":";
            if (type != SQLITE_NULL) {
                const auto* data = static_cast<const char*>(sqlite3_column_blob(raw, i));
                out.append(data != nullptr ? data : "",
                           static_cast<std::size_t>(sqlite3_column_bytes(raw, i)));
            }
            out += "|";
        }
        out += "\n";
    }
    sqlite3_finalize(raw);
    return out;
}

std::vector<store::ImportedAgent> parse_import_ok(const std::string& text) {
    auto parsed = store::parse_agent_import(text);
    if (const auto* message = std::get_if<std::string>(&parsed)) {
        BOOST_FAIL("import refused: " << *message << "\n" << text);
    }
    return std::get<std::vector<store::ImportedAgent>>(std::move(parsed));
}

}  // namespace threadsd::test
