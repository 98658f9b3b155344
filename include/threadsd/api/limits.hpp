#pragma once
// Limits on the content of request bodies; each is configurable.

#include <cstddef>

namespace threadsd::api {

/// Limits on `metadata` and `variables` maps.
struct InputLimits {
    std::size_t max_map_keys = 64;       ///< Keys per map (after merging, for a patch).
    std::size_t max_key_bytes = 128;     ///< UTF-8 bytes of one key; keys are never empty.
    std::size_t max_value_bytes = 8192;  ///< UTF-8 bytes of one value.
    /// Stored metadata and variables together, as compact JSON: it bounds what one read of
    /// a thread (or a page of them) can make the server write. The server sets it to the
    /// body limit, so any map a create can send fits.
    std::size_t max_maps_bytes = 64 * 1024;
};

}  // namespace threadsd::api
