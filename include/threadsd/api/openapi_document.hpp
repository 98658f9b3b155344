#pragma once
// The API's OpenAPI description (docs/openapi.yaml), compiled into the binary as JSON by
// cmake/yaml_to_json.cpp, so `GET /openapi.json` needs no file beside the binary.

#include <string_view>

namespace threadsd::api {

/// docs/openapi.yaml as compact JSON.
std::string_view openapi_json();

}  // namespace threadsd::api
