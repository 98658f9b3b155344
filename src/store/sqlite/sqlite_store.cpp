#include "threadsd/store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <stdexcept>

#include "threadsd/store/write_metrics.hpp"

#include "threadsd/store/sqlite/admin.hpp"
#include "threadsd/store/sqlite/migrations.hpp"
#include "threadsd/store/sqlite/open.hpp"

namespace threadsd::store::sqlite {

namespace net = boost::asio;

ReadLease::ReadLease(SqliteStore& store, std::unique_ptr<ReadSession> session)
    : store_(&store), session_(std::move(session)) {}

ReadLease::~ReadLease() {
    if (session_) {
        store_->give_back(std::move(session_));
    }
}

SqliteStore::SqliteStore(std::string path, Durability durability, std::size_t max_queued_writes)
    : path_(std::move(path)),
      writer_(path_, durability, Writer::kCheckpointFrames, max_queued_writes) {}

ReadLease SqliteStore::read() {
    const auto epoch = writer_.file_epoch();
    std::vector<std::unique_ptr<ReadSession>> stale;  // closed after the lock is released
    {
        std::lock_guard lock(idle_mutex_);
        while (!idle_.empty()) {
            auto session = std::move(idle_.back());
            idle_.pop_back();
            if (session->file_epoch == epoch) {
                return ReadLease(*this, std::move(session));
            }
            stale.push_back(std::move(session));
        }
    }
    return ReadLease(*this, std::make_unique<ReadSession>(path_, epoch));
}

std::int64_t SqliteStore::observe_catalog() {
    std::int64_t generation = 0;
    std::uint64_t epoch = 0;
    {
        auto session = read();
        generation = session->catalog.generation();
        epoch = session->file_epoch;
    }
    // Generations count from 0 again in a file put back or replaced; the epoch in the high
    // bits keeps the combined value rising. 2^40 catalog changes would take 35 years at
    // 1000 a second.
    generation += static_cast<std::int64_t>(epoch << 40);
    catalog_cache_.observe(generation);
    return generation;
}

AgentDetailsSource SqliteStore::agent_details(std::int64_t generation) {
    AgentDetailsSource source;
    source.agent = [this, generation](const std::string& agent_id) {
        return catalog_cache_.agent(agent_id, generation, [&] {
            auto session = read();
            return session->threads.agent_by_id(agent_id);
        });
    };
    source.version = [this, generation](const std::string& version_id) {
        return catalog_cache_.version(version_id, generation, [&] {
            auto session = read();
            return session->threads.version_by_id(version_id);
        });
    };
    return source;
}

void SqliteStore::give_back(std::unique_ptr<ReadSession> session) {
    if (session->file_epoch != writer_.file_epoch()) {
        return;  // a connection to a file that is gone; closing it is all that is left
    }
    std::lock_guard lock(idle_mutex_);
    idle_.push_back(std::move(session));
}

net::awaitable<AsOf<ApiKeyRecord>> SqliteStore::api_key(const SecretHash& hash) {
    // The generation first, so a key revoked a moment ago is refused now (CatalogCache).
    const auto generation = observe_catalog();
    // Returned as a temporary: a named local would be copied into the coroutine's result.
    co_return AsOf<ApiKeyRecord>{generation, catalog_cache_.api_key(hash, generation, [&] {
                                     auto session = read();
                                     return session->catalog.find_api_key(hash);
                                 })};
}

net::awaitable<AsOf<std::string>> SqliteStore::clerk_organization(
    const std::string& clerk_organization_id) {
    const auto generation = observe_catalog();
    co_return AsOf<std::string>{
        generation, catalog_cache_.clerk_organization(clerk_organization_id, generation, [&] {
            auto session = read();
            return session->catalog.find_clerk_organization(clerk_organization_id);
        })};
}

net::awaitable<std::optional<AgentWithPublishedVersion>> SqliteStore::live_agent(
    std::string_view organization_id, std::string_view agent_id, std::int64_t generation) {
    co_return catalog_cache_.live_agent(organization_id, agent_id, generation, [&] {
        auto session = read();
        return session->catalog.find_live_agent(organization_id, agent_id);
    });
}

net::awaitable<void> SqliteStore::create_thread(const ThreadRecord& thread, std::int64_t) {
    // The job runs on the writer's thread while this coroutine is suspended, so the
    // reference to `thread` stays valid until the commit completes.
    WriteJob job = [&thread](WriteContext& context) { context.threads.insert(thread); };
    co_await writer_.write(std::move(job));
}

net::awaitable<bool> SqliteStore::find_thread(std::string_view organization_id,
                                              std::string_view thread_id, std::int64_t generation,
                                              ThreadRecord& thread) {
    const auto details = agent_details(generation);
    auto session = read();
    co_return session->threads.find(organization_id, thread_id, thread, &details);
}

net::awaitable<std::vector<ThreadRecord>> SqliteStore::list_threads(
    std::string_view organization_id, const ThreadFilter& filter, std::size_t limit,
    std::int64_t generation) {
    const auto details = agent_details(generation);
    auto session = read();
    co_return session->threads.list(organization_id, filter, limit, &details);
}

net::awaitable<std::optional<ThreadRecord>> SqliteStore::update_thread(
    std::string_view organization_id, std::string_view thread_id, std::int64_t, ThreadEdit edit) {
    // Read, edit and write in one writer job: the single writer's order is the row lock,
    // so concurrent changes of one thread each see the one before.
    std::optional<ThreadRecord> updated;
    WriteJob job = [&](WriteContext& context) {
        updated = context.thread_reads.find(organization_id, thread_id);
        if (!updated) {
            return;
        }
        const ClosingColumns before(*updated);
        edit(*updated);
        // An UPDATE rewrites the index entries of every column it sets, changed or not:
        // most edits touch the maps only, and must not pay for the closing columns' indexes.
        if (ClosingColumns(*updated) == before) {
            context.threads.update_maps(*updated);
        } else {
            context.threads.update(*updated);
        }
    };
    co_await writer_.write(std::move(job));
    co_return updated;
}

net::awaitable<RateLease> SqliteStore::lease_rate_budget(const std::string&, std::uint32_t,
                                                         std::uint32_t) {
    throw std::logic_error("a SQLite store's rate limits are counted by its one process");
    co_return RateLease{};
}

net::awaitable<void> SqliteStore::probe_writable() {
    // An empty group commit: it finds the file, takes the write lock and commits.
    WriteJob probe = [](WriteContext&) {};
    co_await writer_.write(std::move(probe));
}

bool SqliteStore::making_progress(std::chrono::microseconds limit) const {
    return writer_.making_progress(limit);
}

void SqliteStore::render_metrics(std::string& out) const {
    render_write_metrics(out, writer_.committed_batches(), writer_.queued_writes(),
                         writer_.commit_latency());
}

int SqliteStore::schema_version() const {
    // The writer migrated the file when it opened it, and refuses a newer one.
    return latest_schema_version();
}

Connection SqliteStore::admin_connection() const {
    return Connection(path_, OpenMode::kReadWrite);
}

net::awaitable<bool> SqliteStore::organization_exists(const std::string& organization_id) {
    auto connection = admin_connection();
    co_return sqlite::organization_exists(connection, organization_id);
}

net::awaitable<bool> SqliteStore::has_any_api_key() {
    auto connection = admin_connection();
    co_return sqlite::has_any_api_key(connection);
}

net::awaitable<CreatedApiKey> SqliteStore::create_api_key(const std::string& organization_id,
                                                          const std::string& name,
                                                          std::optional<std::int64_t> rate_limit) {
    auto connection = admin_connection();
    co_return sqlite::create_api_key(connection, organization_id, name, rate_limit);
}

net::awaitable<std::vector<ApiKeyListing>> SqliteStore::list_api_keys() {
    auto connection = admin_connection();
    co_return sqlite::list_api_keys(connection);
}

net::awaitable<void> SqliteStore::revoke_api_key(const std::string& key_id) {
    auto connection = admin_connection();
    sqlite::revoke_api_key(connection, key_id);
    co_return;
}

net::awaitable<bool> SqliteStore::map_clerk_organization(const std::string& clerk_organization_id,
                                                         const std::string& organization_id) {
    auto connection = admin_connection();
    co_return sqlite::map_clerk_organization(connection, clerk_organization_id, organization_id);
}

net::awaitable<std::vector<ClerkMapping>> SqliteStore::list_clerk_organizations() {
    auto connection = admin_connection();
    co_return sqlite::list_clerk_organizations(connection);
}

net::awaitable<void> SqliteStore::unmap_clerk_organization(
    const std::string& clerk_organization_id) {
    auto connection = admin_connection();
    sqlite::unmap_clerk_organization(connection, clerk_organization_id);
    co_return;
}

net::awaitable<std::vector<AgentListing>> SqliteStore::list_agents() {
    auto connection = admin_connection();
    co_return sqlite::list_agents(connection);
}

net::awaitable<ImportSummary> SqliteStore::import_agents(const std::vector<ImportedAgent>& agents) {
    auto connection = admin_connection();
    co_return apply_agent_import(connection, agents);
}

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options) {
    {
        // Migrated (and seeded, as the command asks) before the writer opens it.
        Connection connection(path, OpenMode::kReadWrite);
        migrate(connection, options.seed);
    }
    return std::make_unique<SqliteStore>(path, options.durability, options.max_queued_writes);
}

namespace {

// Every change moves updatedAt, even within the millisecond of the previous one.
std::int64_t closing_time(const ThreadRecord& thread, std::int64_t now) {
    return std::max(now, thread.updated_at + 1);
}

// Closes `thread` as the server does when its conversation window ended.
void close_expired(ThreadRecord& thread, std::int64_t now) {
    thread.is_active = false;
    thread.updated_at = closing_time(thread, now);
    thread.closed_at = thread.updated_at;
    thread.closed_reason = std::string(kExpiredReason);
}

}  // namespace

net::awaitable<PostOutcome> SqliteStore::post_message(const MessageRecord& message,
                                                      std::chrono::milliseconds window,
                                                      std::int64_t) {
    // One writer job: the single writer's order is the thread's row lock, so sequences
    // are given in commit order.
    PostOutcome outcome;
    WriteJob job = [&](WriteContext& context) {
        outcome = PostOutcome{};
        const auto progress = context.messages.progress(message.organization_id, message.thread_id);
        if (!progress) {
            outcome.result = PostResult::kNoThread;
            return;
        }
        if (!progress->is_active) {
            outcome.result = PostResult::kClosed;
            return;
        }
        if (progress->window_started_at + window.count() <= message.created_at) {
            auto thread = context.thread_reads.find(message.organization_id, message.thread_id);
            if (!thread) {
                throw std::logic_error("a thread vanished inside the writer's transaction");
            }
            close_expired(*thread, message.created_at);
            context.threads.update(*thread);
            outcome.result = PostResult::kExpired;
            outcome.closed = std::move(thread);
            return;
        }
        MessageRecord stored = message;
        stored.sequence = progress->last_sequence + 1;
        const std::int64_t window_start = message.direction == MessageDirection::kInbound
                                              ? message.created_at
                                              : progress->window_started_at;
        context.messages.insert(stored);
        context.messages.advance(message.organization_id, message.thread_id, stored.sequence,
                                 window_start);
        outcome.result = PostResult::kPosted;
        outcome.sequence = stored.sequence;
        outcome.window_started_at = window_start;
    };
    co_await writer_.write(std::move(job));
    if (outcome.closed) {
        // The details as the catalog has them now, like any read of the thread.
        const auto details = agent_details(observe_catalog());
        auto session = read();
        session->threads.find(outcome.closed->organization_id, outcome.closed->id, *outcome.closed,
                              &details);
    }
    co_return outcome;
}

net::awaitable<MessagePage> SqliteStore::list_messages(std::string_view organization_id,
                                                       std::string_view thread_id,
                                                       const MessageFilter& filter,
                                                       std::size_t limit, std::int64_t generation) {
    MessagePage page;
    const auto details = agent_details(generation);
    auto session = read();
    page.thread_found = session->threads.find(organization_id, thread_id, page.thread, &details);
    if (!page.thread_found) {
        co_return page;
    }
    std::optional<std::int64_t> before;
    if (filter.before_id) {
        before = session->messages.sequence_of(organization_id, thread_id, *filter.before_id);
        if (!before) {
            page.cursor_found = false;
            co_return page;
        }
    }
    page.messages =
        session->messages.page(organization_id, thread_id, filter.direction, before, limit);
    co_return page;
}

net::awaitable<std::optional<std::int64_t>> SqliteStore::message_sequence(
    const ThreadKey& thread, std::string_view message_id) {
    auto session = read();
    co_return session->messages.sequence_of(thread.organization_id, thread.thread_id, message_id);
}

net::awaitable<std::vector<MessageRecord>> SqliteStore::outbound_after(const ThreadKey& thread,
                                                                       std::int64_t after_sequence,
                                                                       std::size_t limit) {
    auto session = read();
    co_return session->messages.outbound_after(thread.organization_id, thread.thread_id,
                                               after_sequence, limit);
}

net::awaitable<std::vector<ThreadPosition>> SqliteStore::thread_positions(
    const std::vector<ThreadKey>& threads) {
    std::vector<ThreadPosition> positions;
    auto session = read();
    for (const auto& key : threads) {
        if (const auto progress = session->messages.progress(key.organization_id, key.thread_id)) {
            positions.push_back(ThreadPosition{key, progress->last_sequence, progress->is_active});
        }
    }
    co_return positions;
}

net::awaitable<std::optional<ThreadRecord>> SqliteStore::current_thread(const ThreadKey& thread) {
    const auto details = agent_details(observe_catalog());
    auto session = read();
    co_return session->threads.find(thread.organization_id, thread.thread_id, &details);
}

net::awaitable<std::vector<ThreadKey>> SqliteStore::expire_threads(std::int64_t now,
                                                                   std::chrono::milliseconds window,
                                                                   std::size_t limit) {
    // Most sweeps find nothing: a read says so without a writer job, which would take a
    // place in the writer's queue (and an empty transaction) every interval.
    {
        auto session = read();
        if (session->messages.ended_windows(now - window.count(), 1).empty()) {
            co_return std::vector<ThreadKey>{};
        }
    }
    // Candidates and closes in one writer job: a post that started the window again is
    // ordered before or after it by the single writer, never in between.
    std::vector<ThreadKey> closed;
    WriteJob job = [&](WriteContext& context) {
        closed = context.messages.ended_windows(now - window.count(), limit);
        for (const auto& key : closed) {
            auto thread = context.thread_reads.find(key.organization_id, key.thread_id);
            if (!thread) {
                throw std::logic_error("a thread vanished inside the writer's transaction");
            }
            close_expired(*thread, now);
            context.threads.update(*thread);
        }
    };
    co_await writer_.write(std::move(job));
    co_return closed;
}

}  // namespace threadsd::store::sqlite
