#include "support/import_file.hpp"

#include <string>
#include <utility>

namespace threadsd::test {

boost::json::object import_version(std::string_view id, std::int64_t number, bool published) {
    return boost::json::object{{"id", id},
                               {"version", number},
                               {"name", "v" + std::to_string(number)},
                               {"mode", "PROMPT"},
                               {"smsMaxTokens", nullptr},
                               {"smsTemperature", 0.7},
                               {"discardInboundSms", false},
                               {"published", published}};
}

boost::json::object import_agent(std::string_view id, std::string_view organization,
                                 std::string_view name, boost::json::array versions) {
    return boost::json::object{{"id", id},
                               {"organizationId", organization},
                               {"name", name},
                               {"description", nullptr},
                               {"agentType", "TEXT"},
                               {"deleted", false},
                               {"versions", std::move(versions)}};
}

}  // namespace threadsd::test
