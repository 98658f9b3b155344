#pragma once
// The HTTP message types shared by the session and the request handler, and the helpers
// that build responses in the contract's shape.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "threadsd/api/error.hpp"

namespace threadsd::http {

/// A request with its whole body.
using Request = boost::beast::http::request<boost::beast::http::string_body>;
/// A response with its whole body.
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// A response with a JSON body and the given status.
Response json_response(unsigned status, std::string body);

/// A response carrying the error envelope.
Response error_response(const api::ApiError& error);

/// An error envelope for a refusal the client should retry, with `Retry-After` in whole
/// seconds (503 overload, 429 rate limit).
Response retry_later_response(const api::ApiError& error, std::uint32_t retry_after_seconds);

/// A header value with surrounding spaces and tabs removed (RFC 9110 5.5).
std::string_view trim_header_value(std::string_view value);

/// True when a Content-Type value names application/json, in any case, with any parameters.
bool is_json_media_type(std::string_view content_type);

}  // namespace threadsd::http
