#pragma once
// An HTTP/1.1 client over loopback for threads other than the test's own. Boost.Test's
// checks are not thread-safe (even passing ones update shared counters), and HttpClient
// makes such checks, so a background thread uses this instead: it never calls Boost.Test
// and reports every failure in its results for the test's thread to check.
// Header-only.

#include <sys/socket.h>
#include <sys/time.h>

#include <ostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace threadsd::test {

/// What a PlainHttpClient request gave.
struct PlainResult {
    std::string error;    ///< Empty when a response was read; else what went wrong.
    unsigned status = 0;  ///< The response status.
    std::string body;     ///< The response body.
    /// True when a response was read.
    bool ok() const { return error.empty(); }
};

/// One keep-alive connection to 127.0.0.1:port; no Boost.Test calls, no exceptions.
class PlainHttpClient {
  public:
    /// Connects; a failure shows in every later result.
    explicit PlainHttpClient(unsigned short port,
                             std::chrono::milliseconds timeout = std::chrono::seconds(15))
        : socket_(io_) {
        boost::system::error_code ec;
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
        if (ec) {
            broken_ = "cannot connect: " + ec.message();
            return;
        }
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    /// Sends one request with `headers` (Host and Content-Length are added) and reads
    /// its response.
    PlainResult request(boost::beast::http::verb method, const std::string& target,
                        const std::optional<std::string>& body,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
        PlainResult result;
        if (!broken_.empty()) {
            result.error = broken_;
            return result;
        }
        namespace http = boost::beast::http;
        http::request<http::string_body> request{method, target, 11};
        request.set(http::field::host, "127.0.0.1");
        for (const auto& [name, value] : headers) {
            request.insert(name, value);
        }
        if (body) {
            request.body() = *body;
            request.prepare_payload();
        }
        boost::system::error_code ec;
        http::write(socket_, request, ec);
        if (ec) {
            broken_ = "write failed: " + ec.message();
            result.error = broken_;
            return result;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        http::read(socket_, buffer_, parser, ec);
        if (ec) {
            broken_ = "read failed: " + ec.message();
            result.error = broken_;
            return result;
        }
        result.status = parser.get().result_int();
        result.body = parser.get().body();
        return result;
    }

  private:
    boost::asio::io_context io_;           ///< For the socket.
    boost::asio::ip::tcp::socket socket_;  ///< The connection.
    boost::beast::flat_buffer buffer_;     ///< Bytes read but not yet parsed.
    std::string broken_;                   ///< Why the connection is unusable, if it is.
};

}  // namespace threadsd::test
