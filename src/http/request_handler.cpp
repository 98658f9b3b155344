#include "threadsd/http/request_handler.hpp"

#include <boost/beast/http/field.hpp>

#include "threadsd/util/clock.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::http {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

// What a client sees when the server failed; the cause goes to the log only.
const api::ApiError kInternalError{api::ErrorCode::kInternal,
                                   "the server could not complete the request"};

// The store cannot be reached now (a database server down or restarting); nothing was done.
const api::ApiError kStoreUnavailable{api::ErrorCode::kServiceUnavailable,
                                      "the store is unavailable; retry shortly"};

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

RequestHandler::RequestHandler(Router router, auth::Authenticator& authenticator,
                               api::ThreadApi& api, store::Store& store,
                               std::uint32_t default_rate_limit)
    : router_(std::move(router)),
      authenticator_(authenticator),
      api_(api),
      rate_limiter_(default_rate_limit),
      operations_(store, metrics_) {}

std::optional<RouteId> RequestHandler::route_of(const Request& head) const {
    const auto route = router_.match(head.method(), head.target());
    if (const auto* match = std::get_if<RouteMatch>(&route)) {
        return match->id;
    }
    return std::nullopt;
}

net::awaitable<std::variant<Admission, Response>> RequestHandler::admit(
    const Request& head, std::string_view request_id, std::optional<RouteId>& matched) {
    auto route = router_.match(head.method(), head.target());
    matched.reset();
    if (auto* miss = std::get_if<RouteMiss>(&route)) {
        if (!miss->path_known) {
            co_return error_response({api::ErrorCode::kNotFound, "no endpoint at this path"});
        }
        auto response = error_response(
            {api::ErrorCode::kMethodNotAllowed, "this path takes " + miss->allow + " only"});
        response.set(beast::http::field::allow, miss->allow);
        co_return response;
    }
    matched = std::get<RouteMatch>(route).id;
    if (is_open_route(*matched)) {
        // Health and metrics need no credentials (docs/api.md, Authentication).
        co_return Admission{std::get<RouteMatch>(std::move(route)), auth::Caller{}, request_id};
    }

    // Credentials, in this coroutine (not a helper one): it runs for every request.
    std::optional<std::string_view> api_key;
    if (const auto key = head.find("X-API-Key"); key != head.end()) {
        api_key = trim_header_value(key->value());
    }
    std::optional<std::string_view> authorization;
    if (const auto found = head.find(beast::http::field::authorization); found != head.end()) {
        authorization = trim_header_value(found->value());
    }
    std::variant<auth::Caller, auth::Refusal> caller = auth::Refusal{};
    try {
        caller = co_await authenticator_.authenticate(api_key, authorization,
                                                      util::unix_millis_now() / 1000);
    } catch (const store::StoreUnavailable&) {
        co_return retry_later_response(kStoreUnavailable, 1);
    } catch (const std::exception& error) {
        // The store failed, not the caller: a 500 envelope, never a dropped connection.
        util::log_error("request " + std::string(request_id) +
                        ": credential lookup failed: " + error.what());
        co_return error_response(kInternalError);
    }
    if (auto* refusal = std::get_if<auth::Refusal>(&caller)) {
        auto response =
            error_response({api::ErrorCode::kUnauthorized, std::move(refusal->message)});
        response.set(beast::http::field::www_authenticate, authenticator_.challenge());
        co_return response;
    }
    const auto& who = std::get<auth::Caller>(caller);
    const auto rate = rate_limiter_.rate_for(who.rate_limit);
    if (const auto retry_after = rate_limiter_.admit(who.key_id, rate)) {
        // Named after what the caller sent, so it knows which limit it met.
        const std::string_view limited = who.credential == auth::Credential::kBearerToken
                                             ? "the bearer token's user"
                                             : "X-API-Key";
        co_return retry_later_response({api::ErrorCode::kTooManyRequests,
                                        std::string(limited) + " is over its rate limit of " +
                                            std::to_string(rate) + " requests per second"},
                                       *retry_after);
    }
    co_return Admission{std::get<RouteMatch>(std::move(route)),
                        std::get<auth::Caller>(std::move(caller)), request_id};
}

net::awaitable<Response> RequestHandler::handle(Admission admission, const Request& request) {
    try {
        co_return co_await dispatch(admission, request);
    } catch (const store::WriteQueueFull&) {
        // Expected under overload, so not logged per request: the client retries.
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the server has too many writes queued"}, 1);
    } catch (const store::StoreUnavailable&) {
        // Logged by the store when it lost the connection, not per request.
        co_return retry_later_response(kStoreUnavailable, 1);
    } catch (const std::exception& error) {
        // Store failures included: the writer logs their cause (at most once a second),
        // and this line ties the 500 to its request.
        util::log_error("request " + std::string(admission.request_id) +
                        " failed: " + error.what());
    } catch (...) {
        util::log_error("request " + std::string(admission.request_id) +
                        " failed with a non-standard exception");
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
            result = co_await api_.list_threads(caller, query_of(request.target()));
            break;
        case RouteId::kGetThread:
            result = co_await api_.get_thread(caller, parameters.at(0));
            break;
        case RouteId::kPatchThread:
            result = co_await api_.patch_thread(caller, parameters.at(0), request.body());
            break;
        case RouteId::kCloseThread:
            result = co_await api_.close_thread(caller, parameters.at(0), request.body());
            break;
        case RouteId::kHealth:
            co_return operations_.health();
        case RouteId::kReadiness: {
            Response ready = co_await operations_.readiness();
            co_return ready;
        }
        case RouteId::kMetrics:
            co_return operations_.metrics();
        case RouteId::kOpenApi:
            co_return operations_.openapi();
    }
    co_return from_result(std::move(result));
}

}  // namespace threadsd::http
