#pragma once
// Wall-clock helpers: every timestamp threadsd stores or shows is unix milliseconds,
// shown as RFC 3339 UTC with exactly three fractional digits.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace threadsd::util {

/// Current wall-clock time in milliseconds since the Unix epoch.
std::int64_t unix_millis_now();

/// Formats unix milliseconds as `2026-11-28T19:54:33.123Z`.
std::string format_rfc3339_millis(std::int64_t unix_ms);

/// Appends the same text to `out`, without a temporary string.
void append_rfc3339_millis(std::string& out, std::int64_t unix_ms);

/// Parses an RFC 3339 date-time (`Z` or a `+hh:mm` offset, optional fraction) into unix
/// milliseconds; fractions finer than a millisecond are truncated. Nothing on bad input.
std::optional<std::int64_t> parse_rfc3339_millis(std::string_view text);

}  // namespace threadsd::util
