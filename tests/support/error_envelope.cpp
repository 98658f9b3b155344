#include "support/error_envelope.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>

namespace threadsd::test {

void check_error(const HttpResult& response, unsigned status, const std::string& code,
                 const std::string& mentions) {
    BOOST_TEST_CONTEXT("response " << response.status() << " " << response.message.body()) {
        BOOST_TEST(response.status() == status);
        BOOST_TEST(response.header("Content-Type") == "application/json");
        const auto value = response.json();
        BOOST_REQUIRE(value.is_object());
        const auto& body = value.as_object();
        BOOST_TEST(body.size() == 4u);
        for (const char* name : {"status", "message", "code", "success"}) {
            BOOST_TEST(body.contains(name), "member " << name << " is missing");
        }
        BOOST_TEST((body.contains("status") && body.at("status").is_int64() &&
                    body.at("status").as_int64() == static_cast<std::int64_t>(status)));
        BOOST_TEST((body.contains("code") && body.at("code").is_string() &&
                    body.at("code").as_string() == code));
        BOOST_TEST((body.contains("success") && body.at("success").is_bool() &&
                    !body.at("success").as_bool()));
        const bool has_message = body.contains("message") && body.at("message").is_string();
        BOOST_TEST(has_message);
        if (has_message) {
            const std::string message(body.at("message").as_string());
            BOOST_TEST(!message.empty());
            if (!mentions.empty()) {
                BOOST_TEST(message.find(mentions) != std::string::npos,
                           "message should name " << mentions);
            }
        }
    }
}

}  // namespace threadsd::test
