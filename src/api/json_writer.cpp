#include "threadsd/api/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace threadsd::api {
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

}  // namespace

void append_json_string(std::string& out, std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    // One growth for the common case; escapes may grow it again.
    out.reserve(out.size() + value.size() + 2);
    out.push_back('"');
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (i % 8 == 0 && i + 8 <= value.size()) {
            std::uint64_t word = 0;
            std::memcpy(&word, value.data() + i, sizeof word);
            if (!any_must_escape(word)) {
                i += 7;  // Nothing here: on to the next 8 bytes.
                continue;
            }
        }
        const auto c = static_cast<unsigned char>(value[i]);
        if (!kMustEscape[c]) {
            continue;  // Copied in runs below; input is already valid UTF-8.
        }
        out.append(value.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            default:
                out.append("\\u00");
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0x0f]);
        }
    }
    out.append(value.data() + run_start, value.size() - run_start);
    out.push_back('"');
}

JsonWriter::JsonWriter() {
    out_.reserve(1024);
}

void JsonWriter::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (depth_ > 0) {
        const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
        if (has_items_ & bit) {
            out_.push_back(',');
        }
        has_items_ |= bit;
    }
}

JsonWriter& JsonWriter::begin_object() {
    separate();
    out_.push_back('{');
    ++depth_;
    has_items_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    out_.push_back('}');
    --depth_;
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    separate();
    out_.push_back('[');
    ++depth_;
    has_items_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    out_.push_back(']');
    --depth_;
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    separate();
    append_json_string(out_, name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
    separate();
    append_json_string(out_, value);
    return *this;
}

JsonWriter& JsonWriter::number(std::int64_t value) {
    separate();
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, result.ptr);
    return *this;
}

JsonWriter& JsonWriter::number(double value) {
    if (!std::isfinite(value)) {
        return null();  // JSON has no NaN or infinity; the store never holds them.
    }
    separate();
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, result.ptr);
    return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
    separate();
    out_.append(value ? "true" : "false");
    return *this;
}

JsonWriter& JsonWriter::null() {
    separate();
    out_.append("null");
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    separate();
    out_.append(json);
    return *this;
}

std::string JsonWriter::take() {
    std::string result = std::move(out_);
    out_.clear();
    depth_ = 0;
    has_items_ = 0;
    after_key_ = false;
    return result;
}

}  // namespace threadsd::api
