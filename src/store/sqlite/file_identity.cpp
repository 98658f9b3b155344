#include "threadsd/store/sqlite/file_identity.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace threadsd::store::sqlite {

std::optional<FileId> file_id(const std::string& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        return std::nullopt;
    }
    return FileId{static_cast<std::uint64_t>(status.st_dev),
                  static_cast<std::uint64_t>(status.st_ino)};
}

bool remove_if_same(const std::string& path, const std::optional<FileId>& expected) {
    // A check then an unlink: only this process writes these paths meanwhile, and an
    // operator replacing the file in that instant loses nothing but a stale copy.
    return expected && file_id(path) == expected && ::unlink(path.c_str()) == 0;
}

bool file_exists(const std::string& path) {
    return file_id(path).has_value();
}

}  // namespace threadsd::store::sqlite
