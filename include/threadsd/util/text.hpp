#pragma once
// Small text helpers shared by the command line, the key files and the proxy list.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace threadsd::util {

/// `text` without leading and trailing spaces, tabs and carriage returns.
std::string_view trim(std::string_view text);

/// The entries of a comma-separated list, each trimmed; empty entries are skipped.
std::vector<std::string_view> split_list(std::string_view list);

/// The whole file at `path`, or nothing when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

}  // namespace threadsd::util
