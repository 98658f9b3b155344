#include "threadsd/util/uuid.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "threadsd/util/clock.hpp"

namespace threadsd::util {
namespace {

constexpr bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr bool is_hyphen_position(std::size_t i) {
    return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

std::optional<std::string> normalize_uuid(std::string_view text) {
    if (text.size() != kUuidTextLength) {
        return std::nullopt;
    }
    std::string out(text);
    for (std::size_t i = 0; i < out.size(); ++i) {
        char& c = out[i];
        if (is_hyphen_position(i)) {
            if (c != '-') {
                return std::nullopt;
            }
        } else if (!is_hex(c)) {
            return std::nullopt;
        } else if (c >= 'A' && c <= 'F') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool is_canonical_uuid(std::string_view text) {
    auto normal = normalize_uuid(text);
    return normal && *normal == text;
}

std::string format_uuid(const std::array<std::uint8_t, 16>& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(kUuidTextLength);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0x0f]);
    }
    return out;
}

std::int64_t uuid7_unix_millis(std::string_view canonical) {
    std::int64_t ms = 0;
    for (std::size_t i = 0; i < 13; ++i) {
        const char c = canonical[i];
        if (c == '-') {
            continue;
        }
        ms = ms * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return ms;
}

std::string uuid7_floor(std::int64_t unix_ms) {
    std::array<std::uint8_t, 16> bytes{};
    const auto t = static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0));
    for (int i = 0; i < 6; ++i) {
        bytes[i] = static_cast<std::uint8_t>(t >> (40 - 8 * i));
    }
    return format_uuid(bytes);
}

// Layout (RFC 9562 5.7 with method 2 of 6.2): 48 bits of unix milliseconds, 4 version
// bits, then 74 bits split around the 2 variant bits, used as a counter that starts at a
// random value each millisecond and is incremented for every further id in that
// millisecond. The counter's top bit starts clear so increments cannot overflow in practice.
std::uint64_t Uuid7Generator::random_u64() {
    if (random_used_ == random_pool_.size()) {
        // A CSPRNG failure is a broken host, not a bad request.
        if (RAND_bytes(reinterpret_cast<unsigned char*>(random_pool_.data()),
                       sizeof random_pool_) != 1) {
            throw std::runtime_error("OpenSSL RAND_bytes failed");
        }
        random_used_ = 0;
    }
    return random_pool_[random_used_++];
}

std::string Uuid7Generator::next(std::int64_t unix_ms) {
    std::uint64_t counter = 0;
    std::uint64_t tail = 0;
    std::int64_t ms = 0;
    {
        std::lock_guard lock(mutex_);
        if (unix_ms > last_ms_) {
            last_ms_ = unix_ms;
            last_counter_ = random_u64() & ((std::uint64_t{1} << 61) - 1);
        } else if (++last_counter_ >= (std::uint64_t{1} << 62)) {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            ++last_ms_;
            last_counter_ = random_u64() & ((std::uint64_t{1} << 61) - 1);
        }
        counter = last_counter_;
        ms = last_ms_;
        tail = random_u64();
    }
    // 62 counter bits: 12 go to rand_a, 50 to the top of rand_b; 12 more random bits below.
    std::array<std::uint8_t, 16> b{};
    const auto t = static_cast<std::uint64_t>(ms);
    for (int i = 0; i < 6; ++i) {
        b[i] = static_cast<std::uint8_t>(t >> (40 - 8 * i));
    }
    const std::uint64_t rand_a = (counter >> 50) & 0x0fff;
    b[6] = static_cast<std::uint8_t>(0x70 | (rand_a >> 8));
    b[7] = static_cast<std::uint8_t>(rand_a);
    const std::uint64_t rand_b =
        ((counter & ((std::uint64_t{1} << 50) - 1)) << 12) | (tail & 0x0fff);
    b[8] = static_cast<std::uint8_t>(0x80 | ((rand_b >> 56) & 0x3f));
    for (int i = 0; i < 7; ++i) {
        b[9 + i] = static_cast<std::uint8_t>(rand_b >> (48 - 8 * i));
    }
    return format_uuid(b);
}

std::string Uuid7Generator::next() {
    return next(unix_millis_now());
}

}  // namespace threadsd::util
