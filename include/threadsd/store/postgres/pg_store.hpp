#pragma once
// The PostgreSQL store: a pool of connections for reads and row-locked changes, and the
// group-commit writer for creates. Every call suspends on the socket, never blocks.
//
// The catalog (keys, agents, Clerk mappings) is kept in memory, per catalog generation
// (store/catalog_cache.hpp): a request's credentials and agent cost no round trip. What
// keeps that exact across processes is the generation's row, which triggers move in the
// same transaction as any change of the catalog (schema/postgres/0001_initial.sql): every
// request reads it in the same round trip as its own statement (a create's INSERT checks
// it in its WHERE), and a request that finds it moved is checked again (CatalogChanged).
// A key revoked through any process is refused by the next request that reaches here.
//
// A message takes its sequence under its thread's row lock, in one statement that also
// closes a thread whose conversation window ended. Every post, close and expiry notifies
// channel threadsd_threads (a post just after its commit: notify_posted()); watch_threads() listens
// to it for the live streams of this process (schema/postgres/0003_messages.sql).

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

#include "threadsd/store/catalog_cache.hpp"
#include "threadsd/store/options.hpp"
#include "threadsd/store/postgres/connection_pool.hpp"
#include "threadsd/store/postgres/pg_writer.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::store::postgres {

/// The LISTEN loop of PgStore::watch_threads() (pg_store.cpp): shared with its coroutine,
/// which may outlive the store until its executor runs it to its end.
class ThreadWatch;

/// The Store on one PostgreSQL database, migrated beforehand (see store/postgres/open.hpp).
class PgStore final : public Store {
  public:
    /// Connections a process keeps for requests: more than the I/O threads, since a
    /// request holds one only while its statements run.
    static constexpr std::size_t kDefaultPoolSize = 8;

    /// Connections to `conninfo` on `executor`: `pool_size` for requests, one for the
    /// writer, which queues at most `options.max_queued_writes` writes.
    PgStore(boost::asio::any_io_executor executor, std::string conninfo, std::size_t pool_size,
            const StoreOptions& options);
    /// Stops the loop of watch_threads(), if any: it ends on its executor soon after.
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    boost::asio::awaitable<AsOf<ApiKeyRecord>> api_key(const SecretHash& hash) override;
    boost::asio::awaitable<AsOf<std::string>> clerk_organization(
        const std::string& clerk_organization_id) override;
    boost::asio::awaitable<std::optional<AgentWithPublishedVersion>> live_agent(
        std::string_view organization_id, std::string_view agent_id,
        std::int64_t generation) override;
    boost::asio::awaitable<void> confirm_catalog(std::int64_t generation) override;

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
    /// LISTENs on channel threadsd_threads on a connection of its own, made again with a
    /// backoff when it breaks, until the store is destroyed. Signals come for changes of
    /// this process too (the channel does not say who sent them).
    void watch_threads(std::function<void(ThreadSignal)> on_signal) override;

    /// Replicas share the database: rates are counted in its rate_budgets table.
    bool shares_rate_limits() const override { return true; }
    boost::asio::awaitable<RateLease> lease_rate_budget(const std::string& key_id,
                                                        std::uint32_t rate,
                                                        std::uint32_t want) override;

    boost::asio::awaitable<void> probe_writable() override;
    bool making_progress(std::chrono::microseconds limit) const override;
    void render_metrics(std::string& out) const override;
    std::string description() const override { return description_; }
    int schema_version() const override;

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

    /// The SQL that list_threads() runs for `filter` (for EXPLAIN in tests).
    static std::string list_sql(const ThreadFilter& filter);
    /// The SQL of a page of list_messages() for `filter` (for EXPLAIN in tests): $1 the
    /// organization, $2 the thread, then the direction and the cursor's id when filtered,
    /// then the limit.
    static std::string messages_sql(const MessageFilter& filter);
    /// The SQL of expire_threads() for `limit` (for EXPLAIN in tests): $1 the newest window
    /// start that has ended, $2 now, $3 the reason. One text per limit: callers use one.
    static std::string expire_sql(std::size_t limit);

  private:
    /// Runs `batch` on a pooled connection; a refusal or a lost connection become the
    /// store's own errors (StoreFailure, StoreUnavailable).
    boost::asio::awaitable<std::vector<PgResult>> run(std::vector<PgStatement> batch);
    /// Tells the other processes that `message` was committed as `sequence` of its thread.
    boost::asio::awaitable<void> notify_posted(const MessageRecord& message, std::int64_t sequence);
    /// Notes the generation in `result` (its first row's first column); throws CatalogChanged
    /// unless it is `expected`.
    void check_generation(const PgResult& result, std::int64_t expected);
    /// Runs `batch`, a transaction that changes rows, like run(); but a connection lost
    /// once the batch went out is a StoreFailure: it may have committed.
    boost::asio::awaitable<std::vector<PgResult>> run_change(std::vector<PgStatement> batch);

    std::string description_;  ///< The URI without its password.
    CatalogCache catalog_;     ///< Keys, agents and Clerk mappings, per generation.
    ConnectionPool pool_;      ///< Connections for requests and the operator's commands.
    PgWriter writer_;          ///< Group commit of creates.
    boost::asio::any_io_executor executor_;  ///< Where watch_threads() runs its loop.
    std::shared_ptr<ThreadWatch> watch_;     ///< Null until watch_threads().
};

}  // namespace threadsd::store::postgres
