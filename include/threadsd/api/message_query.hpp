#pragma once
// The query string of GET /api/v1/threads/{threadId}/messages.

#include <cstddef>
#include <string_view>
#include <variant>

#include "threadsd/api/error.hpp"
#include "threadsd/store/records.hpp"

namespace threadsd::api {

/// A validated request for a page of messages.
struct MessageQuery {
    std::size_t limit = 50;       ///< Page size, 1 to 100.
    store::MessageFilter filter;  ///< Direction and cursor.
    /// The filters cannot both hold (a status no web chat message has, or one that
    /// contradicts the direction): the page is empty without asking the store for rows.
    bool matches_nothing = false;
};

/// Parses `query` by the rules of the thread list: `limit`, `cursor` (a UUID), `direction`
/// (INBOUND or OUTBOUND) and `status` (any value; a web chat message is RECEIVED when
/// inbound and SENT when outbound). Unknown, repeated, empty or malformed parameters are
/// 400s that name the parameter.
std::variant<MessageQuery, ApiError> parse_message_query(std::string_view query);

}  // namespace threadsd::api
