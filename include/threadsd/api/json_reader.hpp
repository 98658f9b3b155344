#pragma once
// Strict JSON parsing of request bodies.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace threadsd::api {

/// Why a body could not be parsed; `message` is safe to send to the client.
struct JsonSyntaxError {
    std::string message;  ///< One sentence naming the problem.
};

/// Parses `text` as exactly one JSON value. Unlike boost::json::parse, an object that
/// repeats a key is an error (the contract refuses it rather than silently keeping one),
/// as is invalid UTF-8 or a lone surrogate escape. Nesting deeper than 32 is refused.
std::variant<boost::json::value, JsonSyntaxError> parse_json_strict(std::string_view text);

}  // namespace threadsd::api
