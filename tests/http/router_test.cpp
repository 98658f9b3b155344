#include "threadsd/http/router.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace {

using boost::beast::http::verb;
using threadsd::http::RouteId;
using threadsd::http::RouteMatch;
using threadsd::http::RouteMiss;
using threadsd::http::Router;

constexpr const char* kCreate = "/api/v1/threads/web";

RouteMatch expect_match(const Router& router, verb method, std::string_view target) {
    auto result = router.match(method, target);
    const auto* match = std::get_if<RouteMatch>(&result);
    BOOST_TEST_REQUIRE(match != nullptr, "no match for " << target);
    return *match;
}

RouteMiss expect_miss(const Router& router, verb method, std::string_view target) {
    auto result = router.match(method, target);
    const auto* miss = std::get_if<RouteMiss>(&result);
    BOOST_TEST_REQUIRE(miss != nullptr, "unexpected match for " << target);
    return *miss;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_router)

BOOST_AUTO_TEST_CASE(post_create_matches) {
    const Router router = Router::threads_api();
    const RouteMatch match = expect_match(router, verb::post, kCreate);
    BOOST_TEST((match.id == RouteId::kCreateWebThread));
    BOOST_TEST(match.parameters.empty());
}

BOOST_AUTO_TEST_CASE(other_methods_on_known_path_are_405_with_allow) {
    const Router router = Router::threads_api();
    for (const verb method : {verb::get, verb::put, verb::patch, verb::delete_, verb::options}) {
        const RouteMiss miss = expect_miss(router, method, kCreate);
        BOOST_TEST(miss.path_known);
        BOOST_TEST(miss.allow == "POST");
    }
}

BOOST_AUTO_TEST_CASE(head_is_a_method_like_any_other) {
    const Router router = Router::threads_api();
    const RouteMiss miss = expect_miss(router, verb::head, kCreate);
    BOOST_TEST(miss.path_known);
    BOOST_TEST(miss.allow == "POST");
}

BOOST_AUTO_TEST_CASE(unknown_paths_are_404) {
    const Router router = Router::threads_api();
    for (const char* target :
         {"/", "", "/api", "/api/v1/thread", "/api/v1/threads/", "/API/v1/threads/web",
          "/api/v1/threads/web/extra", "api/v1/threads/web", "/api/v1/threads//web",
          "//api/v1/threads/web", "/api/v2/threads/web", "/api/v1/threads/x/close/",
          "/api/v1/threads/x/closed", "/healthz-nope"}) {
        const RouteMiss miss = expect_miss(router, verb::post, target);
        BOOST_TEST(!miss.path_known, target);
        BOOST_TEST(miss.allow.empty(), target);
    }
}

BOOST_AUTO_TEST_CASE(trailing_slash_is_another_path) {
    const Router router = Router::threads_api();
    const RouteMiss miss = expect_miss(router, verb::post, "/api/v1/threads/web/");
    BOOST_TEST(!miss.path_known);
    const RouteMiss get_miss = expect_miss(router, verb::get, "/api/v1/threads/web/");
    BOOST_TEST(!get_miss.path_known);
}

BOOST_AUTO_TEST_CASE(query_string_is_ignored) {
    const Router router = Router::threads_api();
    BOOST_TEST((expect_match(router, verb::post, "/api/v1/threads/web?x=1").id ==
                RouteId::kCreateWebThread));
    BOOST_TEST(
        (expect_match(router, verb::post, "/api/v1/threads/web?").id == RouteId::kCreateWebThread));
    BOOST_TEST((expect_match(router, verb::post, "/api/v1/threads/web?a=/b/c&d").id ==
                RouteId::kCreateWebThread));
    // The query does not rescue a wrong path or method.
    BOOST_TEST(!expect_miss(router, verb::post, "/api/v1/threads/web/?x=1").path_known);
    BOOST_TEST(expect_miss(router, verb::get, "/api/v1/threads/web?x=1").path_known);
}

BOOST_AUTO_TEST_CASE(parameter_segment_is_captured) {
    Router router;
    router.add(verb::get, "/api/v1/things/{id}", RouteId::kCreateWebThread);
    router.add(verb::patch, "/api/v1/things/{id}/close", RouteId::kCreateWebThread);

    const RouteMatch match = expect_match(router, verb::get, "/api/v1/things/abc-123");
    BOOST_TEST_REQUIRE(match.parameters.size() == 1u);
    BOOST_TEST(match.parameters[0] == "abc-123");

    // Undecoded, and the query is not part of it.
    const RouteMatch encoded = expect_match(router, verb::get, "/api/v1/things/a%20b?x=y");
    BOOST_TEST_REQUIRE(encoded.parameters.size() == 1u);
    BOOST_TEST(encoded.parameters[0] == "a%20b");

    const RouteMatch nested = expect_match(router, verb::patch, "/api/v1/things/xyz/close");
    BOOST_TEST_REQUIRE(nested.parameters.size() == 1u);
    BOOST_TEST(nested.parameters[0] == "xyz");
}

BOOST_AUTO_TEST_CASE(parameter_refuses_empty_segment_and_extra_segments) {
    Router router;
    router.add(verb::get, "/api/v1/things/{id}", RouteId::kCreateWebThread);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/things/").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/things").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/things/a/b").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/things/a/").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/things/?x=1").path_known);
}

BOOST_AUTO_TEST_CASE(allow_lists_every_method_of_a_path) {
    Router router;
    router.add(verb::get, "/things/{id}", RouteId::kCreateWebThread);
    router.add(verb::patch, "/things/{id}", RouteId::kCreateWebThread);
    router.add(verb::post, "/things", RouteId::kCreateWebThread);
    const RouteMiss miss = expect_miss(router, verb::delete_, "/things/7");
    BOOST_TEST(miss.path_known);
    BOOST_TEST(miss.allow == "GET, PATCH");
    const RouteMiss head = expect_miss(router, verb::head, "/things/7");
    BOOST_TEST(head.allow == "GET, PATCH");
    const RouteMiss list = expect_miss(router, verb::get, "/things");
    BOOST_TEST(list.allow == "POST");
    // A parameter matches one segment only, so "/things/7/x" is unknown.
    BOOST_TEST(!expect_miss(router, verb::get, "/things/7/x").path_known);
}

// --- The thread resource routes (issue 3) ------------------------------------------------

constexpr const char* kThreadId = "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f";

BOOST_AUTO_TEST_CASE(get_list_matches_without_parameters) {
    const Router router = Router::threads_api();
    const RouteMatch match = expect_match(router, verb::get, "/api/v1/threads");
    BOOST_TEST((match.id == RouteId::kListThreads));
    BOOST_TEST(match.parameters.empty());
    const RouteMatch with_query =
        expect_match(router, verb::get, "/api/v1/threads?limit=5&cursor=x/y");
    BOOST_TEST((with_query.id == RouteId::kListThreads));
    BOOST_TEST(with_query.parameters.empty());
}

BOOST_AUTO_TEST_CASE(list_path_allows_only_get) {
    const Router router = Router::threads_api();
    for (const verb method :
         {verb::post, verb::put, verb::patch, verb::delete_, verb::head, verb::options}) {
        const RouteMiss miss = expect_miss(router, method, "/api/v1/threads");
        BOOST_TEST(miss.path_known);
        BOOST_TEST(miss.allow == "GET");
    }
}

BOOST_AUTO_TEST_CASE(get_and_patch_of_one_thread_capture_its_id) {
    const Router router = Router::threads_api();
    const std::string path = std::string("/api/v1/threads/") + kThreadId;
    const RouteMatch get = expect_match(router, verb::get, path);
    BOOST_TEST((get.id == RouteId::kGetThread));
    BOOST_TEST_REQUIRE(get.parameters.size() == 1u);
    BOOST_TEST(get.parameters[0] == kThreadId);
    const RouteMatch patch = expect_match(router, verb::patch, path + "?ignored=1");
    BOOST_TEST((patch.id == RouteId::kPatchThread));
    BOOST_TEST_REQUIRE(patch.parameters.size() == 1u);
    BOOST_TEST(patch.parameters[0] == kThreadId);
    // The router does not judge the id: a non-UUID is the handler's 400, not a 404.
    const RouteMatch not_uuid = expect_match(router, verb::get, "/api/v1/threads/not-a-uuid");
    BOOST_TEST((not_uuid.id == RouteId::kGetThread));
    BOOST_TEST(not_uuid.parameters[0] == "not-a-uuid");
}

BOOST_AUTO_TEST_CASE(one_thread_path_allows_get_and_patch) {
    const Router router = Router::threads_api();
    const std::string path = std::string("/api/v1/threads/") + kThreadId;
    for (const verb method : {verb::post, verb::put, verb::delete_, verb::head, verb::options}) {
        const RouteMiss miss = expect_miss(router, method, path);
        BOOST_TEST(miss.path_known);
        BOOST_TEST(miss.allow == "GET, PATCH");
    }
}

BOOST_AUTO_TEST_CASE(close_matches_with_the_thread_id) {
    const Router router = Router::threads_api();
    const RouteMatch match = expect_match(router, verb::patch, "/api/v1/threads/x/close");
    BOOST_TEST((match.id == RouteId::kCloseThread));
    BOOST_TEST_REQUIRE(match.parameters.size() == 1u);
    BOOST_TEST(match.parameters[0] == "x");
    const RouteMatch full =
        expect_match(router, verb::patch, std::string("/api/v1/threads/") + kThreadId + "/close");
    BOOST_TEST((full.id == RouteId::kCloseThread));
    BOOST_TEST(full.parameters[0] == kThreadId);
    for (const verb method : {verb::get, verb::post, verb::put, verb::delete_, verb::head}) {
        const RouteMiss miss = expect_miss(router, method, "/api/v1/threads/x/close");
        BOOST_TEST(miss.path_known);
        BOOST_TEST(miss.allow == "PATCH");
    }
    // "close" is a literal segment: its spelling is exact.
    BOOST_TEST(!expect_miss(router, verb::patch, "/api/v1/threads/x/Close").path_known);
    BOOST_TEST(!expect_miss(router, verb::patch, "/api/v1/threads//close").path_known);
    BOOST_TEST(!expect_miss(router, verb::patch, "/api/v1/threads/x/close/").path_known);
}

BOOST_AUTO_TEST_CASE(literal_web_segment_beats_the_thread_id_parameter) {
    const Router router = Router::threads_api();
    // GET /api/v1/threads/web is not a lookup of a thread called "web": the path is the
    // create path, so any other method than POST is a 405 with Allow: POST.
    for (const verb method : {verb::get, verb::patch, verb::delete_, verb::head}) {
        const RouteMiss miss = expect_miss(router, method, kCreate);
        BOOST_TEST(miss.path_known);
        BOOST_TEST(miss.allow == "POST");
    }
    BOOST_TEST((expect_match(router, verb::post, kCreate).id == RouteId::kCreateWebThread));
    // A near miss of the literal is a thread id.
    const RouteMatch webx = expect_match(router, verb::get, "/api/v1/threads/webx");
    BOOST_TEST((webx.id == RouteId::kGetThread));
    BOOST_TEST(webx.parameters[0] == "webx");
    BOOST_TEST((expect_match(router, verb::get, "/api/v1/threads/Web").id == RouteId::kGetThread));
    // Only the create path is literal: "web" still works as the id segment of close.
    const RouteMatch close = expect_match(router, verb::patch, "/api/v1/threads/web/close");
    BOOST_TEST((close.id == RouteId::kCloseThread));
    BOOST_TEST(close.parameters[0] == "web");
}

BOOST_AUTO_TEST_CASE(post_on_the_list_path_is_405_allow_get) {
    const Router router = Router::threads_api();
    const RouteMiss miss = expect_miss(router, verb::post, "/api/v1/threads");
    BOOST_TEST(miss.path_known);
    BOOST_TEST(miss.allow == "GET");
    // The trailing-slash spelling is another, unknown path.
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/threads/").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/threads/?limit=5").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/threads/x/").path_known);
    BOOST_TEST(!expect_miss(router, verb::get, "/api/v1/threads/x/y").path_known);
    BOOST_TEST(!expect_miss(router, verb::patch, "/api/v1/threads/x/close/y").path_known);
}

BOOST_AUTO_TEST_CASE(the_operational_routes_need_no_credentials) {
    const Router router = Router::threads_api();
    for (const auto& [path, id, name] :
         {std::tuple{"/healthz", RouteId::kHealth, "healthz"},
          std::tuple{"/readyz", RouteId::kReadiness, "readyz"},
          std::tuple{"/metrics", RouteId::kMetrics, "metrics"},
          std::tuple{"/openapi.json", RouteId::kOpenApi, "openapi"}}) {
        const RouteMatch match = expect_match(router, verb::get, path);
        BOOST_TEST((match.id == id));
        BOOST_TEST(threadsd::http::is_open_route(id));
        BOOST_TEST(threadsd::http::route_name(id) == name);
    }
    BOOST_TEST(!threadsd::http::is_open_route(RouteId::kListThreads));
    BOOST_TEST(expect_miss(router, verb::post, "/openapi.json").allow == "GET");
}

BOOST_AUTO_TEST_SUITE_END()
