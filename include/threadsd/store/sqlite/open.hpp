#pragma once
// Opening a SQLite store, for code that must not see SQLite itself (the command line).

#include <memory>
#include <string>

#include "threadsd/store/options.hpp"
#include "threadsd/store/store.hpp"

namespace threadsd::store::sqlite {

/// Opens the SQLite store at `path`, creating the file and migrating it (seeding the demo
/// data as `options.seed` says) first; throws what SQLite reported when it cannot.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options);

}  // namespace threadsd::store::sqlite
