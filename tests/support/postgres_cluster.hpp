#pragma once
// A throwaway PostgreSQL cluster for a test process: initdb into a fresh directory under
// /tmp, a server listening on a Unix socket in that directory only, and fresh databases
// on demand. PostgreSQL refuses to run as root, so when the tests do, the server runs as
// `nobody`.
//
// Worker threads may call this code, so it never uses Boost.Test's macros: it throws
// SupportFailure with what went wrong (and the server log's tail when the server would
// not start).

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace threadsd::test {

/// A PostgreSQL server of our own, on a Unix socket, removed with its data at scope end.
class PostgresCluster {
  public:
    /// Runs initdb into a fresh temporary directory and starts the server.
    PostgresCluster();
    /// Stops the server (immediate shutdown: the data goes) and removes the directory.
    ~PostgresCluster();
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

    /// Creates a database with a name no other call uses and returns its URI.
    std::string create_database() const;

    /// The URI of database `db` as the superuser `postgres`, over the Unix socket.
    std::string uri_for(const std::string& db) const;

    /// The directory that holds the server's socket (and the cluster).
    const std::filesystem::path& socket_dir() const { return dir_; }

    /// Stops the server, keeping its data: a fault for the tests' clients.
    void stop() const;

    /// Starts the server again on the same data and socket.
    void start() const;

    /// Runs `sql` with psql on database `db` (stopping at the first error) and returns
    /// what psql printed: unaligned rows, one per line, '|' between columns.
    std::string psql(const std::string& db, const std::string& sql) const;

  private:
    /// Runs pg_ctl `action` (start or stop) as the server's user.
    void pg_ctl(const std::vector<std::string>& action) const;

    std::filesystem::path bin_;   ///< The newest /usr/lib/postgresql/*/bin.
    std::filesystem::path dir_;   ///< Made by mkdtemp: the socket, data/ and the log.
    std::filesystem::path data_;  ///< The cluster's data directory.
    std::filesystem::path log_;   ///< The server's log file.
    bool unprivileged_ = false;   ///< True when the server runs as nobody (we are root).
    uid_t uid_ = 0;               ///< The server's user when unprivileged_.
    gid_t gid_ = 0;               ///< Its group.
    mutable std::mutex control_;  ///< Serializes stop() and start().
    mutable std::atomic<unsigned> databases_{0};  ///< Numbers the databases made.
};

/// The one cluster of this test process, started on first use (suites that never touch
/// PostgreSQL start nothing) and stopped when the process exits.
const PostgresCluster& postgres_cluster();

}  // namespace threadsd::test
