#pragma once
// Which file a path names, so that the writer removes a stale -wal or -shm file only when
// it is the very file its old connection used, never one that came with a new database.

#include <cstdint>
#include <optional>
#include <string>

namespace threadsd::store::sqlite {

/// Device and inode of a file.
struct FileId {
    std::uint64_t device = 0;  ///< st_dev.
    std::uint64_t inode = 0;   ///< st_ino.
    /// Same file.
    bool operator==(const FileId&) const = default;
};

/// The file `path` names now, or nothing when there is none.
std::optional<FileId> file_id(const std::string& path);

/// Removes `path` when it still names `expected`; true when it did.
bool remove_if_same(const std::string& path, const std::optional<FileId>& expected);

/// True when `path` names a file now.
bool file_exists(const std::string& path);

}  // namespace threadsd::store::sqlite
