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
#include "threadsd/store/records.hpp"

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

/// A validated `PATCH /api/v1/threads/{id}` body: each map is a JSON merge patch, or
/// nothing when absent or null (the stored map stays as it is).
struct PatchThreadRequest {
    std::optional<boost::json::object> metadata;   ///< Keys to set (string) or remove (null).
    std::optional<boost::json::object> variables;  ///< Same for variables.
};

/// Parses a PATCH body: the patch maps obey the per-key rules; the key count is checked
/// after merging (merge_string_map).
std::variant<PatchThreadRequest, ApiError> parse_patch_request(std::string_view body,
                                                               const InputLimits& limits);

/// Applies `patch` to `stored` (JSON object text, or nothing for a null map): a string
/// sets a key (overwritten keys keep their place, new ones are appended in patch order),
/// null removes one. Removing from a null map leaves it null. The result must hold at most
/// `limits.max_map_keys` keys. Returns the new JSON text or nothing for null.
std::variant<std::optional<std::string>, ApiError> merge_string_map(
    const std::optional<std::string>& stored, const boost::json::object& patch,
    std::string_view field, const InputLimits& limits);

/// Checks that the stored maps of a thread, as JSON text, are together within
/// `limits.max_maps_bytes`. Nothing when they are.
std::optional<ApiError> check_maps_size(const std::optional<std::string>& metadata_json,
                                        const std::optional<std::string>& variables_json,
                                        const InputLimits& limits);

/// The reason a thread is closed with when none is given.
inline constexpr std::string_view kDefaultCloseReason = "ENDED";

/// Parses a close body: empty, `{}`, or `{"reason": null}` give the default reason; a
/// reason is 1 to 64 code points with no control characters.
std::variant<std::string, ApiError> parse_close_request(std::string_view body);

/// A validated `POST /api/v1/threads/{id}/messages` body.
struct PostMessageRequest {
    store::MessageDirection direction = store::MessageDirection::kInbound;  ///< Who wrote it.
    std::string body_json;  ///< `message` as a JSON string literal, exactly as sent.
};

/// Parses a message body: `message` is a string of 1 character to `max_message_bytes` UTF-8
/// bytes (valid Unicode, which the strict parser already ensures); `direction` is absent,
/// null, "INBOUND" or "OUTBOUND". Other properties are ignored.
std::variant<PostMessageRequest, ApiError> parse_post_message_request(
    std::string_view body, std::size_t max_message_bytes);

}  // namespace threadsd::api
