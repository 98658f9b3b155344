#pragma once
// A small streaming JSON writer that appends straight into a response body.
//
// Why not boost::json::serialize: responses are built from stored rows, so building a
// DOM first would only add allocations, and Boost.JSON 1.81 prints 0.7 as `7E-1`, which
// is valid but surprises every client that logs it. Parsing stays with Boost.JSON.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace threadsd::util {

/// Writes one JSON value; the caller keeps the nesting balanced.
class JsonWriter {
  public:
    /// Starts with an empty output; reserves room for a typical thread object.
    JsonWriter();

    /// Starts an object (`{`).
    JsonWriter& begin_object();
    /// Ends the innermost object (`}`).
    JsonWriter& end_object();
    /// Starts an array (`[`).
    JsonWriter& begin_array();
    /// Ends the innermost array (`]`).
    JsonWriter& end_array();
    /// Writes an object key; the next call writes its value.
    JsonWriter& key(std::string_view name);
    /// Writes a string value, escaped.
    JsonWriter& string(std::string_view value);
    /// Writes an integer value.
    JsonWriter& number(std::int64_t value);
    /// Writes a floating-point value in its shortest round-trip form (`0.7`, `256`).
    JsonWriter& number(double value);
    /// Writes `true` or `false`.
    JsonWriter& boolean(bool value);
    /// Writes `null`.
    JsonWriter& null();
    /// Writes an already serialized JSON value as it is.
    JsonWriter& raw(std::string_view json);

    /// The text written so far; valid until the next write.
    std::string_view str() const { return {out_.data(), size_}; }
    /// Moves the text out, without copying it (a response body takes it as it is); the
    /// writer is empty afterwards.
    std::string take();

  private:
    /// Emits the comma that separates this value from the previous one, if any.
    void separate();
    /// Makes room for `more` bytes after the text.
    void reserve(std::size_t more);
    /// Appends one byte.
    void put(char c);
    /// Appends bytes as they are.
    void put(std::string_view text);
    /// Appends `value` quoted and escaped.
    void put_string(std::string_view value);

    // out_ is sized ahead of the text and written through a pointer: each write is one
    // size check, where std::string's out-of-line append cost about 250 instructions per
    // string (callgrind, a list page). take() cuts it to size_ and moves it out.
    std::string out_;              ///< The JSON text in its first size_ bytes; the rest is room.
    std::size_t size_ = 0;         ///< Bytes written.
    std::uint64_t has_items_ = 0;  ///< Bit d: the container at depth d already has an item.
    unsigned depth_ = 0;           ///< Current nesting depth (at most 64).
    bool after_key_ = false;       ///< The last call wrote a key, so no comma comes next.
};

}  // namespace threadsd::util
