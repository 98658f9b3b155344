#include "threadsd/util/clock.hpp"

#include <chrono>
#include <cstdio>

namespace threadsd::util {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

}  // namespace

std::int64_t unix_millis_now() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void append_rfc3339_millis(std::string& out, std::int64_t unix_ms) {
    // Floor division keeps instants before 1970 correct too.
    std::int64_t day_count = unix_ms / 86'400'000;
    std::int64_t ms_of_day = unix_ms % 86'400'000;
    if (ms_of_day < 0) {
        ms_of_day += 86'400'000;
        --day_count;
    }
    const year_month_day ymd{sys_days{days{day_count}}};
    const int year = static_cast<int>(ymd.year());
    if (year >= 0 && year <= 9999) {
        // By hand: every thread in a response has two or three of these, and snprintf was
        // 4% of a create (callgrind).
        char text[] = "0000-00-00T00:00:00.000Z";
        const auto put = [&text](std::size_t at, std::size_t width, unsigned value) {
            for (std::size_t i = at + width; i-- > at; value /= 10) {
                text[i] = static_cast<char>('0' + value % 10);
            }
        };
        put(0, 4, static_cast<unsigned>(year));
        put(5, 2, static_cast<unsigned>(ymd.month()));
        put(8, 2, static_cast<unsigned>(ymd.day()));
        put(11, 2, static_cast<unsigned>(ms_of_day / 3'600'000));
        put(14, 2, static_cast<unsigned>(ms_of_day / 60'000 % 60));
        put(17, 2, static_cast<unsigned>(ms_of_day / 1000 % 60));
        put(20, 3, static_cast<unsigned>(ms_of_day % 1000));
        out.append(text, sizeof text - 1);
        return;
    }
    char buffer[32];
    const int n = std::snprintf(
        buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<int>(ms_of_day / 3'600'000), static_cast<int>(ms_of_day / 60'000 % 60),
        static_cast<int>(ms_of_day / 1000 % 60), static_cast<int>(ms_of_day % 1000));
    out.append(buffer, static_cast<std::size_t>(n));
}

std::string format_rfc3339_millis(std::int64_t unix_ms) {
    std::string out;
    out.reserve(24);
    append_rfc3339_millis(out, unix_ms);
    return out;
}

std::optional<std::int64_t> parse_rfc3339_millis(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
        !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day) ||
        (text[10] != 'T' && text[10] != 't') || !read_digits(text, 11, 2, hour) ||
        text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' ||
        !read_digits(text, 17, 2, second)) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    int millis = 0;
    if (text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (pos - start < 3) {
                millis = millis * 10 + (text[pos] - '0');
            }
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
        for (std::size_t digits = pos - start; digits < 3; ++digits) {
            millis *= 10;
        }
    }
    int offset_minutes = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) {
        offset_minutes = 0;
    } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
               text[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (!read_digits(text, pos + 1, 2, oh) || !read_digits(text, pos + 4, 2, om) || oh > 23 ||
            om > 59) {
            return std::nullopt;
        }
        offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    const year_month_day ymd{std::chrono::year{year},
                             std::chrono::month{static_cast<unsigned>(month)},
                             std::chrono::day{static_cast<unsigned>(day)}};
    // Leap seconds (60) are accepted by RFC 3339 and fold into the next second.
    if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    const std::int64_t day_count = sys_days{ymd}.time_since_epoch().count();
    return ((day_count * 86'400 + hour * 3'600 + minute * 60 + second) - offset_minutes * 60) *
               1000 +
           millis;
}

}  // namespace threadsd::util
