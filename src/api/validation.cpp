#include "threadsd/api/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "threadsd/util/json_reader.hpp"
#include "threadsd/util/json_writer.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::api {
namespace {

namespace json = boost::json;

ApiError bad_request(std::string message) {
    return {ErrorCode::kBadRequest, std::move(message)};
}

// Parses an optional map field: absent and null mean "not sent".
std::variant<std::optional<std::string>, ApiError> optional_map(const json::object& body,
                                                                std::string_view field,
                                                                const InputLimits& limits) {
    const json::value* value = body.if_contains(field);
    if (value == nullptr || value->is_null()) {
        return std::optional<std::string>{};
    }
    if (auto error = validate_string_map(*value, field, limits)) {
        return *std::move(error);
    }
    return std::optional<std::string>{json::serialize(*value)};
}

// Keys of a map (or of a patch of one) obey the same per-key rules.
std::optional<ApiError> check_key(std::string_view field, std::string_view key,
                                  const InputLimits& limits) {
    if (key.empty()) {
        return bad_request(std::string(field) + " has an empty key");
    }
    if (key.size() > limits.max_key_bytes) {
        return bad_request(std::string(field) + " has a key longer than " +
                           std::to_string(limits.max_key_bytes) + " bytes");
    }
    return std::nullopt;
}

std::optional<ApiError> check_value(std::string_view field, const json::string& value,
                                    const InputLimits& limits) {
    if (value.size() > limits.max_value_bytes) {
        return bad_request(std::string(field) + " has a value longer than " +
                           std::to_string(limits.max_value_bytes) + " bytes");
    }
    return std::nullopt;
}

// Parses a body that must be a JSON object.
std::variant<json::object, ApiError> parse_object_body(std::string_view body) {
    auto parsed = util::parse_json_strict(body);
    if (auto* error = std::get_if<util::JsonSyntaxError>(&parsed)) {
        return bad_request(std::move(error->message));
    }
    json::object* object = std::get<json::value>(parsed).if_object();
    if (object == nullptr) {
        return bad_request("request body must be a JSON object");
    }
    return std::move(*object);
}

// A patch map: absent or null means "leave as it is".
std::variant<std::optional<json::object>, ApiError> optional_patch(json::object& body,
                                                                   std::string_view field,
                                                                   const InputLimits& limits) {
    json::value* value = body.if_contains(field);
    if (value == nullptr || value->is_null()) {
        return std::optional<json::object>{};
    }
    json::object* patch = value->if_object();
    if (patch == nullptr) {
        return bad_request(std::string(field) +
                           " must be an object whose values are strings or null");
    }
    for (const auto& entry : *patch) {
        if (auto error = check_key(field, entry.key(), limits)) {
            return *std::move(error);
        }
        if (entry.value().is_null()) {
            continue;
        }
        const json::string* text = entry.value().if_string();
        if (text == nullptr) {
            return bad_request(std::string(field) + " values must all be strings or null");
        }
        if (auto error = check_value(field, *text, limits)) {
            return *std::move(error);
        }
    }
    return std::optional<json::object>{std::move(*patch)};
}

// Counts code points of valid UTF-8 and spots control characters (C0, DEL, C1).
bool is_valid_reason(std::string_view reason) {
    std::size_t code_points = 0;
    for (std::size_t i = 0; i < reason.size(); ++i) {
        const auto byte = static_cast<unsigned char>(reason[i]);
        if ((byte & 0xc0) != 0x80) {
            ++code_points;
        }
        if (byte < 0x20 || byte == 0x7f) {
            return false;
        }
        if (byte == 0xc2 && i + 1 < reason.size() &&
            static_cast<unsigned char>(reason[i + 1]) <= 0x9f) {
            return false;  // U+0080 to U+009F
        }
    }
    return code_points >= 1 && code_points <= 64;
}

}  // namespace

std::optional<ApiError> validate_string_map(const json::value& value, std::string_view field,
                                            const InputLimits& limits) {
    const json::object* map = value.if_object();
    if (map == nullptr) {
        return bad_request(std::string(field) + " must be an object whose values are strings");
    }
    if (map->size() > limits.max_map_keys) {
        return bad_request(std::string(field) + " has more than " +
                           std::to_string(limits.max_map_keys) + " keys");
    }
    for (const auto& entry : *map) {
        if (auto error = check_key(field, entry.key(), limits)) {
            return error;
        }
        const json::string* text = entry.value().if_string();
        if (text == nullptr) {
            return bad_request(std::string(field) + " values must all be strings");
        }
        if (auto error = check_value(field, *text, limits)) {
            return error;
        }
    }
    return std::nullopt;
}

std::variant<CreateThreadRequest, ApiError> parse_create_request(std::string_view body,
                                                                 const InputLimits& limits) {
    auto parsed = parse_object_body(body);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        return std::move(*error);
    }
    const json::object* object = &std::get<json::object>(parsed);

    CreateThreadRequest request;
    const json::value* agent_id = object->if_contains("agentId");
    if (agent_id == nullptr || agent_id->is_null()) {
        return bad_request("agentId is required");
    }
    if (!agent_id->is_string()) {
        return bad_request("agentId must be a string");
    }
    auto normalized = util::normalize_uuid(agent_id->get_string());
    if (!normalized) {
        return bad_request("agentId must be a UUID");
    }
    request.agent_id = std::move(*normalized);

    auto metadata = optional_map(*object, "metadata", limits);
    if (auto* error = std::get_if<ApiError>(&metadata)) {
        return std::move(*error);
    }
    request.metadata_json = std::move(std::get<0>(metadata));

    auto variables = optional_map(*object, "variables", limits);
    if (auto* error = std::get_if<ApiError>(&variables)) {
        return std::move(*error);
    }
    request.variables_json = std::move(std::get<0>(variables));
    if (auto error = check_maps_size(request.metadata_json, request.variables_json, limits)) {
        return std::move(*error);
    }
    return request;
}

std::optional<ApiError> check_maps_size(const std::optional<std::string>& metadata_json,
                                        const std::optional<std::string>& variables_json,
                                        const InputLimits& limits) {
    const std::size_t size =
        (metadata_json ? metadata_json->size() : 0) + (variables_json ? variables_json->size() : 0);
    if (size <= limits.max_maps_bytes) {
        return std::nullopt;
    }
    return ApiError{ErrorCode::kBadRequest, "metadata and variables together exceed " +
                                                std::to_string(limits.max_maps_bytes) +
                                                " bytes as JSON"};
}

std::variant<PatchThreadRequest, ApiError> parse_patch_request(std::string_view body,
                                                               const InputLimits& limits) {
    auto parsed = parse_object_body(body);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        return std::move(*error);
    }
    auto& object = std::get<json::object>(parsed);
    PatchThreadRequest request;
    auto metadata = optional_patch(object, "metadata", limits);
    if (auto* error = std::get_if<ApiError>(&metadata)) {
        return std::move(*error);
    }
    request.metadata = std::move(std::get<0>(metadata));
    auto variables = optional_patch(object, "variables", limits);
    if (auto* error = std::get_if<ApiError>(&variables)) {
        return std::move(*error);
    }
    request.variables = std::move(std::get<0>(variables));
    return request;
}

std::variant<std::optional<std::string>, ApiError> merge_string_map(
    const std::optional<std::string>& stored, const json::object& patch, std::string_view field,
    const InputLimits& limits) {
    // Stored text was written by us from a validated object, so plain parsing suffices.
    json::object current = stored ? json::parse(*stored).as_object() : json::object{};
    // Rebuilt rather than erased in place: Boost 1.81's object::erase moves the last
    // element into the hole, which would reorder keys.
    json::object merged;
    merged.reserve(current.size() + patch.size());
    for (const auto& entry : current) {
        const json::value* change = patch.if_contains(entry.key());
        if (change == nullptr) {
            merged.emplace(entry.key(), entry.value());
        } else if (!change->is_null()) {
            merged.emplace(entry.key(), *change);
        }
    }
    bool sets_a_key = false;
    for (const auto& entry : patch) {
        if (!entry.value().is_null()) {
            sets_a_key = true;
            if (!current.contains(entry.key())) {
                merged.emplace(entry.key(), entry.value());
            }
        }
    }
    if (!stored && !sets_a_key) {
        return std::optional<std::string>{};  // Removing keys from a null map leaves it null.
    }
    if (merged.size() > limits.max_map_keys) {
        return bad_request(std::string(field) + " would have more than " +
                           std::to_string(limits.max_map_keys) + " keys");
    }
    return std::optional<std::string>{json::serialize(merged)};
}

std::variant<std::string, ApiError> parse_close_request(std::string_view body) {
    if (body.empty()) {
        return std::string(kDefaultCloseReason);
    }
    auto parsed = parse_object_body(body);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        return std::move(*error);
    }
    const json::value* reason = std::get<json::object>(parsed).if_contains("reason");
    if (reason == nullptr || reason->is_null()) {
        return std::string(kDefaultCloseReason);
    }
    if (!reason->is_string() || !is_valid_reason(reason->get_string())) {
        return bad_request(
            "reason must be a string of 1 to 64 characters without control characters");
    }
    return std::string(reason->get_string());
}

std::variant<PostMessageRequest, ApiError> parse_post_message_request(
    std::string_view body, std::size_t max_message_bytes) {
    auto parsed = parse_object_body(body);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        return std::move(*error);
    }
    const json::object& object = std::get<json::object>(parsed);
    PostMessageRequest request;
    const json::value* message = object.if_contains("message");
    if (message == nullptr || message->is_null()) {
        return bad_request("message is required");
    }
    if (!message->is_string()) {
        return bad_request("message must be a string");
    }
    const auto& text = message->get_string();
    if (text.empty() || text.size() > max_message_bytes) {
        return bad_request("message must be 1 character to " + std::to_string(max_message_bytes) +
                           " bytes of UTF-8");
    }
    const json::value* direction = object.if_contains("direction");
    if (direction != nullptr && !direction->is_null()) {
        if (!direction->is_string() ||
            (direction->get_string() != "INBOUND" && direction->get_string() != "OUTBOUND")) {
            return bad_request("direction must be INBOUND or OUTBOUND");
        }
        if (direction->get_string() == "OUTBOUND") {
            request.direction = store::MessageDirection::kOutbound;
        }
    }
    util::JsonWriter literal;
    literal.string(std::string_view(text.data(), text.size()));
    request.body_json = literal.take();
    return request;
}

}  // namespace threadsd::api
