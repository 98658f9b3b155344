#include "support/files.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

namespace threadsd::test {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::filesystem::path repository_file(std::string_view relative) {
    return std::filesystem::path(THREADSD_SOURCE_DIR) / relative;
}

void write_file(const std::filesystem::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    BOOST_REQUIRE_MESSAGE(!out.fail(), "cannot write " << path.string());
}

}  // namespace threadsd::test
