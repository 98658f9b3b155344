#pragma once
// A Handler with no store behind it, for driving the real session in unit tests and in the
// fuzzer: it routes with the real router, wants `X-API-Key: good` on the API routes, and
// answers every admitted request with a JSON echo of what it received. Header-only, so the
// fuzz targets (which link only the library) can use it too.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include <atomic>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "threadsd/http/handler.hpp"
#include "threadsd/http/message.hpp"
#include "threadsd/http/router.hpp"

namespace threadsd::test {

/// Echoes admitted requests; refuses the rest as the real handler would.
class EchoHandler : public http::Handler {
  public:
    /// When set, admit() throws: a fault of the application, which the session must contain.
    bool throw_on_admit = false;
    /// Answered requests by status, as record() saw them.
    std::map<unsigned, std::size_t> recorded;

    boost::asio::awaitable<std::variant<http::Admission, http::Response>> admit(
        const http::Request& head, std::string_view request_id,
        std::optional<http::RouteId>& route) override {
        co_return decide(head, request_id, route);
    }

    /// admit()'s decision, made at once.
    std::variant<http::Admission, http::Response> decide(const http::Request& head,
                                                         std::string_view request_id,
                                                         std::optional<http::RouteId>& route) {
        if (throw_on_admit) {
            throw std::runtime_error("admit failed on purpose");
        }
        auto match = router_.match(head.method(), head.target());
        route.reset();
        if (auto* miss = std::get_if<http::RouteMiss>(&match)) {
            if (!miss->path_known) {
                return http::error_response(
                    {api::ErrorCode::kNotFound, "no endpoint at this path"});
            }
            auto response = http::error_response({api::ErrorCode::kMethodNotAllowed, "no"});
            response.set(boost::beast::http::field::allow, miss->allow);
            return response;
        }
        route = std::get<http::RouteMatch>(match).id;
        if (!http::is_open_route(*route) && http::trim_header_value(head["X-API-Key"]) != "good") {
            return http::error_response(
                {api::ErrorCode::kUnauthorized, "X-API-Key header is required"});
        }
        return http::Admission{std::get<http::RouteMatch>(std::move(match)), auth::Caller{},
                               request_id};
    }

    std::optional<http::RouteId> route_of(const http::Request& head) const override {
        const auto match = router_.match(head.method(), head.target());
        if (const auto* found = std::get_if<http::RouteMatch>(&match)) {
            return found->id;
        }
        return std::nullopt;
    }

    boost::asio::awaitable<http::Reply> handle(http::Admission admission,
                                               const http::Request& request) override {
        co_return http::json_response(
            200, "{\"route\":\"" + std::string(http::route_name(admission.route.id)) +
                     "\",\"bodyBytes\":" + std::to_string(request.body().size()) + "}");
    }

    void record(std::optional<http::RouteId>, unsigned status, std::chrono::nanoseconds) override {
        ++recorded[status];
    }

  private:
    http::Router router_ = http::Router::threads_api();  ///< The real routes.
};

}  // namespace threadsd::test
