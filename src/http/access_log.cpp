#include "threadsd/http/access_log.hpp"

#include <cstdio>
#include <mutex>

#include "threadsd/api/json_writer.hpp"
#include "threadsd/util/clock.hpp"

namespace threadsd::http {

std::string access_log_line(const AccessRecord& record, std::int64_t unix_ms) {
    api::JsonWriter out;
    out.begin_object();
    out.key("time").string(util::format_rfc3339_millis(unix_ms));
    out.key("requestId").string(record.request_id);
    out.key("method").string(record.method);
    out.key("path").string(record.path);
    out.key("route").string(record.route);
    out.key("status").number(static_cast<std::int64_t>(record.status));
    out.key("durationMs")
        .number(std::chrono::duration<double, std::milli>(record.duration).count());
    out.key("requestBytes").number(static_cast<std::int64_t>(record.request_bytes));
    out.key("responseBytes").number(static_cast<std::int64_t>(record.response_bytes));
    out.key("client").string(record.client);
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
