#include "threadsd/http/message.hpp"

#include "threadsd/util/text.hpp"

namespace threadsd::http {

namespace beast = boost::beast;

Response json_response(unsigned status, std::string body) {
    Response response{static_cast<beast::http::status>(status), 11};
    response.set(beast::http::field::content_type, "application/json");
    response.body() = std::move(body);
    return response;
}

Response error_response(const api::ApiError& error) {
    return json_response(api::http_status(error.code), api::error_body(error));
}

Response retry_later_response(const api::ApiError& error, std::uint32_t retry_after_seconds) {
    auto response = error_response(error);
    response.set(boost::beast::http::field::retry_after, std::to_string(retry_after_seconds));
    return response;
}

std::string_view trim_header_value(std::string_view value) {
    const auto first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = value.find_last_not_of(" \t");
    return value.substr(first, last - first + 1);
}

bool is_json_media_type(std::string_view content_type) {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    return util::iequals_ascii(trim_header_value(type), "application/json");
}

}  // namespace threadsd::http
