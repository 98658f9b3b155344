#include "support/access_log.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace threadsd::test {

std::vector<boost::json::object> access_log_entries(const std::string& text) {
    std::vector<boost::json::object> entries;
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
        const auto line = std::string_view(text).substr(start, end - start);
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        BOOST_TEST_REQUIRE((!ec && value.is_object()), "not a JSON object: " << line);
        entries.push_back(std::move(value.as_object()));
        start = end + 1;
    }
    return entries;
}

}  // namespace threadsd::test
