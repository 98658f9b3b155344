// libFuzzer target: every parser of a request body and query string, and the bearer token
// verifier, on the same bytes.
//
// Beyond "no crash, no leak, no sanitizer report", each accepted input is checked against
// what the API promises about it, so a parser that accepts too much fails here too:
// an accepted map is a JSON object of strings within the limits, and it survives being
// written out and read back unchanged (the stored form is what later GETs return).

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "threadsd/api/list_query.hpp"
#include "threadsd/api/validation.hpp"
#include "threadsd/auth/jwt.hpp"
#include "threadsd/util/json_reader.hpp"
#include "threadsd/util/uuid.hpp"

namespace {

namespace api = threadsd::api;
namespace json = boost::json;

const api::InputLimits kLimits;  // the contract's defaults

/// Stops the run with a crash report when an invariant does not hold.
void require(bool holds) {
    if (!holds) {
        std::abort();
    }
}

/// A refusal always carries a sentence for the client.
void check_error(const api::ApiError& error) {
    require(!error.message.empty());
    require(api::http_status(error.code) >= 400);
}

/// A stored map: strict JSON, an object of strings within the limits, and a fixed point of
/// parse-then-serialize (so what is stored is what is returned).
void check_stored_map(const std::string& text) {
    auto parsed = threadsd::util::parse_json_strict(text);
    require(std::holds_alternative<json::value>(parsed));
    const auto& value = std::get<json::value>(parsed);
    require(value.is_object());
    require(value.as_object().size() <= kLimits.max_map_keys);
    for (const auto& [key, item] : value.as_object()) {
        require(!key.empty() && key.size() <= kLimits.max_key_bytes);
        require(item.is_string() && item.as_string().size() <= kLimits.max_value_bytes);
    }
    require(json::serialize(value) == text);
}

void fuzz_create(std::string_view body) {
    const auto result = api::parse_create_request(body, kLimits);
    if (const auto* error = std::get_if<api::ApiError>(&result)) {
        check_error(*error);
        return;
    }
    const auto& request = std::get<api::CreateThreadRequest>(result);
    const auto canonical = threadsd::util::normalize_uuid(request.agent_id);
    require(canonical.has_value() && *canonical == request.agent_id);
    if (request.metadata_json) {
        check_stored_map(*request.metadata_json);
    }
    if (request.variables_json) {
        check_stored_map(*request.variables_json);
    }
}

void fuzz_patch(std::string_view body) {
    const auto result = api::parse_patch_request(body, kLimits);
    if (const auto* error = std::get_if<api::ApiError>(&result)) {
        check_error(*error);
        return;
    }
    const auto& request = std::get<api::PatchThreadRequest>(result);
    // Merged into an absent map and into a stored one, the result is a valid stored map.
    for (const auto* patch : {&request.metadata, &request.variables}) {
        if (!patch->has_value()) {
            continue;
        }
        for (const std::optional<std::string>& stored :
             {std::optional<std::string>(), std::optional<std::string>(R"({"a":"1","b":"2"})")}) {
            const auto merged = api::merge_string_map(stored, **patch, "metadata", kLimits);
            if (const auto* error = std::get_if<api::ApiError>(&merged)) {
                check_error(*error);
            } else if (const auto& text = std::get<std::optional<std::string>>(merged)) {
                check_stored_map(*text);
            }
        }
    }
}

void fuzz_close(std::string_view body) {
    const auto result = api::parse_close_request(body);
    if (const auto* error = std::get_if<api::ApiError>(&result)) {
        check_error(*error);
        return;
    }
    const auto& reason = std::get<std::string>(result);
    require(!reason.empty() && reason.size() <= 64 * 4);
}

void fuzz_list_query(std::string_view query) {
    const auto result = api::parse_list_query(query);
    if (const auto* error = std::get_if<api::ApiError>(&result)) {
        check_error(*error);
        return;
    }
    const auto& list = std::get<api::ListQuery>(result);
    require(list.limit >= 1 && list.limit <= api::kMaxPageSize);
}

}  // namespace

/// A key no input can have signed for: every token must be refused, none may crash.
void fuzz_bearer_token(std::string_view token) {
    static const threadsd::auth::PublicKey key =
        threadsd::auth::adopt_public_key(EVP_RSA_gen(2048));
    const threadsd::auth::TokenPolicy policy{"https://clerk.example", {}, std::chrono::seconds(5)};
    const auto result = threadsd::auth::verify_token(
        token, [](std::string_view) { return key; }, policy, 1'800'000'000);
    require(std::holds_alternative<threadsd::auth::TokenFailure>(result));
    (void)threadsd::auth::decode_base64url(token);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    fuzz_create(bytes);
    fuzz_patch(bytes);
    fuzz_close(bytes);
    fuzz_list_query(bytes);
    fuzz_bearer_token(bytes);
    return 0;
}
