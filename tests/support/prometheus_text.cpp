#include "support/prometheus_text.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>

namespace threadsd::test {

std::map<std::string, double> parse_prometheus_samples(const std::string& text) {
    std::map<std::string, double> samples;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto space = line.rfind(' ');
        BOOST_TEST_REQUIRE(space != std::string::npos, "not a sample: " << line);
        samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return samples;
}

}  // namespace threadsd::test
