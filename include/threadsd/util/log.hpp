#pragma once
// Error and lifecycle lines on stderr, one write per line so threads never interleave.

#include <string_view>

namespace threadsd::util {

/// Writes `threadsd: <level>: <message>` to stderr.
void log_line(std::string_view level, std::string_view message);

/// An unexpected failure; `message` may hold internals, it never reaches a client.
inline void log_error(std::string_view message) {
    log_line("error", message);
}

/// Start, stop and configuration facts an operator wants to see.
inline void log_info(std::string_view message) {
    log_line("info", message);
}

}  // namespace threadsd::util
