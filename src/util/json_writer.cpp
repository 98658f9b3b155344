#include "threadsd/util/json_writer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace threadsd::util {
namespace {

// Bytes that JSON strings must escape: controls, '"' and '\\'.
constexpr std::array<bool, 256> kMustEscape = [] {
    std::array<bool, 256> table{};
    for (std::size_t c = 0; c < 0x20; ++c) {
        table[c] = true;
    }
    table['"'] = true;
    table['\\'] = true;
    return table;
}();

// True when one of the 8 bytes of `word` must be escaped (the classic "has a byte less
// than n" and "has a zero byte" bit tricks). Most strings have nothing to escape, so
// they are checked 8 bytes per step; bytes of 0x80 and above (UTF-8) never match.
bool any_must_escape(std::uint64_t word) {
    constexpr std::uint64_t kOnes = 0x0101010101010101;
    constexpr std::uint64_t kHighBits = 0x8080808080808080;
    const std::uint64_t quote = word ^ (kOnes * '"');
    const std::uint64_t backslash = word ^ (kOnes * '\\');
    const std::uint64_t below_space = (word - kOnes * 0x20) & ~word;
    const std::uint64_t is_quote = (quote - kOnes) & ~quote;
    const std::uint64_t is_backslash = (backslash - kOnes) & ~backslash;
    return ((below_space | is_quote | is_backslash) & kHighBits) != 0;
}

// Writes `value` quoted and escaped at `out`, which has room for 6 * size + 2 bytes (every
// byte escaped as \u00XX); returns the end of what it wrote.
char* write_json_string(char* out, std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    *out++ = '"';
    const char* const data = value.data();
    const std::size_t size = value.size();
    std::size_t i = 0;
    while (i < size) {
        if (i + 8 <= size) {
            std::uint64_t word = 0;
            std::memcpy(&word, data + i, sizeof word);
            if (!any_must_escape(word)) {
                std::memcpy(out, data + i, sizeof word);  // Nothing to escape: copy 8 at once.
                out += sizeof word;
                i += sizeof word;
                continue;
            }
        }
        // Byte by byte until the next 8-byte step (or the end).
        const std::size_t step_end = std::min(size, i + 8);
        for (; i < step_end; ++i) {
            const auto c = static_cast<unsigned char>(data[i]);
            if (!kMustEscape[c]) {
                *out++ = static_cast<char>(c);  // Input is already valid UTF-8.
                continue;
            }
            *out++ = '\\';
            switch (c) {
                case '"':
                case '\\':
                    *out++ = static_cast<char>(c);
                    break;
                case '\n':
                    *out++ = 'n';
                    break;
                case '\r':
                    *out++ = 'r';
                    break;
                case '\t':
                    *out++ = 't';
                    break;
                case '\b':
                    *out++ = 'b';
                    break;
                case '\f':
                    *out++ = 'f';
                    break;
                default:
                    *out++ = 'u';
                    *out++ = '0';
                    *out++ = '0';
                    *out++ = kHex[c >> 4];
                    *out++ = kHex[c & 0x0f];
            }
        }
    }
    *out++ = '"';
    return out;
}

// The most bytes write_json_string() may write for `value`.
std::size_t max_json_string_size(std::string_view value) {
    return 6 * value.size() + 2;
}

}  // namespace

JsonWriter::JsonWriter() {
    reserve(1024);
}

void JsonWriter::reserve(std::size_t more) {
    if (out_.size() - size_ >= more) {
        return;
    }
    // Grown by resize: the new bytes are zeroed once here and overwritten by the writes.
    out_.resize(std::max(out_.size() * 2, size_ + more));
}

void JsonWriter::put(char c) {
    reserve(1);
    out_[size_++] = c;
}

void JsonWriter::put(std::string_view text) {
    reserve(text.size());
    std::memcpy(out_.data() + size_, text.data(), text.size());
    size_ += text.size();
}

void JsonWriter::put_string(std::string_view value) {
    reserve(max_json_string_size(value));
    size_ = static_cast<std::size_t>(write_json_string(out_.data() + size_, value) - out_.data());
}

void JsonWriter::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (depth_ > 0) {
        const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
        if (has_items_ & bit) {
            put(',');
        }
        has_items_ |= bit;
    }
}

JsonWriter& JsonWriter::begin_object() {
    separate();
    put('{');
    ++depth_;
    has_items_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    put('}');
    --depth_;
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    separate();
    put('[');
    ++depth_;
    has_items_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    put(']');
    --depth_;
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    separate();
    put_string(name);
    put(':');
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
    separate();
    put_string(value);
    return *this;
}

JsonWriter& JsonWriter::number(std::int64_t value) {
    separate();
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    put(std::string_view(buffer, static_cast<std::size_t>(result.ptr - buffer)));
    return *this;
}

JsonWriter& JsonWriter::number(double value) {
    if (!std::isfinite(value)) {
        return null();  // JSON has no NaN or infinity; the store never holds them.
    }
    separate();
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    put(std::string_view(buffer, static_cast<std::size_t>(result.ptr - buffer)));
    return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
    separate();
    put(value ? "true" : "false");
    return *this;
}
JsonWriter& JsonWriter::null() {
    separate();
    put("null");
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    separate();
    put(json);
    return *this;
}

std::string JsonWriter::take() {
    out_.resize(size_);  // Only shortens: no copy, and the text moves out whole.
    std::string result = std::move(out_);
    out_.clear();
    size_ = 0;
    depth_ = 0;
    has_items_ = 0;
    after_key_ = false;
    return result;
}

}  // namespace threadsd::util
