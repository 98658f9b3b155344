#include "threadsd/http/forwarded.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <variant>
#include <vector>

namespace {

using boost::asio::ip::make_address;
using threadsd::http::TrustedProxies;

TrustedProxies proxies_from(std::string_view list) {
    auto parsed = TrustedProxies::parse(list);
    const auto* error = std::get_if<std::string>(&parsed);
    if (error != nullptr) {
        BOOST_FAIL("cannot parse " << list << ": " << *error);
    }
    return std::get<TrustedProxies>(std::move(parsed));
}

std::string proxy_list_error(std::string_view list) {
    auto parsed = TrustedProxies::parse(list);
    const auto* error = std::get_if<std::string>(&parsed);
    BOOST_TEST_REQUIRE(error != nullptr, list << " parsed");
    return *error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(forwarded)

BOOST_AUTO_TEST_CASE(parses_addresses_and_networks) {
    const auto proxies = proxies_from(" 127.0.0.1 , 10.0.0.0/8,, fd00::/8, ::1");
    BOOST_TEST(!proxies.empty());
    BOOST_TEST(proxies.trusts(make_address("127.0.0.1")));
    BOOST_TEST(!proxies.trusts(make_address("127.0.0.2")));
    BOOST_TEST(proxies.trusts(make_address("10.255.0.1")));
    BOOST_TEST(!proxies.trusts(make_address("11.0.0.1")));
    BOOST_TEST(proxies.trusts(make_address("fd12::5")));
    BOOST_TEST(proxies.trusts(make_address("::1")));
    BOOST_TEST(!proxies.trusts(make_address("::2")));
    // A dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d.
    BOOST_TEST(proxies.trusts(make_address("::ffff:10.0.0.7")));
    // A network of IPv4-mapped addresses is the IPv4 network it maps.
    const auto mapped = proxies_from("::ffff:10.0.0.0/104");
    BOOST_TEST(mapped.trusts(make_address("10.9.9.9")));
    BOOST_TEST(mapped.trusts(make_address("::ffff:10.9.9.9")));
    BOOST_TEST(!mapped.trusts(make_address("11.0.0.1")));
    // A network written with host bits set means the network they belong to.
    BOOST_TEST(proxies_from("192.168.1.77/24").trusts(make_address("192.168.1.3")));
    BOOST_TEST(proxies_from("").empty());
    BOOST_TEST(TrustedProxies().empty());
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_an_address) {
    BOOST_TEST(proxy_list_error("127.0.0.1,localhost").find("'localhost'") != std::string::npos);
    for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "fd00::/129", "1.2.3.4/", "::1/x"}) {
        BOOST_TEST(proxy_list_error(bad).find(bad) != std::string::npos, bad);
    }
}

BOOST_AUTO_TEST_CASE(an_untrusted_peer_is_the_client_whatever_it_claims) {
    const auto proxies = proxies_from("127.0.0.1");
    BOOST_TEST(proxies.client_address(make_address("198.51.100.9"), {"203.0.113.7"}) ==
               "198.51.100.9");
    BOOST_TEST(TrustedProxies().client_address(make_address("127.0.0.1"), {"203.0.113.7"}) ==
               "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(the_client_is_the_rightmost_untrusted_hop) {
    const auto proxies = proxies_from("127.0.0.1,10.0.0.0/8");
    const auto nginx = make_address("127.0.0.1");
    BOOST_TEST(proxies.client_address(nginx, {"203.0.113.7"}) == "203.0.113.7");
    // The client wrote the first entry itself; the proxies appended the rest.
    BOOST_TEST(proxies.client_address(nginx, {"1.1.1.1, 203.0.113.7, 10.0.0.5"}) == "203.0.113.7");
    // Several headers read as one list, in order.
    BOOST_TEST(proxies.client_address(nginx, {"1.1.1.1", "203.0.113.7,10.0.0.5"}) == "203.0.113.7");
    BOOST_TEST(proxies.client_address(nginx, {" 2001:db8::1 "}) == "2001:db8::1");
    BOOST_TEST(proxies.client_address(make_address("::ffff:127.0.0.1"), {"203.0.113.7"}) ==
               "203.0.113.7");
}

BOOST_AUTO_TEST_CASE(a_chain_without_an_untrusted_hop_ends_at_its_leftmost_entry) {
    const auto proxies = proxies_from("127.0.0.1,10.0.0.0/8");
    const auto nginx = make_address("127.0.0.1");
    BOOST_TEST(proxies.client_address(nginx, {}) == "127.0.0.1");
    BOOST_TEST(proxies.client_address(nginx, {""}) == "127.0.0.1");
    BOOST_TEST(proxies.client_address(nginx, {"10.0.0.2, 10.0.0.5"}) == "10.0.0.2");
}

BOOST_AUTO_TEST_CASE(garbage_ends_the_walk_at_the_last_believed_hop) {
    const auto proxies = proxies_from("127.0.0.1,10.0.0.0/8");
    const auto nginx = make_address("127.0.0.1");
    BOOST_TEST(proxies.client_address(nginx, {"<script>, 10.0.0.5"}) == "10.0.0.5");
    BOOST_TEST(proxies.client_address(nginx, {"unknown"}) == "127.0.0.1");
    BOOST_TEST(proxies.client_address(nginx, {"203.0.113.7:4711"}) == "127.0.0.1");
}

BOOST_AUTO_TEST_SUITE_END()
