#include "threadsd/api/validation.hpp"

#include <boost/json/serialize.hpp>

#include "threadsd/api/json_reader.hpp"
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
        if (entry.key().empty()) {
            return bad_request(std::string(field) + " has an empty key");
        }
        if (entry.key().size() > limits.max_key_bytes) {
            return bad_request(std::string(field) + " has a key longer than " +
                               std::to_string(limits.max_key_bytes) + " bytes");
        }
        const json::string* text = entry.value().if_string();
        if (text == nullptr) {
            return bad_request(std::string(field) + " values must all be strings");
        }
        if (text->size() > limits.max_value_bytes) {
            return bad_request(std::string(field) + " has a value longer than " +
                               std::to_string(limits.max_value_bytes) + " bytes");
        }
    }
    return std::nullopt;
}

std::variant<CreateThreadRequest, ApiError> parse_create_request(std::string_view body,
                                                                 const InputLimits& limits) {
    auto parsed = parse_json_strict(body);
    if (auto* error = std::get_if<JsonSyntaxError>(&parsed)) {
        return bad_request(std::move(error->message));
    }
    const json::object* object = std::get<json::value>(parsed).if_object();
    if (object == nullptr) {
        return bad_request("request body must be a JSON object");
    }

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
    return request;
}

}  // namespace threadsd::api
