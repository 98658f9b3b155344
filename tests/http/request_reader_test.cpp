// RequestReader: every byte of a request counted against a limit, one framing trusted,
// trailers dropped, and the head checks of RFC 9112 that Beast leaves to its user.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <ostream>
#include <string>

#include "threadsd/http/request_reader.hpp"

namespace threadsd::http {

/// Prints a state in a failed check.
std::ostream& operator<<(std::ostream& out, ReadState state) {
    return out << "ReadState(" << static_cast<int>(state) << ")";
}

}  // namespace threadsd::http

namespace threadsd::api {

/// Prints an error code in a failed check.
std::ostream& operator<<(std::ostream& out, ErrorCode code) {
    return out << code_name(code);
}

}  // namespace threadsd::api

namespace threadsd::http {
namespace {

/// Feeds `bytes` to `reader` in pieces of `step` bytes, as reads would deliver them,
/// calling start_body(keep) once the head is done; returns the bytes left over.
std::string feed_all(RequestReader& reader, const std::string& bytes, std::size_t step = 1,
                     bool keep = true) {
    std::string pending;
    std::size_t next = 0;
    for (;;) {
        if (reader.state() == ReadState::kHeadDone) {
            reader.start_body(keep);
        }
        if (reader.state() == ReadState::kDone || reader.state() == ReadState::kFailed) {
            return pending + bytes.substr(std::min(next, bytes.size()));
        }
        if (next < bytes.size()) {
            pending += bytes.substr(next, step);
            next += step;
        } else if (pending.empty()) {
            return {};
        }
        const std::size_t used = reader.feed(pending);
        if (used == 0 && next >= bytes.size() && reader.state() != ReadState::kHeadDone) {
            return pending;  // Needs bytes that will not come.
        }
        pending.erase(0, used);
    }
}

/// The chunked body of `text` as single-byte chunks.
std::string byte_chunks(const std::string& text) {
    std::string out;
    for (const char c : text) {
        out += "1\r\n";
        out += c;
        out += "\r\n";
    }
    return out + "0\r\n\r\n";
}

const std::string kPost = "POST /api/v1/threads/web HTTP/1.1\r\nHost: x\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(request_reader)

BOOST_AUTO_TEST_CASE(reads_a_sized_request_from_any_split) {
    const std::string request = kPost + "Content-Length: 5\r\n\r\nhelloGET";
    for (const std::size_t step : {1u, 2u, 7u, 1000u}) {
        const HttpLimits limits;
        RequestReader reader(limits);
        const auto left = feed_all(reader, request, step);
        BOOST_TEST(reader.state() == ReadState::kDone);
        BOOST_TEST(reader.request().body() == "hello");
        BOOST_TEST(left == "GET", "step " << step);
    }
}

BOOST_AUTO_TEST_CASE(reads_chunked_bodies_and_drops_trailers_and_extensions) {
    const std::string body = R"({"a":"b"})";
    for (const std::size_t step : {1u, 3u, 1000u}) {
        const HttpLimits limits;
        RequestReader reader(limits);
        feed_all(reader,
                 kPost +
                     "Transfer-Encoding: chunked\r\n\r\n4;x=y;z\r\n{\"a\"\r\n5 ; e\r\n:\"b\"}\r\n"
                     "0\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                 step);
        BOOST_TEST(reader.state() == ReadState::kDone);
        BOOST_TEST(reader.request().body() == body);
        // The trailer never became a header.
        BOOST_TEST(reader.request().count("Content-Type") == 0u);
        BOOST_TEST(reader.request().keep_alive());
    }
}

BOOST_AUTO_TEST_CASE(the_head_limit_counts_the_whole_head_across_reads) {
    HttpLimits limits;
    limits.max_header_bytes = 1024;
    std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    while (head.size() < 1100) {
        head += "X-Field: " + std::string(40, 'v') + "\r\n";
    }
    for (const std::size_t step : {1u, 100u, 4096u}) {
        RequestReader reader(limits);
        feed_all(reader, head + "\r\n", step);
        BOOST_TEST(reader.state() == ReadState::kFailed, "step " << step);
        BOOST_TEST(reader.error().code == api::ErrorCode::kHeaderFieldsTooLarge);
    }
    // Just within the limit is fine.
    std::string fits = "GET /healthz HTTP/1.1\r\nHost: x\r\nX: ";
    fits += std::string(1024 - fits.size() - 4, 'v') + "\r\n\r\n";
    BOOST_TEST_REQUIRE(fits.size() == 1024u);
    RequestReader reader(limits);
    feed_all(reader, fits, 1);
    BOOST_TEST(reader.state() == ReadState::kDone);
}

BOOST_AUTO_TEST_CASE(leading_empty_lines_are_skipped_and_counted) {
    const HttpLimits limits;
    RequestReader reader(limits);
    feed_all(reader, "\r\n\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    BOOST_TEST(reader.state() == ReadState::kDone);
    BOOST_TEST(reader.request().target() == "/healthz");

    HttpLimits small;
    small.max_header_bytes = 1024;
    RequestReader endless(small);
    std::string empties;
    for (int i = 0; i < 600; ++i) {
        empties += "\r\n";
    }
    feed_all(endless, empties, 64);
    BOOST_TEST(endless.state() == ReadState::kFailed);
    BOOST_TEST(endless.error().code == api::ErrorCode::kHeaderFieldsTooLarge);
}

BOOST_AUTO_TEST_CASE(only_one_plain_chunked_coding_frames_a_body) {
    for (const std::string framing :
         {"Transfer-Encoding: chunked, chunked\r\n", "Transfer-Encoding: gzip, chunked\r\n",
          "Transfer-Encoding: identity, chunked\r\n", "Transfer-Encoding: gzip\r\n",
          "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
          "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
          "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "Content-Length: 3, 4\r\n",
          "Content-Length: -1\r\n"}) {
        const HttpLimits limits;
        RequestReader reader(limits);
        feed_all(reader, kPost + framing + "\r\n0\r\n\r\n", 1000);
        BOOST_TEST(reader.state() == ReadState::kFailed, framing);
        BOOST_TEST(reader.error().code == api::ErrorCode::kBadRequest, framing);
    }
    const HttpLimits limits;
    RequestReader old(limits);
    feed_all(old, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1000);
    BOOST_TEST(old.state() == ReadState::kFailed);
    BOOST_TEST(old.error().message.find("HTTP/1.0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(host_and_repeated_fields) {
    const struct {
        std::string head;
        std::string named;
    } refused[] = {
        {"GET / HTTP/1.1\r\n\r\n", "Host"},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "Host"},
        {"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", "Host"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX-API-Key: k\r\nX-Api-Key: k\r\n\r\n", "X-API-Key"},
        {"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
         "Authorization"},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a/b\r\nContent-Type: a/b\r\n\r\n",
         "Content-Type"},
    };
    for (const auto& c : refused) {
        const HttpLimits limits;
        RequestReader reader(limits);
        feed_all(reader, c.head, 1000);
        BOOST_TEST(reader.state() == ReadState::kFailed, c.head);
        BOOST_TEST(reader.error().message.find(c.named) != std::string::npos, c.head);
    }
    const HttpLimits limits;
    RequestReader old(limits);
    feed_all(old, "GET / HTTP/1.0\r\n\r\n", 1000);
    BOOST_TEST(old.state() == ReadState::kDone);
}

BOOST_AUTO_TEST_CASE(body_limits_for_sized_and_chunked_bodies) {
    HttpLimits limits;
    limits.max_body_bytes = 10;
    // A declared length over the limit: refused at start_body, without reading it.
    RequestReader declared(limits);
    feed_all(declared, kPost + "Content-Length: 11\r\n\r\n", 1000);
    BOOST_TEST(declared.state() == ReadState::kFailed);
    BOOST_TEST(declared.error().code == api::ErrorCode::kPayloadTooLarge);
    // Exactly at the limit: read.
    RequestReader exact(limits);
    feed_all(exact, kPost + "Content-Length: 10\r\n\r\n0123456789", 3);
    BOOST_TEST(exact.state() == ReadState::kDone);
    // A chunk size over the limit, however many digits: refused at the digit that crosses it.
    RequestReader huge(limits);
    feed_all(huge, kPost + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", 1);
    BOOST_TEST(huge.state() == ReadState::kFailed);
    BOOST_TEST(huge.error().code == api::ErrorCode::kPayloadTooLarge);
    // Chunks that add up past it.
    RequestReader sum(limits);
    feed_all(sum, kPost + "Transfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n", 1000);
    BOOST_TEST(sum.state() == ReadState::kFailed);
    BOOST_TEST(sum.error().code == api::ErrorCode::kPayloadTooLarge);
}

BOOST_AUTO_TEST_CASE(framing_bytes_have_their_own_allowance) {
    HttpLimits limits;
    limits.max_framing_bytes = 64;
    RequestReader extension(limits);
    feed_all(extension, kPost + "Transfer-Encoding: chunked\r\n\r\n1;" + std::string(100, 'e'), 7);
    BOOST_TEST(extension.state() == ReadState::kFailed);
    BOOST_TEST(extension.error().code == api::ErrorCode::kPayloadTooLarge);

    RequestReader trailer(limits);
    feed_all(trailer, kPost + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: " + std::string(100, 't'),
             7);
    BOOST_TEST(trailer.state() == ReadState::kFailed);

    // One-byte chunks cost five framing bytes each.
    limits.max_framing_bytes = 16 * 1024;
    RequestReader small(limits);
    feed_all(small,
             kPost + "Transfer-Encoding: chunked\r\n\r\n" + byte_chunks(std::string(100, 'x')), 13);
    BOOST_TEST(small.state() == ReadState::kDone);
    BOOST_TEST(small.request().body() == std::string(100, 'x'));
    limits.max_framing_bytes = 400;
    RequestReader many(limits);
    feed_all(many,
             kPost + "Transfer-Encoding: chunked\r\n\r\n" + byte_chunks(std::string(100, 'x')), 13);
    BOOST_TEST(many.state() == ReadState::kFailed);
}

BOOST_AUTO_TEST_CASE(malformed_chunked_framing_is_a_400) {
    for (const std::string body :
         {"x\r\n", ";ext\r\n", "1\nx\r\n0\r\n\r\n", "1\r\nxy\r\n", "1\r\nx\n0\r\n\r\n",
          "1;a\x01\r\nx\r\n0\r\n\r\n", "0\r\n no-name\r\n\r\n", "0\r\n:v\r\n\r\n",
          "0\r\nName\r\n\r\n", "0\r\nN: a\x7f\r\n\r\n", "0\r\n\r\r", "1 x\r\n"}) {
        const HttpLimits limits;
        RequestReader reader(limits);
        feed_all(reader, kPost + "Transfer-Encoding: chunked\r\n\r\n" + body, 1);
        BOOST_TEST(reader.state() == ReadState::kFailed, body);
        BOOST_TEST(reader.error().code == api::ErrorCode::kBadRequest, body);
    }
}

BOOST_AUTO_TEST_CASE(a_refused_body_is_counted_and_dropped) {
    const HttpLimits limits;
    RequestReader reader(limits);
    feed_all(reader, kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 5, false);
    BOOST_TEST(reader.state() == ReadState::kDone);
    BOOST_TEST(reader.request().body().empty());
    BOOST_TEST(reader.body_bytes() == 3u);
}

BOOST_AUTO_TEST_CASE(expect_continue_only_for_http_1_1_with_a_body) {
    const HttpLimits limits;
    const auto expects = [&limits](const std::string& head) {
        RequestReader reader(limits);
        reader.feed(head);
        BOOST_TEST_REQUIRE(reader.state() == ReadState::kHeadDone);
        return reader.expects_continue();
    };
    BOOST_TEST(expects(kPost + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
    BOOST_TEST(expects(kPost + "Expect:  100-Continue \r\nTransfer-Encoding: chunked\r\n\r\n"));
    BOOST_TEST(!expects(kPost + "Expect: 100-continue\r\n\r\n"));
    BOOST_TEST(!expects("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(absolute_targets_become_paths) {
    const struct {
        std::string target;
        std::string path;
    } cases[] = {
        {"http://example.test/healthz", "/healthz"},
        {"HTTPS://example.test:8443/api/v1/threads?limit=1", "/api/v1/threads?limit=1"},
        {"http://example.test", "/"},
        {"http://example.test?x=1", "/?x=1"},
        // Only the scheme, in mixed case: a target exactly as long as the prefix compared
        // (Beast 1.81's iequals read one byte past it; the fuzzer found it).
        {"hTtp://", "/"},
        {"hTtPs://", "/"},
        {"/plain", "/plain"},
    };
    for (const auto& c : cases) {
        const HttpLimits limits;
        RequestReader reader(limits);
        reader.feed("GET " + c.target + " HTTP/1.1\r\nHost: example.test\r\n\r\n");
        BOOST_TEST_REQUIRE(reader.state() == ReadState::kHeadDone);
        BOOST_TEST(reader.request().target() == c.path);
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::http
