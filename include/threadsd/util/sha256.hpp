#pragma once
// SHA-256 through OpenSSL, with the algorithm fetched once and a context per thread.

#include <array>
#include <cstdint>
#include <string_view>

namespace threadsd::util {

/// A SHA-256 digest.
using Sha256Digest = std::array<std::uint8_t, 32>;

/// SHA-256 of `bytes`; throws std::runtime_error when OpenSSL fails.
Sha256Digest sha256(std::string_view bytes);

}  // namespace threadsd::util
