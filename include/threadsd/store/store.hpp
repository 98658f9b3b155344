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

/// A catalog lookup's answer and the catalog generation it is current for. A request
/// passes the generation to its later lookups (its agent), so all of them see one catalog.
template <typename T>
struct AsOf {
    std::int64_t generation = 0;  ///< The catalog generation read before the lookup.
    std::optional<T> value;       ///< What was found, if anything.
};

/// Every operation threadsd needs of a store; thread-safe.
class Store {
  public:
    virtual ~Store() = default;

    // --- The catalog (keys, agents, Clerk organizations) for the request path ---

    /// The key whose SHA-256 is `hash`, revoked or not, as of the catalog now: a key
    /// revoked before this call is seen revoked, whichever process revoked it.
    virtual boost::asio::awaitable<AsOf<ApiKeyRecord>> api_key(const SecretHash& hash) = 0;

    /// The threadsd organization the Clerk organization is mapped to, as of the catalog
    /// now, like api_key().
    virtual boost::asio::awaitable<AsOf<std::string>> clerk_organization(
        const std::string& clerk_organization_id) = 0;

    /// The agent `agent_id` of `organization_id` unless missing or deleted, as of catalog
    /// `generation` (the one the request's credentials were checked at) or later.
    virtual boost::asio::awaitable<std::optional<AgentWithPublishedVersion>> live_agent(
        std::string_view organization_id, std::string_view agent_id, std::int64_t generation) = 0;

    // --- Threads ---

    /// Stores a new thread (its id, times, agent and version already set). Completes once
    /// the thread is durably committed. Throws WriteQueueFull, StoreUnavailable or
    /// StoreFailure.
    virtual boost::asio::awaitable<void> create_thread(const ThreadRecord& thread) = 0;

    /// Reads the thread `thread_id` of `organization_id` into `thread`, with the agent and
    /// version details of catalog `generation`; false when there is no such thread. Into
    /// the caller's record rather than as a result: passing a result out of a coroutine
    /// moves it twice, a few percent of a GET for a record of some twenty strings.
    virtual boost::asio::awaitable<bool> find_thread(std::string_view organization_id,
                                                     std::string_view thread_id,
                                                     std::int64_t generation,
                                                     ThreadRecord& thread) = 0;

    /// Up to `limit` threads of `organization_id` matching `filter`, newest (highest id)
    /// first, with details as find_thread() has them.
    virtual boost::asio::awaitable<std::vector<ThreadRecord>> list_threads(
        std::string_view organization_id, const ThreadFilter& filter, std::size_t limit,
        std::int64_t generation) = 0;

    /// Applies `edit` to the thread `thread_id` of `organization_id` and stores the result
    /// durably; the thread as stored afterwards, or nothing when there is no such thread.
    virtual boost::asio::awaitable<std::optional<ThreadRecord>> update_thread(
        std::string_view organization_id, std::string_view thread_id, ThreadEdit edit) = 0;

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
