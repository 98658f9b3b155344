#pragma once
// UUID text handling and time-ordered id generation (RFC 9562 version 7).

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace threadsd::util {

/// Length of the canonical 8-4-4-4-12 text form.
inline constexpr std::size_t kUuidTextLength = 36;

/// Returns the canonical lower-case form of `text` when it is exactly 36 characters of
/// 8-4-4-4-12 hexadecimal groups (either case), else nothing. Braces, URNs and
/// hyphen-less forms are refused on purpose: one spelling per id keeps lookups exact.
std::optional<std::string> normalize_uuid(std::string_view text);

/// True when `text` is already a canonical lower-case UUID.
bool is_canonical_uuid(std::string_view text);

/// Formats 16 bytes as a canonical lower-case UUID.
std::string format_uuid(const std::array<std::uint8_t, 16>& bytes);

/// The unix milliseconds in the first 48 bits of a canonical UUIDv7 (any canonical UUID
/// gives its first 48 bits).
std::int64_t uuid7_unix_millis(std::string_view canonical);

/// The smallest canonical UUID whose first 48 bits are `unix_ms`: every UUIDv7 made at
/// `unix_ms` or later sorts at or above it, every one made earlier sorts below it.
std::string uuid7_floor(std::int64_t unix_ms);

/// Generates UUIDv7 ids that strictly increase within this process, even when many are
/// made in one millisecond or the wall clock steps back, so ordering ids is ordering
/// creation. Thread-safe.
class Uuid7Generator {
  public:
    /// Returns a new id whose timestamp is `unix_ms` (or later, to stay monotonic).
    std::string next(std::int64_t unix_ms);

    /// Returns a new id stamped with the current wall clock.
    std::string next();

  private:
    /// 64 bits from the pool, refilled from OpenSSL's CSPRNG when empty; mutex_ held.
    std::uint64_t random_u64();

    std::mutex mutex_;                ///< Guards everything below.
    std::int64_t last_ms_ = 0;        ///< Timestamp of the last id issued.
    std::uint64_t last_counter_ = 0;  ///< 74 random-seeded bits that follow it, as a counter.
    /// Random bits drawn 256 bytes at a time: one RAND_bytes call per 32 draws, not per id.
    std::array<std::uint64_t, 32> random_pool_{};
    std::size_t random_used_ = random_pool_.size();  ///< Draws taken from random_pool_.
};

}  // namespace threadsd::util
