#pragma once
// Validation of request bodies into typed requests.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "threadsd/api/error.hpp"
#include "threadsd/api/limits.hpp"

namespace threadsd::api {

/// A validated `POST /api/v1/threads/web` body.
struct CreateThreadRequest {
    std::string agent_id;                       ///< Canonical lower-case UUID.
    std::optional<std::string> metadata_json;   ///< The map as compact JSON, key order kept.
    std::optional<std::string> variables_json;  ///< Same for variables; nothing when absent.
};

/// Checks that `value` is an object of string values within `limits`; `field` names it in
/// the error message. Nothing on success.
std::optional<ApiError> validate_string_map(const boost::json::value& value, std::string_view field,
                                            const InputLimits& limits);

/// Parses and validates a create body (already known to be JSON by media type).
std::variant<CreateThreadRequest, ApiError> parse_create_request(std::string_view body,
                                                                 const InputLimits& limits);

}  // namespace threadsd::api
