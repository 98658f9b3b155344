#pragma once
// The application as a session sees it: decide about a head, answer a whole request,
// count what was answered. The session knows no routes; a handler knows no sockets.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <variant>

#include "threadsd/auth/api_key.hpp"
#include "threadsd/http/message.hpp"
#include "threadsd/http/router.hpp"

namespace threadsd::http {

/// A request that passed the checks of its head, waiting for its body.
struct Admission {
    RouteMatch route;             ///< The endpoint and its path parameters.
    auth::Caller caller;          ///< Who is calling.
    std::string_view request_id;  ///< The request's X-Request-Id, for log lines.
};

/// What a session asks of the application for each request.
class Handler {
  public:
    virtual ~Handler() = default;

    /// Checks the head (route, credentials, rate): either the request may go on and its
    /// body be read, or here is the final response. `route` gets the matched route, for
    /// metrics and the access log; `request_id` must outlive the request.
    virtual boost::asio::awaitable<std::variant<Admission, Response>> admit(
        const Request& head, std::string_view request_id, std::optional<RouteId>& route) = 0;

    /// The route `head` matches, without checking anything else: for the metrics and the
    /// access log of a request refused before admit() (during shutdown, say).
    virtual std::optional<RouteId> route_of(const Request& head) const = 0;

    /// The response to an admitted request whose body has been read, or the start of an
    /// event stream. Never throws: unexpected failures become a 500 envelope.
    virtual boost::asio::awaitable<Reply> handle(Admission admission, const Request& request) = 0;

    /// Counts an answered request (the session calls it after writing the response).
    virtual void record(std::optional<RouteId> route, unsigned status,
                        std::chrono::nanoseconds duration) = 0;
};

}  // namespace threadsd::http
