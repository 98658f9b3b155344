#pragma once
// Maps a method and a path to a route. Knows nothing of sockets, bodies or credentials.

// Boost 1.81's core/detail/string_view.hpp uses std::ostream without including it.
#include <ostream>

#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace threadsd::http {

/// Every endpoint threadsd serves.
enum class RouteId {
    kCreateWebThread,  ///< POST /api/v1/threads/web
    kListThreads,      ///< GET /api/v1/threads
    kGetThread,        ///< GET /api/v1/threads/{threadId}
    kPatchThread,      ///< PATCH /api/v1/threads/{threadId}
    kCloseThread,      ///< PATCH /api/v1/threads/{threadId}/close
    kPostMessage,      ///< POST /api/v1/threads/{threadId}/messages
    kListMessages,     ///< GET /api/v1/threads/{threadId}/messages
    kStreamThread,     ///< GET /api/v1/threads/{threadId}/stream
    kHealth,           ///< GET /healthz
    kReadiness,        ///< GET /readyz
    kMetrics,          ///< GET /metrics
    kOpenApi,          ///< GET /openapi.json
};

/// Number of RouteId values.
inline constexpr std::size_t kRouteCount = 12;

/// The route's name in metrics and the access log, e.g. "create"; "unmatched" for none.
std::string_view route_name(std::optional<RouteId> route);

/// True for the routes that need no credentials (health, metrics and the API description).
bool is_open_route(RouteId route);

/// A matched route and the values of its `{param}` segments, in order.
struct RouteMatch {
    RouteId id;                           ///< Which endpoint.
    std::vector<std::string> parameters;  ///< Path parameters, undecoded.
};

/// No route for this request: either an unknown path (404) or a known path with another
/// method (405, with the methods that would work).
struct RouteMiss {
    bool path_known = false;  ///< True means 405.
    std::string allow;        ///< Value for the Allow header, e.g. "GET, PATCH".
};

/// An exact-path router: a trailing slash is another path, `{name}` matches one segment.
/// A literal segment beats a parameter: /api/v1/threads/web is the create path, so a GET
/// there is a 405, not a lookup of a thread called "web".
class Router {
  public:
    /// The routes of the thread API.
    static Router threads_api();

    /// Adds `method pattern -> id`.
    void add(boost::beast::http::verb method, std::string_view pattern, RouteId id);

    /// Looks up `method` on `target`; a query string is ignored here.
    std::variant<RouteMatch, RouteMiss> match(boost::beast::http::verb method,
                                              std::string_view target) const;

  private:
    /// One registered route.
    struct Entry {
        boost::beast::http::verb method;    ///< Its method.
        std::vector<std::string> segments;  ///< Path segments; "{}" for a parameter.
        RouteId id;                         ///< What it is.
    };
    std::vector<Entry> entries_;  ///< In registration order.
};

}  // namespace threadsd::http
