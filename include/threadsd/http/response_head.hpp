#pragma once
// The bytes that go before a response body: status line and headers, serialized by hand
// into a buffer the session reuses, so that a response is one gathered write of two
// buffers and no per-field allocation (Beast's serializer was 3% of a GET under perf).

#include <ctime>
#include <string>
#include <string_view>

#include "threadsd/http/message.hpp"

namespace threadsd::http {

/// The IMF-fixdate (RFC 9110 5.6.7) of `seconds` since the epoch, for the Date header.
std::string format_http_date(std::time_t seconds);

/// The Date header value for the current second; formatted at most once per second on
/// each thread, since every response needs it.
std::string_view current_http_date();

/// Replaces `out` with the status line and headers of `response` (its own fields, then
/// Date, X-Request-Id, Content-Length of its body, and `Connection: close` unless
/// `keep_alive`), ending with the empty line. The body is not copied.
void serialize_response_head(std::string& out, const Response& response, std::string_view date,
                             std::string_view request_id, bool keep_alive);

}  // namespace threadsd::http
