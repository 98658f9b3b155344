// Faults of the store under a running server: a write lock held by another process, a
// disk that refuses writes, the database file deleted, and its whole directory removed.
// Clients get 500 envelopes that say nothing of the store, the log says what happened,
// the server recovers by itself once the fault is gone, and no acknowledged thread is
// lost: each test restarts the server at the end and finds every thread it was told of.

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/sqlite_file.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

using boost::beast::http::verb;
namespace fs = std::filesystem;

/// A server on a store, the threads it acknowledged, and checks on both.
class Harness {
  public:
    /// A store in `directory` (created here) with a demo key, and a server on it.
    explicit Harness(const fs::path& directory)
        : directory_(directory), db_((directory / "store.db").string()) {
        fs::create_directories(directory_);
        key_ = create_demo_key(db_);
        server_ = std::make_unique<ServerProcess>(db_);
    }

    ServerProcess& server() { return *server_; }
    const std::string& db() const { return db_; }
    const fs::path& directory() const { return directory_; }

    /// POSTs a create; a 200's thread id is remembered as acknowledged.
    HttpResult create() {
        HttpClient client(server_->port());
        auto response =
            client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key_);
        if (response.status() == 200u) {
            acknowledged_.emplace_back(
                boost::json::parse(response.message.body()).at("thread").at("id").as_string());
        }
        return response;
    }

    /// GETs an acknowledged thread.
    HttpResult get(const std::string& id) {
        HttpClient client(server_->port());
        return client.request(verb::get, "/api/v1/threads/" + id, std::nullopt,
                              {{"X-API-Key", key_}});
    }

    /// Expects a refusal that tells the client nothing about the store.
    static void expect_opaque_500(const HttpResult& response) {
        check_error(response, 500, "INTERNAL_SERVER_ERROR");
        for (const char* secret : {"SQLite", "sqlite", "database", "disk", "store.db", "/"}) {
            BOOST_TEST(response.message.body().find(secret) == std::string::npos,
                       "the 500 mentions " << secret << ": " << response.message.body());
        }
    }

    /// Stops the server with SIGKILL, starts a new one on the same file, and checks that
    /// every acknowledged thread is served and the file is sound.
    void restart_and_expect_everything() {
        server_->kill9();
        server_ = std::make_unique<ServerProcess>(db_);
        for (const auto& id : acknowledged_) {
            BOOST_TEST(get(id).status() == 200u, "acknowledged thread " << id << " is lost");
        }
        SqliteFile file(db_);
        BOOST_TEST(file.scalar("PRAGMA integrity_check") == "ok");
        BOOST_TEST(file.scalar("SELECT count(*) FROM threads") ==
                   std::to_string(acknowledged_.size()));
    }

    /// Thread ids the server answered 200 for.
    const std::vector<std::string>& acknowledged() const { return acknowledged_; }

    /// Forgets the acknowledged threads after the first `count` (an operator restored an
    /// older backup, so they are meant to be gone).
    void forget_after(std::size_t count) { acknowledged_.resize(count); }

  private:
    fs::path directory_;                     ///< Holds the store.
    std::string db_;                         ///< The store file.
    std::string key_;                        ///< A demo key.
    std::unique_ptr<ServerProcess> server_;  ///< The server under test.
    std::vector<std::string> acknowledged_;  ///< Every 200's thread id.
};

/// Sets the server's file-size limit (ulimit -f) from outside. Only the soft limit, so
/// that it can be raised again without privileges.
void limit_file_size(pid_t server, rlim_t bytes) {
    const rlimit limit{bytes, RLIM_INFINITY};
    BOOST_TEST_REQUIRE(::prlimit(server, RLIMIT_FSIZE, &limit, nullptr) == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_faults_http,
                      *only_on(StoreKind::kSqlite,
                               "faults of a SQLite file; PostgreSQL's are in postgres_tests"))

BOOST_AUTO_TEST_CASE(a_write_lock_held_elsewhere_gives_500_until_it_is_released) {
    TempDir dir;
    Harness harness(dir.path() / "data");
    BOOST_TEST_REQUIRE(harness.create().status() == 200u);

    WriteLockHolder blocker(harness.db());
    // The writer waits SQLite's busy timeout (5 s) for the lock, then gives up.
    const auto refused = harness.create();
    Harness::expect_opaque_500(refused);
    // The error log names the request, so a client's X-Request-Id leads to the cause.
    const std::string request_id = refused.header("X-Request-Id");
    BOOST_TEST(harness.server().stderr_text().find("request " + request_id + " failed") !=
                   std::string::npos,
               harness.server().stderr_text());
    // Reads never wait for the write lock.
    BOOST_TEST(harness.get(harness.acknowledged().front()).status() == 200u);
    // Readiness tries a write, so it reports the store as not writable (after the busy
    // timeout), and health still says the process is alive.
    HttpClient probe(harness.server().port());
    const auto not_ready = probe.request(verb::get, "/readyz", std::nullopt, {});
    check_error(not_ready, 503, "SERVICE_UNAVAILABLE", "not writable");
    BOOST_TEST(not_ready.header("Retry-After") == "1");
    BOOST_TEST(probe.request(verb::get, "/healthz", std::nullopt, {}).status() == 200u);
    BOOST_TEST(harness.server().stderr_text().find("database is locked") != std::string::npos,
               harness.server().stderr_text());

    blocker.release();
    BOOST_TEST(harness.create().status() == 200u);
    BOOST_TEST(harness.server().stderr_text().find("writes succeed again") != std::string::npos);
    BOOST_TEST(probe.request(verb::get, "/readyz", std::nullopt, {}).status() == 200u);
    harness.restart_and_expect_everything();
}

BOOST_AUTO_TEST_CASE(a_disk_that_refuses_writes_gives_500_and_writes_resume_when_it_accepts) {
    TempDir dir;
    Harness harness(dir.path() / "data");
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST_REQUIRE(harness.create().status() == 200u);
    }

    // No file of the server may grow any more: appending to the WAL fails (EFBIG) the way
    // writes fail on a full disk. Its log file, far smaller, still takes the log lines.
    // The server must neither die (SIGXFSZ) nor answer 200.
    const auto wal_size = fs::file_size(harness.db() + "-wal");
    BOOST_TEST_REQUIRE(wal_size > 4096u);
    limit_file_size(harness.server().pid(), wal_size);
    for (int i = 0; i < 5; ++i) {
        Harness::expect_opaque_500(harness.create());
    }
    BOOST_TEST(harness.get(harness.acknowledged().front()).status() == 200u);
    const auto log = harness.server().stderr_text();
    BOOST_TEST(log.find("failed and were answered 500") != std::string::npos, log);
    BOOST_TEST(log.find("I/O error") != std::string::npos, log);

    limit_file_size(harness.server().pid(), RLIM_INFINITY);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(harness.create().status() == 200u);
    }
    BOOST_TEST(harness.server().stderr_text().find("writes succeed again") != std::string::npos);
    harness.restart_and_expect_everything();
}

BOOST_AUTO_TEST_CASE(a_deleted_database_file_is_written_back_with_every_committed_write) {
    TempDir dir;
    Harness harness(dir.path() / "data");
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST_REQUIRE(harness.create().status() == 200u);
    }

    fs::remove(harness.db());
    // The next write finds the file gone, writes it back from the open connection and
    // goes on; nothing the server acknowledged before or after is lost.
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(harness.create().status() == 200u);
    }
    BOOST_TEST(fs::exists(harness.db()));
    const auto log = harness.server().stderr_text();
    BOOST_TEST(log.find("was deleted while threadsd had it open") != std::string::npos, log);
    BOOST_TEST(log.find("back from the open connection") != std::string::npos, log);
    for (const auto& id : harness.acknowledged()) {
        BOOST_TEST(harness.get(id).status() == 200u);
    }
    harness.restart_and_expect_everything();
}

BOOST_AUTO_TEST_CASE(a_database_file_replaced_by_a_backup_is_followed_by_writes_and_reads) {
    TempDir dir;
    Harness harness(dir.path() / "data");
    for (int i = 0; i < 2; ++i) {
        BOOST_TEST_REQUIRE(harness.create().status() == 200u);
    }
    const auto backup = (harness.directory() / "backup.db").string();
    {
        SqliteFile file(harness.db());
        BOOST_TEST_REQUIRE(sqlite3_exec(file.handle(), ("VACUUM INTO '" + backup + "'").c_str(),
                                        nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    for (int i = 0; i < 2; ++i) {
        BOOST_TEST_REQUIRE(harness.create().status() == 200u);
    }
    const auto after_backup = harness.acknowledged().back();

    // The operator restores the backup over the live file.
    fs::rename(backup, harness.db());
    harness.forget_after(2);
    BOOST_TEST(harness.create().status() == 200u);
    const auto log = harness.server().stderr_text();
    BOOST_TEST(log.find("was replaced by another file") != std::string::npos, log);
    // Reads follow the new file too: the thread made after the backup is gone from it.
    BOOST_TEST(harness.get(after_backup).status() == 404u);
    for (const auto& id : harness.acknowledged()) {
        BOOST_TEST(harness.get(id).status() == 200u);
    }
    harness.restart_and_expect_everything();
}

BOOST_AUTO_TEST_CASE(a_removed_directory_gives_500_until_it_is_back) {
    TempDir dir;
    Harness harness(dir.path() / "data");
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST_REQUIRE(harness.create().status() == 200u);
    }

    // The file, its WAL and the directory they lived in: there is nowhere to write back.
    fs::remove_all(harness.directory());
    for (int i = 0; i < 3; ++i) {
        Harness::expect_opaque_500(harness.create());
    }
    const auto log = harness.server().stderr_text();
    BOOST_TEST(log.find("was deleted while threadsd had it open") != std::string::npos, log);

    fs::create_directories(harness.directory());
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(harness.create().status() == 200u);
    }
    harness.restart_and_expect_everything();
}

BOOST_AUTO_TEST_CASE(a_read_only_database_file_stops_serve_with_one_line_until_it_is_writable) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    // Open to the unprivileged user the server runs as here (see run_threadsd_unprivileged).
    fs::permissions(dir.path(), fs::perms::all);
    fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);

    const auto refused =
        run_threadsd_unprivileged({"serve", "--listen", "127.0.0.1:0", "--db", db});
    BOOST_TEST(refused.exit_code == 1, "exit " << refused.exit_code << ": " << refused.err);
    BOOST_TEST(refused.err.find("read-only") != std::string::npos, refused.err);
    BOOST_TEST(std::count(refused.err.begin(), refused.err.end(), '\n') == 1, refused.err);

    // Writable by that user again: the same command line works.
    if (::geteuid() == 0) {
        BOOST_TEST_REQUIRE(::chown(db.c_str(), 65534, 65534) == 0);
    }
    fs::permissions(db, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
    const auto migrated = run_threadsd_unprivileged({"migrate", "--db", db});
    BOOST_TEST(migrated.exit_code == 0, migrated.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
