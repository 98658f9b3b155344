#pragma once
// Strict JSON parsing of request bodies.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace threadsd::util {

/// Why a body could not be parsed; `message` is safe to send to the client.
struct JsonSyntaxError {
    std::string message;  ///< One sentence naming the problem.
};

/// Parses `text` as exactly one JSON value. Unlike boost::json::parse, an object that
/// repeats a key is an error (the contract refuses it rather than silently keeping one),
/// as is invalid UTF-8 or a lone surrogate escape. Nesting deeper than 32 is refused.
///
/// Messages name the document as `subject` ("request body is not valid JSON") and place a
/// repeated key by its path: `metadata repeats the key "a"` in an object document, or
/// `agents[1] repeats the key "name"` in an array document whose items are `items`.
std::variant<boost::json::value, JsonSyntaxError> parse_json_strict(
    std::string_view text, std::string_view subject = "request body",
    std::string_view items = "items");

}  // namespace threadsd::util
