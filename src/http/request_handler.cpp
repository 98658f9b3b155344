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

Reply from_result(api::ApiResult result) {
    if (!result.events) {
        return json_response(result.status, std::move(result.body));
    }
    // An event stream: the head, the events already due as its first bytes, the rest later.
    Response head{beast::http::status::ok, 11};
    head.set(beast::http::field::content_type, "text/event-stream");
    head.set(beast::http::field::cache_control, "no-cache");
    head.body() = std::move(result.body);
    return Reply(std::move(head), std::move(result.events));
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
                               api::ThreadApi& api, api::MessageApi& messages, store::Store& store,
                               std::uint32_t default_rate_limit)
    : router_(std::move(router)),
      authenticator_(authenticator),
      api_(api),
      messages_(messages),
      rate_limiter_(default_rate_limit),
      operations_(store, metrics_, &messages) {
    if (store.shares_rate_limits()) {
        shared_rate_limiter_.emplace(store);
    }
}

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

    for (int attempt = 1;; ++attempt) {
        auto checked = co_await check_credentials(head, request_id);
        if (auto* refused = std::get_if<Response>(&checked)) {
            co_return std::move(*refused);
        }
        const auto& who = std::get<auth::Caller>(checked);
        const auto rate = rate_limiter_.rate_for(who.rate_limit);
        std::optional<std::uint32_t> retry_after;
        if (rate != 0 && shared_rate_limiter_) {
            auto charged = co_await charge_shared(who, rate, request_id);
            if (auto* failed = std::get_if<Response>(&charged)) {
                co_return std::move(*failed);
            }
            retry_after = std::get<std::optional<std::uint32_t>>(charged);
        } else {
            retry_after = rate_limiter_.admit(who.key_id, rate);
        }
        if (!retry_after) {
            co_return Admission{std::get<RouteMatch>(std::move(route)),
                                std::get<auth::Caller>(std::move(checked)), request_id};
        }
        // A refusal decided on the caller as the catalog cache has it: given only while
        // the catalog has not moved, else the credentials are checked again (a revoked
        // key gets its 401, not a 429).
        bool moved = false;
        try {
            co_await authenticator_.confirm(who);
        } catch (const store::CatalogChanged&) {
            moved = true;
        } catch (const std::exception&) {
            // The store cannot say now; the rate limit is answered as decided.
        }
        if (!moved || attempt == kCatalogAttempts) {
            // Named after what the caller sent, so it knows which limit it met.
            const std::string_view limited = who.credential == auth::Credential::kBearerToken
                                                 ? "the bearer token's user"
                                                 : "X-API-Key";
            co_return retry_later_response({api::ErrorCode::kTooManyRequests,
                                            std::string(limited) + " is over its rate limit of " +
                                                std::to_string(rate) + " requests per second"},
                                           *retry_after);
        }
    }
}

net::awaitable<std::variant<std::optional<std::uint32_t>, Response>> RequestHandler::charge_shared(
    const auth::Caller& who, std::uint32_t rate, std::string_view request_id) {
    try {
        co_return co_await shared_rate_limiter_->admit(who.key_id, rate);
    } catch (const store::StoreUnavailable&) {
        // Not admitted on trust: replicas that cannot count together would let the key
        // through at their number times its rate.
    } catch (const std::exception& error) {
        util::log_error("request " + std::string(request_id) +
                        ": leasing a rate budget failed: " + error.what());
        co_return error_response(kInternalError);
    }
    co_return retry_later_response(kStoreUnavailable, 1);
}

net::awaitable<std::variant<auth::Caller, Response>> RequestHandler::check_credentials(
    const Request& head, std::string_view request_id) {
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
    co_return std::get<auth::Caller>(std::move(caller));
}

net::awaitable<Reply> RequestHandler::handle(Admission admission, const Request& request) {
    for (int attempt = 1;; ++attempt) {
        try {
            Reply reply = co_await dispatch(admission, request);
            const Response& response = reply.response;
            // A refusal (4xx) may have been decided from the catalog cache alone, without a
            // statement that checked the generation: given only while it is current.
            if (response.result_int() >= 400 && response.result_int() < 500 &&
                !is_open_route(admission.route.id)) {
                co_await authenticator_.confirm(admission.caller);
            }
            co_return reply;
        } catch (const store::CatalogChanged&) {
            // Nothing was changed: check the credentials again, below, and retry.
            if (attempt == kCatalogAttempts) {
                util::log_error("request " + std::string(admission.request_id) +
                                ": the catalog kept changing during it");
                co_return retry_later_response(
                    {api::ErrorCode::kServiceUnavailable, "the catalog is changing; retry shortly"},
                    1);
            }
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
            co_return error_response(kInternalError);
        } catch (...) {
            util::log_error("request " + std::string(admission.request_id) +
                            " failed with a non-standard exception");
            co_return error_response(kInternalError);
        }
        auto checked = co_await check_credentials(request, admission.request_id);
        if (auto* refused = std::get_if<Response>(&checked)) {
            co_return std::move(*refused);
        }
        admission.caller = std::get<auth::Caller>(std::move(checked));
    }
}

net::awaitable<Reply> RequestHandler::dispatch(const Admission& admission, const Request& request) {
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
        case RouteId::kPostMessage:
            result = co_await messages_.post_message(caller, parameters.at(0), request.body());
            break;
        case RouteId::kListMessages:
            result = co_await messages_.list_messages(caller, parameters.at(0),
                                                      query_of(request.target()));
            break;
        case RouteId::kStreamThread: {
            std::optional<std::string_view> last_event_id;
            if (const auto found = request.find("Last-Event-ID"); found != request.end()) {
                last_event_id = trim_header_value(found->value());
            }
            result = co_await messages_.stream_thread(caller, parameters.at(0), last_event_id);
            break;
        }
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
