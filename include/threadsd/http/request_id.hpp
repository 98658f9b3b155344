#pragma once
// X-Request-Id: echo the caller's when it is sane, else mint one.

#include <string>
#include <string_view>

namespace threadsd::http {

/// True for 1 to 128 visible ASCII characters (0x21 to 0x7e), the ids we echo.
bool is_acceptable_request_id(std::string_view value);

/// The caller's id when acceptable, else a new random 32-hex-digit id.
std::string request_id_for(std::string_view incoming);

}  // namespace threadsd::http
