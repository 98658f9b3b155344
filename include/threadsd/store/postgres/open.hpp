#pragma once
// Opening a PostgreSQL store, for code that must not see libpq itself (the command line).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "threadsd/store/options.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::store::postgres {

/// True when `database` is a PostgreSQL URI (postgresql://... or postgres://...).
bool is_postgres_uri(std::string_view database);

/// `uri` with its password replaced by "***", for messages and logs.
std::string redact_uri(std::string_view uri);

/// Opens the PostgreSQL store at `uri` on `executor`: connects, refuses a server whose
/// synchronous_commit is off unless `options.durability` is kNormal, migrates it (seeding
/// as `options.seed` says) under an advisory lock. Throws with a message that never holds
/// the password.
boost::asio::awaitable<std::unique_ptr<Store>> open_postgres_store(
    boost::asio::any_io_executor executor, std::string uri, StoreOptions options);

}  // namespace threadsd::store::postgres
