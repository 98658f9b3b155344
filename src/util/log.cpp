#include "threadsd/util/log.hpp"

#include <unistd.h>

#include <string>

#include "threadsd/util/clock.hpp"

namespace threadsd::util {

void log_line(std::string_view level, std::string_view message) {
    std::string line;
    line.reserve(message.size() + 48);
    append_rfc3339_millis(line, unix_millis_now());
    line.append(" threadsd ");
    line.append(level);
    line.append(": ");
    line.append(message);
    line.push_back('\n');
    // One write(2) keeps concurrent lines whole; a failed log write has nowhere to go.
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace threadsd::util
