#include "support/http_client.hpp"

#include "support/require.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

namespace threadsd::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

std::string HttpResult::header(const std::string& name) const {
    const auto it = message.find(name);
    return it == message.end() ? std::string() : std::string(it->value());
}

boost::json::value HttpResult::json() const {
    boost::system::error_code ec;
    auto value = boost::json::parse(message.body(), ec);
    require(!ec, "response body is not JSON: " + message.body());
    return value;
}

HttpClient::HttpClient(unsigned short port, std::chrono::milliseconds timeout,
                       const std::string& source)
    : socket_(io_), timeout_(timeout) {
    boost::system::error_code ec;
    if (!source.empty()) {
        socket_.open(net::ip::tcp::v4());
        socket_.bind({net::ip::make_address(source), 0}, ec);
        require(!ec, "cannot bind to " + source + ": " + ec.message());
    }
    socket_.connect({net::ip::make_address("127.0.0.1"), port}, ec);
    require(!ec, "cannot connect to port " + std::to_string(port) + ": " + ec.message());
    // Blocking reads with SO_RCVTIMEO, so a server that never answers fails the test
    // instead of hanging it.
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

HttpResult HttpClient::request(http::verb method, const std::string& target,
                               const std::optional<std::string>& body, const Headers& headers) {
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
    require(!ec, "write failed: " + ec.message());
    return read_response();
}

HttpResult HttpClient::post_json(const std::string& target, const std::string& body,
                                 const std::string& key) {
    Headers headers{{"Content-Type", "application/json"}};
    if (!key.empty()) {
        headers.emplace_back("X-API-Key", key);
    }
    return request(http::verb::post, target, body, headers);
}

void HttpClient::send_raw(const std::string& bytes) {
    boost::system::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    require(!ec, "write failed: " + ec.message());
}

HttpResult HttpClient::read_response() {
    HttpResult result;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    boost::system::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    require(!ec, "reading the response failed: " + ec.message());
    result.message = parser.release();
    return result;
}

bool HttpClient::closed_by_peer() {
    if (buffer_.size() > 0) {
        return false;
    }
    char byte = 0;
    boost::system::error_code ec;
    const auto n = socket_.read_some(net::buffer(&byte, 1), ec);
    return n == 0 && (ec == net::error::eof || ec == net::error::connection_reset);
}

std::string create_body(const std::string& agent_id, const std::string& extra_members) {
    std::string body = "{\"agentId\":\"" + agent_id + "\"";
    if (!extra_members.empty()) {
        body += "," + extra_members;
    }
    return body + "}";
}

}  // namespace threadsd::test
