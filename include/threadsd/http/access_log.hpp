#pragma once
// One JSON line per answered request on stdout, where journald keeps it. Never the API key,
// never a body.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "threadsd/http/forwarded.hpp"

namespace threadsd::http {

/// Whether sessions log, and how they name the client.
struct AccessLogSettings {
    bool enabled = false;            ///< A JSON line per answered request on stdout.
    TrustedProxies trusted_proxies;  ///< Proxies whose X-Forwarded-For names the client.
};

/// What the access log says about one request.
struct AccessRecord {
    std::string_view request_id;          ///< X-Request-Id of the response.
    std::string_view method;              ///< e.g. "POST"; "" when the bytes were not HTTP.
    std::string_view path;                ///< The target without its query string.
    std::string_view route;               ///< route_name(), e.g. "create".
    std::string_view client;              ///< The client's address (see TrustedProxies).
    unsigned status = 0;                  ///< HTTP status sent.
    std::chrono::nanoseconds duration{};  ///< First byte read to last byte written.
    std::size_t request_bytes = 0;        ///< Body bytes received.
    std::size_t response_bytes = 0;       ///< Bytes sent, head included.
};

/// The JSON line (with its newline) for `record` at `unix_ms`.
std::string access_log_line(const AccessRecord& record, std::int64_t unix_ms);

/// Writes `line` to stdout in one piece, whatever other threads write.
void write_access_log(std::string_view line);

}  // namespace threadsd::http
