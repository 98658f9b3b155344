#pragma once
// A SQL script cut into statements, for the extended protocol (pipeline mode), which takes
// one statement at a time.

#include <string>
#include <string_view>
#include <vector>

namespace threadsd::store::postgres {

/// The statements of `script`, without their ';': cut at each ';' outside quotes ('...',
/// "..."), dollar quotes ($$...$$, $tag$...$tag$) and comments (-- and /* */). Statements
/// that hold only comments and blanks are dropped.
std::vector<std::string> split_sql_script(std::string_view script);

}  // namespace threadsd::store::postgres
