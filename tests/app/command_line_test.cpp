#include "threadsd/app/command_line.hpp"

#include <boost/test/unit_test.hpp>

#include <charconv>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "support/files.hpp"

namespace {

using std::chrono::milliseconds;
using threadsd::app::Command;
using threadsd::app::CommandLine;
using threadsd::app::Environment;
using threadsd::app::parse_command_line;
using threadsd::app::usage_text;
using threadsd::app::UsageError;

constexpr const char* kOrg = "11111111-1111-4111-8111-111111111111";

/// An environment backed by a map, as main would see through getenv.
Environment fake_env(std::map<std::string, std::string> values = {}) {
    return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        const auto it = values.find(name);
        if (it == values.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

CommandLine parse_ok(const std::vector<std::string>& args, const Environment& env = fake_env()) {
    auto result = parse_command_line(args, env);
    if (auto* error = std::get_if<UsageError>(&result)) {
        std::string joined;
        for (const auto& a : args) {
            joined += a + " ";
        }
        BOOST_FAIL("refused '" << joined << "': " << error->message);
    }
    return std::get<CommandLine>(std::move(result));
}

/// The usage error for `args`; checks the message is one line that mentions `needle`.
std::string parse_error(const std::vector<std::string>& args, const std::string& needle) {
    std::string joined;
    for (const auto& a : args) {
        joined += a + " ";
    }
    auto result = parse_command_line(args, fake_env());
    const auto* error = std::get_if<UsageError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted '" << joined << "'");
    BOOST_TEST(error->message.find(needle) != std::string::npos,
               "message '" << error->message << "' for '" << joined << "' should name " << needle);
    BOOST_TEST(error->message.find('\n') == std::string::npos, error->message);
    BOOST_TEST(!error->message.empty());
    return error->message;
}

bool is_command(const CommandLine& line, Command command) {
    return line.command == command;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_command_line)

BOOST_AUTO_TEST_CASE(no_arguments_is_serve_with_defaults) {
    const CommandLine line = parse_ok({});
    BOOST_TEST(is_command(line, Command::kServe));
    BOOST_TEST(line.database == "./threadsd.db");
    BOOST_TEST(line.no_demo == false);
    BOOST_TEST(line.serve.listen == "127.0.0.1:8080");
    BOOST_TEST(line.serve.workers == 0u);
    BOOST_TEST(line.serve.shutdown_grace.count() == 5000);
    BOOST_TEST(line.serve.http.max_header_bytes == 16u * 1024u);
    BOOST_TEST(line.serve.http.max_body_bytes == 64u * 1024u);
    BOOST_TEST(line.serve.http.request_timeout.count() == 10'000);
    BOOST_TEST(line.serve.http.idle_timeout.count() == 75'000);
    BOOST_TEST(line.serve.input.max_map_keys == 64u);
    BOOST_TEST(line.serve.input.max_key_bytes == 128u);
    BOOST_TEST(line.serve.input.max_value_bytes == 8192u);
    BOOST_TEST(line.key_name == "default");
    BOOST_TEST(line.organization.empty());
    BOOST_TEST(line.argument.empty());

    BOOST_TEST(is_command(parse_ok({"serve"}), Command::kServe));
}

BOOST_AUTO_TEST_CASE(each_subcommand) {
    BOOST_TEST(is_command(parse_ok({"migrate"}), Command::kMigrate));
    const CommandLine import = parse_ok({"agents", "import", "agents.json"});
    BOOST_TEST(is_command(import, Command::kAgentsImport));
    BOOST_TEST(import.argument == "agents.json");
    BOOST_TEST(is_command(parse_ok({"agents", "list"}), Command::kAgentsList));
    const CommandLine create = parse_ok({"keys", "create", "--org", kOrg});
    BOOST_TEST(is_command(create, Command::kKeysCreate));
    BOOST_TEST(create.organization == kOrg);
    BOOST_TEST(create.key_name == "default");
    BOOST_TEST(is_command(parse_ok({"keys", "list"}), Command::kKeysList));
    const CommandLine revoke = parse_ok({"keys", "revoke", "key-id-1"});
    BOOST_TEST(is_command(revoke, Command::kKeysRevoke));
    BOOST_TEST(revoke.argument == "key-id-1");
}

BOOST_AUTO_TEST_CASE(keys_create_with_name_and_upper_case_org) {
    const CommandLine line = parse_ok(
        {"keys", "create", "--name", "ci key", "--org", "ABCDEFAB-CDEF-4BCD-8FAB-CDEFABCDEFAB"});
    BOOST_TEST(line.organization == "abcdefab-cdef-4bcd-8fab-cdefabcdefab");
    BOOST_TEST(line.key_name == "ci key");
}

BOOST_AUTO_TEST_CASE(options_anywhere_and_equals_form) {
    const CommandLine a = parse_ok({"keys", "create", "--org", kOrg, "--db", "x.db"});
    const CommandLine b = parse_ok({"keys", "--db", "x.db", "create", "--org", kOrg});
    const CommandLine c = parse_ok({"--org=" + std::string(kOrg), "keys", "create", "--db=x.db"});
    for (const auto* line : {&a, &b, &c}) {
        BOOST_TEST(is_command(*line, Command::kKeysCreate));
        BOOST_TEST(line->database == "x.db");
        BOOST_TEST(line->organization == kOrg);
    }
    const CommandLine import =
        parse_ok({"agents", "--no-demo", "import", "--db", "y.db", "f.json"});
    BOOST_TEST(is_command(import, Command::kAgentsImport));
    BOOST_TEST(import.argument == "f.json");
    BOOST_TEST(import.database == "y.db");
    BOOST_TEST(import.no_demo);
    const CommandLine serve = parse_ok({"--workers=3", "serve", "--listen", "0.0.0.0:9000"});
    BOOST_TEST(serve.serve.workers == 3u);
    BOOST_TEST(serve.serve.listen == "0.0.0.0:9000");
    // An equals sign inside the value belongs to the value.
    BOOST_TEST(parse_ok({"migrate", "--db=a=b.db"}).database == "a=b.db");
}

BOOST_AUTO_TEST_CASE(database_from_environment_and_flag) {
    BOOST_TEST(parse_ok({"migrate"}, fake_env({{"THREADSD_DB", "/tmp/env.db"}})).database ==
               "/tmp/env.db");
    BOOST_TEST(parse_ok({"migrate", "--db", "flag.db"}, fake_env({{"THREADSD_DB", "/tmp/env.db"}}))
                   .database == "flag.db");
    BOOST_TEST(parse_ok({}, fake_env({{"THREADSD_DB", "/tmp/env.db"}})).database == "/tmp/env.db");
    // An empty variable is as good as unset.
    BOOST_TEST(parse_ok({"migrate"}, fake_env({{"THREADSD_DB", ""}})).database == "./threadsd.db");
    // Other variables are not consulted.
    BOOST_TEST(parse_ok({"migrate"}, fake_env({{"DB", "/tmp/other.db"}})).database ==
               "./threadsd.db");
}

BOOST_AUTO_TEST_CASE(every_serve_flag_parses) {
    const CommandLine line = parse_ok({"serve",
                                       "--listen",
                                       "127.0.0.1:0",
                                       "--db",
                                       "s.db",
                                       "--no-demo",
                                       "--workers",
                                       "4",
                                       "--shutdown-grace",
                                       "2s",
                                       "--request-timeout",
                                       "500ms",
                                       "--idle-timeout",
                                       "30",
                                       "--max-header-bytes",
                                       "2048",
                                       "--max-body-bytes",
                                       "1048576",
                                       "--max-map-keys",
                                       "10",
                                       "--max-key-bytes",
                                       "16",
                                       "--max-value-bytes",
                                       "100"});
    BOOST_TEST(is_command(line, Command::kServe));
    BOOST_TEST(line.serve.listen == "127.0.0.1:0");
    BOOST_TEST(line.database == "s.db");
    BOOST_TEST(line.no_demo);
    BOOST_TEST(line.serve.workers == 4u);
    BOOST_TEST(line.serve.shutdown_grace.count() == 2000);
    BOOST_TEST(line.serve.http.request_timeout.count() == 500);
    BOOST_TEST(line.serve.http.idle_timeout.count() == 30'000);
    BOOST_TEST(line.serve.http.max_header_bytes == 2048u);
    BOOST_TEST(line.serve.http.max_body_bytes == 1'048'576u);
    BOOST_TEST(line.serve.input.max_map_keys == 10u);
    BOOST_TEST(line.serve.input.max_key_bytes == 16u);
    BOOST_TEST(line.serve.input.max_value_bytes == 100u);
    // Options without a subcommand word apply to serve too.
    BOOST_TEST(parse_ok({"--workers", "2"}).serve.workers == 2u);
}

BOOST_AUTO_TEST_CASE(durability_is_full_unless_normal_is_asked_for) {
    using threadsd::store::Durability;
    BOOST_TEST((parse_ok({"serve"}).serve.durability == Durability::kFull));
    BOOST_TEST((parse_ok({"serve", "--durability", "full"}).serve.durability == Durability::kFull));
    BOOST_TEST(
        (parse_ok({"serve", "--durability=normal"}).serve.durability == Durability::kNormal));
    for (const char* bad : {"", "FULL", "off", "extra", "0", "fsync"}) {
        parse_error({"serve", "--durability", bad}, "--durability must be full or normal");
    }
}

BOOST_AUTO_TEST_CASE(durations_in_seconds_milliseconds_and_bare) {
    const auto timeout = [](const std::string& value) {
        return parse_ok({"serve", "--request-timeout", value}).serve.http.request_timeout.count();
    };
    BOOST_TEST(timeout("10s") == 10'000);
    BOOST_TEST(timeout("500ms") == 500);
    BOOST_TEST(timeout("1ms") == 1);
    BOOST_TEST(timeout("7") == 7'000);
    BOOST_TEST(timeout("86400s") == 86'400'000);
    BOOST_TEST(timeout("86400000ms") == 86'400'000);
    BOOST_TEST(timeout("10m") == 600'000);
    BOOST_TEST(timeout("24h") == 86'400'000);
    for (const char* flag : {"--shutdown-grace", "--request-timeout", "--idle-timeout",
                             "--write-timeout", "--stream-keepalive"}) {
        for (const char* bad : {"",
                                "0",
                                "0s",
                                "0ms",
                                "0m",
                                "0h",
                                "-1",
                                "-5s",
                                "1.5s",
                                "1.5h",
                                "ms",
                                "s",
                                "m",
                                "h",
                                "10 s",
                                "abc",
                                "86401s",
                                "86400001ms",
                                "1441m",
                                "25h",
                                "10sec",
                                "10min",
                                "99999999999999999999"}) {
            parse_error({"serve", flag, bad}, flag);
        }
    }
}

BOOST_AUTO_TEST_CASE(message_settings_and_their_contract_defaults) {
    const auto defaults = parse_ok({"serve"}).serve.messages;
    BOOST_TEST(defaults.conversation_window.count() == 24 * 3'600'000);
    BOOST_TEST(defaults.expiry_sweep_interval.count() == 15'000);
    BOOST_TEST(defaults.stream_keepalive.count() == 15'000);
    BOOST_TEST(defaults.max_message_bytes == 16'384u);
    // A conversation window may run for up to a year.
    BOOST_TEST(parse_ok({"serve", "--conversation-window", "8760h"})
                   .serve.messages.conversation_window.count() == 8760LL * 3'600'000);
    BOOST_TEST(parse_ok({"serve", "--conversation-window", "90m"})
                   .serve.messages.conversation_window.count() == 90 * 60'000);
    parse_error({"serve", "--conversation-window", "8761h"}, "--conversation-window");
    parse_error({"serve", "--conversation-window", "0s"}, "--conversation-window");
    BOOST_TEST(parse_ok({"serve", "--max-message-bytes", "1"}).serve.messages.max_message_bytes ==
               1u);
    parse_error({"serve", "--max-message-bytes", "0"}, "--max-message-bytes");
    // A window that ended is closed within 60 s (contract section 9): no slower sweep.
    BOOST_TEST(parse_ok({"serve", "--expiry-sweep-interval", "60s"})
                   .serve.messages.expiry_sweep_interval.count() == 60'000);
    parse_error({"serve", "--expiry-sweep-interval", "61s"}, "--expiry-sweep-interval");
    parse_error({"serve", "--expiry-sweep-interval", "0ms"}, "--expiry-sweep-interval");
    parse_error({"serve", "--max-message-bytes", "1048577"}, "--max-message-bytes");
}

BOOST_AUTO_TEST_CASE(sizes_and_counts_within_bounds) {
    const auto with = [](const std::string& flag, const std::string& value) {
        return parse_ok({"serve", flag, value});
    };
    BOOST_TEST(with("--workers", "1").serve.workers == 1u);
    BOOST_TEST(with("--workers", "256").serve.workers == 256u);
    BOOST_TEST(with("--max-header-bytes", "1024").serve.http.max_header_bytes == 1024u);
    BOOST_TEST(with("--max-header-bytes", "65535").serve.http.max_header_bytes == 65535u);
    BOOST_TEST(with("--max-framing-bytes", "64").serve.http.max_framing_bytes == 64u);
    BOOST_TEST(with("--max-framing-bytes", "1048576").serve.http.max_framing_bytes == 1048576u);
    BOOST_TEST(with("--max-body-bytes", "1024").serve.http.max_body_bytes == 1024u);
    BOOST_TEST(with("--max-body-bytes", "67108864").serve.http.max_body_bytes == 67108864u);
    BOOST_TEST(with("--max-map-keys", "1").serve.input.max_map_keys == 1u);
    BOOST_TEST(with("--max-key-bytes", "1").serve.input.max_key_bytes == 1u);
    BOOST_TEST(with("--max-value-bytes", "1").serve.input.max_value_bytes == 1u);
    BOOST_TEST(parse_ok({"serve"}).serve.http.max_connections == 10'000u);
    BOOST_TEST(with("--max-connections", "1").serve.http.max_connections == 1u);
    BOOST_TEST(with("--max-connections", "1000000").serve.http.max_connections == 1'000'000u);
    BOOST_TEST(parse_ok({"serve"}).serve.max_queued_writes == 1000u);
    BOOST_TEST(parse_ok({"serve"}).serve.http.write_timeout.count() == 10'000);
    BOOST_TEST(parse_ok({"serve", "--write-timeout", "250ms"}).serve.http.write_timeout.count() ==
               250);
    BOOST_TEST(with("--max-queued-writes", "1").serve.max_queued_writes == 1u);
    BOOST_TEST(with("--max-queued-writes", "1000000").serve.max_queued_writes == 1'000'000u);

    const std::vector<std::pair<std::string, std::vector<std::string>>> bad_values = {
        {"--workers", {"0", "257", "-1", "two", "", "1.5", "4 ", " 4", "+4", "0x10"}},
        {"--max-header-bytes", {"1023", "65536", "1048576", "abc", "", "16k"}},
        {"--max-framing-bytes", {"63", "1048577", "x", ""}},
        {"--max-body-bytes", {"1023", "67108865", "-1", "", "64KiB"}},
        {"--max-map-keys", {"0", "100001", "x", ""}},
        {"--max-key-bytes", {"0", "1048577", "x", ""}},
        {"--max-value-bytes", {"0", "67108865", "x", ""}},
        {"--max-connections", {"0", "1000001", "-1", "ten", ""}},
        {"--max-queued-writes", {"0", "1000001", "-5", "many", ""}},
    };
    for (const auto& [flag, values] : bad_values) {
        for (const auto& value : values) {
            parse_error({"serve", flag, value}, flag);
            parse_error({"serve", flag + "=" + value}, flag);
        }
    }
}

BOOST_AUTO_TEST_CASE(rate_limits) {
    BOOST_TEST(parse_ok({"serve"}).serve.rate_limit == 0u);
    BOOST_TEST(parse_ok({"serve", "--rate-limit", "50"}).serve.rate_limit == 50u);
    BOOST_TEST(parse_ok({"serve", "--rate-limit", "0"}).serve.rate_limit == 0u);
    BOOST_TEST(!parse_ok({"keys", "create", "--org", kOrg}).key_rate.has_value());
    BOOST_TEST(parse_ok({"keys", "create", "--org", kOrg, "--rate", "5"}).key_rate.value_or(0) ==
               5);
    BOOST_TEST(parse_ok({"keys", "create", "--rate=1000000", "--org", kOrg}).key_rate.value_or(0) ==
               1'000'000);
    for (const std::string bad : {"0", "-1", "1.5", "", "fast", "1000001"}) {
        parse_error({"keys", "create", "--org", kOrg, "--rate", bad}, "--rate");
    }
    for (const std::string bad : {"-1", "x", "1000001"}) {
        parse_error({"serve", "--rate-limit", bad}, "--rate-limit");
    }
    parse_error({"serve", "--rate", "5"}, "keys create only");
    BOOST_TEST(parse_ok({"serve"}).serve.access_log.enabled);
    BOOST_TEST(!parse_ok({"serve", "--access-log", "off"}).serve.access_log.enabled);
    parse_error({"serve", "--access-log", "maybe"}, "--access-log must be on or off");
    BOOST_TEST(parse_ok({"serve"}).serve.access_log.trusted_proxies.empty());
    const auto proxies =
        parse_ok({"serve", "--trusted-proxies", "127.0.0.1, 10.0.0.0/8,::1"}).serve.access_log;
    BOOST_TEST(proxies.trusted_proxies.trusts(boost::asio::ip::make_address("10.1.2.3")));
    BOOST_TEST(proxies.enabled);
    parse_error({"serve", "--trusted-proxies", "127.0.0.1,nginx"},
                "--trusted-proxies: 'nginx' is neither an IP address nor a network");
    parse_error({"keys", "create", "--org", kOrg, "--rate-limit", "5"}, "serve only");
}

BOOST_AUTO_TEST_CASE(clerk_settings_and_commands) {
    const auto off = parse_ok({"serve"}).serve.bearer;
    BOOST_TEST(!off.enabled());
    BOOST_TEST(off.leeway.count() == 5);
    const auto on = parse_ok({"serve", "--clerk-jwks", "/etc/jwks.json", "--clerk-issuer",
                              "https://clerk.example.com", "--clerk-authorized-parties",
                              " https://a.example , https://b.example,", "--clerk-leeway", "0"})
                        .serve.bearer;
    BOOST_TEST(on.enabled());
    BOOST_TEST(on.jwks_file == "/etc/jwks.json");
    BOOST_TEST(on.issuer == "https://clerk.example.com");
    BOOST_TEST(on.authorized_parties ==
                   (std::vector<std::string>{"https://a.example", "https://b.example"}),
               boost::test_tools::per_element());
    BOOST_TEST(on.leeway.count() == 0);
    BOOST_TEST(parse_ok({"serve", "--clerk-public-key", "k.pem", "--clerk-issuer", "i",
                         "--clerk-leeway", "30s"})
                   .serve.bearer.leeway.count() == 30);
    for (const std::string bad : {"500ms", "301", "-1", "soon"}) {
        parse_error({"serve", "--clerk-jwks", "j", "--clerk-issuer", "i", "--clerk-leeway", bad},
                    "--clerk-leeway");
    }
    parse_error({"serve", "--clerk-jwks", "j"}, "need --clerk-issuer");
    parse_error({"serve", "--clerk-issuer", "i"}, "need --clerk-public-key or --clerk-jwks");
    parse_error({"serve", "--clerk-jwks", ""}, "--clerk-jwks must name a file");

    const auto map = parse_ok({"clerk", "map", "org_2abcDEF", "--org", kOrg});
    BOOST_TEST(is_command(map, Command::kClerkMap));
    BOOST_TEST(map.argument == "org_2abcDEF");
    BOOST_TEST(map.organization == kOrg);
    BOOST_TEST(is_command(parse_ok({"clerk", "list"}), Command::kClerkList));
    BOOST_TEST(parse_ok({"clerk", "unmap", "org_x1"}).argument == "org_x1");
    parse_error({"clerk", "map", "org_2abc"}, "clerk map needs --org");
    for (const std::string& bad :
         std::vector<std::string>{"org_", "user_2abc", "org_2a-b", "ORG_2abc",
                                  std::string("org_") + std::string(65, 'a')}) {
        parse_error({"clerk", "unmap", bad}, "Clerk organization id");
    }
    parse_error({"clerk", "map", "org_1", "--org", kOrg, "--name", "x"}, "keys create only");
    parse_error({"clerk", "list", "--clerk-jwks", "j"}, "serve only");
    parse_error({"migrate", "--org", kOrg}, "--org applies to keys create and clerk map only");
    parse_error({"clerk", "map"}, "usage: threadsd clerk map");
}

BOOST_AUTO_TEST_CASE(other_bad_flag_values) {
    parse_error({"serve", "--listen", "8080"}, "--listen");
    parse_error({"serve", "--db", ""}, "--db");
    parse_error({"migrate", "--db="}, "--db");
    parse_error({"keys", "create", "--org", kOrg, "--name", ""}, "--name");
    parse_error({"keys", "create", "--org", kOrg, "--name", std::string(201, 'n')}, "--name");
    BOOST_TEST(parse_ok({"keys", "create", "--org", kOrg, "--name", std::string(200, 'n')})
                   .key_name.size() == 200u);
}

BOOST_AUTO_TEST_CASE(flag_needing_a_value_at_the_end) {
    parse_error({"serve", "--workers"}, "--workers");
    parse_error({"migrate", "--db"}, "--db");
    parse_error({"keys", "create", "--org"}, "--org");
}

BOOST_AUTO_TEST_CASE(flag_value_that_looks_like_a_flag_is_a_missing_value) {
    const auto message = parse_error({"migrate", "--db", "--no-demo"}, "--db");
    BOOST_TEST(message.find("needs a value") != std::string::npos, message);
    // The = form states the value explicitly, so it is taken as written.
    BOOST_TEST(parse_ok({"migrate", "--db=--odd-name"}).database == "--odd-name");
}

BOOST_AUTO_TEST_CASE(flag_without_value_refuses_one) {
    parse_error({"migrate", "--no-demo=yes"}, "--no-demo");
}

BOOST_AUTO_TEST_CASE(unknown_option) {
    parse_error({"serve", "--bogus"}, "--bogus");
    parse_error({"--port", "8080"}, "--port");
    parse_error({"migrate", "--dbx", "a"}, "--dbx");
    parse_error({"migrate", "--DB", "a"}, "--DB");
}

BOOST_AUTO_TEST_CASE(unknown_command) {
    parse_error({"start"}, "start");
    parse_error({"agents"}, "agents");
    parse_error({"agents", "delete"}, "agents");
    parse_error({"keys"}, "keys");
    parse_error({"keys", "rotate", "x"}, "keys");
    parse_error({"Migrate"}, "Migrate");
}

BOOST_AUTO_TEST_CASE(wrong_number_of_words) {
    parse_error({"agents", "import"}, "FILE");
    parse_error({"agents", "import", "--db", "x.db"}, "FILE");
    parse_error({"agents", "import", "a.json", "b.json"}, "agents import");
    parse_error({"keys", "revoke"}, "KEY_ID");
    parse_error({"keys", "revoke", "a", "b"}, "KEY_ID");
    parse_error({"migrate", "now"}, "migrate");
    parse_error({"serve", "extra"}, "serve");
    parse_error({"agents", "list", "all"}, "agents list");
    parse_error({"keys", "list", "all"}, "keys list");
    parse_error({"keys", "create", "extra", "--org", kOrg}, "keys create");
}

BOOST_AUTO_TEST_CASE(db_copy_takes_from_to_and_resume) {
    const auto line = parse_ok({"db", "copy", "--from", "a.db", "--to=postgresql://u@/d"});
    BOOST_TEST(is_command(line, Command::kDbCopy));
    BOOST_TEST(line.copy_from == "a.db");
    BOOST_TEST(line.copy_to == "postgresql://u@/d");
    BOOST_TEST(!line.copy_resume);
    BOOST_TEST(parse_ok({"db", "copy", "--resume", "--from", "a", "--to", "b"}).copy_resume);
    parse_error({"db", "copy", "--from", "a.db"}, "--to DST");
    parse_error({"db", "copy", "--to", "a.db"}, "--from SRC");
    parse_error({"db", "copy", "--from", "a.db", "--to", "a.db"}, "the same");
    parse_error({"db", "copy", "x", "--from", "a", "--to", "b"}, "usage: threadsd db copy");
    parse_error({"migrate", "--resume"}, "db copy only");
    parse_error({"keys", "list", "--from", "a.db"}, "db copy only");
}

BOOST_AUTO_TEST_CASE(keys_create_needs_a_uuid_org) {
    parse_error({"keys", "create"}, "--org");
    parse_error({"keys", "create", "--name", "x"}, "--org");
    parse_error({"keys", "create", "--org", "not-a-uuid"}, "--org");
    parse_error({"keys", "create", "--org", "{11111111-1111-4111-8111-111111111111}"}, "--org");
    parse_error({"keys", "create", "--org", "11111111111141118111111111111111"}, "--org");
    parse_error({"keys", "create", "--org="}, "--org");
}

BOOST_AUTO_TEST_CASE(serve_only_flags_refused_elsewhere) {
    for (const std::vector<std::string>& flag :
         std::vector<std::vector<std::string>>{{"--listen", "127.0.0.1:1"},
                                               {"--workers", "2"},
                                               {"--shutdown-grace", "1s"},
                                               {"--request-timeout", "1s"},
                                               {"--idle-timeout", "1s"},
                                               {"--max-header-bytes", "2048"},
                                               {"--max-body-bytes", "2048"},
                                               {"--max-map-keys", "2"},
                                               {"--max-key-bytes", "2"},
                                               {"--max-value-bytes", "2"}}) {
        for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
                 {"migrate"}, {"agents", "list"}, {"keys", "list"}, {"keys", "revoke", "k"}}) {
            std::vector<std::string> args = command;
            args.insert(args.end(), flag.begin(), flag.end());
            const std::string message = parse_error(args, flag[0]);
            BOOST_TEST(message.find("serve") != std::string::npos, message);
        }
    }
    // --org and --name belong to keys create only.
    parse_error({"migrate", "--org", kOrg}, "--org");
    parse_error({"serve", "--name", "x"}, "--name");
    parse_error({"keys", "list", "--name", "x"}, "--name");
}

BOOST_AUTO_TEST_CASE(common_flags_accepted_everywhere) {
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"serve"},
                                               {"migrate"},
                                               {"agents", "import", "f.json"},
                                               {"agents", "list"},
                                               {"keys", "create", "--org", kOrg},
                                               {"keys", "list"},
                                               {"keys", "revoke", "k"}}) {
        std::vector<std::string> args = command;
        args.insert(args.end(), {"--db", "c.db", "--no-demo"});
        const CommandLine line = parse_ok(args);
        BOOST_TEST(line.database == "c.db");
        BOOST_TEST(line.no_demo);
    }
}

BOOST_AUTO_TEST_CASE(help) {
    BOOST_TEST(is_command(parse_ok({"--help"}), Command::kHelp));
    BOOST_TEST(is_command(parse_ok({"-h"}), Command::kHelp));
    BOOST_TEST(is_command(parse_ok({"keys", "create", "--help"}), Command::kHelp));
    BOOST_TEST(is_command(parse_ok({"serve", "--help", "--workers", "0"}), Command::kHelp));
    const std::string text = usage_text();
    for (const char* word : {"serve",
                             "migrate",
                             "db copy",
                             "agents import",
                             "agents list",
                             "keys create",
                             "keys list",
                             "keys revoke",
                             "--db",
                             "--no-demo",
                             "--listen",
                             "--workers",
                             "--shutdown-grace",
                             "--request-timeout",
                             "--idle-timeout",
                             "--max-header-bytes",
                             "--max-body-bytes",
                             "--max-map-keys",
                             "--max-key-bytes",
                             "--max-value-bytes",
                             "--org",
                             "--name",
                             "--write-timeout",
                             "--max-connections",
                             "--max-queued-writes",
                             "--rate-limit",
                             "--rate",
                             "--config",
                             "--access-log",
                             "--trusted-proxies",
                             "clerk map",
                             "clerk list",
                             "clerk unmap",
                             "--clerk-public-key",
                             "--clerk-jwks",
                             "--clerk-issuer",
                             "--clerk-authorized-parties",
                             "--clerk-leeway",
                             "THREADSD_CONFIG",
                             "THREADSD_DB"}) {
        BOOST_TEST(text.find(word) != std::string::npos, "usage text lacks " << word);
    }
}

// ---- Settings from the environment and a config file -----------------------------------

/// A file reader backed by a map, as main would see through read_text_file.
threadsd::app::FileReader fake_files(std::map<std::string, std::string> files) {
    return [files = std::move(files)](const std::string& path) -> std::optional<std::string> {
        const auto it = files.find(path);
        if (it == files.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

/// Parses with an environment and files; the command line or the one-line error.
std::variant<CommandLine, UsageError> parse_with(const std::vector<std::string>& args,
                                                 std::map<std::string, std::string> env,
                                                 std::map<std::string, std::string> files = {}) {
    return parse_command_line(args, fake_env(std::move(env)), fake_files(std::move(files)));
}

CommandLine settled(const std::vector<std::string>& args, std::map<std::string, std::string> env,
                    std::map<std::string, std::string> files = {}) {
    auto result = parse_with(args, std::move(env), std::move(files));
    const auto* error = std::get_if<UsageError>(&result);
    BOOST_TEST_REQUIRE(error == nullptr, (error != nullptr ? error->message : ""));
    return std::get<CommandLine>(std::move(result));
}

std::string refused(const std::vector<std::string>& args, std::map<std::string, std::string> env,
                    std::map<std::string, std::string> files = {}) {
    auto result = parse_with(args, std::move(env), std::move(files));
    const auto* error = std::get_if<UsageError>(&result);
    BOOST_TEST_REQUIRE(error != nullptr, "accepted");
    BOOST_TEST(error->message.find('\n') == std::string::npos, error->message);
    return error->message;
}

BOOST_AUTO_TEST_CASE(environment_names_follow_the_flags) {
    using threadsd::app::environment_name;
    BOOST_TEST(environment_name("--db") == "THREADSD_DB");
    BOOST_TEST(environment_name("--max-body-bytes") == "THREADSD_MAX_BODY_BYTES");
    BOOST_TEST(environment_name("--rate-limit") == "THREADSD_RATE_LIMIT");
}

BOOST_AUTO_TEST_CASE(every_serve_setting_can_come_from_the_environment) {
    const auto line = settled({"serve"}, {{"THREADSD_LISTEN", "0.0.0.0:9000"},
                                          {"THREADSD_WORKERS", "3"},
                                          {"THREADSD_DURABILITY", "normal"},
                                          {"THREADSD_MAX_BODY_BYTES", "2048"},
                                          {"THREADSD_REQUEST_TIMEOUT", "2s"},
                                          {"THREADSD_RATE_LIMIT", "9"},
                                          {"THREADSD_MAX_QUEUED_WRITES", "5"},
                                          {"THREADSD_DB", "/var/lib/threadsd/t.db"}});
    BOOST_TEST(line.serve.listen == "0.0.0.0:9000");
    BOOST_TEST(line.serve.workers == 3u);
    BOOST_TEST((line.serve.durability == threadsd::store::Durability::kNormal));
    BOOST_TEST(line.serve.http.max_body_bytes == 2048u);
    BOOST_TEST(line.serve.http.request_timeout.count() == 2000);
    BOOST_TEST(line.serve.rate_limit == 9u);
    BOOST_TEST(line.serve.max_queued_writes == 5u);
    BOOST_TEST(line.database == "/var/lib/threadsd/t.db");
}

BOOST_AUTO_TEST_CASE(a_flag_beats_the_environment_which_beats_the_file) {
    const std::map<std::string, std::string> files = {
        {"/etc/threadsd.conf",
         "# threadsd settings\n\n  workers = 2\nmax-body-bytes=4096\r\nlisten = 127.0.0.1:7000\n"
         "db = /srv/file.db\n"}};
    const std::map<std::string, std::string> env = {{"THREADSD_CONFIG", "/etc/threadsd.conf"},
                                                    {"THREADSD_WORKERS", "5"}};
    const auto from_file_and_env = settled({"serve"}, env, files);
    BOOST_TEST(from_file_and_env.serve.workers == 5u);                 // environment over file
    BOOST_TEST(from_file_and_env.serve.http.max_body_bytes == 4096u);  // file over default
    BOOST_TEST(from_file_and_env.serve.listen == "127.0.0.1:7000");
    BOOST_TEST(from_file_and_env.database == "/srv/file.db");
    const auto with_flags = settled({"serve", "--workers", "7", "--listen=[::1]:80"}, env, files);
    BOOST_TEST(with_flags.serve.workers == 7u);  // flag over environment
    BOOST_TEST(with_flags.serve.listen == "[::1]:80");
    BOOST_TEST(with_flags.serve.http.max_body_bytes == 4096u);
    // --config names the file, over $THREADSD_CONFIG.
    const auto other = settled({"serve", "--config", "/other.conf"}, env,
                               {{"/other.conf", "workers = 1\nmax-body-bytes = 1024\n"}});
    BOOST_TEST(other.serve.workers == 5u);
    BOOST_TEST(other.serve.http.max_body_bytes == 1024u);
    // Defaults stay where nothing says otherwise.
    BOOST_TEST(settled({"serve"}, {}).serve.http.max_body_bytes == 65536u);
}

BOOST_AUTO_TEST_CASE(other_subcommands_ignore_serve_settings_from_the_environment_and_file) {
    const std::map<std::string, std::string> files = {{"/t.conf", "workers = 4\ndb = /t.db\n"}};
    const auto line = settled({"keys", "list"},
                              {{"THREADSD_CONFIG", "/t.conf"}, {"THREADSD_WORKERS", "x"}}, files);
    BOOST_TEST(line.database == "/t.db");  // --db is everybody's setting
    // A serve flag on the command line is still an error there.
    BOOST_TEST(refused({"keys", "list", "--workers", "2"}, {}).find("serve only") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_settings_name_their_source_in_one_line) {
    BOOST_TEST(
        refused({"serve"}, {{"THREADSD_WORKERS", "zero"}}).find("THREADSD_WORKERS: --workers") ==
        0u);
    BOOST_TEST(refused({"serve"}, {{"THREADSD_DURABILITY", "fast"}}).find("THREADSD_DURABILITY") ==
               0u);
    const std::map<std::string, std::string> env = {{"THREADSD_CONFIG", "/c"}};
    BOOST_TEST(refused({"serve"}, env, {{"/c", "workers = 2\nworkers = 999\n"}}) ==
               "config file /c line 2: --workers must be a whole number from 1 to 256");
    BOOST_TEST(refused({"serve"}, env, {{"/c", "# ok\nspeed = 3\n"}}) ==
               "config file /c line 2: unknown setting speed");
    BOOST_TEST(refused({"serve"}, env, {{"/c", "org = 1\n"}}) ==
               "config file /c line 1: unknown setting org");
    BOOST_TEST(refused({"serve"}, env, {{"/c", "workers 2\n"}}) ==
               "config file /c line 1: expected name = value");
    BOOST_TEST(refused({"serve"}, env, {}) == "cannot read config file /c");
    BOOST_TEST(refused({"serve", "--config"}, {}).find("--config needs a value") !=
               std::string::npos);
}

// ---- The settings table: --help, the environment, the config file and the docs ---------

using threadsd::app::Setting;
using threadsd::app::settings;

/// How to bring docs/configuration.md back in line with the code.
constexpr const char* kRegenerateTable =
    "regenerate it with: bash scripts/settings-table build/threadsd (the threadsd you built)";

/// A value other than the default for every setting; "" for a switch.
const std::map<std::string, std::string> kExampleValues = {
    {"--db", "/srv/example.db"},
    {"--no-demo", ""},
    {"--config", "/example.conf"},
    {"--listen", "0.0.0.0:9000"},
    {"--workers", "3"},
    {"--durability", "normal"},
    {"--shutdown-grace", "2s"},
    {"--request-timeout", "250ms"},
    {"--idle-timeout", "30s"},
    {"--write-timeout", "3s"},
    {"--conversation-window", "2h"},
    {"--expiry-sweep-interval", "5s"},
    {"--stream-keepalive", "20s"},
    {"--max-message-bytes", "4096"},
    {"--max-connections", "5"},
    {"--access-log", "off"},
    {"--trusted-proxies", "10.0.0.0/8"},
    {"--rate-limit", "7"},
    {"--clerk-public-key", "/clerk.pem"},
    {"--clerk-jwks", "/jwks.json"},
    {"--clerk-issuer", "https://clerk.example.com"},
    {"--clerk-authorized-parties", "https://a.example"},
    {"--clerk-leeway", "9s"},
    {"--max-queued-writes", "9"},
    {"--max-header-bytes", "2048"},
    {"--max-body-bytes", "4096"},
    {"--max-framing-bytes", "128"},
    {"--max-map-keys", "3"},
    {"--max-key-bytes", "5"},
    {"--max-value-bytes", "6"},
};

/// Flags a setting cannot go without (Clerk's key files and issuer need each other).
std::vector<std::string> companions_of(std::string_view flag) {
    if (flag == "--clerk-public-key" || flag == "--clerk-jwks") {
        return {"--clerk-issuer=https://clerk.example.com"};
    }
    if (flag == "--clerk-issuer") {
        return {"--clerk-jwks=/jwks.json"};
    }
    if (flag == "--clerk-authorized-parties") {
        return {"--clerk-jwks=/jwks.json", "--clerk-issuer=https://clerk.example.com"};
    }
    return {};
}

/// `text` with every run of spaces and newlines made one space, as a reader sees it.
std::string collapse_spaces(std::string_view text) {
    std::string collapsed;
    for (const char c : text) {
        const bool space = c == ' ' || c == '\n';
        if (!space || (!collapsed.empty() && collapsed.back() != ' ')) {
            collapsed += space ? ' ' : c;
        }
    }
    return collapsed;
}

BOOST_AUTO_TEST_CASE(settings_table_in_the_docs_matches_the_code) {
    const std::string doc =
        threadsd::test::read_file(threadsd::test::repository_file("docs/configuration.md"));
    const std::string begin = "<!-- settings-table:begin -->\n";
    const std::string end = "\n<!-- settings-table:end -->\n";
    const auto table_begin = doc.find(begin);
    const auto table_end =
        table_begin == std::string::npos ? std::string::npos : doc.find(end, table_begin);
    BOOST_TEST_REQUIRE(table_end != std::string::npos,
                       "docs/configuration.md lacks the settings-table markers, each on a line "
                       "of its own; "
                           << kRegenerateTable);
    const auto start = table_begin + begin.size();
    const std::string in_docs = doc.substr(start, table_end + 1 - start);
    const std::string made = threadsd::app::settings_markdown();
    if (in_docs != made) {
        // Name the first line that differs rather than print two whole tables.
        std::size_t line = 0;
        std::size_t at = 0;
        while (at < in_docs.size() && at < made.size() && in_docs[at] == made[at]) {
            line += in_docs[at] == '\n' ? 1 : 0;
            ++at;
        }
        const auto line_of = [&](const std::string& text) {
            const auto first = text.rfind('\n', at == 0 ? 0 : at - 1);
            const auto from = first == std::string::npos || at == 0 ? 0 : first + 1;
            return text.substr(from, text.find('\n', from) - from);
        };
        BOOST_ERROR(
            "the settings table of docs/configuration.md differs from the code at its "
            "line "
            << line + 1 << ":\n  docs: " << line_of(in_docs) << "\n  code: " << line_of(made)
            << "\n"
            << kRegenerateTable);
    }
}

BOOST_AUTO_TEST_CASE(help_lists_every_setting_with_its_default) {
    const std::string text = usage_text();
    for (const Setting& setting : settings()) {
        std::string usage = "\n  " + std::string(setting.flag);
        if (!setting.placeholder.empty()) {
            usage += " " + std::string(setting.placeholder);
        }
        const auto at = text.find(usage + " ");
        const auto at_end_of_line = text.find(usage + "\n");
        const auto found = std::min(at, at_end_of_line);
        BOOST_TEST_REQUIRE(found != std::string::npos, "--help lacks " << usage.substr(3));
        // Its entry runs to the next option or the end of its group.
        const auto entry_end = std::min(text.find("\n  --", found + 1), text.find("\n\n", found));
        const std::string entry = collapse_spaces(text.substr(found, entry_end - found));
        const std::string default_text = "(default " + setting.format(CommandLine{});
        BOOST_TEST(entry.find(default_text) != std::string::npos,
                   "--help says '" << entry << "', without " << default_text);
        BOOST_TEST(entry.find(collapse_spaces(setting.meaning)) != std::string::npos, entry);
        if (!setting.range.empty()) {
            BOOST_TEST(entry.find(collapse_spaces(setting.range)) != std::string::npos, entry);
        }
    }
    // The defaults are the option structs' own.
    BOOST_TEST(collapse_spaces(text).find(
                   "(default " + std::to_string(CommandLine{}.serve.http.max_body_bytes) + ";") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_markdown_prints_the_settings_table) {
    using threadsd::app::HelpTopic;
    const CommandLine markdown = parse_ok({"serve", "--help-markdown"});
    BOOST_TEST(is_command(markdown, Command::kHelp));
    BOOST_TEST((markdown.help == HelpTopic::kSettingsMarkdown));
    BOOST_TEST((parse_ok({"--help"}).help == HelpTopic::kUsage));
    BOOST_TEST(threadsd::app::help_text(HelpTopic::kSettingsMarkdown) ==
               threadsd::app::settings_markdown());
    BOOST_TEST(threadsd::app::help_text(HelpTopic::kUsage) == usage_text());
    const std::string table = threadsd::app::settings_markdown();
    for (const Setting& setting : settings()) {
        BOOST_TEST(table.find("| `" + std::string(setting.flag)) != std::string::npos,
                   "the table lacks " << setting.flag);
    }
    // A `|` in a cell is escaped, or it would end the cell.
    BOOST_TEST(table.find("`--access-log on\\|off`") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_setting_comes_from_its_flag_the_environment_and_the_config_file) {
    using threadsd::app::config_file_name;
    using threadsd::app::environment_name;
    using threadsd::app::environment_variable;
    const std::string settings_file = "/settings.conf";
    for (const Setting& setting : settings()) {
        const std::string flag(setting.flag);
        BOOST_TEST_CONTEXT(flag) {
            const auto example = kExampleValues.find(flag);
            BOOST_TEST_REQUIRE((example != kExampleValues.end()),
                               "add an example value of " << flag << " to kExampleValues");
            std::vector<std::string> args = {"serve"};
            const auto companions = companions_of(flag);
            args.insert(args.end(), companions.begin(), companions.end());
            // Every config file the settings may name exists, empty.
            const std::map<std::string, std::string> empty_files = {{"/example.conf", ""}};
            const std::string by_default = setting.format(CommandLine{});

            auto with_flag = args;
            with_flag.push_back(setting.placeholder.empty() ? flag : flag + "=" + example->second);
            const std::string from_flag = setting.format(settled(with_flag, {}, empty_files));
            BOOST_TEST(from_flag != by_default, "the example of " << flag << " is its default");

            const std::string variable = environment_name(flag);
            const auto from_environment = settled(
                args, {{variable, example->second.empty() ? "1" : example->second}}, empty_files);
            if (environment_variable(setting)) {
                BOOST_TEST(*environment_variable(setting) == variable);
                BOOST_TEST(setting.format(from_environment) == from_flag);
            } else {
                BOOST_TEST(setting.format(from_environment) == by_default);
            }

            const std::string name = flag.substr(2);
            auto files = empty_files;
            files[settings_file] = "# from a file\n" + name + " = " + example->second + "\n";
            const std::map<std::string, std::string> config_env = {
                {"THREADSD_CONFIG", settings_file}};
            if (config_file_name(setting)) {
                BOOST_TEST(*config_file_name(setting) == name);
                BOOST_TEST(setting.format(settled(args, config_env, files)) == from_flag);
            } else {
                BOOST_TEST(refused(args, config_env, files) ==
                           "config file " + settings_file + " line 2: unknown setting " + name);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(numeric_ranges_in_the_table_are_the_ones_checked) {
    std::size_t checked = 0;
    for (const Setting& setting : settings()) {
        // Ranges of whole numbers read "LOW to HIGH" and may go on after that.
        const std::string_view range = setting.range;
        std::uint64_t low = 0;
        std::uint64_t high = 0;
        const auto low_end = std::from_chars(range.data(), range.data() + range.size(), low);
        if (low_end.ec != std::errc() || range.substr(low_end.ptr - range.data(), 4) != " to ") {
            continue;
        }
        const auto* high_start = low_end.ptr + 4;
        const auto high_end = std::from_chars(high_start, range.data() + range.size(), high);
        const std::string_view after(high_end.ptr, range.data() + range.size() - high_end.ptr);
        if (high_end.ec != std::errc() || (!after.empty() && after.front() != ';')) {
            continue;  // a duration, such as 1ms to 86400s
        }
        const std::string flag(setting.flag);
        BOOST_TEST_CONTEXT(flag << " " << range) {
            parse_ok({"serve", flag, std::to_string(low)});
            parse_ok({"serve", flag, std::to_string(high)});
            if (low > 0) {
                parse_error({"serve", flag, std::to_string(low - 1)}, flag);
            }
            parse_error({"serve", flag, std::to_string(high + 1)}, flag);
        }
        ++checked;
    }
    BOOST_TEST(checked >= 10u);
}

BOOST_AUTO_TEST_SUITE_END()
