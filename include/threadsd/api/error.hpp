#pragma once
// The contract's error vocabulary and its JSON envelope (docs/api.md, Errors).

#include <exception>
#include <string>
#include <string_view>

namespace threadsd::api {

/// Every error threadsd answers with; each maps to one HTTP status and one `code` string.
enum class ErrorCode {
    kBadRequest,
    kUnauthorized,
    kNotFound,
    kMethodNotAllowed,
    kConflict,
    kRequestTimeout,
    kPayloadTooLarge,
    kUnsupportedMediaType,
    kHeaderFieldsTooLarge,
    kTooManyRequests,
    kInternal,
    kServiceUnavailable,
};

/// HTTP status of an error code.
unsigned http_status(ErrorCode code);

/// The envelope's `code` string, e.g. `BAD_REQUEST`.
std::string_view code_name(ErrorCode code);

/// An error to send: the code and one human sentence that names the offending field.
struct ApiError {
    ErrorCode code;       ///< What kind of failure.
    std::string message;  ///< Safe to show a client: never SQL, paths or exception text.
};

/// The envelope `{"status":..,"message":..,"code":..,"success":false}` for `error`.
std::string error_body(const ApiError& error);

/// Thrown from inside a write job to answer with `error` (the job's changes are undone).
struct ApiFailure : std::exception {
    /// Carries `error` to the coroutine that awaits the job.
    explicit ApiFailure(ApiError failure) : error(std::move(failure)) {}
    /// A fixed text: the message for clients is in `error`.
    const char* what() const noexcept override { return "API failure"; }
    ApiError error;  ///< What to answer.
};

}  // namespace threadsd::api
