#pragma once
// Limits and timeouts of the HTTP layer (CONTRACT.md section 4); each is configurable.

#include <chrono>
#include <cstddef>

namespace threadsd::http {

/// What one connection may send, and how long it may take.
struct HttpLimits {
    std::size_t max_header_bytes = 16 * 1024;  ///< Request line plus headers (431 beyond).
    std::size_t max_body_bytes = 64 * 1024;    ///< Request body (413 beyond).
    std::chrono::milliseconds request_timeout{
        10'000};                                      ///< From a request's first byte to its last.
    std::chrono::milliseconds idle_timeout{75'000};   ///< Keep-alive wait for the next request.
    std::chrono::milliseconds write_timeout{10'000};  ///< To deliver one response.
    /// Open connections; one more is answered 503 with Retry-After and closed.
    std::size_t max_connections = 10'000;
};

}  // namespace threadsd::http
