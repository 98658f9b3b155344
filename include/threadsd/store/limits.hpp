#pragma once
// Limits of the store that an operator can change (`threadsd serve --help`).

#include <cstddef>

namespace threadsd::store {

/// Write jobs waiting for or inside the writer's transaction. Beyond it a write is refused
/// at once (503) instead of queueing behind a disk that cannot keep up; at 15k creates per
/// second (bench/) the default is about 70 ms of backlog.
inline constexpr std::size_t kDefaultMaxQueuedWrites = 1000;

}  // namespace threadsd::store
