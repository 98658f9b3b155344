#pragma once
// Limits and timeouts of the HTTP layer (docs/configuration.md); each is configurable. Together
// they bound what one connection can make the server hold: its read buffer, its head, its
// body, and its response.

#include <chrono>
#include <cstddef>

namespace threadsd::http {

/// The largest head the server accepts: Beast's fields cannot hold a field of more than
/// 65,535 bytes, and a head within this limit has none.
inline constexpr std::size_t kMaxHeaderBytesCeiling = 65'535;

/// What one connection may send, and how long it may take.
struct HttpLimits {
    std::size_t max_header_bytes = 16 * 1024;  ///< Request line plus headers (431 beyond).
    std::size_t max_body_bytes = 64 * 1024;    ///< Request body (413 beyond).
    /// Chunked framing of one body: chunk-size lines with their extensions, the CRLFs
    /// around chunk data, and the trailer section (413 beyond).
    std::size_t max_framing_bytes = 16 * 1024;
    std::chrono::milliseconds request_timeout{
        10'000};                                      ///< From a request's first byte to its last.
    std::chrono::milliseconds idle_timeout{75'000};   ///< Keep-alive wait for the next request.
    std::chrono::milliseconds write_timeout{10'000};  ///< To deliver one response.
    /// Open connections; one more is answered 503 with Retry-After and closed.
    std::size_t max_connections = 10'000;
};

}  // namespace threadsd::http
