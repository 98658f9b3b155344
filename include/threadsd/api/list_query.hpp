#pragma once
// The query string of GET /api/v1/threads.

#include <cstddef>
#include <string_view>
#include <variant>

#include "threadsd/api/error.hpp"
#include "threadsd/store/records.hpp"

namespace threadsd::api {

/// A validated list request.
struct ListQuery {
    std::size_t limit = 10;      ///< Page size, 1 to 100.
    store::ThreadFilter filter;  ///< Filters and id bounds (cursor, created range).
};

/// Largest page a client may ask for.
inline constexpr std::size_t kMaxPageSize = 100;

/// Parses `query` (the text after `?`, percent-encoded; `+` is a literal plus, so
/// `createdAfter=...+01:00` works unencoded). Unknown, repeated or empty parameters and
/// malformed values are 400s that name the parameter.
std::variant<ListQuery, ApiError> parse_list_query(std::string_view query);

}  // namespace threadsd::api
