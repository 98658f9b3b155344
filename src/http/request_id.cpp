#include "threadsd/http/request_id.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>

#include "threadsd/http/message.hpp"

namespace threadsd::http {
namespace {

// Request ids need uniqueness, not secrecy: a per-thread generator seeded once from the
// CSPRNG avoids a syscall per request.
std::mt19937_64& generator() {
    thread_local std::mt19937_64 engine = [] {
        std::uint64_t seed = 0;
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
            seed = std::random_device{}();
        }
        return std::mt19937_64(seed);
    }();
    return engine;
}

}  // namespace

bool is_acceptable_request_id(std::string_view value) {
    if (value.empty() || value.size() > 128) {
        return false;
    }
    for (const char c : value) {
        if (c < 0x21 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

std::string request_id_for(std::string_view incoming) {
    const std::string_view trimmed = trim_header_value(incoming);
    if (is_acceptable_request_id(trimmed)) {
        return std::string(trimmed);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    auto& engine = generator();
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t bits = engine();
        for (std::size_t i = 0; i < 16; ++i, bits >>= 4) {
            id[half * 16 + i] = kHex[bits & 0x0f];
        }
    }
    return id;
}

}  // namespace threadsd::http
