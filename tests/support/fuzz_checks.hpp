#pragma once
// What the fuzz targets check of the bytes a session wrote, whatever the handler:
// well-formed HTTP/1.1 responses, nothing after a response that said `Connection: close`,
// every error in the contract's envelope. Header-only, like session_harness.hpp, since
// the fuzz targets link only the library.

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace threadsd::test {

/// Stops the run with a crash report when an invariant does not hold.
inline void require(bool holds, const char* what) {
    if (!holds) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

/// Responses seen, by status (100 to 599).
inline std::array<std::atomic<std::uint64_t>, 600> seen{};

/// Prints the tally at exit: `statuses: 200=12 400=3 ...`.
inline void print_tally() {
    std::fprintf(stderr, "statuses:");
    for (std::size_t status = 100; status < seen.size(); ++status) {
        if (const auto count = seen[status].load()) {
            std::fprintf(stderr, " %zu=%llu", status, static_cast<unsigned long long>(count));
        }
    }
    std::fprintf(stderr, "\n");
}

/// Checks that an error body is exactly the envelope for `status`.
inline void check_envelope(const std::string& body, unsigned status) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    require(!ec && value.is_object(), "an error body is not a JSON object");
    const auto& object = value.as_object();
    require(object.size() == 4, "an error envelope has other than four members");
    require(object.contains("status") && object.at("status").is_int64() &&
                object.at("status").as_int64() == static_cast<std::int64_t>(status),
            "an envelope's status differs from the response's");
    require(object.contains("success") && object.at("success") == false,
            "an envelope's success is not false");
    require(object.contains("message") && object.at("message").is_string() &&
                !object.at("message").as_string().empty(),
            "an envelope has no message");
    require(object.contains("code") && object.at("code").is_string(), "an envelope has no code");
}

/// Parses what the session wrote, response by response, and checks each.
inline void check_responses(std::string_view bytes) {
    constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    bool closed = false;
    while (!bytes.empty()) {
        require(!closed, "a response followed one that closed the connection");
        if (bytes.substr(0, kContinue.size()) == kContinue) {
            seen[100].fetch_add(1);  // The interim answer to Expect: 100-continue.
            bytes.remove_prefix(kContinue.size());
            continue;
        }
        boost::beast::http::response_parser<boost::beast::http::empty_body> parser;
        parser.eager(false);
        boost::beast::error_code ec;
        const std::size_t head_size =
            parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        require(!ec && parser.is_header_done(), "the session wrote bytes that are not a response");
        const auto& response = parser.get();
        require(response.version() == 11, "a response is not HTTP/1.1");
        const unsigned status = response.result_int();
        require(status >= 200 && status < 600, "a final response has an odd status");
        seen[status].fetch_add(1);
        require(response.count("X-Request-Id") == 1, "a response has no X-Request-Id");
        if (parser.chunked()) {
            // Only an event stream is chunked: a 200 of text/event-stream, whose chunks
            // run until the last one, or until the input's end made the client leave.
            require(status == 200 &&
                        response[boost::beast::http::field::content_type] == "text/event-stream",
                    "a chunked response is not an event stream");
            bytes.remove_prefix(head_size);
            bool last = false;
            while (!bytes.empty() && !last) {
                const auto line_end = bytes.find("\r\n");
                require(line_end != std::string_view::npos && line_end > 0 && line_end <= 8,
                        "a chunk-size line is malformed");
                std::size_t size = 0;
                for (const char c : bytes.substr(0, line_end)) {
                    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    require(hex, "a chunk size is not lower-case hexadecimal");
                    size = size * 16 + static_cast<std::size_t>(c <= '9' ? c - '0' : c - 'a' + 10);
                }
                require(bytes.size() >= line_end + 2 + size + 2, "a chunk is cut short");
                require(bytes.substr(line_end + 2 + size, 2) == "\r\n", "a chunk lacks its CRLF");
                bytes.remove_prefix(line_end + 2 + size + 2);
                last = size == 0;
            }
            closed = !last || !response.keep_alive();
            continue;
        }
        const auto length = parser.content_length();
        require(length.has_value(), "a response has no Content-Length");
        bytes.remove_prefix(head_size);
        // A head followed by no body (the end, or the next response) is the answer to
        // HEAD, which every route refuses (404 or 405). No body here starts like a head.
        const bool headless = bytes.empty() || bytes.substr(0, 9) == "HTTP/1.1 ";
        if (headless && *length != 0) {
            require(status == 404 || status == 405, "a response lost its body");
        } else {
            require(bytes.size() >= *length, "a response body is cut short");
            if (status >= 400) {
                check_envelope(std::string(bytes.substr(0, *length)), status);
            }
            bytes.remove_prefix(*length);
        }
        closed = !response.keep_alive();
    }
}

}  // namespace threadsd::test
