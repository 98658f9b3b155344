#include "threadsd/api/list_query.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "threadsd/util/clock.hpp"
#include "threadsd/util/text.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::api {
namespace {

ApiError bad_request(std::string message) {
    return {ErrorCode::kBadRequest, std::move(message)};
}

// RFC 3986 percent-decoding; nothing when a % is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) {
            return std::nullopt;
        }
        const int high = util::hex_digit_value(text[i + 1]);
        const int low = util::hex_digit_value(text[i + 2]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

// Client-chosen names are echoed only when short and printable.
bool is_echoable(const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string describe_parameter(const std::string& name) {
    return is_echoable(name) ? "query parameter " + name : "a query parameter";
}

// Plain decimal digits (leading zeros allowed) whose value is 1 to kMaxPageSize.
std::optional<std::size_t> parse_limit(const std::string& text) {
    if (text.empty() ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    const auto first = text.find_first_not_of('0');
    const std::string digits = first == std::string::npos ? "0" : text.substr(first);
    if (digits.size() > 3) {
        return std::nullopt;
    }
    const std::size_t value = std::stoul(digits);
    if (value < 1 || value > kMaxPageSize) {
        return std::nullopt;
    }
    return value;
}

// Applies one decoded parameter to `query`; an error names the parameter.
std::optional<ApiError> apply(const std::string& name, std::string value, ListQuery& query,
                              std::optional<std::string>& cursor,
                              std::optional<std::int64_t>& created_before) {
    auto& filter = query.filter;
    if (name == "limit") {
        const auto limit = parse_limit(value);
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
        return bad_request(is_echoable(name) ? "unknown query parameter " + name
                                             : "unknown query parameter (its name is not shown)");
    }
    return std::nullopt;
}

}  // namespace

std::variant<ListQuery, ApiError> parse_list_query(std::string_view query) {
    ListQuery result;
    std::set<std::string> seen;
    std::optional<std::string> cursor;
    std::optional<std::int64_t> created_before;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) {
            continue;  // "a=1&&b=2" or a trailing '&': no parameter there.
        }
        const auto equals = pair.find('=');
        auto name = percent_decode(pair.substr(0, equals));
        if (!name) {
            return bad_request("the query string is not correctly percent-encoded");
        }
        auto value = percent_decode(equals == std::string_view::npos ? std::string_view{}
                                                                     : pair.substr(equals + 1));
        if (!value) {
            return bad_request(describe_parameter(*name) + " is not correctly percent-encoded");
        }
        if (!seen.insert(*name).second) {
            return bad_request(describe_parameter(*name) + " is repeated");
        }
        if (value->empty()) {
            return bad_request(describe_parameter(*name) + " must not be empty");
        }
        if (auto error = apply(*name, std::move(*value), result, cursor, created_before)) {
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
