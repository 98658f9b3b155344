#include "threadsd/util/text.hpp"

#include <fstream>
#include <sstream>

namespace threadsd::util {

std::string_view trim(std::string_view text) {
    constexpr std::string_view kBlanks = " \t\r";
    const auto first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

std::vector<std::string_view> split_list(std::string_view list) {
    std::vector<std::string_view> entries;
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (const auto entry = trim(list.substr(0, comma)); !entry.empty()) {
            entries.push_back(entry);
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return entries;
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace threadsd::util
