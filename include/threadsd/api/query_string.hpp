#pragma once
// The query strings of the list endpoints: decoding and the rules every parameter obeys.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "threadsd/api/error.hpp"

namespace threadsd::api {

/// Decoded query parameters, in the order given.
using QueryParameters = std::vector<std::pair<std::string, std::string>>;

/// Splits and percent-decodes `query` (the text after `?`; `+` is a literal plus, so
/// `createdAfter=...+01:00` works unencoded). A repeated or empty parameter, or bad
/// percent-encoding, is a 400 that names the parameter.
std::variant<QueryParameters, ApiError> parse_query_parameters(std::string_view query);

/// "query parameter NAME", or a neutral phrase when the name is not fit to echo.
std::string describe_parameter(const std::string& name);

/// The 400 for a parameter no endpoint knows.
ApiError unknown_parameter(const std::string& name);

/// Plain decimal digits (leading zeros allowed) whose value is 1 to `most`.
std::optional<std::size_t> parse_page_limit(const std::string& text, std::size_t most);

}  // namespace threadsd::api
