#include "threadsd/http/access_log.hpp"

#include <cstdio>
#include <mutex>

#include "threadsd/util/clock.hpp"
#include "threadsd/util/json_writer.hpp"
#include "threadsd/util/text.hpp"

namespace threadsd::http {

namespace {

/// Writes `text` as a JSON string that is valid UTF-8 whatever the client sent: a path
/// may carry any byte above 0x7F, and log shippers drop a line that is not UTF-8.
void write_text(util::JsonWriter& out, std::string_view text) {
    if (auto replaced = util::replace_invalid_utf8(text)) {
        out.string(*replaced);
    } else {
        out.string(text);
    }
}

}  // namespace

std::string access_log_line(const AccessRecord& record, std::int64_t unix_ms) {
    util::JsonWriter out;
    out.begin_object();
    out.key("time").string(util::format_rfc3339_millis(unix_ms));
    out.key("requestId").string(record.request_id);
    out.key("method");
    write_text(out, record.method);
    out.key("path");
    write_text(out, record.path);
    out.key("route").string(record.route);
    out.key("status").number(static_cast<std::int64_t>(record.status));
    out.key("durationMs")
        .number(std::chrono::duration<double, std::milli>(record.duration).count());
    out.key("requestBytes").number(static_cast<std::int64_t>(record.request_bytes));
    out.key("responseBytes").number(static_cast<std::int64_t>(record.response_bytes));
    out.key("client");
    write_text(out, record.client);
    out.end_object();
    std::string line = out.take();
    line.push_back('\n');
    return line;
}

void write_access_log(std::string_view line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace threadsd::http
