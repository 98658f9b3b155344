#pragma once
// The bytes that go before a response body: status line and headers, serialized by hand
// into a buffer the session reuses, so that a response is one gathered write of two
// buffers and no per-field allocation (Beast's serializer was 3% of a GET under perf).

#include <cstddef>
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

/// Replaces `out` with the head of an event stream (contract section 9): the status line,
/// the fields of `response` (its body is the stream's first bytes, not counted), Date,
/// X-Request-Id, `X-Accel-Buffering: no`, and the body's framing: `Transfer-Encoding:
/// chunked` when `chunked` (HTTP/1.1), else none, the body ending when the connection does
/// (HTTP/1.0). `Connection: close` unless `keep_alive` and chunked.
void serialize_stream_head(std::string& out, const Response& response, std::string_view date,
                           std::string_view request_id, bool chunked, bool keep_alive);

/// The line before a chunk of chunked transfer coding (RFC 9112 7.1): the size in
/// hexadecimal and CRLF, without extensions.
class ChunkSizeLine {
  public:
    /// The line for a chunk of `size` bytes.
    explicit ChunkSizeLine(std::size_t size);
    /// The line's text.
    std::string_view text() const { return {text_, length_}; }

  private:
    char text_[2 * sizeof(std::size_t) + 2];  ///< Hex digits, then CRLF.
    std::size_t length_ = 0;                  ///< Bytes used of text_.
};

}  // namespace threadsd::http
