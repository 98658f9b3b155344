#include "threadsd/api/list_query.hpp"

#include "threadsd/api/query_string.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "threadsd/util/clock.hpp"
#include "threadsd/util/text.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::api {
namespace {

ApiError bad_request(std::string message) {
    return {ErrorCode::kBadRequest, std::move(message)};
}

// Applies one decoded parameter to `query`; an error names the parameter.
std::optional<ApiError> apply(const std::string& name, std::string value, ListQuery& query,
                              std::optional<std::string>& cursor,
                              std::optional<std::int64_t>& created_before) {
    auto& filter = query.filter;
    if (name == "limit") {
        const auto limit = parse_page_limit(value, kMaxPageSize);
        if (!limit) {
            return bad_request("limit must be a whole number from 1 to 100");
        }
        query.limit = *limit;
    } else if (name == "cursor" || name == "agentId") {
        auto id = util::normalize_uuid(value);
        if (!id) {
            return bad_request(name + " must be a UUID");
        }
        (name == "cursor" ? cursor : filter.agent_id) = std::move(*id);
    } else if (name == "isActive") {
        if (value != "true" && value != "false") {
            return bad_request("isActive must be true or false");
        }
        filter.is_active = value == "true";
    } else if (name == "closedReason") {
        filter.closed_reason = std::move(value);
    } else if (name == "toPhoneNumber") {
        filter.to_phone_number = std::move(value);
    } else if (name == "createdAfter" || name == "createdBefore") {
        const auto instant = util::parse_rfc3339_millis(value);
        if (!instant) {
            return bad_request(name +
                               " must be an RFC 3339 date-time such as 2026-11-28T19:54:33Z");
        }
        if (name == "createdAfter") {
            // Exclusive: created at least one millisecond later.
            filter.id_at_or_above = util::uuid7_floor(*instant + 1);
        } else {
            created_before = *instant;
        }
    } else {
        return unknown_parameter(name);
    }
    return std::nullopt;
}

}  // namespace

std::variant<ListQuery, ApiError> parse_list_query(std::string_view query) {
    ListQuery result;
    std::optional<std::string> cursor;
    std::optional<std::int64_t> created_before;
    auto parameters = parse_query_parameters(query);
    if (auto* error = std::get_if<ApiError>(&parameters)) {
        return std::move(*error);
    }
    for (auto& [name, value] : std::get<QueryParameters>(parameters)) {
        if (auto error = apply(name, std::move(value), result, cursor, created_before)) {
            return *std::move(error);
        }
    }
    // The cursor and createdBefore are both exclusive upper bounds on id: keep the lower.
    std::optional<std::string> below = std::move(cursor);
    if (created_before) {
        std::string floor = util::uuid7_floor(*created_before);
        if (!below || floor < *below) {
            below = std::move(floor);
        }
    }
    result.filter.id_below = std::move(below);
    return result;
}

}  // namespace threadsd::api
