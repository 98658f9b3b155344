#pragma once
// The error envelope of docs/api.md, checked on a response.

#include <string>

#include "support/http_client.hpp"

namespace threadsd::test {

/// Checks that `response` is exactly the contract's error envelope: `status`, JSON Content-Type,
/// exactly the members status, message, code and success, the given `code`, success false,
/// a non-empty message, and (when `mentions` is not empty) a message that contains `mentions`.
void check_error(const HttpResult& response, unsigned status, const std::string& code,
                 const std::string& mentions = "");

}  // namespace threadsd::test
