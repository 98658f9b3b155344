#pragma once
// Reads the access log a server wrote on stdout (ServerProcess::stdout_text()).

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace threadsd::test {

/// Every complete line of `text` (one ending in a newline) parsed as a JSON object; a line
/// still being written is left out. Fails the test on a complete line that is not one.
std::vector<boost::json::object> access_log_entries(const std::string& text);

}  // namespace threadsd::test
