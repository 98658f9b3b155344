#include "threadsd/api/error.hpp"

#include "threadsd/util/json_writer.hpp"

namespace threadsd::api {

unsigned http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return 400;
        case ErrorCode::kUnauthorized:
            return 401;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kMethodNotAllowed:
            return 405;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kRequestTimeout:
            return 408;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kUnsupportedMediaType:
            return 415;
        case ErrorCode::kHeaderFieldsTooLarge:
            return 431;
        case ErrorCode::kTooManyRequests:
            return 429;
        case ErrorCode::kInternal:
            return 500;
        case ErrorCode::kServiceUnavailable:
            return 503;
    }
    return 500;
}

std::string_view code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return "BAD_REQUEST";
        case ErrorCode::kUnauthorized:
            return "UNAUTHORIZED";
        case ErrorCode::kNotFound:
            return "NOT_FOUND";
        case ErrorCode::kMethodNotAllowed:
            return "METHOD_NOT_ALLOWED";
        case ErrorCode::kConflict:
            return "CONFLICT";
        case ErrorCode::kRequestTimeout:
            return "REQUEST_TIMEOUT";
        case ErrorCode::kPayloadTooLarge:
            return "PAYLOAD_TOO_LARGE";
        case ErrorCode::kUnsupportedMediaType:
            return "UNSUPPORTED_MEDIA_TYPE";
        case ErrorCode::kHeaderFieldsTooLarge:
            return "REQUEST_HEADER_FIELDS_TOO_LARGE";
        case ErrorCode::kTooManyRequests:
            return "TOO_MANY_REQUESTS";
        case ErrorCode::kInternal:
            return "INTERNAL_SERVER_ERROR";
        case ErrorCode::kServiceUnavailable:
            return "SERVICE_UNAVAILABLE";
    }
    return "INTERNAL_SERVER_ERROR";
}

std::string error_body(const ApiError& error) {
    util::JsonWriter out;
    out.begin_object();
    out.key("status").number(static_cast<std::int64_t>(http_status(error.code)));
    out.key("message").string(error.message);
    out.key("code").string(code_name(error.code));
    out.key("success").boolean(false);
    out.end_object();
    return out.take();
}

}  // namespace threadsd::api
