#include "threadsd/util/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using threadsd::util::format_uuid;
using threadsd::util::is_canonical_uuid;
using threadsd::util::normalize_uuid;
using threadsd::util::uuid7_floor;
using threadsd::util::uuid7_unix_millis;
using threadsd::util::Uuid7Generator;

constexpr const char* kLower = "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f";

/// The 48-bit timestamp of a UUIDv7 text: hex digits 0-7 and 9-12.
std::int64_t timestamp_of(const std::string& id) {
    const std::string hex = id.substr(0, 8) + id.substr(9, 4);
    return static_cast<std::int64_t>(std::stoull(hex, nullptr, 16));
}

void check_v7_shape(const std::string& id) {
    BOOST_TEST(is_canonical_uuid(id), id);
    BOOST_TEST(id.size() == 36u);
    BOOST_TEST(id[14] == '7', "version nibble of " << id);
    const char variant = id[19];
    BOOST_TEST((variant == '8' || variant == '9' || variant == 'a' || variant == 'b'),
               "variant bits 10xx of " << id);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(util_uuid)

BOOST_AUTO_TEST_CASE(normalize_accepts_canonical_lower_case) {
    const auto out = normalize_uuid(kLower);
    BOOST_TEST_REQUIRE(out.has_value());
    BOOST_TEST(*out == kLower);
}

BOOST_AUTO_TEST_CASE(normalize_lowercases_upper_and_mixed_case) {
    const auto upper = normalize_uuid("0190A4C2-7D3E-7B6A-9F1E-3C2D1A0B9E8F");
    BOOST_TEST_REQUIRE(upper.has_value());
    BOOST_TEST(*upper == kLower);
    const auto mixed = normalize_uuid("0190a4C2-7d3E-7B6a-9f1E-3C2d1A0b9E8f");
    BOOST_TEST_REQUIRE(mixed.has_value());
    BOOST_TEST(*mixed == kLower);
    const auto all_letters = normalize_uuid("ABCDEFAB-CDEF-ABCD-EFAB-CDEFABCDEFAB");
    BOOST_TEST_REQUIRE(all_letters.has_value());
    BOOST_TEST(*all_letters == "abcdefab-cdef-abcd-efab-cdefabcdefab");
}

BOOST_AUTO_TEST_CASE(normalize_refuses_other_spellings) {
    const std::vector<std::string> refused = {
        "{0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f}",                  // braces
        "urn:uuid:0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f",           // URN
        "0190a4c27d3e7b6a9f1e3c2d1a0b9e8f",                        // no hyphens
        "0190a4c27-d3e-7b6a-9f1e-3c2d1a0b9e8f",                    // 9-3-4-4-12
        "0190a4c-27d3e-7b6a-9f1e-3c2d1a0b9e8f",                    // 7-5-4-4-12
        "0190a4c2-7d3e7-b6a-9f1e-3c2d1a0b9e8f",                    // 8-5-3-4-12
        "0190a4c2-7d3e-7b6a-9f1e3-c2d1a0b9e8f",                    // 8-4-4-5-11
        "0190a4c2_7d3e_7b6a_9f1e_3c2d1a0b9e8f",                    // wrong separator
        "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8g",                    // non-hex 'g'
        "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8 ",                    // trailing space
        " 0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8",                    // leading space
        "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8",                     // 35 chars
        "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8f0",                   // 37 chars
        "",                                                        // empty
        std::string("0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8\0", 36),  // embedded NUL
        "0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e\xc3\xa9",              // non-ASCII, 36 bytes
    };
    for (const auto& text : refused) {
        BOOST_TEST(!normalize_uuid(text).has_value(), "should refuse '" << text << "'");
        BOOST_TEST(!is_canonical_uuid(text), "not canonical: '" << text << "'");
    }
}

BOOST_AUTO_TEST_CASE(is_canonical_only_for_lower_case) {
    BOOST_TEST(is_canonical_uuid(kLower));
    BOOST_TEST(is_canonical_uuid("00000000-0000-0000-0000-000000000000"));
    BOOST_TEST(!is_canonical_uuid("0190A4C2-7D3E-7B6A-9F1E-3C2D1A0B9E8F"));
    BOOST_TEST(!is_canonical_uuid("0190a4c2-7d3e-7b6a-9f1e-3c2d1a0b9e8F"));
}

BOOST_AUTO_TEST_CASE(format_uuid_writes_lower_case_8_4_4_4_12) {
    const std::array<std::uint8_t, 16> bytes = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                                0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    BOOST_TEST(format_uuid(bytes) == "01234567-89ab-cdef-fedc-ba9876543210");
    std::array<std::uint8_t, 16> zeros{};
    BOOST_TEST(format_uuid(zeros) == "00000000-0000-0000-0000-000000000000");
    std::array<std::uint8_t, 16> ones{};
    ones.fill(0xff);
    BOOST_TEST(format_uuid(ones) == "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

BOOST_AUTO_TEST_CASE(generator_produces_canonical_v7_with_given_timestamp) {
    Uuid7Generator generator;
    const std::int64_t ms = 1'795'895'673'123;  // 2026-11-28T19:54:33.123Z
    const std::string id = generator.next(ms);
    check_v7_shape(id);
    BOOST_TEST(timestamp_of(id) == ms);
    BOOST_TEST(id.substr(0, 13) == "01a223b9-4123");

    const std::string later = generator.next(ms + 1000);
    check_v7_shape(later);
    BOOST_TEST(timestamp_of(later) == ms + 1000);
    BOOST_TEST(later > id);
}

BOOST_AUTO_TEST_CASE(generator_without_argument_uses_wall_clock) {
    Uuid7Generator generator;
    const std::string id = generator.next();
    check_v7_shape(id);
    // Not a timing assertion: just that the stamp is a plausible present-day instant.
    BOOST_TEST(timestamp_of(id) > 1'700'000'000'000);  // after 2023-11
}

BOOST_AUTO_TEST_CASE(generator_is_strictly_increasing_within_one_millisecond) {
    Uuid7Generator generator;
    const std::int64_t ms = 1'700'000'000'000;
    std::string previous = generator.next(ms);
    for (int i = 0; i < 10'000; ++i) {
        const std::string id = generator.next(ms);
        check_v7_shape(id);
        BOOST_TEST_REQUIRE(id > previous, "id " << i << ": " << id << " <= " << previous);
        BOOST_TEST_REQUIRE(timestamp_of(id) == ms);
        previous = id;
    }
}

BOOST_AUTO_TEST_CASE(generator_stays_increasing_when_clock_goes_backwards) {
    Uuid7Generator generator;
    const std::int64_t ms = 1'700'000'000'000;
    const std::string first = generator.next(ms);
    std::string previous = first;
    for (std::int64_t step = 1; step <= 1000; ++step) {
        const std::string id = generator.next(ms - step);
        check_v7_shape(id);
        BOOST_TEST_REQUIRE(id > previous, "step " << step << ": " << id << " <= " << previous);
        // Never stamped earlier than an id already issued.
        BOOST_TEST_REQUIRE(timestamp_of(id) >= ms);
        previous = id;
    }
    // Once the clock moves past the last stamp again, that stamp is used.
    const std::string resumed = generator.next(ms + 5);
    BOOST_TEST(resumed > previous);
    BOOST_TEST(timestamp_of(resumed) == ms + 5);
}

BOOST_AUTO_TEST_CASE(generator_is_thread_safe_and_unique) {
    Uuid7Generator generator;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 5'000;
    const std::int64_t ms = 1'700'000'000'000;
    std::vector<std::vector<std::string>> produced(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto& mine = produced[static_cast<std::size_t>(t)];
            mine.reserve(kPerThread);
            for (int i = 0; i < kPerThread; ++i) {
                // Half the threads share one millisecond, the others use the wall clock.
                mine.push_back(t % 2 == 0 ? generator.next(ms + i / 100) : generator.next());
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::set<std::string> all;
    for (const auto& mine : produced) {
        BOOST_TEST_REQUIRE(mine.size() == static_cast<std::size_t>(kPerThread));
        // Each thread sees its own ids in strictly increasing order.
        BOOST_TEST(std::is_sorted(mine.begin(), mine.end()));
        BOOST_TEST((std::adjacent_find(mine.begin(), mine.end()) == mine.end()));
        for (const auto& id : mine) {
            check_v7_shape(id);
            all.insert(id);
        }
    }
    BOOST_TEST(all.size() == static_cast<std::size_t>(kThreads * kPerThread));
}

BOOST_AUTO_TEST_CASE(unix_millis_reads_the_first_48_bits) {
    BOOST_TEST(uuid7_unix_millis(kLower) == 0x0190a4c27d3e);
    BOOST_TEST(uuid7_unix_millis("00000000-0000-0000-0000-000000000000") == 0);
    BOOST_TEST(uuid7_unix_millis("00000000-0001-7000-8000-000000000000") == 1);
    BOOST_TEST(uuid7_unix_millis("ffffffff-ffff-7fff-bfff-ffffffffffff") == 0xffffffffffff);
    // Only the first 48 bits count; whatever follows is ignored.
    BOOST_TEST(uuid7_unix_millis("01a223b9-4123-0000-0000-000000000000") == 1'795'895'673'123);
    BOOST_TEST(uuid7_unix_millis("01a223b9-4123-ffff-ffff-ffffffffffff") == 1'795'895'673'123);
    // Any canonical UUID gives its first 48 bits, also a version 4 one.
    BOOST_TEST(uuid7_unix_millis("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01") == 0x3f2a9c1e7b4d);
}

BOOST_AUTO_TEST_CASE(floor_is_the_smallest_uuid_of_a_millisecond) {
    BOOST_TEST(uuid7_floor(1'795'895'673'123) == "01a223b9-4123-0000-0000-000000000000");
    BOOST_TEST(uuid7_floor(0) == "00000000-0000-0000-0000-000000000000");
    BOOST_TEST(uuid7_floor(1) == "00000000-0001-0000-0000-000000000000");
    BOOST_TEST(uuid7_floor(0xffffffffffff) == "ffffffff-ffff-0000-0000-000000000000");
    // Before the epoch there is nothing smaller than the nil UUID.
    BOOST_TEST(uuid7_floor(-1) == "00000000-0000-0000-0000-000000000000");
    BOOST_TEST(uuid7_floor(-1'000'000'000'000) == "00000000-0000-0000-0000-000000000000");
    for (const std::int64_t ms : {std::int64_t{0}, std::int64_t{1}, std::int64_t{255},
                                  std::int64_t{256}, std::int64_t{1'700'000'000'000},
                                  std::int64_t{1'795'895'673'123}, std::int64_t{0xffffffffffff}}) {
        const std::string floor = uuid7_floor(ms);
        BOOST_TEST(is_canonical_uuid(floor), floor);
        BOOST_TEST(uuid7_unix_millis(floor) == ms);
        BOOST_TEST(floor.substr(13) == "-0000-0000-000000000000");
    }
}

BOOST_AUTO_TEST_CASE(floor_orders_between_adjacent_milliseconds) {
    const std::int64_t ms = 1'795'895'673'123;
    const std::string floor = uuid7_floor(ms);
    // Ids made at ms sort at or above the floor, and below the next millisecond's floor.
    Uuid7Generator at_ms;
    for (int i = 0; i < 2'000; ++i) {
        const std::string id = at_ms.next(ms);
        BOOST_TEST_REQUIRE(id > floor, id << " <= " << floor);
        BOOST_TEST_REQUIRE(id < uuid7_floor(ms + 1), id);
        BOOST_TEST_REQUIRE(uuid7_unix_millis(id) == ms);
    }
    // Ids made one millisecond earlier (by another generator, so not pushed forward) sort
    // below it.
    Uuid7Generator earlier;
    for (int i = 0; i < 2'000; ++i) {
        const std::string id = earlier.next(ms - 1);
        BOOST_TEST_REQUIRE(id < floor, id << " >= " << floor);
        BOOST_TEST_REQUIRE(id >= uuid7_floor(ms - 1), id);
        BOOST_TEST_REQUIRE(uuid7_unix_millis(id) == ms - 1);
    }
    // Floors themselves are strictly increasing with the millisecond.
    BOOST_TEST(uuid7_floor(ms - 1) < floor);
    BOOST_TEST(floor < uuid7_floor(ms + 1));
    BOOST_TEST(uuid7_floor(0xff) < uuid7_floor(0x100));
}

BOOST_AUTO_TEST_CASE(unix_millis_round_trips_generated_ids) {
    Uuid7Generator generator;
    for (const std::int64_t ms :
         {std::int64_t{1}, std::int64_t{1'000}, std::int64_t{1'700'000'000'000},
          std::int64_t{1'795'895'673'123}, std::int64_t{0xfffffffffff0}}) {
        const std::string id = generator.next(ms);
        BOOST_TEST(uuid7_unix_millis(id) == ms, id);
        BOOST_TEST(uuid7_unix_millis(id) == timestamp_of(id), id);
    }
    const std::string now = generator.next();
    BOOST_TEST(uuid7_unix_millis(now) == timestamp_of(now));
}

BOOST_AUTO_TEST_SUITE_END()
