// The message statements of the SQLite store: every page is one range scan of an index, and a
// sequence is what the order of a thread's messages is read by.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "support/store_fixture.hpp"
#include "threadsd/store/sqlite/message_statements.hpp"

namespace {

using threadsd::store::sqlite::Connection;
using threadsd::store::sqlite::MessageStatements;
using threadsd::test::StoreFixture;

/// The `detail` column of EXPLAIN QUERY PLAN for `sql`.
std::vector<std::string> plan_of(Connection& connection, const std::string& sql) {
    auto statement = connection.prepare("EXPLAIN QUERY PLAN " + sql);
    std::vector<std::string> details;
    while (statement.step()) {
        details.push_back(statement.text(3));
    }
    return details;
}

/// Fails unless the plan is one search of `index` with no sort of its own.
void check_one_range_scan(Connection& connection, const std::string& sql,
                          const std::string& index) {
    const auto plan = plan_of(connection, sql);
    BOOST_TEST_CONTEXT(sql) {
        BOOST_REQUIRE(plan.size() == 1u);
        BOOST_TEST(plan[0].find("SEARCH messages USING " + index) == 0u, plan[0]);
        BOOST_TEST(plan[0].find("TEMP B-TREE") == std::string::npos);
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_message_statements)

BOOST_AUTO_TEST_CASE(every_page_is_one_range_scan_of_an_index) {
    StoreFixture fixture(threadsd::store::DemoSeed::kNever, "plans.db");
    for (const bool before : {false, true}) {
        check_one_range_scan(fixture.connection, MessageStatements::page_sql(false, before),
                             "PRIMARY KEY");
        check_one_range_scan(fixture.connection, MessageStatements::page_sql(true, before),
                             "INDEX messages_by_direction");
    }
}

BOOST_AUTO_TEST_CASE(the_sweep_reads_open_threads_by_their_window_alone) {
    StoreFixture fixture(threadsd::store::DemoSeed::kNever, "sweep.db");
    const auto plan = plan_of(
        fixture.connection,
        "SELECT organization_id, id FROM threads INDEXED BY threads_by_window"
        " WHERE is_active = 1 AND window_started_at <= 5 ORDER BY window_started_at LIMIT 10");
    BOOST_REQUIRE(plan.size() == 1u);
    BOOST_TEST(plan[0].find("SEARCH threads USING INDEX threads_by_window") == 0u, plan[0]);
}

BOOST_AUTO_TEST_SUITE_END()
