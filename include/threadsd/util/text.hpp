#pragma once
// Small text helpers shared by the command line, the key files, the proxy list and the
// access log.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace threadsd::util {

/// `text` without leading and trailing spaces, tabs and carriage returns.
std::string_view trim(std::string_view text);

/// The entries of a comma-separated list, each trimmed; empty entries are skipped.
std::vector<std::string_view> split_list(std::string_view list);

/// True when `a` and `b` are equal ignoring ASCII case. (Beast 1.81's iequals reads one
/// byte past its arguments when their case differs, past the end of a buffer cut to size.)
bool iequals_ascii(std::string_view a, std::string_view b);

/// True when `text` begins with `prefix`, ignoring ASCII case.
bool starts_with_ascii_nocase(std::string_view text, std::string_view prefix);

/// The value of the hexadecimal digit `c`, or -1 when it is not one.
int hex_digit_value(char c);

/// The length of the valid UTF-8 sequence at the start of `text` (1 to 4 bytes), or 0
/// when it does not begin with one (overlong forms and surrogates are invalid).
std::size_t utf8_sequence_length(std::string_view text);

/// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so that it
/// can be written into JSON; nothing when `text` is valid already.
std::optional<std::string> replace_invalid_utf8(std::string_view text);

/// The whole file at `path`, or nothing when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

}  // namespace threadsd::util
