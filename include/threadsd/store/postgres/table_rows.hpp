#pragma once
// A PostgreSQL store as tables of rows, for `threadsd db copy`, for code that must not see
// libpq itself (the command line).

#include <memory>
#include <string>

#include "threadsd/store/table_rows.hpp"

namespace threadsd::store::postgres {

/// Connects to the PostgreSQL database at `uri` for copying (blocking: the copy has nothing
/// else to do meanwhile). Throws with a message that never holds the password.
std::unique_ptr<TableRows> open_postgres_table_rows(const std::string& uri);

}  // namespace threadsd::store::postgres
