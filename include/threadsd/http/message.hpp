#pragma once
// The HTTP message types shared by the session and the request handler, and the helpers
// that build responses in the contract's shape.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "threadsd/api/error.hpp"
#include "threadsd/api/event_source.hpp"

namespace threadsd::http {

/// A request with its whole body.
using Request = boost::beast::http::request<boost::beast::http::string_body>;
/// A response with its whole body.
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// What a handler answers: a whole response, or the head and first bytes of an event
/// stream whose body goes on with `events` (text/event-stream, contract section 9).
struct Reply {
    /// A whole response.
    Reply(Response whole) : response(std::move(whole)) {}  // NOLINT: implicit on purpose
    /// A stream: `head` carries the status, headers and the first events as its body.
    Reply(Response head, std::shared_ptr<api::EventSource> source)
        : response(std::move(head)), events(std::move(source)) {}

    Response response;                         ///< Status, headers and (first) body.
    std::shared_ptr<api::EventSource> events;  ///< Non-null: the body goes on with these.
};

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
