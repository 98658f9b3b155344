#include "threadsd/http/request_handler.hpp"

#include <boost/beast/http/field.hpp>

#include "threadsd/api/openapi_document.hpp"
#include "threadsd/util/clock.hpp"
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
                               std::uint32_t default_rate_limit, auth::BearerAuthenticator* bearer)
    : router_(std::move(router)),
      store_(store),
      api_(api),
      bearer_(bearer),
      rate_limiter_(default_rate_limit) {}

std::optional<RouteId> RequestHandler::route_of(const Request& head) const {
    const auto route = router_.match(head.method(), head.target());
    if (const auto* match = std::get_if<RouteMatch>(&route)) {
        return match->id;
    }
    return std::nullopt;
}

std::variant<auth::Caller, api::ApiError> RequestHandler::authenticate(const Request& head) const {
    // An API key wins over a bearer token sent alongside it (docs/api.md, Authentication).
    if (const auto key = head.find("X-API-Key"); key != head.end()) {
        return auth::authenticate_api_key(store_, trim_header_value(key->value()));
    }
    const auto authorization = head.find(beast::http::field::authorization);
    if (authorization == head.end()) {
        return auth::unauthorized(
            bearer_ != nullptr ? "X-API-Key header or Authorization: Bearer token is required"
                               : "X-API-Key header is required");
    }
    const auto token = auth::bearer_token(trim_header_value(authorization->value()));
    if (!token) {
        return auth::unauthorized("Authorization must use the Bearer scheme");
    }
    if (bearer_ == nullptr) {
        return auth::unauthorized("bearer tokens are not accepted by this server; use X-API-Key");
    }
    return bearer_->authenticate(store_, *token, util::unix_millis_now() / 1000);
}

std::variant<Admission, Response> RequestHandler::admit(const Request& head,
                                                        std::string_view request_id,
                                                        std::optional<RouteId>& matched) {
    auto route = router_.match(head.method(), head.target());
    matched.reset();
    if (auto* miss = std::get_if<RouteMiss>(&route)) {
        if (!miss->path_known) {
            return error_response({api::ErrorCode::kNotFound, "no endpoint at this path"});
        }
        auto response = error_response(
            {api::ErrorCode::kMethodNotAllowed, "this path takes " + miss->allow + " only"});
        response.set(beast::http::field::allow, miss->allow);
        return response;
    }
    matched = std::get<RouteMatch>(route).id;
    if (is_open_route(*matched)) {
        // Health and metrics need no credentials (docs/api.md, Authentication).
        return Admission{std::get<RouteMatch>(std::move(route)), auth::Caller{}, request_id};
    }

    std::variant<auth::Caller, api::ApiError> caller = api::ApiError{};
    try {
        caller = authenticate(head);
    } catch (const std::exception& error) {
        // The store failed, not the caller: a 500 envelope, never a dropped connection.
        util::log_error("request " + std::string(request_id) +
                        ": credential lookup failed: " + error.what());
        return error_response(kInternalError);
    }
    if (auto* error = std::get_if<api::ApiError>(&caller)) {
        auto response = error_response(*error);
        // RFC 9110 section 11.6.1: a 401 names the schemes that would be accepted.
        response.set(beast::http::field::www_authenticate,
                     bearer_ != nullptr ? R"(ApiKey realm="threadsd", Bearer realm="threadsd")"
                                        : R"(ApiKey realm="threadsd")");
        return response;
    }
    const auto& who = std::get<auth::Caller>(caller);
    const auto rate = rate_limiter_.rate_for(who.rate_limit);
    if (const auto retry_after = rate_limiter_.admit(who.key_id, rate)) {
        // Named after what the caller sent, so it knows which limit it met.
        const std::string_view limited = who.credential == auth::Credential::kBearerToken
                                             ? "the bearer token's user"
                                             : "X-API-Key";
        return retry_later_response({api::ErrorCode::kTooManyRequests,
                                     std::string(limited) + " is over its rate limit of " +
                                         std::to_string(rate) + " requests per second"},
                                    *retry_after);
    }
    return Admission{std::get<RouteMatch>(std::move(route)),
                     std::get<auth::Caller>(std::move(caller)), request_id};
}

net::awaitable<Response> RequestHandler::handle(Admission admission, const Request& request) {
    try {
        co_return co_await dispatch(admission, request);
    } catch (const store::WriteQueueFull&) {
        // Expected under overload, so not logged per request: the client retries.
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the server has too many writes queued"}, 1);
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
        case RouteId::kHealth:
            co_return json_response(200, R"({"status":"ok"})");
        case RouteId::kReadiness: {
            Response ready = co_await readiness();
            co_return ready;
        }
        case RouteId::kMetrics:
            co_return metrics_response();
        case RouteId::kOpenApi:
            co_return json_response(200, std::string(api::openapi_json()));
    }
    co_return from_result(std::move(result));
}

net::awaitable<Response> RequestHandler::readiness() {
    if (listener_ != nullptr && listener_->draining()) {
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the server is shutting down"}, 1);
    }
    bool writable = true;
    try {
        // An empty group commit: it finds the file, takes the write lock and commits.
        store::WriteJob probe = [](store::WriteContext&) {};
        co_await store_.writer().write(std::move(probe));
    } catch (const std::exception&) {
        writable = false;  // the writer has logged why
    }
    if (!writable) {
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the store is not writable"}, 1);
    }
    co_return json_response(200, R"({"status":"ready"})");
}

Response RequestHandler::metrics_response() const {
    std::string out;
    metrics_.render(out);
    const auto gauge = [&out](std::string_view name, std::string_view help, std::string_view type,
                              std::uint64_t value) {
        out.append("# HELP ").append(name).append(" ").append(help).append("\n");
        out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
        out.append(name).append(" ").append(std::to_string(value)).append("\n");
    };
    gauge("threadsd_open_connections", "Connections open now.", "gauge",
          listener_ != nullptr ? listener_->open_connections() : 0);
    // Against requests_total, it shows whether clients (or the proxy) reuse connections.
    gauge("threadsd_connections_accepted_total", "Connections accepted.", "counter",
          listener_ != nullptr ? listener_->accepted_connections() : 0);
    // Nonzero means a bug of threadsd's: each is logged with its request id.
    gauge("threadsd_connection_failures_total",
          "Connections closed because serving them raised an unexpected error.", "counter",
          listener_ != nullptr ? listener_->failed_sessions() : 0);
    gauge("threadsd_threads_created_total", "Threads created (creates answered 200).", "counter",
          metrics_.count(RouteId::kCreateWebThread, 200));
    auto& writer = store_.writer();
    gauge("threadsd_store_commit_batches_total", "Group transactions committed.", "counter",
          writer.committed_batches());
    gauge("threadsd_store_queued_writes", "Writes queued or being committed now.", "gauge",
          writer.queued_writes());
    out +=
        "# HELP threadsd_store_commit_duration_seconds From BEGIN to the return of COMMIT, "
        "per group transaction.\n";
    out += "# TYPE threadsd_store_commit_duration_seconds histogram\n";
    writer.commit_latency().render(out, "threadsd_store_commit_duration_seconds", "");
    Response response{beast::http::status::ok, 11};
    response.set(beast::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = std::move(out);
    return response;
}

}  // namespace threadsd::http
