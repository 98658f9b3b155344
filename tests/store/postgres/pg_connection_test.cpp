// PgConnection against a real PostgreSQL server of the test process's own.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/run_on_io.hpp"
#include "threadsd/store/postgres/pg_connection.hpp"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using threadsd::store::postgres::PgConnection;
using threadsd::store::postgres::PgConnectionLost;
using threadsd::store::postgres::PgError;
using threadsd::store::postgres::PgFailure;
using threadsd::store::postgres::PgNotification;
using threadsd::store::postgres::PgResult;
using threadsd::store::postgres::PgStatement;
using threadsd::store::postgres::redact_conninfo;
using threadsd::test::run_on_io;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kConnectTimeout = 10s;

/// Completion of a spawned helper coroutine: its failure fails the test at once instead
/// of leaving the test's coroutine waiting for it.
void rethrow_failure(std::exception_ptr error) {
    if (error) {
        std::rethrow_exception(error);
    }
}

/// The database name in a URI made by PostgresCluster::uri_for.
std::string database_of(const std::string& uri) {
    const auto slash = uri.find('/', std::strlen("postgresql://"));
    return uri.substr(slash + 1, uri.find('?') - slash - 1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_connection)

BOOST_AUTO_TEST_CASE(a_parameterised_query_returns_text_values_and_nulls) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        BOOST_TEST(connection->healthy());
        // Braced lists are built outside the co_await: g++ 12 rejects a string literal in
        // an initializer list inside a co_await's full-expression.
        std::vector<std::optional<std::string>> params{"41", std::nullopt, "h\xc3\xa9llo 'quoted'"};
        auto result = co_await connection->query(
            "SELECT $1::int + 1 AS answer, $2::text AS missing, $3::text AS word, NULL::int",
            std::move(params));
        BOOST_TEST(result.rows() == 1);
        BOOST_TEST(result.columns() == 4);
        BOOST_TEST(result.integer(0, 0) == 42);
        BOOST_TEST(result.is_null(0, 1));
        BOOST_TEST(!result.optional_text(0, 1).has_value());
        BOOST_TEST(result.text(0, 2) == "h\xc3\xa9llo 'quoted'");
        BOOST_TEST(result.optional_text(0, 2).value() == "h\xc3\xa9llo 'quoted'");
        BOOST_TEST(result.is_null(0, 3));
        BOOST_CHECK_THROW(result.integer(0, 1), PgFailure);
        BOOST_CHECK_THROW(result.integer(0, 2), PgFailure);
        BOOST_CHECK_THROW(static_cast<void>(result.text(1, 0)), std::out_of_range);
        BOOST_CHECK_THROW(static_cast<void>(result.text(0, 4)), std::out_of_range);

        auto empty = co_await connection->query("SELECT 1 WHERE false");
        BOOST_TEST(empty.rows() == 0);
        BOOST_TEST(connection->healthy());
    });
}

BOOST_AUTO_TEST_CASE(a_key_value_conninfo_connects_like_a_uri) {
    const auto& cluster = threadsd::test::postgres_cluster();
    const auto uri = cluster.create_database();
    const std::string conninfo = "host='" + cluster.socket_dir().string() +
                                 "' dbname=" + database_of(uri) + " user=postgres";
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, conninfo, kConnectTimeout);
        auto result = co_await connection->query("SELECT current_database(), current_user");
        BOOST_TEST(result.text(0, 0) == database_of(uri));
        BOOST_TEST(result.text(0, 1) == "postgres");
    });
}

BOOST_AUTO_TEST_CASE(a_transaction_of_64_inserts_runs_as_one_pipelined_batch) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        co_await connection->query("CREATE TABLE items (id int PRIMARY KEY, name text)");

        std::vector<PgStatement> batch;
        batch.push_back({"BEGIN", {}});
        for (int i = 0; i < 64; ++i) {
            batch.push_back({"INSERT INTO items (id, name) VALUES ($1, $2)",
                             {std::to_string(i), "item " + std::to_string(i)}});
        }
        batch.push_back({"COMMIT", {}});
        const auto results = co_await connection->run(std::move(batch));

        BOOST_REQUIRE(results.size() == 66u);
        BOOST_TEST(results.front().status() == PGRES_COMMAND_OK);
        for (std::size_t i = 1; i <= 64; ++i) {
            BOOST_TEST(results[i].status() == PGRES_COMMAND_OK);
            BOOST_TEST(results[i].affected_rows() == 1);
        }
        BOOST_TEST(results.back().status() == PGRES_COMMAND_OK);
        // One transaction wrote every row: they share one xmin.
        auto count = co_await connection->query(
            "SELECT count(*), count(DISTINCT xmin::text), max(name) FROM items");
        BOOST_TEST(count.integer(0, 0) == 64);
        BOOST_TEST(count.integer(0, 1) == 1);
        BOOST_TEST(count.text(0, 2) == "item 9");
    });
}

BOOST_AUTO_TEST_CASE(a_batch_larger_than_the_socket_buffers_is_read_while_it_is_written) {
    // 400 x 64 KiB each way: the server stops reading once its answers fill our socket
    // buffer, so a client that only wrote until the end would wait on it forever.
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        constexpr int kStatements = 400;
        const std::string payload(64 * 1024, 'x');
        std::vector<PgStatement> batch;
        for (int i = 0; i < kStatements; ++i) {
            batch.push_back({"SELECT $1::int, $2::text", {std::to_string(i), payload}});
        }
        const auto results = co_await connection->run(std::move(batch));
        BOOST_REQUIRE(results.size() == static_cast<std::size_t>(kStatements));
        bool all_right = true;
        for (int i = 0; i < kStatements; ++i) {
            all_right = all_right && results[i].integer(0, 0) == i &&
                        results[i].text(0, 1).size() == payload.size();
        }
        BOOST_TEST(all_right);
        BOOST_TEST(connection->healthy());
    });
}

BOOST_AUTO_TEST_CASE(a_failed_statement_throws_its_sqlstate_and_index_and_the_connection_goes_on) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        co_await connection->query("CREATE TABLE unique_ids (id int PRIMARY KEY)");

        // An explicit transaction: the server leaves it aborted at the Sync.
        std::vector<PgStatement> explicit_batch{{"BEGIN", {}},
                                                {"INSERT INTO unique_ids VALUES ($1)", {"1"}},
                                                {"INSERT INTO unique_ids VALUES ($1)", {"1"}},
                                                {"INSERT INTO unique_ids VALUES ($1)", {"2"}},
                                                {"COMMIT", {}}};
        std::optional<PgError> caught;
        try {
            co_await connection->run(std::move(explicit_batch));
        } catch (const PgError& error) {
            caught = error;
        }
        BOOST_REQUIRE(caught.has_value());
        BOOST_TEST(caught->sqlstate() == "23505");
        BOOST_TEST(caught->statement_index() == 2u);
        BOOST_TEST(caught->message().find("duplicate key") != std::string::npos);
        BOOST_TEST(std::string(caught->what()).find("23505") != std::string::npos);
        BOOST_TEST(connection->healthy());
        auto after_explicit = co_await connection->query("SELECT count(*) FROM unique_ids");
        BOOST_TEST(after_explicit.integer(0, 0) == 0);

        // No BEGIN: the statements up to the Sync are one implicit transaction.
        std::vector<PgStatement> implicit_batch{{"INSERT INTO unique_ids VALUES ($1)", {"5"}},
                                                {"SELECT 1 / $1::int", {"0"}},
                                                {"INSERT INTO unique_ids VALUES ($1)", {"6"}}};
        caught.reset();
        try {
            co_await connection->run(std::move(implicit_batch));
        } catch (const PgError& error) {
            caught = error;
        }
        BOOST_REQUIRE(caught.has_value());
        BOOST_TEST(caught->sqlstate() == "22012");
        BOOST_TEST(caught->statement_index() == 1u);
        BOOST_TEST(connection->healthy());

        std::vector<PgStatement> next_batch{{"INSERT INTO unique_ids VALUES ($1)", {"7"}},
                                            {"SELECT count(*) FROM unique_ids", {}}};
        const auto results = co_await connection->run(std::move(next_batch));
        BOOST_TEST(results[1].integer(0, 0) == 1);
    });
}

BOOST_AUTO_TEST_CASE(each_statement_is_prepared_once_per_connection_and_within_a_bound) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        const std::string add = "SELECT $1::int + 1";
        const std::string prepared = "SELECT count(*) FROM pg_prepared_statements";
        const std::string unparsable = "SELECT $1::int FROM no_such_table";
        const std::string two = "SELECT 2";
        const std::optional<std::string> one = "1";

        // Twice in one batch (prepared by the first), then again in the next batch.
        std::vector<PgStatement> first;
        first.push_back({add, {one}});
        first.push_back({add, {std::string("2")}});
        first.push_back({prepared, {}});
        auto results = co_await connection->run(std::move(first));
        BOOST_TEST(results.size() == 3u);
        BOOST_TEST(results[0].integer(0, 0) == 2);
        BOOST_TEST(results[1].integer(0, 0) == 3);
        BOOST_TEST(results[2].integer(0, 0) == 2);
        std::vector<PgStatement> second;
        second.push_back({add, {std::string("5")}});
        second.push_back({prepared, {}});
        results = co_await connection->run(std::move(second));
        BOOST_TEST(results[0].integer(0, 0) == 6);
        BOOST_TEST(results[1].integer(0, 0) == 2);

        // A statement the server cannot even parse fails as itself, and nothing of its
        // batch is kept prepared.
        std::vector<PgStatement> broken;
        broken.push_back({add, {one}});
        broken.push_back({unparsable, {one}});
        broken.push_back({two, {}});
        std::optional<PgError> caught;
        try {
            co_await connection->run(std::move(broken));
        } catch (const PgError& error) {
            caught = error;
        }
        BOOST_REQUIRE(caught.has_value());
        BOOST_TEST(caught->sqlstate() == "42P01");
        BOOST_TEST(caught->statement_index() == 1u);
        BOOST_TEST(connection->healthy());
        std::vector<PgStatement> third;
        third.push_back({add, {std::string("7")}});
        third.push_back({two, {}});
        results = co_await connection->run(std::move(third));
        BOOST_TEST(results[0].integer(0, 0) == 8);
        BOOST_TEST(results[1].integer(0, 0) == 2);

        // A statement longer than kMaxPreparedLength (a migration's script) runs unnamed.
        const std::string long_sql =
            "SELECT $1::int + 3 /* " + std::string(PgConnection::kMaxPreparedLength, 'x') + " */";
        auto before = co_await connection->query(prepared);
        for (int i = 0; i < 2; ++i) {
            std::vector<std::optional<std::string>> params{one};
            auto sum = co_await connection->query(long_sql, std::move(params));
            BOOST_TEST(sum.integer(0, 0) == 4);
        }
        auto after = co_await connection->query(prepared);
        BOOST_TEST(after.integer(0, 0) == before.integer(0, 0));

        // Beyond the bound, statements still run, unnamed.
        for (std::size_t i = 0; i < PgConnection::kMaxPrepared + 8; ++i) {
            std::vector<std::optional<std::string>> params{one};
            auto sum = co_await connection->query("SELECT $1::int + " + std::to_string(i),
                                                  std::move(params));
            BOOST_TEST(sum.integer(0, 0) == static_cast<std::int64_t>(i) + 1);
        }
        auto count = co_await connection->query(prepared);
        BOOST_TEST(count.integer(0, 0) <=
                   static_cast<std::int64_t>(PgConnection::kMaxPrepared) + 2);
        BOOST_TEST(count.integer(0, 0) >=
                   static_cast<std::int64_t>(PgConnection::kMaxPrepared) - 2);
    });
}

BOOST_AUTO_TEST_CASE(a_slow_query_does_not_block_the_io_thread) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    int ticks = 0;
    bool done = false;
    auto ticker = [&]() -> net::awaitable<void> {
        net::steady_timer timer(co_await net::this_coro::executor);
        while (!done) {
            timer.expires_after(20ms);
            co_await timer.async_wait(net::use_awaitable);
            ++ticks;
        }
    };
    Clock::duration elapsed{};
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        net::co_spawn(executor, ticker, rethrow_failure);
        const auto start = Clock::now();
        auto result = co_await connection->query("SELECT pg_sleep(0.3), 'awake'");
        elapsed = Clock::now() - start;
        done = true;
        BOOST_TEST(result.text(0, 1) == "awake");
    });
    BOOST_TEST(elapsed >= 300ms);
    // 15 ticks fit in 0.3 s; a blocked thread would have run none of them.
    BOOST_TEST_MESSAGE("timer ticks during pg_sleep(0.3): " << ticks);
    BOOST_TEST(ticks >= 8);
}

BOOST_AUTO_TEST_CASE(a_terminated_backend_makes_the_next_run_throw_connection_lost) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto victim = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        auto killer = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        co_await victim->query("SELECT 1");
        // The second argument makes pg_terminate_backend wait until the backend is gone.
        std::vector<std::optional<std::string>> victim_pid{std::to_string(victim->backend_pid())};
        auto terminated =
            co_await killer->query("SELECT pg_terminate_backend($1, 5000)", std::move(victim_pid));
        BOOST_TEST(terminated.text(0, 0) == "t");

        std::optional<std::string> lost;
        try {
            co_await victim->query("SELECT 1");
        } catch (const PgConnectionLost& error) {
            lost = error.what();
        }
        BOOST_REQUIRE(lost.has_value());
        BOOST_TEST_MESSAGE("lost: " << *lost);
        BOOST_TEST(!victim->healthy());
        // A broken connection refuses at once, without touching the socket.
        BOOST_CHECK_THROW(co_await victim->query("SELECT 1"), PgConnectionLost);
        BOOST_TEST(killer->healthy());
        auto still = co_await killer->query("SELECT 2");
        BOOST_TEST(still.integer(0, 0) == 2);
    });
}

BOOST_AUTO_TEST_CASE(connecting_where_nothing_listens_fails_at_once) {
    threadsd::test::TempDir empty;
    const std::string uri = "postgresql://postgres@/postgres?host=" + empty.path().string();
    std::optional<std::string> failed;
    Clock::duration elapsed{};
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        const auto start = Clock::now();
        try {
            co_await PgConnection::connect(executor, uri, 2000ms);
        } catch (const PgConnectionLost& error) {
            failed = error.what();
        }
        elapsed = Clock::now() - start;
    });
    BOOST_REQUIRE(failed.has_value());
    BOOST_TEST_MESSAGE("refused: " << *failed);
    BOOST_TEST(elapsed < 2000ms);
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_fails_the_connect_at_its_timeout) {
    // A socket that listens but never accepts: the kernel completes the connection and
    // holds the startup packet, and no answer ever comes.
    threadsd::test::TempDir dir;
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(listener >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = dir.file(".s.PGSQL.5432");
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    BOOST_REQUIRE(::listen(listener, 4) == 0);

    const std::string uri = "postgresql://postgres@/postgres?host=" + dir.path().string();
    std::optional<std::string> failed;
    Clock::duration elapsed{};
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        const auto start = Clock::now();
        try {
            co_await PgConnection::connect(executor, uri, 300ms);
        } catch (const PgConnectionLost& error) {
            failed = error.what();
        }
        elapsed = Clock::now() - start;
    });
    ::close(listener);
    BOOST_REQUIRE(failed.has_value());
    BOOST_TEST_MESSAGE("timed out: " << *failed);
    BOOST_TEST(failed->find("300 ms") != std::string::npos);
    BOOST_TEST(elapsed >= 300ms);
    BOOST_TEST(elapsed < 2000ms);
}

BOOST_AUTO_TEST_CASE(after_the_server_restarts_a_new_connection_works_on_the_same_data) {
    // A cluster of this test's own: stopping the shared one would disturb other tests.
    threadsd::test::PostgresCluster cluster;
    const auto uri = cluster.create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto before = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        std::vector<PgStatement> setup{
            {"CREATE TABLE kept (value text)", {}},
            {"INSERT INTO kept VALUES ($1)", {"written before the stop"}}};
        co_await before->run(std::move(setup));

        cluster.stop();  // Blocking, on the test's own I/O thread: nothing else runs here.
        BOOST_CHECK_THROW(co_await before->query("SELECT 1"), PgConnectionLost);
        BOOST_TEST(!before->healthy());
        BOOST_CHECK_THROW(co_await PgConnection::connect(executor, uri, 2000ms), PgFailure);

        cluster.start();
        auto after = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        auto kept = co_await after->query("SELECT value FROM kept");
        BOOST_REQUIRE(kept.rows() == 1);
        BOOST_TEST(kept.text(0, 0) == "written before the stop");
    });
}

BOOST_AUTO_TEST_CASE(a_notify_from_another_connection_wakes_wait_notification) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    auto notifier = [&]() -> net::awaitable<void> {
        auto executor = co_await net::this_coro::executor;
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        net::steady_timer pause(executor, 100ms);
        co_await pause.async_wait(net::use_awaitable);
        std::vector<PgStatement> notify{{"SELECT pg_notify('cache_changes', $1)", {"thread 42"}},
                                        {"NOTIFY cache_changes", {}}};
        co_await connection->run(std::move(notify));
    };
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto listener = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        co_await listener->query("LISTEN cache_changes");
        net::co_spawn(executor, notifier, rethrow_failure);

        const PgNotification first = co_await listener->wait_notification();
        BOOST_TEST(first.channel == "cache_changes");
        BOOST_TEST(first.payload == "thread 42");
        const PgNotification second = co_await listener->wait_notification();
        BOOST_TEST(second.channel == "cache_changes");
        BOOST_TEST(second.payload == "");
        BOOST_TEST(listener->healthy());
    });
}

BOOST_AUTO_TEST_CASE(an_abandoned_wait_notification_leaves_the_connection_usable) {
    using namespace boost::asio::experimental::awaitable_operators;
    const auto uri = threadsd::test::postgres_cluster().create_database();
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto listener = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        co_await listener->query("LISTEN nobody_sends_this");
        net::steady_timer give_up(executor, 100ms);
        const auto outcome =
            co_await (listener->wait_notification() || give_up.async_wait(net::use_awaitable));
        BOOST_TEST(outcome.index() == 1u);
        BOOST_TEST(listener->healthy());
        auto result = co_await listener->query("SELECT 3");
        BOOST_TEST(result.integer(0, 0) == 3);
    });
}

BOOST_AUTO_TEST_CASE(a_second_concurrent_caller_is_refused_and_the_first_completes) {
    const auto uri = threadsd::test::postgres_cluster().create_database();
    std::optional<std::string> first_result;
    run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
        auto connection = co_await PgConnection::connect(executor, uri, kConnectTimeout);
        PgConnection* shared = connection.get();
        auto first = [&, shared]() -> net::awaitable<void> {
            auto result = co_await shared->query("SELECT pg_sleep(0.1), 'first'");
            first_result = std::string(result.text(0, 1));
        };
        net::co_spawn(executor, first, rethrow_failure);
        net::steady_timer pause(executor, 20ms);
        co_await pause.async_wait(net::use_awaitable);
        BOOST_CHECK_THROW(co_await connection->query("SELECT 'second'"), std::logic_error);
        pause.expires_after(300ms);
        co_await pause.async_wait(net::use_awaitable);
        BOOST_TEST(connection->healthy());
    });
    BOOST_TEST(first_result.value_or("") == "first");
}

BOOST_AUTO_TEST_CASE(redact_conninfo_hides_passwords_in_uris_and_key_value_strings) {
    BOOST_TEST(redact_conninfo("postgresql://user:SECRET@host/db") ==
               "postgresql://user:***@host/db");
    BOOST_TEST(redact_conninfo("postgres://user:SECRET@host:5432/db?sslmode=require") ==
               "postgres://user:***@host:5432/db?sslmode=require");
    BOOST_TEST(redact_conninfo("postgresql://user@host/db?password=SECRET&sslmode=require") ==
               "postgresql://user@host/db?password=***&sslmode=require");
    BOOST_TEST(redact_conninfo("postgresql://user:p%40ss@host/db?sslpassword=SECRET") ==
               "postgresql://user:***@host/db?sslpassword=***");
    // Unencoded '@' and '/' in a password are still hidden whole.
    BOOST_TEST(redact_conninfo("postgresql://user:SE@C/RET@host/db") ==
               "postgresql://user:***@host/db");
    BOOST_TEST(redact_conninfo("postgresql://user@/db?host=/tmp/x") ==
               "postgresql://user@/db?host=/tmp/x");
    BOOST_TEST(redact_conninfo("host=/tmp dbname=x user=u password=SECRET") ==
               "host=/tmp dbname=x user=u password=***");
    BOOST_TEST(redact_conninfo("password = 'SE CR\\'ET' dbname=x") == "password = *** dbname=x");
    BOOST_TEST(redact_conninfo("dbname=x password=SE\\ CRET sslpassword=S2") ==
               "dbname=x password=*** sslpassword=***");
    BOOST_TEST(redact_conninfo("host=localhost dbname=x") == "host=localhost dbname=x");
}

BOOST_AUTO_TEST_CASE(a_failed_connect_never_shows_the_password) {
    const auto& cluster = threadsd::test::postgres_cluster();
    threadsd::test::TempDir empty;
    const std::vector<std::string> conninfos{
        // Nothing listens there.
        "postgresql://postgres:S3cretPass@/postgres?host=" + empty.path().string(),
        // The server answers, and refuses: no such database.
        "postgresql://postgres:S3cretPass@/no_such_db?host=" + cluster.socket_dir().string(),
        "host=" + cluster.socket_dir().string() +
            " user=postgres dbname=no_such_db password=S3cretPass",
        // libpq refuses to parse it, quoting the bad token.
        "postgresql://postgres:S3cretPass%zz@/postgres?host=" + cluster.socket_dir().string(),
    };
    for (const auto& conninfo : conninfos) {
        std::optional<std::string> failed;
        run_on_io([&](net::any_io_executor executor) -> net::awaitable<void> {
            try {
                co_await PgConnection::connect(executor, conninfo, kConnectTimeout);
            } catch (const PgFailure& error) {
                failed = error.what();
            }
        });
        BOOST_REQUIRE(failed.has_value());
        BOOST_TEST_MESSAGE("failed: " << *failed);
        BOOST_TEST(failed->find("S3cretPass") == std::string::npos, *failed);
        BOOST_TEST(failed->find("***") != std::string::npos, *failed);
    }
}

BOOST_AUTO_TEST_SUITE_END()
