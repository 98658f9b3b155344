#pragma once
// Whole-file reads and writes for tests.

#include <filesystem>
#include <string>
#include <string_view>

namespace threadsd::test {

/// The whole content of `path`, byte for byte ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

/// The path of `relative` (such as "docs/openapi.yaml") in this repository's checkout.
std::filesystem::path repository_file(std::string_view relative);

/// Writes `content` to `path` byte for byte, replacing the file; fails the test if it cannot.
void write_file(const std::filesystem::path& path, std::string_view content);

}  // namespace threadsd::test
