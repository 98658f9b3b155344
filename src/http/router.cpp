#include "threadsd/http/router.hpp"

#include <algorithm>
#include <cstdint>

namespace threadsd::http {
namespace {

namespace verb_ns = boost::beast::http;

// Splits "/a/b" into {"a", "b"}; "/a/" gives {"a", ""} so a trailing slash never matches.
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    if (path.empty() || path.front() != '/') {
        return segments;
    }
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return segments;
}

}  // namespace

Router Router::threads_api() {
    Router router;
    router.add(verb_ns::verb::post, "/api/v1/threads/web", RouteId::kCreateWebThread);
    router.add(verb_ns::verb::get, "/api/v1/threads", RouteId::kListThreads);
    router.add(verb_ns::verb::get, "/api/v1/threads/{threadId}", RouteId::kGetThread);
    router.add(verb_ns::verb::patch, "/api/v1/threads/{threadId}", RouteId::kPatchThread);
    router.add(verb_ns::verb::patch, "/api/v1/threads/{threadId}/close", RouteId::kCloseThread);
    router.add(verb_ns::verb::get, "/api/v1/threads/{threadId}/messages", RouteId::kListMessages);
    router.add(verb_ns::verb::post, "/api/v1/threads/{threadId}/messages", RouteId::kPostMessage);
    router.add(verb_ns::verb::get, "/api/v1/threads/{threadId}/stream", RouteId::kStreamThread);
    router.add(verb_ns::verb::get, "/healthz", RouteId::kHealth);
    router.add(verb_ns::verb::get, "/readyz", RouteId::kReadiness);
    router.add(verb_ns::verb::get, "/metrics", RouteId::kMetrics);
    router.add(verb_ns::verb::get, "/openapi.json", RouteId::kOpenApi);
    return router;
}

std::string_view route_name(std::optional<RouteId> route) {
    if (!route) {
        return "unmatched";
    }
    switch (*route) {
        case RouteId::kCreateWebThread:
            return "create";
        case RouteId::kListThreads:
            return "list";
        case RouteId::kGetThread:
            return "get";
        case RouteId::kPatchThread:
            return "patch";
        case RouteId::kCloseThread:
            return "close";
        case RouteId::kPostMessage:
            return "post_message";
        case RouteId::kListMessages:
            return "list_messages";
        case RouteId::kStreamThread:
            return "stream";
        case RouteId::kHealth:
            return "healthz";
        case RouteId::kReadiness:
            return "readyz";
        case RouteId::kMetrics:
            return "metrics";
        case RouteId::kOpenApi:
            return "openapi";
    }
    return "unmatched";
}

bool is_open_route(RouteId route) {
    return route == RouteId::kHealth || route == RouteId::kReadiness ||
           route == RouteId::kMetrics || route == RouteId::kOpenApi;
}

void Router::add(verb_ns::verb method, std::string_view pattern, RouteId id) {
    Entry entry{method, {}, id};
    for (const auto segment : split_path(pattern)) {
        const bool parameter =
            segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
        entry.segments.emplace_back(parameter ? "{}" : std::string(segment));
    }
    entries_.push_back(std::move(entry));
}

std::variant<RouteMatch, RouteMiss> Router::match(verb_ns::verb method,
                                                  std::string_view target) const {
    const auto path = target.substr(0, target.find('?'));
    const auto segments = split_path(path);
    // The routes whose pattern matches the path, keeping only the most literal ones.
    std::vector<std::pair<const Entry*, std::vector<std::string>>> candidates;
    std::size_t fewest_parameters = SIZE_MAX;
    for (const auto& entry : entries_) {
        if (entry.segments.size() != segments.size()) {
            continue;
        }
        std::vector<std::string> parameters;
        bool same = true;
        for (std::size_t i = 0; i < segments.size() && same; ++i) {
            if (entry.segments[i] == "{}") {
                same = !segments[i].empty();
                parameters.emplace_back(segments[i]);
            } else {
                same = entry.segments[i] == segments[i];
            }
        }
        if (!same || parameters.size() > fewest_parameters) {
            continue;
        }
        if (parameters.size() < fewest_parameters) {
            fewest_parameters = parameters.size();
            candidates.clear();
        }
        candidates.emplace_back(&entry, std::move(parameters));
    }
    RouteMiss miss;
    for (auto& [entry, parameters] : candidates) {
        if (entry->method == method) {
            return RouteMatch{entry->id, std::move(parameters)};
        }
        if (!miss.allow.empty()) {
            miss.allow += ", ";
        }
        miss.allow += std::string(verb_ns::to_string(entry->method));
    }
    miss.path_known = !candidates.empty();
    return miss;
}

}  // namespace threadsd::http
