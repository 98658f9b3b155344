#pragma once
// A SQLite store as tables of rows, for `threadsd db copy`, for code that must not see
// SQLite itself (the command line).

#include <memory>
#include <string>

#include "threadsd/store/table_rows.hpp"

namespace threadsd::store::sqlite {

/// Opens the SQLite file at `path` for copying: read-only as a source (it must exist and is
/// never changed, not even migrated), or read-write as a destination (created when
/// missing). Throws what SQLite reported when it cannot.
std::unique_ptr<TableRows> open_sqlite_table_rows(const std::string& path, bool writable);

}  // namespace threadsd::store::sqlite
