// libFuzzer target: bytes from a client, served by the real session (http::run_session)
// over a unix socket pair, with a handler that routes with the real router and echoes.
// The limits are small, so that inputs reach every one of them: the head, the body, and
// the chunked framing allowance.
//
// Besides sanitizer reports, the run stops when what the session wrote is not a sequence
// of well-formed HTTP/1.1 responses, when a response follows one that said
// `Connection: close`, when an error is not the contract's envelope, or when the session
// let an exception escape. At exit it prints how many responses of each status it saw,
// which scripts/fuzz reads to check that the limits were reached.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "support/echo_handler.hpp"
#include "support/fuzz_checks.hpp"
#include "support/session_harness.hpp"

namespace {

namespace http = threadsd::http;
using threadsd::test::check_responses;
using threadsd::test::print_tally;
using threadsd::test::require;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::atexit(print_tally);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static http::HttpLimits limits = [] {
        http::HttpLimits small;
        small.max_header_bytes = 1024;
        small.max_body_bytes = 512;
        small.max_framing_bytes = 128;
        return small;
    }();
    threadsd::test::EchoHandler handler;
    const auto run = threadsd::test::serve_bytes(
        handler, limits, std::string_view(reinterpret_cast<const char*>(data), size));
    require(run.ended, "an exception escaped the session");
    require(run.failures == 0, "the session failed on an exception");
    check_responses(run.received);
    return 0;
}
