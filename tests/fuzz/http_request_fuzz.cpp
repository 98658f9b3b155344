// libFuzzer target: bytes from a client, read the way a session reads them.
//
// Each request in the bytes (pipelined requests included) gets a fresh Beast parser with
// the server's header limit, then the body limit once the head is routed; its head goes
// through the router, the header checks and the list query parser, and a response head is
// serialized with the request id the server would echo. Besides sanitizer reports, the
// run stops when the response head could be split by the client (a CR or LF from the
// request in it) or an echoed request id breaks its rules.

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "threadsd/api/error.hpp"
#include "threadsd/api/list_query.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/http/message.hpp"
#include "threadsd/http/request_id.hpp"
#include "threadsd/http/response_head.hpp"
#include "threadsd/http/router.hpp"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace http = threadsd::http;
namespace api = threadsd::api;
using Parser = bhttp::request_parser<bhttp::string_body>;

/// Stops the run with a crash report when an invariant does not hold.
void require(bool holds) {
    if (!holds) {
        std::abort();
    }
}

/// What the server does with a parsed head, minus the store: route, check, answer.
void handle_head(const http::Router& router, const http::Request& head) {
    const auto route = router.match(head.method(), head.target());
    const auto request_id = http::request_id_for(head["X-Request-Id"]);
    require(http::is_acceptable_request_id(request_id));
    (void)http::is_json_media_type(http::trim_header_value(head[bhttp::field::content_type]));

    http::Response response;
    if (const auto* match = std::get_if<http::RouteMatch>(&route)) {
        for (const auto& parameter : match->parameters) {
            require(parameter.find('/') == std::string::npos);
        }
        const std::string_view target = head.target();
        const auto question = target.find('?');
        if (match->id == http::RouteId::kListThreads && question != std::string_view::npos) {
            const auto query = api::parse_list_query(target.substr(question + 1));
            if (const auto* error = std::get_if<api::ApiError>(&query)) {
                response = http::error_response(*error);
            }
        }
        if (response.body().empty()) {
            response = http::json_response(200, "{}");
        }
    } else {
        const auto& miss = std::get<http::RouteMiss>(route);
        response = http::error_response(
            {miss.path_known ? api::ErrorCode::kMethodNotAllowed : api::ErrorCode::kNotFound,
             "no"});
        if (miss.path_known) {
            response.set(bhttp::field::allow, miss.allow);
        }
    }
    std::string out;
    http::serialize_response_head(out, response, "Thu, 01 Jan 2026 00:00:00 GMT", request_id,
                                  head.keep_alive());
    // Exactly one blank line, at the end: nothing from the request split the head.
    require(out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0);
    require(out.find("\r\n\r\n") == out.size() - 4);
    for (std::size_t i = 0; i < out.size(); ++i) {
        require(out[i] != '\n' || (i > 0 && out[i - 1] == '\r'));
        require(out[i] != '\r' || (i + 1 < out.size() && out[i + 1] == '\n'));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const http::Router router = http::Router::threads_api();
    const http::HttpLimits limits;
    beast::flat_buffer buffer;
    buffer.commit(boost::asio::buffer_copy(buffer.prepare(size), boost::asio::buffer(data, size)));

    // At most a few requests per input, as a pipelining client would send them.
    for (int request = 0; request < 8 && buffer.size() > 0; ++request) {
        Parser parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        parser.body_limit(boost::none);
        parser.eager(false);
        beast::error_code ec;
        while (!parser.is_header_done() && !ec && buffer.size() > 0) {
            buffer.consume(parser.put(buffer.data(), ec));
        }
        if (ec || !parser.is_header_done()) {
            return 0;  // answered 400 or 431 (or waiting for more) by the server
        }
        handle_head(router, parser.get());
        // As Session::read_body: a declared length over the limit is a 413 before any
        // byte of the body is read (Beast would reserve the declared length otherwise).
        const auto declared = parser.content_length();
        if (declared && *declared > limits.max_body_bytes) {
            return 0;
        }
        parser.body_limit(limits.max_body_bytes);
        parser.eager(true);
        while (!parser.is_done() && !ec && buffer.size() > 0) {
            buffer.consume(parser.put(buffer.data(), ec));
        }
        if (ec == bhttp::error::need_more) {
            ec = {};
        }
        if (ec || !parser.is_done()) {
            return 0;
        }
        require(parser.get().body().size() <= limits.max_body_bytes);
    }
    return 0;
}
