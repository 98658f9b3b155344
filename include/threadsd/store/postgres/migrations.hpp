#pragma once
// The PostgreSQL store's schema migrations, tracked in the threadsd_schema row.

#include <boost/asio/awaitable.hpp>

#include "threadsd/store/options.hpp"
#include "threadsd/store/postgres/pg_connection.hpp"

namespace threadsd::store::postgres {

/// Applies every embedded migration newer than the store's schema version, in order, in
/// one transaction that first takes an advisory lock, so that processes starting at once
/// (replicas, the command line) apply each migration once and the others wait, then see
/// it applied. The demo data goes in with them when `seed` says so. A store whose schema
/// is newer than this binary is refused with a message naming both versions.
boost::asio::awaitable<MigrationResult> migrate(PgConnection& connection, DemoSeed seed);

/// The newest schema version this binary knows.
int latest_schema_version();

}  // namespace threadsd::store::postgres
