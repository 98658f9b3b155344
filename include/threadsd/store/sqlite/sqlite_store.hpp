#pragma once
// The SQLite store: read-only connections for reads, the single writer for every change,
// the catalog cache for keys and agents. Reads run on the calling thread (a local file in
// WAL mode never waits for the writer); writes wait for the writer's group commit.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "threadsd/store/catalog_cache.hpp"
#include "threadsd/store/sqlite/catalog.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/message_statements.hpp"
#include "threadsd/store/sqlite/thread_reads.hpp"
#include "threadsd/store/sqlite/writer.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::store::sqlite {

/// A read-only connection with its prepared statements.
struct ReadSession {
    /// Opens a read-only connection to `path`, the file of the writer's `epoch`.
    ReadSession(const std::string& path, std::uint64_t epoch)
        : connection(path, OpenMode::kReadOnly),
          catalog(connection),
          threads(connection),
          messages(connection),
          file_epoch(epoch) {}
    Connection connection;       ///< Read-only; in WAL mode it never waits for the writer.
    Catalog catalog;             ///< Key and agent statements over `connection`.
    ThreadReads threads;         ///< Thread statements over `connection`.
    MessageStatements messages;  ///< Message statements over `connection`.
    std::uint64_t file_epoch;    ///< Writer::file_epoch() when opened; stale ones are dropped.
};

class SqliteStore;

/// A read session borrowed from the store's pool; returned when this goes out of scope.
class ReadLease {
  public:
    /// Takes ownership of `session` on behalf of `store`.
    ReadLease(SqliteStore& store, std::unique_ptr<ReadSession> session);
    ~ReadLease();
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    ReadLease(ReadLease&& other) noexcept = default;
    ReadLease& operator=(ReadLease&&) = delete;

    /// The borrowed session.
    ReadSession* operator->() const { return session_.get(); }

  private:
    SqliteStore* store_;                    ///< Where the session goes back to.
    std::unique_ptr<ReadSession> session_;  ///< The session, until returned.
};

/// The Store on a SQLite file, migrated beforehand (see store/sqlite/open.hpp).
class SqliteStore final : public Store {
  public:
    /// Opens the writer on `path`, which queues at most `max_queued_writes` jobs; read
    /// sessions are opened on demand.
    explicit SqliteStore(std::string path, Durability durability = Durability::kFull,
                         std::size_t max_queued_writes = kDefaultMaxQueuedWrites);

    boost::asio::awaitable<AsOf<ApiKeyRecord>> api_key(const SecretHash& hash) override;
    boost::asio::awaitable<AsOf<std::string>> clerk_organization(
        const std::string& clerk_organization_id) override;
    boost::asio::awaitable<std::optional<AgentWithPublishedVersion>> live_agent(
        std::string_view organization_id, std::string_view agent_id,
        std::int64_t generation) override;
    /// Always current: the request read the generation from the file when it began.
    boost::asio::awaitable<void> confirm_catalog(std::int64_t) override { co_return; }

    boost::asio::awaitable<void> create_thread(const ThreadRecord& thread,
                                               std::int64_t generation) override;
    boost::asio::awaitable<bool> find_thread(std::string_view organization_id,
                                             std::string_view thread_id, std::int64_t generation,
                                             ThreadRecord& thread) override;
    boost::asio::awaitable<std::vector<ThreadRecord>> list_threads(
        std::string_view organization_id, const ThreadFilter& filter, std::size_t limit,
        std::int64_t generation) override;
    boost::asio::awaitable<std::optional<ThreadRecord>> update_thread(
        std::string_view organization_id, std::string_view thread_id, std::int64_t generation,
        ThreadEdit edit) override;

    boost::asio::awaitable<PostOutcome> post_message(const MessageRecord& message,
                                                     std::chrono::milliseconds window,
                                                     std::int64_t generation) override;
    boost::asio::awaitable<MessagePage> list_messages(std::string_view organization_id,
                                                      std::string_view thread_id,
                                                      const MessageFilter& filter,
                                                      std::size_t limit,
                                                      std::int64_t generation) override;
    boost::asio::awaitable<std::optional<std::int64_t>> message_sequence(
        const ThreadKey& thread, std::string_view message_id) override;
    boost::asio::awaitable<std::vector<MessageRecord>> outbound_after(const ThreadKey& thread,
                                                                      std::int64_t after_sequence,
                                                                      std::size_t limit) override;
    boost::asio::awaitable<std::vector<ThreadPosition>> thread_positions(
        const std::vector<ThreadKey>& threads) override;
    boost::asio::awaitable<std::optional<ThreadRecord>> current_thread(
        const ThreadKey& thread) override;
    boost::asio::awaitable<std::vector<ThreadKey>> expire_threads(std::int64_t now,
                                                                  std::chrono::milliseconds window,
                                                                  std::size_t limit) override;
    /// One process owns the file: every change is its own, so it never signals.
    void watch_threads(std::function<void(ThreadSignal)>) override {}

    /// One process owns the file (its lock says so): it counts rates on its own.
    bool shares_rate_limits() const override { return false; }
    /// Never called (shares_rate_limits() is false); throws std::logic_error.
    boost::asio::awaitable<RateLease> lease_rate_budget(const std::string& key_id,
                                                        std::uint32_t rate,
                                                        std::uint32_t want) override;

    boost::asio::awaitable<void> probe_writable() override;
    bool making_progress(std::chrono::microseconds limit) const override;
    void render_metrics(std::string& out) const override;
    std::string description() const override { return path_; }
    int schema_version() const override;

    // The operator's commands run on a connection of their own, each in its own
    // transaction, on the calling thread: they are the command line's, and serve's
    // one-time demo key before it listens, never a request's.
    boost::asio::awaitable<bool> organization_exists(const std::string& organization_id) override;
    boost::asio::awaitable<bool> has_any_api_key() override;
    boost::asio::awaitable<CreatedApiKey> create_api_key(
        const std::string& organization_id, const std::string& name,
        std::optional<std::int64_t> rate_limit) override;
    boost::asio::awaitable<std::vector<ApiKeyListing>> list_api_keys() override;
    boost::asio::awaitable<void> revoke_api_key(const std::string& key_id) override;
    boost::asio::awaitable<bool> map_clerk_organization(
        const std::string& clerk_organization_id, const std::string& organization_id) override;
    boost::asio::awaitable<std::vector<ClerkMapping>> list_clerk_organizations() override;
    boost::asio::awaitable<void> unmap_clerk_organization(
        const std::string& clerk_organization_id) override;
    boost::asio::awaitable<std::vector<AgentListing>> list_agents() override;
    boost::asio::awaitable<ImportSummary> import_agents(
        const std::vector<ImportedAgent>& agents) override;

    /// The single writer (for tests).
    Writer& writer() { return writer_; }

    /// Borrows a read session; opens a new one when none is idle. Only the pool's vector
    /// is locked, never a connection: each session is used by one request at a time.
    /// Sessions opened before the writer last opened the database file again are dropped.
    ReadLease read();

  private:
    friend class ReadLease;

    /// Puts a session back into the pool.
    void give_back(std::unique_ptr<ReadSession> session);
    /// Reads the catalog generation (one row) and brings the cache up to it. The value
    /// counts file epochs too, so a database file put back or replaced empties the cache.
    std::int64_t observe_catalog();
    /// Agent and version details for thread reads, from the cache.
    AgentDetailsSource agent_details(std::int64_t generation);
    /// A read-write connection of the operator's commands' own.
    Connection admin_connection() const;

    std::string path_;                                ///< Database file.
    Writer writer_;                                   ///< Owns the write connection.
    CatalogCache catalog_cache_;                      ///< Keys and agents in memory.
    std::mutex idle_mutex_;                           ///< Guards idle_.
    std::vector<std::unique_ptr<ReadSession>> idle_;  ///< Read sessions not in use.
};

}  // namespace threadsd::store::sqlite
