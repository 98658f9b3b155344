#pragma once
// The store as the rest of threadsd sees it: records and outcomes, never statements.
//
// The API layer says what it wants (a thread created, a page of threads, a change to one
// thread); an implementation (store/sqlite/, store/postgres/) decides how: which
// connection, which transaction, which lock. Every operation is awaitable, so that a store
// on a database server never blocks an I/O thread; one that answers from memory or from a
// local file completes without suspending.
//
// Failures of the store's own are exceptions (store/errors.hpp); a missing row is a value.
// Arguments passed by reference must stay alive until the operation completes, which they
// do when the caller awaits it at once.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "threadsd/store/admin.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/api_key_secret.hpp"
#include "threadsd/store/errors.hpp"
#include "threadsd/store/options.hpp"
#include "threadsd/store/records.hpp"

namespace threadsd::store {

/// A change to one thread, made to the thread as stored, inside the store's transaction
/// and under the row's lock, so that concurrent changes of one thread never lose each
/// other. It refuses by throwing: nothing is written and the exception reaches the caller.
/// It may run more than once (a store may retry a transaction), so it must depend on the
/// record alone.
using ThreadEdit = std::function<void(ThreadRecord& thread)>;

/// Every operation threadsd needs of a store; thread-safe.
///
/// The catalog generation. A request's credentials are checked at some generation G (the
/// AsOf of api_key() or clerk_organization()), and every later call of the request passes
/// G along. A store that reads the catalog from its own file (SQLite) reads the current G
/// at the start of each request. A store that keeps the catalog in memory in front of a
/// shared server (PostgreSQL) answers from memory, and checks G in the same round trip as
/// the request's own statement instead: when the catalog moved past G, it throws
/// CatalogChanged before changing anything, and the request is checked again. Either way a
/// key revoked through any process is refused by the next request that reaches the store.
class Store {
  public:
    virtual ~Store() = default;

    // --- The catalog (keys, agents, Clerk organizations) for the request path ---

    /// The key whose SHA-256 is `hash`, revoked or not, and the generation it was current
    /// at (see the class comment). A key not known is looked up in the store every time.
    virtual boost::asio::awaitable<AsOf<ApiKeyRecord>> api_key(const SecretHash& hash) = 0;

    /// The threadsd organization the Clerk organization is mapped to, like api_key().
    virtual boost::asio::awaitable<AsOf<std::string>> clerk_organization(
        const std::string& clerk_organization_id) = 0;

    /// The agent `agent_id` of `organization_id` unless missing or deleted, as of catalog
    /// `generation`. May throw CatalogChanged.
    virtual boost::asio::awaitable<std::optional<AgentWithPublishedVersion>> live_agent(
        std::string_view organization_id, std::string_view agent_id, std::int64_t generation) = 0;

    /// Completes when `generation` is still the catalog's; throws CatalogChanged when it
    /// moved. For an answer decided from the catalog alone (a refusal), which reached no
    /// statement that would have checked it.
    virtual boost::asio::awaitable<void> confirm_catalog(std::int64_t generation) = 0;

    // --- Threads ---

    /// Stores a new thread (its id, times, agent and version already set, as of catalog
    /// `generation`). Completes once the thread is durably committed. Throws
    /// WriteQueueFull, StoreUnavailable, StoreFailure or CatalogChanged (nothing stored).
    virtual boost::asio::awaitable<void> create_thread(const ThreadRecord& thread,
                                                       std::int64_t generation) = 0;

    /// Reads the thread `thread_id` of `organization_id` into `thread`, with the agent and
    /// version details of catalog `generation`; false when there is no such thread. May
    /// throw CatalogChanged. Into the caller's record rather than as a result: passing a
    /// result out of a coroutine moves it twice, a few percent of a GET for a record of
    /// some twenty strings.
    virtual boost::asio::awaitable<bool> find_thread(std::string_view organization_id,
                                                     std::string_view thread_id,
                                                     std::int64_t generation,
                                                     ThreadRecord& thread) = 0;

    /// Up to `limit` threads of `organization_id` matching `filter`, newest (highest id)
    /// first, with details as find_thread() has them. May throw CatalogChanged.
    virtual boost::asio::awaitable<std::vector<ThreadRecord>> list_threads(
        std::string_view organization_id, const ThreadFilter& filter, std::size_t limit,
        std::int64_t generation) = 0;

    /// Applies `edit` to the thread `thread_id` of `organization_id` and stores the result
    /// durably; the thread as stored afterwards, or nothing when there is no such thread.
    /// May throw CatalogChanged (before `edit` runs).
    virtual boost::asio::awaitable<std::optional<ThreadRecord>> update_thread(
        std::string_view organization_id, std::string_view thread_id, std::int64_t generation,
        ThreadEdit edit) = 0;

    // --- Messages (contract section 9) ---

    /// Stores `message` (id, organization, thread, direction, body and created_at set) as
    /// the next message of its thread, under the thread's row lock: its sequence is one
    /// more than the thread's last, and an inbound message starts the conversation window
    /// again. A thread whose window (`window` after its window start) ended before
    /// message.created_at is closed with kExpiredReason instead. Completes once durably
    /// committed. Throws as create_thread() does.
    virtual boost::asio::awaitable<PostOutcome> post_message(const MessageRecord& message,
                                                             std::chrono::milliseconds window,
                                                             std::int64_t generation) = 0;

    /// Up to `limit` messages of the thread matching `filter`, newest (highest sequence)
    /// first, with the thread, in one read snapshot. Each page is one range scan of an
    /// index. May throw CatalogChanged.
    virtual boost::asio::awaitable<MessagePage> list_messages(std::string_view organization_id,
                                                              std::string_view thread_id,
                                                              const MessageFilter& filter,
                                                              std::size_t limit,
                                                              std::int64_t generation) = 0;

    /// The sequence of message `message_id` of the thread, or nothing when it is not one of
    /// the thread's messages.
    virtual boost::asio::awaitable<std::optional<std::int64_t>> message_sequence(
        const ThreadKey& thread, std::string_view message_id) = 0;

    /// Up to `limit` outbound messages of the thread with a sequence above
    /// `after_sequence`, oldest first: what a live stream has not sent yet.
    virtual boost::asio::awaitable<std::vector<MessageRecord>> outbound_after(
        const ThreadKey& thread, std::int64_t after_sequence, std::size_t limit) = 0;

    /// Where each of `threads` stands now, in one query; a thread not found is left out.
    virtual boost::asio::awaitable<std::vector<ThreadPosition>> thread_positions(
        const std::vector<ThreadKey>& threads) = 0;

    /// The thread as it is now, with the current catalog's details (for the `closed` event
    /// of a stream, which belongs to no request), or nothing.
    virtual boost::asio::awaitable<std::optional<ThreadRecord>> current_thread(
        const ThreadKey& thread) = 0;

    /// Closes, with kExpiredReason at `now`, up to `limit` open threads whose conversation
    /// window (`window` after its start) ended at or before `now`, and returns their keys.
    /// Each thread is closed once, also when several processes sweep at the same moment.
    virtual boost::asio::awaitable<std::vector<ThreadKey>> expire_threads(
        std::int64_t now, std::chrono::milliseconds window, std::size_t limit) = 0;

    /// Calls `on_signal` (from any thread) for each change another process made to a
    /// thread: a message posted, the thread closed. Best effort: a signal may be lost, so
    /// live streams also poll thread_positions(). A store that one process owns (SQLite)
    /// never calls it. Called at most once, before serving.
    virtual void watch_threads(std::function<void(ThreadSignal)> on_signal) = 0;

    // --- Rate limits of a deployment ---

    /// True when several processes may serve this store at once (PostgreSQL), so that a
    /// key's rate is counted for all of them through lease_rate_budget(); false when one
    /// process owns the store (SQLite) and counts on its own.
    virtual bool shares_rate_limits() const = 0;

    /// Takes up to `want` of the `rate` requests `key_id` may make in the store clock's
    /// current one-second window, counted across every process; only when
    /// shares_rate_limits(). Throws StoreUnavailable or StoreFailure.
    virtual boost::asio::awaitable<RateLease> lease_rate_budget(const std::string& key_id,
                                                                std::uint32_t rate,
                                                                std::uint32_t want) = 0;

    // --- Operations ---

    /// Completes when a write transaction could be begun and committed now; throws why not.
    virtual boost::asio::awaitable<void> probe_writable() = 0;

    /// False when writes are waiting and none has completed for `limit`: the store is
    /// stuck (a disk or a server that does not answer). For the systemd watchdog.
    virtual bool making_progress(std::chrono::microseconds limit) const = 0;

    /// Appends the store's own metrics in the Prometheus text format.
    virtual void render_metrics(std::string& out) const = 0;

    /// What to call the store in a log line: a file path, or a URI without its password.
    virtual std::string description() const = 0;

    /// The schema version the store is at (migrated when it was opened).
    virtual int schema_version() const = 0;

    // --- The operator's commands (keys, clerk, agents) ---

    /// True when the organization exists.
    virtual boost::asio::awaitable<bool> organization_exists(
        const std::string& organization_id) = 0;

    /// True when the store holds at least one API key, revoked or not.
    virtual boost::asio::awaitable<bool> has_any_api_key() = 0;

    /// Creates a key for `organization_id` (AdminError when unknown).
    virtual boost::asio::awaitable<CreatedApiKey> create_api_key(
        const std::string& organization_id, const std::string& name,
        std::optional<std::int64_t> rate_limit) = 0;

    /// Every key, oldest first.
    virtual boost::asio::awaitable<std::vector<ApiKeyListing>> list_api_keys() = 0;

    /// Revokes a key (AdminError when unknown or already revoked).
    virtual boost::asio::awaitable<void> revoke_api_key(const std::string& key_id) = 0;

    /// Maps the Clerk organization to `organization_id` (AdminError when that is unknown),
    /// replacing an existing mapping. True when it replaced one.
    virtual boost::asio::awaitable<bool> map_clerk_organization(
        const std::string& clerk_organization_id, const std::string& organization_id) = 0;

    /// Every mapping, by Clerk organization id.
    virtual boost::asio::awaitable<std::vector<ClerkMapping>> list_clerk_organizations() = 0;

    /// Removes the mapping (AdminError when there is none).
    virtual boost::asio::awaitable<void> unmap_clerk_organization(
        const std::string& clerk_organization_id) = 0;

    /// Every agent, ordered by organization and name.
    virtual boost::asio::awaitable<std::vector<AgentListing>> list_agents() = 0;

    /// Upserts `agents` in one transaction, all or nothing (see store/agent_import.hpp).
    virtual boost::asio::awaitable<ImportSummary> import_agents(
        const std::vector<ImportedAgent>& agents) = 0;
};

}  // namespace threadsd::store
