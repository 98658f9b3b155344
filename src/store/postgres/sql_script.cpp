#include "threadsd/store/postgres/sql_script.hpp"

#include <cctype>

namespace threadsd::store::postgres {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The dollar-quote tag starting at `at` ("$$" or "$name$"), or "" when there is none.
std::string_view dollar_tag(std::string_view script, std::size_t at) {
    std::size_t end = at + 1;
    while (end < script.size() &&
           (std::isalnum(static_cast<unsigned char>(script[end])) != 0 || script[end] == '_')) {
        ++end;
    }
    if (end < script.size() && script[end] == '$') {
        return script.substr(at, end + 1 - at);
    }
    return {};
}

}  // namespace

std::vector<std::string> split_sql_script(std::string_view script) {
    std::vector<std::string> statements;
    std::string current;
    bool meaningful = false;  // current holds more than comments and blanks
    const auto finish = [&] {
        if (meaningful) {
            statements.push_back(current);
        }
        current.clear();
        meaningful = false;
    };
    std::size_t i = 0;
    while (i < script.size()) {
        const char c = script[i];
        std::size_t end = i + 1;  // one past what is copied into the statement
        if (c == '-' && script.substr(i, 2) == "--") {
            end = script.find('\n', i);
            end = end == std::string_view::npos ? script.size() : end;
            i = end;  // comments are left out
            continue;
        }
        if (c == '/' && script.substr(i, 2) == "/*") {
            end = script.find("*/", i + 2);
            i = end == std::string_view::npos ? script.size() : end + 2;
            continue;
        }
        if (c == ';') {
            finish();
            i = end;
            continue;
        }
        if (c == '\'' || c == '"') {
            // Quotes end at the next lone quote; a doubled one is part of the text.
            end = i + 1;
            while (end < script.size()) {
                if (script[end] == c) {
                    if (end + 1 < script.size() && script[end + 1] == c) {
                        end += 2;
                        continue;
                    }
                    ++end;
                    break;
                }
                ++end;
            }
        } else if (c == '$') {
            if (const auto tag = dollar_tag(script, i); !tag.empty()) {
                const auto close = script.find(tag, i + tag.size());
                end = close == std::string_view::npos ? script.size() : close + tag.size();
            }
        }
        current.append(script.substr(i, end - i));
        meaningful = meaningful || !is_blank(c);
        i = end;
    }
    finish();
    for (auto& statement : statements) {
        const auto first = statement.find_first_not_of(" \t\r\n");
        const auto last = statement.find_last_not_of(" \t\r\n");
        statement = statement.substr(first, last - first + 1);
    }
    return statements;
}

}  // namespace threadsd::store::postgres
