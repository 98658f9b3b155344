#include "threadsd/app/copy_progress.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace threadsd::app {
namespace {

/// Shortest time between two redraws of the bar: more often only costs writes.
constexpr std::chrono::milliseconds kRedraw{200};

/// Width of the bar, in characters between its brackets.
constexpr int kBarWidth = 30;

/// Rows per second over `elapsed`, as a whole number.
std::int64_t rate(std::int64_t rows, std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    return seconds > 0 ? static_cast<std::int64_t>(static_cast<double>(rows) / seconds) : rows;
}

/// "12.5 s".
std::string seconds_text(std::chrono::steady_clock::duration elapsed) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(elapsed).count());
    return text;
}

}  // namespace

CopyProgressReport::CopyProgressReport(std::ostream& out, bool terminal,
                                       std::chrono::milliseconds interval)
    : out_(out),
      terminal_(terminal),
      interval_(interval),
      started_(Clock::now()),
      shown_(started_) {}

void CopyProgressReport::update(const store::CopyProgress& progress) {
    const auto now = Clock::now();
    if (now - shown_ < (terminal_ ? kRedraw : interval_)) {
        return;
    }
    shown_ = now;
    const auto total = std::max<std::int64_t>(progress.rows_total, 1);
    const auto percent = std::min<std::int64_t>(100, progress.rows_copied * 100 / total);
    const std::string counts =
        std::to_string(progress.rows_copied) + " of " + std::to_string(progress.rows_total) +
        " rows (" + std::string(progress.table) + "), " +
        std::to_string(rate(progress.rows_copied, now - started_)) + " rows/s";
    if (terminal_) {
        const auto filled = static_cast<int>(percent * kBarWidth / 100);
        // \r and erase to the end of the line: the bar is drawn over itself.
        out_ << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
             << std::string(static_cast<std::size_t>(kBarWidth - filled), ' ') << "] " << percent
             << "% " << counts << "\x1b[K" << std::flush;
        bar_drawn_ = true;
    } else {
        out_ << "threadsd: copied " << percent << "%: " << counts << '\n' << std::flush;
    }
}

void CopyProgressReport::finish(const store::CopySummary& summary) {
    const auto elapsed = Clock::now() - started_;
    if (bar_drawn_) {
        out_ << '\n';
    }
    std::string tables;
    for (const auto& table : summary.tables) {
        tables.append(tables.empty() ? "" : ", ")
            .append(std::to_string(table.rows))
            .append(" ")
            .append(table.table);
    }
    out_ << "threadsd: copied " << summary.rows << " rows (" << tables << ") in "
         << seconds_text(elapsed) << ", " << rate(summary.rows, elapsed) << " rows/s";
    if (summary.resumed_after > 0) {
        out_ << "; " << summary.resumed_after << " rows were there from an earlier run";
    }
    out_ << '\n' << std::flush;
}

}  // namespace threadsd::app
