#include "threadsd/http/response_head.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>

namespace threadsd::http {

namespace bhttp = boost::beast::http;

namespace {

// Appends the decimal form of `value`.
void append_number(std::string& out, std::uint64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
}

// Appends one header line.
void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

// Replaces `out` with the status line, the fields of `response`, Date and X-Request-Id.
void start_head(std::string& out, const Response& response, std::string_view date,
                std::string_view request_id) {
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, response.result_int());
    out.push_back(' ');
    out.append(bhttp::obsolete_reason(response.result()));
    out.append("\r\n");
    for (const auto& field : response.base()) {
        append_field(out, field.name_string(), field.value());
    }
    append_field(out, "Date", date);
    append_field(out, "X-Request-Id", request_id);
}

}  // namespace

std::string format_http_date(std::time_t seconds) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[40];
    const auto n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return std::string(buffer, n);
}

std::string_view current_http_date() {
    thread_local std::time_t formatted_second = -1;
    thread_local std::string formatted;
    const std::time_t now = std::time(nullptr);
    if (now != formatted_second) {
        formatted = format_http_date(now);
        formatted_second = now;
    }
    return formatted;
}

void serialize_response_head(std::string& out, const Response& response, std::string_view date,
                             std::string_view request_id, bool keep_alive) {
    start_head(out, response, date, request_id);
    out.append("Content-Length: ");
    append_number(out, response.body().size());
    out.append("\r\n");
    if (!keep_alive) {
        out.append("Connection: close\r\n");
    }
    out.append("\r\n");
}

void serialize_stream_head(std::string& out, const Response& response, std::string_view date,
                           std::string_view request_id, bool chunked, bool keep_alive) {
    start_head(out, response, date, request_id);
    // nginx buffers an upstream's answer unless told otherwise, which would hold events back.
    out.append("X-Accel-Buffering: no\r\n");
    if (chunked) {
        out.append("Transfer-Encoding: chunked\r\n");
    }
    if (!keep_alive || !chunked) {
        out.append("Connection: close\r\n");
    }
    out.append("\r\n");
}

ChunkSizeLine::ChunkSizeLine(std::size_t size) {
    const auto end = std::to_chars(text_, text_ + sizeof text_ - 2, size, 16).ptr;
    end[0] = '\r';
    end[1] = '\n';
    length_ = static_cast<std::size_t>(end + 2 - text_);
}

}  // namespace threadsd::http
