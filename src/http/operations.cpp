#include "threadsd/http/operations.hpp"
#include "threadsd/util/prometheus.hpp"

#include <boost/beast/http/field.hpp>

#include "threadsd/api/openapi_document.hpp"

namespace threadsd::http {

namespace net = boost::asio;
namespace beast = boost::beast;

Response OperationsEndpoints::health() const {
    return json_response(200, R"({"status":"ok"})");
}

net::awaitable<Response> OperationsEndpoints::readiness() {
    if (listener_ != nullptr && listener_->draining()) {
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the server is shutting down"}, 1);
    }
    bool writable = true;
    try {
        co_await store_.probe_writable();
    } catch (const std::exception&) {
        writable = false;  // the store has logged why
    }
    if (!writable) {
        co_return retry_later_response(
            {api::ErrorCode::kServiceUnavailable, "the store is not writable"}, 1);
    }
    co_return json_response(200, R"({"status":"ready"})");
}

Response OperationsEndpoints::metrics() const {
    std::string out;
    metrics_.render(out);
    util::append_metric(out, "threadsd_open_connections", "Connections open now.", "gauge",
                        listener_ != nullptr ? listener_->open_connections() : 0);
    // Against requests_total, it shows whether clients (or the proxy) reuse connections.
    util::append_metric(out, "threadsd_connections_accepted_total", "Connections accepted.",
                        "counter", listener_ != nullptr ? listener_->accepted_connections() : 0);
    // Nonzero means a bug of threadsd's: each is logged with its request id.
    util::append_metric(out, "threadsd_connection_failures_total",
                        "Connections closed because serving them raised an unexpected error.",
                        "counter", listener_ != nullptr ? listener_->failed_sessions() : 0);
    util::append_metric(out, "threadsd_threads_created_total",
                        "Threads created (creates answered 200).", "counter",
                        metrics_.count(RouteId::kCreateWebThread, 200));
    if (messages_ != nullptr) {
        messages_->render_metrics(out);
    }
    store_.render_metrics(out);
    Response response{beast::http::status::ok, 11};
    response.set(beast::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = std::move(out);
    return response;
}

Response OperationsEndpoints::openapi() const {
    return json_response(200, std::string(api::openapi_json()));
}

}  // namespace threadsd::http
