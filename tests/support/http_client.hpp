#pragma once
// A plain blocking HTTP/1.1 client over loopback for integration tests, built on Beast.
// It can send well-formed requests and raw bytes, so tests can also send what a
// well-behaved client never would.

#include <ostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace threadsd::test {

/// The create endpoint.
inline constexpr const char* kCreatePath = "/api/v1/threads/web";
/// 1024 bytes.
inline constexpr std::size_t kKiB = 1024;

/// A response as the test sees it.
struct HttpResult {
    boost::beast::http::response<boost::beast::http::string_body> message;  ///< Whole response.
    /// The status code.
    unsigned status() const { return message.result_int(); }
    /// A header's value ("" when absent).
    std::string header(const std::string& name) const;
    /// The body parsed as JSON (fails the test when it is not JSON).
    boost::json::value json() const;
};

/// Extra headers for a request, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One TCP connection to 127.0.0.1:port.
class HttpClient {
  public:
    /// Connects (fails the test when it cannot). Reads time out after `timeout`. With a
    /// `source` address (such as 127.0.0.2), the connection comes from there.
    explicit HttpClient(unsigned short port,
                        std::chrono::milliseconds timeout = std::chrono::seconds(15),
                        const std::string& source = "");

    /// Sends a request and reads its response. Adds Host, and Content-Length when a body
    /// is given (no Content-Type unless in `headers`).
    HttpResult request(boost::beast::http::verb method, const std::string& target,
                       const std::optional<std::string>& body = std::nullopt,
                       const Headers& headers = {});

    /// POST with `Content-Type: application/json` and `X-API-Key: key` (unless key is empty).
    HttpResult post_json(const std::string& target, const std::string& body,
                         const std::string& key);

    /// Writes raw bytes as they are.
    void send_raw(const std::string& bytes);

    /// Reads one response (the next one, for pipelined requests).
    HttpResult read_response();

    /// True when the server has closed the connection: a read returns end of file
    /// (waits up to the client's timeout for that).
    bool closed_by_peer();

  private:
    boost::asio::io_context io_;           ///< For the socket.
    boost::asio::ip::tcp::socket socket_;  ///< The connection.
    boost::beast::flat_buffer buffer_;     ///< Bytes read but not yet parsed.
    std::chrono::milliseconds timeout_;    ///< Per read.
};

/// The standard create body for `agent_id`, with optional extra JSON members.
std::string create_body(const std::string& agent_id, const std::string& extra_members = "");

}  // namespace threadsd::test
