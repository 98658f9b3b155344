#include "threadsd/api/query_string.hpp"

#include <algorithm>
#include <set>

#include "threadsd/util/text.hpp"

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

}  // namespace

std::string describe_parameter(const std::string& name) {
    return is_echoable(name) ? "query parameter " + name : "a query parameter";
}

ApiError unknown_parameter(const std::string& name) {
    return bad_request(is_echoable(name) ? "unknown query parameter " + name
                                         : "unknown query parameter (its name is not shown)");
}

std::optional<std::size_t> parse_page_limit(const std::string& text, std::size_t most) {
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
    if (value < 1 || value > most) {
        return std::nullopt;
    }
    return value;
}

std::variant<QueryParameters, ApiError> parse_query_parameters(std::string_view query) {
    QueryParameters parameters;
    std::set<std::string> seen;
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
        parameters.emplace_back(std::move(*name), std::move(*value));
    }
    return parameters;
}

}  // namespace threadsd::api
