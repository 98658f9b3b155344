#pragma once
// Builders for `agents import` files: fake organizations, agents and
// versions, as JSON that a test edits further and serializes.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

namespace threadsd::test {

/// A version element: name "v<number>", PROMPT, smsMaxTokens null, smsTemperature 0.7,
/// discardInboundSms false.
boost::json::object import_version(std::string_view id, std::int64_t number, bool published);

/// An agent element: a TEXT agent of `organization` with no description, not deleted.
boost::json::object import_agent(std::string_view id, std::string_view organization,
                                 std::string_view name, boost::json::array versions);

}  // namespace threadsd::test
