#include "threadsd/store/api_key_secret.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <string_view>

namespace {

using threadsd::store::generate_api_key;
using threadsd::store::hash_api_key;
using threadsd::store::SecretHash;

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string hex(const SecretHash& hash) {
    std::string out;
    char buffer[3];
    for (const auto byte : hash) {
        std::snprintf(buffer, sizeof buffer, "%02x", byte);
        out += buffer;
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_api_key_secret)

BOOST_AUTO_TEST_CASE(hash_matches_sha256_test_vectors) {
    // FIPS 180-2 examples.
    BOOST_TEST(hex(hash_api_key("abc")) ==
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(hex(hash_api_key("")) ==
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(hex(hash_api_key("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(hash_covers_every_byte) {
    // Embedded NUL and the byte after it count.
    BOOST_TEST(hex(hash_api_key(std::string_view("a\0b", 3))) !=
               hex(hash_api_key(std::string_view("a\0c", 3))));
    BOOST_TEST(hex(hash_api_key(std::string_view("a\0b", 3))) != hex(hash_api_key("a")));
    BOOST_TEST(hex(hash_api_key("thd_x")) == hex(hash_api_key("thd_x")));
}

BOOST_AUTO_TEST_CASE(generated_key_shape) {
    const auto key = generate_api_key();
    BOOST_TEST_REQUIRE(key.secret.size() == 47u, key.secret);  // "thd_" + 43
    BOOST_TEST(key.secret.substr(0, 4) == "thd_");
    const std::string_view body = std::string_view(key.secret).substr(4);
    for (const char c : body) {
        BOOST_TEST(kBase64Url.find(c) != std::string_view::npos, "character '" << c << "'");
    }
    BOOST_TEST(body.find('=') == std::string_view::npos);
    BOOST_TEST(key.prefix == key.secret.substr(0, 12));
    BOOST_TEST(key.prefix.size() == 12u);
    BOOST_TEST(hex(key.hash) == hex(hash_api_key(key.secret)));
}

BOOST_AUTO_TEST_CASE(generated_keys_encode_exactly_256_bits) {
    // 43 base64 digits carry 258 bits; for 32 random bytes the last 2 bits are zero, so the
    // last digit is one whose index is a multiple of 4.
    const std::string_view last_digits = "AEIMQUYcgkosw048";
    for (int i = 0; i < 200; ++i) {
        const auto key = generate_api_key();
        BOOST_TEST_REQUIRE(last_digits.find(key.secret.back()) != std::string_view::npos,
                           key.secret);
    }
}

BOOST_AUTO_TEST_CASE(generated_keys_differ) {
    const auto first = generate_api_key();
    const auto second = generate_api_key();
    BOOST_TEST(first.secret != second.secret);
    BOOST_TEST(hex(first.hash) != hex(second.hash));

    std::set<std::string> secrets;
    std::set<std::string> prefixes;
    std::set<char> alphabet_seen;
    for (int i = 0; i < 500; ++i) {
        const auto key = generate_api_key();
        secrets.insert(key.secret);
        prefixes.insert(key.prefix);
        for (const char c : key.secret.substr(4)) {
            alphabet_seen.insert(c);
        }
    }
    BOOST_TEST(secrets.size() == 500u);
    // 8 random characters in the prefix: collisions among 500 are astronomically unlikely.
    BOOST_TEST(prefixes.size() == 500u);
    // The URL-safe characters do show up (and never '+' or '/').
    BOOST_TEST(alphabet_seen.count('-') == 1u);
    BOOST_TEST(alphabet_seen.count('_') == 1u);
    BOOST_TEST(alphabet_seen.count('+') == 0u);
    BOOST_TEST(alphabet_seen.count('/') == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
