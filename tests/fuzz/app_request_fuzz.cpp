// libFuzzer target: bytes from a client, served by the whole application as `serve` wires
// it (the real session, RequestHandler, Authenticator, ThreadApi) on a real SQLite store
// in a temporary directory, so that mutated requests reach the routes, the body parsers and
// the store's reads and writes, not only the HTTP framing.
//
// A fuzzer cannot guess an API key, so the input's `@KEY@` is replaced by a key of the
// demo organization and `@THREAD@` by the id of one of its threads; the seeds in
// tests/fuzz/corpus/app_request/ use both. The checks are those of http_request_fuzz
// (support/fuzz_checks.hpp); at exit the tally of statuses is printed.

#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "support/fuzz_checks.hpp"
#include "support/session_harness.hpp"
#include "threadsd/api/thread_api.hpp"
#include "threadsd/auth/authenticator.hpp"
#include "threadsd/http/request_handler.hpp"
#include "threadsd/http/router.hpp"
#include "threadsd/store/admin.hpp"
#include "threadsd/store/sqlite/open.hpp"

namespace {

namespace http = threadsd::http;
namespace store = threadsd::store;
using threadsd::test::check_responses;
using threadsd::test::print_tally;
using threadsd::test::require;

/// The application, wired once for the whole run.
struct App {
    std::filesystem::path dir;            ///< The store's temporary directory.
    std::unique_ptr<store::Store> store;  ///< SQLite, durability normal (speed).
    /// Where the feed of live streams would read; never run: a stream here ends when the
    /// input does (the client's end of the connection closes).
    std::unique_ptr<boost::asio::io_context> feed_io;
    std::shared_ptr<threadsd::api::ThreadFeed> feed;               ///< Live streams.
    std::unique_ptr<threadsd::api::ThreadApi> api;                 ///< The routes' logic.
    std::unique_ptr<threadsd::api::MessageApi> messages;           ///< Messages and streams.
    std::unique_ptr<threadsd::auth::Authenticator> authenticator;  ///< API keys only.
    std::unique_ptr<http::RequestHandler> handler;                 ///< What the session calls.
    http::HttpLimits limits;  ///< Small, so that inputs reach them.
    std::string key;          ///< Replaces @KEY@.
    std::string thread_id;    ///< Replaces @THREAD@.
};

App& app() {
    static App wired = [] {
        App made;
        char pattern[] = "/tmp/threadsd-fuzz-XXXXXX";
        require(::mkdtemp(pattern) != nullptr, "cannot make a temporary directory");
        made.dir = pattern;
        store::StoreOptions options;
        options.durability = store::Durability::kNormal;
        made.store = store::sqlite::open_sqlite_store((made.dir / "fuzz.db").string(), options);
        made.feed_io = std::make_unique<boost::asio::io_context>();
        made.feed = std::make_shared<threadsd::api::ThreadFeed>(
            *made.store, made.feed_io->get_executor(), std::chrono::milliseconds(0));
        made.api = std::make_unique<threadsd::api::ThreadApi>(
            *made.store, threadsd::api::InputLimits{}, made.feed);
        threadsd::api::MessageSettings settings;
        settings.max_message_bytes = 256;  // small, so that inputs reach it
        made.messages =
            std::make_unique<threadsd::api::MessageApi>(*made.store, made.feed, settings);
        made.authenticator = std::make_unique<threadsd::auth::Authenticator>(*made.store, nullptr);
        made.handler =
            std::make_unique<http::RequestHandler>(http::Router::threads_api(), *made.authenticator,
                                                   *made.api, *made.messages, *made.store);
        made.limits.max_header_bytes = 2048;
        made.limits.max_body_bytes = 1024;
        made.limits.max_framing_bytes = 128;

        // The arguments are references the coroutine reads when io runs: named, not temporaries.
        const std::string organization = store::kDemoOrganizationId;
        const std::string name = "fuzz";
        boost::asio::io_context io;
        auto created =
            boost::asio::co_spawn(io, made.store->create_api_key(organization, name, std::nullopt),
                                  boost::asio::use_future);
        io.run();
        made.key = created.get().secret;
        return made;
    }();
    return wired;
}

/// Removes the store's directory at exit.
void remove_store() {
    std::error_code ignored;
    std::filesystem::remove_all(app().dir, ignored);
}

/// `input` with every `placeholder` replaced by `value`.
std::string replace_all(std::string input, std::string_view placeholder, std::string_view value) {
    for (auto at = input.find(placeholder); at != std::string::npos;
         at = input.find(placeholder, at + value.size())) {
        input.replace(at, placeholder.size(), value);
    }
    return input;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    auto& wired = app();
    // One thread for @THREAD@, made through the application itself.
    const std::string body = R"({"agentId":"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01"})";
    const std::string create =
        "POST /api/v1/threads/web HTTP/1.1\r\nHost: f\r\nX-API-Key: " + wired.key +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    const auto run = threadsd::test::serve_bytes(*wired.handler, wired.limits, create);
    const auto at = run.received.find(R"("id":")");
    require(run.received.starts_with("HTTP/1.1 200") && at != std::string::npos,
            "the seed thread could not be created");
    wired.thread_id = run.received.substr(at + 6, 36);
    std::atexit(print_tally);
    std::atexit(remove_store);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& wired = app();
    std::string input(reinterpret_cast<const char*>(data), size);
    input = replace_all(std::move(input), "@KEY@", wired.key);
    input = replace_all(std::move(input), "@THREAD@", wired.thread_id);
    const auto run = threadsd::test::serve_bytes(*wired.handler, wired.limits, input);
    require(run.ended, "an exception escaped the session");
    require(run.failures == 0, "the session failed on an exception");
    check_responses(run.received);
    return 0;
}
