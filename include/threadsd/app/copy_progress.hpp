#pragma once
// What `threadsd db copy` shows on stderr while it works, and the line it ends with.

#include <chrono>
#include <ostream>

#include "threadsd/store/store_copy.hpp"

namespace threadsd::app {

/// Shows a copy's progress: on a terminal a bar redrawn in place (a few times a second),
/// elsewhere (a log, a pipe) a plain line every `interval`; then one summary line.
class CopyProgressReport {
  public:
    /// Writes to `out`; `terminal` says whether it is one (the bar needs \r to work).
    CopyProgressReport(std::ostream& out, bool terminal, std::chrono::milliseconds interval);

    /// Takes a batch's progress; shows it when the last showing is old enough.
    void update(const store::CopyProgress& progress);

    /// The summary: rows per table, the time taken and the rate.
    void finish(const store::CopySummary& summary);

  private:
    using Clock = std::chrono::steady_clock;

    std::ostream& out_;                   ///< stderr, in the binary.
    bool terminal_;                       ///< Redraw a bar instead of printing lines.
    std::chrono::milliseconds interval_;  ///< Between plain lines.
    Clock::time_point started_;           ///< When the copy began, for the rate.
    Clock::time_point shown_;             ///< When progress was last shown.
    bool bar_drawn_ = false;              ///< A bar is on the line: end it before the summary.
};

}  // namespace threadsd::app
