#include "threadsd/api/message_query.hpp"

#include <optional>
#include <string>

#include "threadsd/api/list_query.hpp"
#include "threadsd/api/query_string.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::api {
namespace {

ApiError bad_request(std::string message) {
    return {ErrorCode::kBadRequest, std::move(message)};
}

// The direction a status implies: web chat messages are RECEIVED or SENT, nothing else.
std::optional<store::MessageDirection> direction_of_status(const std::string& status) {
    if (status == "RECEIVED") {
        return store::MessageDirection::kInbound;
    }
    if (status == "SENT") {
        return store::MessageDirection::kOutbound;
    }
    return std::nullopt;
}

}  // namespace

std::variant<MessageQuery, ApiError> parse_message_query(std::string_view query) {
    auto parameters = parse_query_parameters(query);
    if (auto* error = std::get_if<ApiError>(&parameters)) {
        return std::move(*error);
    }
    MessageQuery result;
    std::optional<store::MessageDirection> by_status;
    bool status_given = false;
    for (auto& [name, value] : std::get<QueryParameters>(parameters)) {
        if (name == "limit") {
            const auto limit = parse_page_limit(value, kMaxPageSize);
            if (!limit) {
                return bad_request("limit must be a whole number from 1 to 100");
            }
            result.limit = *limit;
        } else if (name == "cursor") {
            auto id = util::normalize_uuid(value);
            if (!id) {
                return bad_request("cursor must be a UUID");
            }
            result.filter.before_id = std::move(*id);
        } else if (name == "direction") {
            if (value != "INBOUND" && value != "OUTBOUND") {
                return bad_request("direction must be INBOUND or OUTBOUND");
            }
            result.filter.direction = value == "INBOUND" ? store::MessageDirection::kInbound
                                                         : store::MessageDirection::kOutbound;
        } else if (name == "status") {
            status_given = true;
            by_status = direction_of_status(value);
        } else {
            return unknown_parameter(name);
        }
    }
    if (status_given) {
        if (!by_status || (result.filter.direction && *result.filter.direction != *by_status)) {
            result.matches_nothing = true;
        } else {
            result.filter.direction = by_status;
        }
    }
    return result;
}

}  // namespace threadsd::api
