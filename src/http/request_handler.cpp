#include "threadsd/http/request_handler.hpp"

#include <boost/beast/http/field.hpp>

#include "threadsd/util/log.hpp"

namespace threadsd::http {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

// What a client sees when the server failed; the cause goes to the log only.
const api::ApiError kInternalError{api::ErrorCode::kInternal,
                                   "the server could not complete the request"};

Response from_result(api::ApiResult result) {
    return json_response(result.status, std::move(result.body));
}

// The text after '?' in a request target, or "" when there is none.
std::string_view query_of(std::string_view target) {
    const auto question = target.find('?');
    return question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
}

// A request "has a body" for the media-type check when it carried at least one byte.
bool has_body(const Request& request) {
    return !request.body().empty();
}

}  // namespace

RequestHandler::RequestHandler(Router router, store::Store& store, api::ThreadApi& api,
                               std::uint32_t default_rate_limit)
    : router_(std::move(router)), store_(store), api_(api), rate_limiter_(default_rate_limit) {}

std::variant<Admission, Response> RequestHandler::admit(const Request& head) {
    auto route = router_.match(head.method(), head.target());
    if (auto* miss = std::get_if<RouteMiss>(&route)) {
        if (!miss->path_known) {
            return error_response({api::ErrorCode::kNotFound, "no endpoint at this path"});
        }
        auto response = error_response(
            {api::ErrorCode::kMethodNotAllowed, "this path takes " + miss->allow + " only"});
        response.set(beast::http::field::allow, miss->allow);
        return response;
    }

    const auto key_header = head.find("X-API-Key");
    if (key_header == head.end()) {
        return error_response({api::ErrorCode::kUnauthorized, "X-API-Key header is required"});
    }
    std::variant<auth::Caller, api::ApiError> caller = api::ApiError{};
    try {
        caller = auth::authenticate_api_key(store_, trim_header_value(key_header->value()));
    } catch (const std::exception& error) {
        // The store failed, not the caller: a 500 envelope, never a dropped connection.
        util::log_error(std::string("key lookup failed: ") + error.what());
        return error_response(kInternalError);
    }
    if (auto* error = std::get_if<api::ApiError>(&caller)) {
        return error_response(*error);
    }
    const auto& who = std::get<auth::Caller>(caller);
    const auto rate = rate_limiter_.rate_for(who.rate_limit);
    if (const auto retry_after = rate_limiter_.admit(who.key_id, rate)) {
        return retry_later_response(
            {api::ErrorCode::kTooManyRequests, "X-API-Key is over its rate limit of " +
                                                   std::to_string(rate) + " requests per second"},
            *retry_after);
    }
    return Admission{std::get<RouteMatch>(std::move(route)),
                     std::get<auth::Caller>(std::move(caller))};
}

net::awaitable<Response> RequestHandler::handle(Admission admission, const Request& request) {
    bool is_overloaded = false;
    try {
        co_return co_await dispatch(admission, request);
    } catch (const store::WriteQueueFull&) {
        // Expected under overload, so not logged per request: the client retries.
        is_overloaded = true;
    } catch (const store::StoreFailure&) {
        // The writer has logged the cause once for the whole batch.
    } catch (const std::exception& error) {
        util::log_error(std::string("request failed: ") + error.what());
    } catch (...) {
        util::log_error("request failed with a non-standard exception");
    }
    if (is_overloaded) {
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the server has too many writes queued"}, 1);
    }
    co_return error_response(kInternalError);
}

net::awaitable<Response> RequestHandler::dispatch(const Admission& admission,
                                                  const Request& request) {
    if (has_body(request) && !is_json_media_type(request[beast::http::field::content_type])) {
        co_return error_response(
            {api::ErrorCode::kUnsupportedMediaType, "Content-Type must be application/json"});
    }
    const auto& caller = admission.caller;
    const auto& parameters = admission.route.parameters;
    api::ApiResult result;
    switch (admission.route.id) {
        case RouteId::kCreateWebThread:
            result = co_await api_.create_web_thread(caller, request.body());
            break;
        case RouteId::kListThreads:
            result = api_.list_threads(caller, query_of(request.target()));
            break;
        case RouteId::kGetThread:
            result = api_.get_thread(caller, parameters.at(0));
            break;
        case RouteId::kPatchThread:
            result = co_await api_.patch_thread(caller, parameters.at(0), request.body());
            break;
        case RouteId::kCloseThread:
            result = co_await api_.close_thread(caller, parameters.at(0), request.body());
            break;
    }
    co_return from_result(std::move(result));
}

}  // namespace threadsd::http
