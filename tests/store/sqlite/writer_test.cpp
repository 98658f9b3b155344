#include "threadsd/store/sqlite/writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite/admin.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"
#include "threadsd/store/sqlite/sqlite_store.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/uuid.hpp"

namespace {

namespace net = boost::asio;
using threadsd::store::DemoSeed;
using threadsd::store::Durability;
using threadsd::store::ThreadRecord;
using threadsd::store::sqlite::Connection;
using threadsd::store::sqlite::OpenMode;
using threadsd::store::sqlite::SqliteError;
using threadsd::store::sqlite::SqliteStore;
using threadsd::store::sqlite::WriteContext;
using threadsd::store::sqlite::WriteJob;
using threadsd::store::sqlite::Writer;
using threadsd::test::query_int;
using threadsd::test::TempDir;
namespace demo = threadsd::test::demo;

constexpr const char* kMissingVersion = "7c1d2e3f-4a5b-4c6d-8e7f-000000000000";

/// Rows of `threads` with this id, seen through a connection of its own. No Boost.Test
/// assertions inside: it is also called on the writer's thread.
std::int64_t thread_rows(const std::string& db, const std::string& id) {
    Connection reader(db, OpenMode::kReadOnly);
    auto statement = reader.prepare("SELECT count(*) FROM threads WHERE id = ?1");
    statement.bind(1, id);
    if (!statement.step()) {
        throw std::runtime_error("count(*) returned no row");
    }
    return statement.integer(0);
}

threadsd::util::Uuid7Generator& ids() {
    static threadsd::util::Uuid7Generator generator;
    return generator;
}

/// A web thread for the demo Support bot, bound to `version_id`, as the API builds it.
ThreadRecord web_thread(const std::string& version_id = demo::kSupportBotV2) {
    ThreadRecord thread;
    const std::int64_t now = threadsd::util::unix_millis_now();
    thread.id = ids().next(now);
    thread.organization_id = demo::kOrganization;
    thread.created_at = now;
    thread.updated_at = now;
    thread.metadata_json = R"({"source":"writer_test"})";
    thread.agent.id = demo::kSupportBot;
    thread.agent.organization_id = demo::kOrganization;
    thread.agent.name = "Support bot";
    thread.agent.agent_type = "TEXT";
    thread.agent_version.id = version_id;
    thread.agent_version.version = 2;
    thread.agent_version.name = "v2 friendlier tone";
    thread.agent_version.mode = "PROMPT";
    return thread;
}

WriteJob insert_job(ThreadRecord thread) {
    return [thread = std::move(thread)](WriteContext& context) { context.threads.insert(thread); };
}

/// A migrated, demo-seeded store file.
struct SeededFile {
    SeededFile() : path(dir.file("writer.db")) {
        Connection connection(path, OpenMode::kReadWrite);
        threadsd::store::sqlite::migrate(connection, DemoSeed::kWhenCreated);
    }
    TempDir dir;
    std::string path;
};

/// The outcome of one co_spawned write.
struct Outcome {
    bool done = false;
    std::exception_ptr error;
};

/// Spawns `co_await writer.write(job)` on `io`, recording its outcome in `outcome`.
void spawn_write(net::io_context& io, Writer& writer, WriteJob job, Outcome& outcome) {
    net::co_spawn(io, writer.write(std::move(job)), [&outcome](std::exception_ptr error) {
        outcome.done = true;
        outcome.error = error;
    });
}

/// Holds the writer's thread inside a job until release(), so that every write issued
/// meanwhile waits in the queue and joins the next group transaction. Deterministic: no
/// timing is involved, only the order in which handlers run.
class WriterGate {
  public:
    explicit WriterGate(Writer& writer) {
        auto started = started_.get_future();
        thread_ = std::thread([this, &writer] {
            net::io_context io;
            spawn_write(
                io, writer,
                [this](WriteContext&) {
                    started_.set_value();
                    released_.wait();
                },
                outcome_);
            io.run();
        });
        started.wait();  // the writer is now inside the gate job's transaction
    }
    ~WriterGate() { finish(); }
    WriterGate(const WriterGate&) = delete;
    WriterGate& operator=(const WriterGate&) = delete;

    /// Lets the gate job finish.
    void release() {
        if (!release_called_) {
            release_called_ = true;
            release_.set_value();
        }
    }

    /// Releases the gate from a handler of `io` that runs after every handler already
    /// queued there (and what those queue in turn, a few levels deep): once all the writes
    /// spawned before this call have been handed to the writer.
    void release_after_queued(net::io_context& io, int hops = 4) {
        if (hops == 0) {
            release();
            return;
        }
        net::post(io, [this, &io, hops] { release_after_queued(io, hops - 1); });
    }

    /// Releases the gate job and waits for its thread to end.
    void finish() {
        release();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    /// How the gate job ended; read it only after finish(), which orders its thread's
    /// writes before the read (ThreadSanitizer found the read racing without it).
    const Outcome& outcome() const { return outcome_; }

  private:
    std::promise<void> started_;
    std::promise<void> release_;
    std::shared_future<void> released_ = release_.get_future().share();
    bool release_called_ = false;
    Outcome outcome_;
    std::thread thread_;
};

/// What `error` says, or "" when there is no error.
std::string rethrown_message(const std::exception_ptr& error) {
    if (!error) {
        return "";
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "(not a std::exception)";
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_writer)

BOOST_AUTO_TEST_CASE(a_committed_job_is_visible_to_another_connection_when_the_await_ends) {
    SeededFile file;
    Writer writer(file.path, Durability::kFull);
    BOOST_TEST(writer.committed_batches() == 0u);

    const ThreadRecord thread = web_thread();
    std::optional<std::int64_t> rows_seen_after_await;
    std::int64_t rows_seen_inside_job = -1;
    Outcome outcome;
    net::io_context io;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            BOOST_REQUIRE(thread_rows(file.path, thread.id) == 0);
            // A named job, not a lambda temporary in the co_await's full-expression,
            // which g++ 12 can destroy twice.
            WriteJob job = [&](WriteContext& context) {
                context.threads.insert(thread);
                // Not committed yet: another connection must not see it.
                rows_seen_inside_job = thread_rows(file.path, thread.id);
            };
            co_await writer.write(std::move(job));
            rows_seen_after_await = thread_rows(file.path, thread.id);
        },
        [&](std::exception_ptr error) {
            outcome.done = true;
            outcome.error = error;
        });
    io.run();

    BOOST_REQUIRE(outcome.done);
    BOOST_REQUIRE_MESSAGE(!outcome.error, rethrown_message(outcome.error));
    BOOST_TEST(rows_seen_inside_job == 0);
    BOOST_REQUIRE(rows_seen_after_await.has_value());
    BOOST_TEST(*rows_seen_after_await == 1);
    BOOST_TEST(writer.committed_batches() == 1u);

    // The row holds what the record said.
    Connection reader(file.path, OpenMode::kReadOnly);
    auto row = reader.prepare(
        "SELECT organization_id, agent_id, agent_version_id, to_phone_number, from_phone_number,"
        " is_active, created_at, updated_at, closed_at, metadata, variables FROM threads"
        " WHERE id = ?1");
    row.bind(1, thread.id);
    BOOST_REQUIRE(row.step());
    BOOST_TEST(row.text(0) == demo::kOrganization);
    BOOST_TEST(row.text(1) == demo::kSupportBot);
    BOOST_TEST(row.text(2) == demo::kSupportBotV2);
    BOOST_TEST(row.text(3) == "");
    BOOST_TEST(row.is_null(4));
    BOOST_TEST(row.integer(5) == 1);
    BOOST_TEST(row.integer(6) == thread.created_at);
    BOOST_TEST(row.integer(7) == thread.updated_at);
    BOOST_TEST(row.is_null(8));
    BOOST_TEST(row.text(9) == *thread.metadata_json);
    BOOST_TEST(row.is_null(10));
}

BOOST_AUTO_TEST_CASE(the_writer_commits_with_the_durability_it_was_given) {
    // SQLite's `synchronous`: 2 is FULL, 1 is NORMAL.
    for (const auto& [durability, expected] :
         {std::pair{Durability::kFull, 2}, std::pair{Durability::kNormal, 1}}) {
        SeededFile file;
        Writer writer(file.path, durability);
        std::int64_t synchronous = -1;
        Outcome outcome;
        net::io_context io;
        spawn_write(
            io, writer,
            [&](WriteContext& context) {
                auto pragma = context.connection.prepare("PRAGMA synchronous");
                BOOST_REQUIRE(pragma.step());
                synchronous = pragma.integer(0);
                pragma.reset();
            },
            outcome);
        io.run();
        BOOST_REQUIRE(outcome.done);
        BOOST_REQUIRE_MESSAGE(!outcome.error, rethrown_message(outcome.error));
        BOOST_TEST(synchronous == expected);
    }
}

// The checkpoint runs on its own thread after the commit that filled the WAL past the
// threshold. Only the database file, without its WAL, is read afterwards: the row is in
// it once a checkpoint has copied it there.
BOOST_AUTO_TEST_CASE(a_commit_past_the_threshold_has_the_wal_copied_into_the_file) {
    const auto rows_in_file_alone = [](const std::string& db, const std::string& copy,
                                       const std::string& id) {
        std::filesystem::copy_file(db, copy, std::filesystem::copy_options::overwrite_existing);
        return thread_rows(copy, id);
    };
    SeededFile file;
    const std::string copy = file.dir.file("file-alone.db");
    {
        // A threshold no small write reaches: the row stays in the WAL.
        Writer writer(file.path, Durability::kFull);
        const ThreadRecord thread = web_thread();
        Outcome outcome;
        net::io_context io;
        spawn_write(io, writer, insert_job(thread), outcome);
        io.run();
        BOOST_REQUIRE(outcome.done && !outcome.error);
        BOOST_TEST(writer.checkpoints() == 0u);
        BOOST_TEST(rows_in_file_alone(file.path, copy, thread.id) == 0);
    }
    Writer writer(file.path, Durability::kFull, 1);
    const ThreadRecord thread = web_thread();
    Outcome outcome;
    net::io_context io;
    spawn_write(io, writer, insert_job(thread), outcome);
    io.run();
    BOOST_REQUIRE(outcome.done && !outcome.error);
    // Waits for the other thread, without asserting how long it takes.
    for (int i = 0; i < 1000 && writer.checkpoints() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST_REQUIRE(writer.checkpoints() >= 1u);
    BOOST_TEST(rows_in_file_alone(file.path, copy, thread.id) == 1);
}

BOOST_AUTO_TEST_CASE(concurrent_jobs_are_group_committed) {
    SeededFile file;
    Writer writer(file.path, Durability::kFull);
    constexpr int kJobs = 200;
    std::vector<ThreadRecord> threads;
    std::vector<Outcome> outcomes(kJobs);
    net::io_context io;
    {
        WriterGate gate(writer);  // one batch, holding the writer
        for (int i = 0; i < kJobs; ++i) {
            threads.push_back(web_thread());
            spawn_write(io, writer, insert_job(threads.back()), outcomes[i]);
        }
        gate.release_after_queued(io);
        io.run();
        gate.finish();
        BOOST_TEST(gate.outcome().done);
    }
    for (int i = 0; i < kJobs; ++i) {
        BOOST_TEST(outcomes[i].done, "job " << i);
        BOOST_TEST(!outcomes[i].error, "job " << i << ": " << rethrown_message(outcomes[i].error));
    }
    Connection reader(file.path, OpenMode::kReadOnly);
    BOOST_TEST(query_int(reader, "SELECT count(*) FROM threads") == kJobs);
    for (const auto& thread : threads) {
        BOOST_TEST(thread_rows(file.path, thread.id) == 1);
    }
    // The gate's batch, then every queued job in one more.
    BOOST_TEST(writer.committed_batches() < static_cast<std::uint64_t>(kJobs));
    BOOST_TEST(writer.committed_batches() == 2u);
}

BOOST_AUTO_TEST_CASE(a_failing_job_fails_alone_and_its_neighbours_commit) {
    SeededFile file;
    Writer writer(file.path, Durability::kFull);
    const ThreadRecord before = web_thread();
    const ThreadRecord bad_fk = web_thread(kMissingVersion);
    const ThreadRecord between = web_thread();
    const ThreadRecord thrown = web_thread();
    const ThreadRecord after = web_thread();
    const ThreadRecord duplicate = before;  // same primary key as a neighbour
    const ThreadRecord last = web_thread();

    Outcome o_before, o_bad_fk, o_between, o_thrown, o_after, o_duplicate, o_last;
    net::io_context io;
    {
        WriterGate gate(writer);
        spawn_write(io, writer, insert_job(before), o_before);
        spawn_write(io, writer, insert_job(bad_fk), o_bad_fk);
        spawn_write(io, writer, insert_job(between), o_between);
        spawn_write(
            io, writer,
            [&thrown](WriteContext& context) {
                context.threads.insert(thrown);  // undone with the job
                throw std::runtime_error("job failed on purpose");
            },
            o_thrown);
        spawn_write(io, writer, insert_job(after), o_after);
        spawn_write(io, writer, insert_job(duplicate), o_duplicate);
        spawn_write(io, writer, insert_job(last), o_last);
        gate.release_after_queued(io);
        io.run();
    }
    // All seven ran in one transaction after the gate's; the job that threw after its
    // insert made the writer run that batch a second time, with savepoints.
    BOOST_TEST(writer.committed_batches() == 2u);
    BOOST_TEST(writer.retried_batches() == 1u);

    for (const Outcome* ok : {&o_before, &o_between, &o_after, &o_last}) {
        BOOST_TEST(ok->done);
        BOOST_TEST(!ok->error, rethrown_message(ok->error));
    }
    BOOST_TEST(thread_rows(file.path, before.id) == 1);
    BOOST_TEST(thread_rows(file.path, between.id) == 1);
    BOOST_TEST(thread_rows(file.path, after.id) == 1);
    BOOST_TEST(thread_rows(file.path, last.id) == 1);

    // The foreign key violation is rethrown to its own awaiter only.
    BOOST_REQUIRE(o_bad_fk.done);
    BOOST_REQUIRE(o_bad_fk.error);
    try {
        std::rethrow_exception(o_bad_fk.error);
    } catch (const SqliteError& error) {
        BOOST_TEST(error.code() == SQLITE_CONSTRAINT_FOREIGNKEY, error.what());
    } catch (const std::exception& error) {
        BOOST_FAIL("unexpected exception: " << error.what());
    }
    BOOST_TEST(thread_rows(file.path, bad_fk.id) == 0);

    // The job's own exception comes back unchanged, and its insert is undone.
    BOOST_REQUIRE(o_thrown.done);
    BOOST_REQUIRE(o_thrown.error);
    try {
        std::rethrow_exception(o_thrown.error);
    } catch (const std::runtime_error& error) {
        BOOST_TEST(std::string(error.what()) == "job failed on purpose");
    }
    BOOST_TEST(thread_rows(file.path, thrown.id) == 0);

    // A primary key clash with an earlier job of the same batch.
    BOOST_REQUIRE(o_duplicate.done);
    BOOST_REQUIRE(o_duplicate.error);
    try {
        std::rethrow_exception(o_duplicate.error);
    } catch (const SqliteError& error) {
        BOOST_TEST((error.code() & 0xff) == SQLITE_CONSTRAINT, error.what());
    }

    Connection reader(file.path, OpenMode::kReadOnly);
    BOOST_TEST(query_int(reader, "SELECT count(*) FROM threads") == 4);

    // The writer keeps working after failures.
    const ThreadRecord later = web_thread();
    Outcome o_later;
    net::io_context io2;
    spawn_write(io2, writer, insert_job(later), o_later);
    io2.run();
    BOOST_TEST(o_later.done);
    BOOST_TEST(!o_later.error);
    BOOST_TEST(thread_rows(file.path, later.id) == 1);
}

BOOST_AUTO_TEST_CASE(a_batch_of_only_failures_still_completes_every_job) {
    SeededFile file;
    Writer writer(file.path, Durability::kFull);
    std::vector<Outcome> outcomes(5);
    net::io_context io;
    for (auto& outcome : outcomes) {
        spawn_write(io, writer, insert_job(web_thread(kMissingVersion)), outcome);
    }
    io.run();
    for (const auto& outcome : outcomes) {
        BOOST_TEST(outcome.done);
        BOOST_TEST(static_cast<bool>(outcome.error));
    }
    Connection reader(file.path, OpenMode::kReadOnly);
    BOOST_TEST(query_int(reader, "SELECT count(*) FROM threads") == 0);
    // SQLite undid each refused insert itself: no batch had to be run again.
    BOOST_TEST(writer.retried_batches() == 0u);
}

BOOST_AUTO_TEST_CASE(read_leases_are_reused) {
    SeededFile file;
    SqliteStore store(file.path);
    BOOST_TEST(store.description() == file.path);
    threadsd::store::sqlite::ReadSession* first = nullptr;
    {
        auto lease = store.read();
        first = lease.operator->();
        BOOST_REQUIRE(first != nullptr);
        // While it is out, another lease gets another session.
        auto other = store.read();
        BOOST_TEST(other.operator->() != first);
    }
    {
        auto lease = store.read();
        auto second = store.read();
        // Both idle sessions are handed out again, no third one is opened.
        BOOST_TEST((lease.operator->() == first || second.operator->() == first));
    }
    {
        auto lease = store.read();
        threadsd::store::sqlite::ReadSession* again = lease.operator->();
        BOOST_TEST(again != nullptr);
        auto moved = std::move(lease);
        BOOST_TEST(moved.operator->() == again);
    }
    // A moved-from lease gives nothing back twice: two sessions are idle, not three.
    auto a = store.read();
    auto b = store.read();
    auto c = store.read();
    BOOST_TEST(a.operator->() != b.operator->());
    BOOST_TEST(a.operator->() != c.operator->());
    BOOST_TEST(b.operator->() != c.operator->());
}

BOOST_AUTO_TEST_CASE(read_sessions_find_live_agents) {
    SeededFile file;
    SqliteStore store(file.path);
    {
        auto session = store.read();
        const auto support =
            session->catalog.find_live_agent(demo::kOrganization, demo::kSupportBot);
        BOOST_REQUIRE(support.has_value());
        BOOST_TEST(support->agent.id == demo::kSupportBot);
        BOOST_TEST(support->agent.organization_id == demo::kOrganization);
        BOOST_TEST(support->agent.name == "Support bot");
        BOOST_REQUIRE(support->agent.description.has_value());
        BOOST_TEST(*support->agent.description == "Answers product questions over web chat");
        BOOST_TEST(support->agent.agent_type == "TEXT");
        BOOST_TEST(!support->agent.deleted);
        BOOST_REQUIRE(support->published.has_value());
        BOOST_TEST(support->published->id == "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e12");
        BOOST_TEST(support->published->version == 2);
        BOOST_TEST(support->published->name == "v2 friendlier tone");
        BOOST_TEST(support->published->mode == "PROMPT");
        BOOST_TEST(support->published->sms_max_tokens.value_or(-1) == 256.0);
        BOOST_TEST(support->published->sms_temperature.value_or(-1) == 0.7);
        BOOST_TEST(!support->published->discard_inbound_sms);

        const auto voice = session->catalog.find_live_agent(demo::kOrganization, demo::kVoiceAgent);
        BOOST_REQUIRE(voice.has_value());
        BOOST_TEST(voice->agent.agent_type == "CALL");
        BOOST_TEST(!voice->agent.description.has_value());
        BOOST_REQUIRE(voice->published.has_value());
        BOOST_TEST(voice->published->id == demo::kVoiceAgentV1);
        BOOST_TEST(voice->published->mode == "FLOW");
        BOOST_TEST(!voice->published->sms_max_tokens.has_value());
        BOOST_TEST(!voice->published->sms_temperature.has_value());
        BOOST_TEST(voice->published->discard_inbound_sms);

        const auto draft = session->catalog.find_live_agent(demo::kOrganization, demo::kDraftAgent);
        BOOST_REQUIRE(draft.has_value());
        BOOST_TEST(draft->agent.name == "Draft agent");
        BOOST_TEST(!draft->published.has_value());

        // Another organization's id, an unknown agent, a non-canonical spelling.
        BOOST_TEST(!session->catalog
                        .find_live_agent("99999999-9999-4999-8999-999999999999", demo::kSupportBot)
                        .has_value());
        BOOST_TEST(
            !session->catalog
                 .find_live_agent(demo::kOrganization, "99999999-9999-4999-8999-999999999999")
                 .has_value());
        BOOST_TEST(
            !session->catalog.find_live_agent(demo::kSupportBot, demo::kOrganization).has_value());
    }

    // An agent of a second organization, then the same agent soft-deleted: an idle
    // session (opened before the import) sees both changes without being reopened.
    const std::string other_org = "bbbbbbbb-0000-4000-8000-000000000002";
    const std::string agent_id = "a1a1a1a1-1111-4111-8111-000000000001";
    auto import = [&](bool deleted) {
        Connection admin(file.path, OpenMode::kReadWrite);
        const std::string text = R"([{"id": ")" + agent_id + R"(", "organizationId": ")" +
                                 other_org + R"(", "name": "Other", "agentType": "TEXT",
            "deleted": )" + (deleted ? "true" : "false") +
                                 R"(, "versions": [{"id": "e1e1e1e1-1111-4111-8111-000000000011",
            "version": 1, "name": "v1", "mode": "FLOW", "published": true}]}])";
        auto parsed = threadsd::store::parse_agent_import(text);
        BOOST_REQUIRE(std::holds_alternative<std::vector<threadsd::store::ImportedAgent>>(parsed));
        threadsd::store::sqlite::apply_agent_import(
            admin, std::get<std::vector<threadsd::store::ImportedAgent>>(parsed));
    };
    import(false);
    {
        auto session = store.read();
        const auto found = session->catalog.find_live_agent(other_org, agent_id);
        BOOST_REQUIRE(found.has_value());
        BOOST_TEST(found->published.has_value());
        // Scoped to its organization: the demo organization does not see it.
        BOOST_TEST(!session->catalog.find_live_agent(demo::kOrganization, agent_id).has_value());
    }
    import(true);
    {
        auto session = store.read();
        BOOST_TEST(!session->catalog.find_live_agent(other_org, agent_id).has_value());
        // The demo agents are still there.
        BOOST_TEST(
            session->catalog.find_live_agent(demo::kOrganization, demo::kSupportBot).has_value());
    }
}

BOOST_AUTO_TEST_CASE(the_store_writer_and_readers_share_the_file) {
    SeededFile file;
    SqliteStore store(file.path);
    const ThreadRecord thread = web_thread();
    Outcome outcome;
    net::io_context io;
    spawn_write(io, store.writer(), insert_job(thread), outcome);
    io.run();
    BOOST_REQUIRE(outcome.done);
    BOOST_TEST(!outcome.error);
    auto session = store.read();
    BOOST_TEST(query_int(session->connection,
                         "SELECT count(*) FROM threads WHERE id = '" + thread.id + "'") == 1);
    // Read sessions are read-only.
    BOOST_CHECK_THROW(session->connection.exec("DELETE FROM threads"), SqliteError);
}

BOOST_AUTO_TEST_SUITE_END()
