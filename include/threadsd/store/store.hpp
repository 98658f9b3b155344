#pragma once
// The store as the server sees it: read-only connections for the request path and the
// single writer for every change.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "threadsd/store/catalog.hpp"
#include "threadsd/store/catalog_cache.hpp"
#include "threadsd/store/sqlite.hpp"
#include "threadsd/store/thread_reads.hpp"
#include "threadsd/store/writer.hpp"

namespace threadsd::store {

/// A read-only connection with its prepared statements.
struct ReadSession {
    /// Opens a read-only connection to `path`, the file of the writer's `epoch`.
    ReadSession(const std::string& path, std::uint64_t epoch)
        : connection(path, OpenMode::kReadOnly),
          catalog(connection),
          threads(connection),
          file_epoch(epoch) {}
    Connection connection;     ///< Read-only; in WAL mode it never waits for the writer.
    Catalog catalog;           ///< Key and agent statements over `connection`.
    ThreadReads threads;       ///< Thread statements over `connection`.
    std::uint64_t file_epoch;  ///< Writer::file_epoch() when opened; stale ones are dropped.
};

class Store;

/// A read session borrowed from the store's pool; returned when this goes out of scope.
class ReadLease {
  public:
    /// Takes ownership of `session` on behalf of `store`.
    ReadLease(Store& store, std::unique_ptr<ReadSession> session);
    ~ReadLease();
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    ReadLease(ReadLease&& other) noexcept = default;
    ReadLease& operator=(ReadLease&&) = delete;

    /// The borrowed session.
    ReadSession* operator->() const { return session_.get(); }

  private:
    Store* store_;                          ///< Where the session goes back to.
    std::unique_ptr<ReadSession> session_;  ///< The session, until returned.
};

/// Opens the database (migrated beforehand) for serving.
class Store {
  public:
    /// Opens the writer on `path`, which queues at most `max_queued_writes` jobs; read
    /// sessions are opened on demand.
    explicit Store(std::string path, Durability durability = Durability::kFull,
                   std::size_t max_queued_writes = kDefaultMaxQueuedWrites);

    /// Borrows a read session; opens a new one when none is idle. Only the pool's vector
    /// is locked, never a connection: each session is used by one request at a time.
    /// Sessions opened before the writer last opened the database file again are dropped.
    ReadLease read();

    /// Reads the catalog generation (one row) and brings the key and agent cache up to it.
    /// A request calls this once, before its first key or agent lookup. The value counts
    /// file epochs too, so a database file put back or replaced empties the cache.
    std::int64_t observe_catalog();

    /// The key whose SHA-256 is `hash`, revoked or not; from memory when cached.
    /// `generation` is what observe_catalog() returned for this request.
    std::optional<ApiKeyRecord> api_key(const SecretHash& hash, std::int64_t generation);

    /// The threadsd organization the Clerk organization is mapped to; from memory when cached.
    std::optional<std::string> clerk_organization(const std::string& clerk_organization_id,
                                                  std::int64_t generation);

    /// The agent `agent_id` of `organization_id` unless missing or deleted; from memory
    /// when cached.
    std::optional<AgentWithPublishedVersion> live_agent(std::string_view organization_id,
                                                        std::string_view agent_id,
                                                        std::int64_t generation);

    /// Agent and version details for thread reads, from memory when cached.
    AgentDetailsSource agent_details(std::int64_t generation);

    /// The single writer.
    Writer& writer() { return writer_; }

    /// The database path.
    const std::string& path() const { return path_; }

  private:
    friend class ReadLease;
    /// Puts a session back into the pool.
    void give_back(std::unique_ptr<ReadSession> session);

    std::string path_;                                ///< Database file.
    Writer writer_;                                   ///< Owns the write connection.
    CatalogCache catalog_cache_;                      ///< Keys and agents in memory.
    std::mutex idle_mutex_;                           ///< Guards idle_.
    std::vector<std::unique_ptr<ReadSession>> idle_;  ///< Read sessions not in use.
};

}  // namespace threadsd::store
