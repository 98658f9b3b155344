#include "threadsd/app/command_line.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

#include "threadsd/util/text.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::app {
namespace {

using std::chrono::milliseconds;

/// Parses a whole decimal number within [low, high].
std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t low,
                                         std::uint64_t high) {
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto result = std::from_chars(text.data(), end, value);
    if (text.empty() || result.ec != std::errc() || result.ptr != end || value < low ||
        value > high) {
        return std::nullopt;
    }
    return value;
}

/// Parses `250ms`, `10s` or a bare number of seconds; at least 1 ms, at most a day.
std::optional<milliseconds> parse_duration(std::string_view text) {
    std::uint64_t scale = 1000;
    if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
        scale = 1;
        text.remove_suffix(2);
    } else if (text.size() > 1 && text.back() == 's') {
        text.remove_suffix(1);
    }
    const auto count = parse_count(text, 1, 86'400'000 / scale);
    if (!count) {
        return std::nullopt;
    }
    return milliseconds(*count * scale);
}

/// One option: its name, whether it takes a value, where it applies, how it is stored.
struct OptionSpec {
    std::string_view name;
    bool takes_value;
    bool serve_only;
    std::optional<std::string> (*apply)(CommandLine&, std::string_view value);
};

std::optional<std::string> set_size(std::size_t& target, std::string_view name,
                                    std::string_view value, std::uint64_t low, std::uint64_t high) {
    const auto count = parse_count(value, low, high);
    if (!count) {
        return std::string(name) + " must be a whole number from " + std::to_string(low) + " to " +
               std::to_string(high);
    }
    target = static_cast<std::size_t>(*count);
    return std::nullopt;
}

std::optional<std::string> set_duration(milliseconds& target, std::string_view name,
                                        std::string_view value) {
    const auto duration = parse_duration(value);
    if (!duration) {
        return std::string(name) + " must be a duration such as 10s or 500ms";
    }
    target = *duration;
    return std::nullopt;
}

/// Sets a file path option; empty is refused.
std::optional<std::string> set_path(std::string& target, std::string_view name,
                                    std::string_view value) {
    if (value.empty()) {
        return std::string(name) + " must name a file";
    }
    target = std::string(value);
    return std::nullopt;
}

/// True for a Clerk organization id: `org_` and 1 to 64 letters and digits.
bool is_clerk_organization_id(std::string_view id) {
    constexpr std::string_view kPrefix = "org_";
    if (id.size() <= kPrefix.size() || id.size() > kPrefix.size() + 64 ||
        id.substr(0, kPrefix.size()) != kPrefix) {
        return false;
    }
    return std::all_of(id.begin() + kPrefix.size(), id.end(),
                       [](unsigned char c) { return std::isalnum(c) != 0; });
}

constexpr std::uint64_t kMiB = 1024 * 1024;
/// Highest per-key rate, in requests per second.
constexpr std::uint64_t kMaxRate = 1'000'000;

const OptionSpec kOptions[] = {
    {"--db", true, false,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty()) {
             return "--db must name a file";
         }
         c.database = std::string(v);
         return std::nullopt;
     }},
    {"--no-demo", false, false,
     [](CommandLine& c, std::string_view) -> std::optional<std::string> {
         c.no_demo = true;
         return std::nullopt;
     }},
    {"--org", true, false,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         auto id = util::normalize_uuid(v);
         if (!id) {
             return "--org must be a UUID";
         }
         c.organization = *id;
         return std::nullopt;
     }},
    {"--name", true, false,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty() || v.size() > 200) {
             return "--name must be 1 to 200 characters";
         }
         c.key_name = std::string(v);
         return std::nullopt;
     }},
    {"--rate", true, false,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         std::size_t rate = 0;
         if (auto error = set_size(rate, "--rate", v, 1, kMaxRate)) {
             return error;
         }
         c.key_rate = static_cast<std::int64_t>(rate);
         return std::nullopt;
     }},
    {"--listen", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.find(':') == std::string_view::npos) {
             return "--listen must be HOST:PORT";
         }
         c.serve.listen = std::string(v);
         return std::nullopt;
     }},
    {"--workers", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         std::size_t workers = 0;
         auto error = set_size(workers, "--workers", v, 1, 256);
         c.serve.workers = static_cast<unsigned>(workers);
         return error;
     }},
    {"--durability", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v == "full") {
             c.serve.durability = store::Durability::kFull;
         } else if (v == "normal") {
             c.serve.durability = store::Durability::kNormal;
         } else {
             return "--durability must be full or normal";
         }
         return std::nullopt;
     }},
    {"--shutdown-grace", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.shutdown_grace, "--shutdown-grace", v);
     }},
    {"--request-timeout", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.http.request_timeout, "--request-timeout", v);
     }},
    {"--idle-timeout", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.http.idle_timeout, "--idle-timeout", v);
     }},
    {"--write-timeout", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.http.write_timeout, "--write-timeout", v);
     }},
    {"--max-connections", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_connections, "--max-connections", v, 1, 1'000'000);
     }},
    {"--clerk-public-key", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_path(c.serve.bearer.public_key_file, "--clerk-public-key", v);
     }},
    {"--clerk-jwks", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_path(c.serve.bearer.jwks_file, "--clerk-jwks", v);
     }},
    {"--clerk-issuer", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty()) {
             return "--clerk-issuer must be the issuer URL of the Clerk instance";
         }
         c.serve.bearer.issuer = std::string(v);
         return std::nullopt;
     }},
    {"--clerk-authorized-parties", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         const auto parties = util::split_list(v);
         c.serve.bearer.authorized_parties.assign(parties.begin(), parties.end());
         return std::nullopt;
     }},
    {"--clerk-leeway", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         // Token times are whole seconds; 0 is allowed (clocks in step).
         const auto duration =
             v == "0" || v == "0s" ? std::optional<milliseconds>(0) : parse_duration(v);
         if (!duration || duration->count() % 1000 != 0 || *duration > std::chrono::minutes(5)) {
             return std::string("--clerk-leeway must be whole seconds from 0 to 300, such as 5s");
         }
         c.serve.bearer.leeway = std::chrono::duration_cast<std::chrono::seconds>(*duration);
         return std::nullopt;
     }},
    {"--access-log", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v != "on" && v != "off") {
             return "--access-log must be on or off";
         }
         c.serve.access_log.enabled = v == "on";
         return std::nullopt;
     }},
    {"--trusted-proxies", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         auto parsed = http::TrustedProxies::parse(v);
         if (auto* error = std::get_if<std::string>(&parsed)) {
             return "--trusted-proxies: " + *error;
         }
         c.serve.access_log.trusted_proxies = std::get<http::TrustedProxies>(std::move(parsed));
         return std::nullopt;
     }},
    {"--rate-limit", true, true,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         std::size_t rate = 0;
         if (auto error = set_size(rate, "--rate-limit", v, 0, kMaxRate)) {
             return error;
         }
         c.serve.rate_limit = static_cast<std::uint32_t>(rate);
         return std::nullopt;
     }},
    {"--max-queued-writes", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.max_queued_writes, "--max-queued-writes", v, 1, 1'000'000);
     }},
    {"--max-header-bytes", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_header_bytes, "--max-header-bytes", v, 1024,
                         http::kMaxHeaderBytesCeiling);
     }},
    {"--max-body-bytes", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_body_bytes, "--max-body-bytes", v, 1024, 64 * kMiB);
     }},
    {"--max-framing-bytes", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_framing_bytes, "--max-framing-bytes", v, 64, kMiB);
     }},
    {"--max-map-keys", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.input.max_map_keys, "--max-map-keys", v, 1, 100'000);
     }},
    {"--max-key-bytes", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.input.max_key_bytes, "--max-key-bytes", v, 1, kMiB);
     }},
    {"--max-value-bytes", true, true,
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.input.max_value_bytes, "--max-value-bytes", v, 1, 64 * kMiB);
     }},
};

const OptionSpec* find_option(std::string_view name) {
    for (const auto& option : kOptions) {
        if (option.name == name) {
            return &option;
        }
    }
    return nullptr;
}

/// One setting to apply: which option, its value, and where it came from (for errors).
struct Setting {
    const OptionSpec* spec;  ///< The option.
    std::string value;       ///< Its text.
    std::string source;      ///< Prefix for an error: "", "THREADSD_X: ", "file line 3: ".
};

/// Options that are settings (the environment and config files may carry them): the
/// database and everything of serve.
bool is_setting(const OptionSpec& option) {
    return option.serve_only || option.name == "--db";
}

/// Reads `name = value` lines (blank lines and `#` comments aside) into `settings`.
std::optional<std::string> read_config_file(const std::string& path, std::string_view text,
                                            std::vector<Setting>& settings) {
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto end = text.find('\n');
        const auto raw = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        const auto content = util::trim(raw);
        if (content.empty() || content.front() == '#') {
            continue;
        }
        const std::string where = "config file " + path + " line " + std::to_string(number) + ": ";
        const auto equals = content.find('=');
        if (equals == std::string_view::npos) {
            return where + "expected name = value";
        }
        const std::string name = "--" + std::string(util::trim(content.substr(0, equals)));
        const OptionSpec* spec = find_option(name);
        if (spec == nullptr || !is_setting(*spec)) {
            return where + "unknown setting " + name.substr(2);
        }
        settings.push_back({spec, std::string(util::trim(content.substr(equals + 1))), where});
    }
    return std::nullopt;
}

/// Maps the positional words to a command, consuming its argument if it takes one.
std::optional<std::string> read_command(const std::vector<std::string>& words, CommandLine& line) {
    auto expect = [&](std::size_t count, std::string_view usage) -> std::optional<std::string> {
        if (words.size() != count) {
            return "usage: threadsd " + std::string(usage);
        }
        return std::nullopt;
    };
    if (words.empty() || words[0] == "serve") {
        line.command = Command::kServe;
        return words.empty() ? std::nullopt : expect(1, "serve [options]");
    }
    if (words[0] == "migrate") {
        line.command = Command::kMigrate;
        return expect(1, "migrate [--db PATH] [--no-demo]");
    }
    if (words[0] == "agents" && words.size() >= 2 && words[1] == "import") {
        line.command = Command::kAgentsImport;
        if (words.size() == 3) {
            line.argument = words[2];
        }
        return expect(3, "agents import FILE.json [--db PATH]");
    }
    if (words[0] == "agents" && words.size() >= 2 && words[1] == "list") {
        line.command = Command::kAgentsList;
        return expect(2, "agents list [--db PATH]");
    }
    if (words[0] == "keys" && words.size() >= 2 && words[1] == "create") {
        line.command = Command::kKeysCreate;
        return expect(2, "keys create --org ORG_ID [--name NAME] [--rate N] [--db PATH]");
    }
    if (words[0] == "keys" && words.size() >= 2 && words[1] == "list") {
        line.command = Command::kKeysList;
        return expect(2, "keys list [--db PATH]");
    }
    if (words[0] == "keys" && words.size() >= 2 && words[1] == "revoke") {
        line.command = Command::kKeysRevoke;
        if (words.size() == 3) {
            line.argument = words[2];
        }
        return expect(3, "keys revoke KEY_ID [--db PATH]");
    }
    if (words[0] == "clerk" && words.size() >= 2 && words[1] == "map") {
        line.command = Command::kClerkMap;
        if (words.size() == 3) {
            line.argument = words[2];
        }
        return expect(3, "clerk map CLERK_ORG_ID --org ORG_ID [--db PATH]");
    }
    if (words[0] == "clerk" && words.size() >= 2 && words[1] == "list") {
        line.command = Command::kClerkList;
        return expect(2, "clerk list [--db PATH]");
    }
    if (words[0] == "clerk" && words.size() >= 2 && words[1] == "unmap") {
        line.command = Command::kClerkUnmap;
        if (words.size() == 3) {
            line.argument = words[2];
        }
        return expect(3, "clerk unmap CLERK_ORG_ID [--db PATH]");
    }
    return "unknown command '" + words[0] + "'; see threadsd --help";
}

}  // namespace

std::optional<std::string> read_text_file(const std::string& path) {
    return util::read_file(path);
}

std::string environment_name(std::string_view option) {
    std::string name = "THREADSD_";
    for (const char c : option.substr(option.find_first_not_of('-'))) {
        name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& arguments,
                                                         const Environment& environment,
                                                         const FileReader& read_file) {
    CommandLine line;
    std::vector<std::string> words;
    std::vector<Setting> flags;
    std::optional<std::string> config_path;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (argument == "--help" || argument == "-h") {
            line.command = Command::kHelp;
            return line;
        }
        if (argument.rfind("--", 0) != 0) {
            words.push_back(argument);
            continue;
        }
        const auto equals = argument.find('=');
        const std::string name = argument.substr(0, equals);
        const bool is_config = name == "--config";
        const OptionSpec* spec = is_config ? nullptr : find_option(name);
        if (spec == nullptr && !is_config) {
            return UsageError{"unknown option " + name + "; see threadsd --help"};
        }
        const bool takes_value = is_config || spec->takes_value;
        std::string value;
        if (equals != std::string::npos) {
            if (!takes_value) {
                return UsageError{name + " takes no value"};
            }
            value = argument.substr(equals + 1);
        } else if (takes_value) {
            // `--db --no-demo` is a forgotten value, not a file named --no-demo.
            if (i + 1 >= arguments.size() || arguments[i + 1].rfind("--", 0) == 0) {
                return UsageError{name + " needs a value"};
            }
            value = arguments[++i];
        }
        if (is_config) {
            config_path = std::move(value);
        } else {
            flags.push_back({spec, std::move(value), ""});
        }
    }
    if (auto error = read_command(words, line)) {
        return UsageError{*error};
    }
    for (const auto& flag : flags) {
        if (flag.spec->serve_only && line.command != Command::kServe) {
            return UsageError{std::string(flag.spec->name) + " applies to serve only"};
        }
        if (flag.spec->name == "--org" && line.command != Command::kKeysCreate &&
            line.command != Command::kClerkMap) {
            return UsageError{"--org applies to keys create and clerk map only"};
        }
        if ((flag.spec->name == "--name" || flag.spec->name == "--rate") &&
            line.command != Command::kKeysCreate) {
            return UsageError{std::string(flag.spec->name) + " applies to keys create only"};
        }
    }

    // Lowest precedence first: the file, the environment, then the flags.
    std::vector<Setting> settings;
    if (!config_path) {
        config_path = environment("THREADSD_CONFIG");
    }
    if (config_path && !config_path->empty()) {
        const auto text = read_file(*config_path);
        if (!text) {
            return UsageError{"cannot read config file " + *config_path};
        }
        if (auto error = read_config_file(*config_path, *text, settings)) {
            return UsageError{*error};
        }
    }
    for (const auto& option : kOptions) {
        if (!is_setting(option)) {
            continue;
        }
        const auto name = environment_name(option.name);
        if (auto value = environment(name); value && !value->empty()) {
            settings.push_back({&option, std::move(*value), name + ": "});
        }
    }
    settings.insert(settings.end(), flags.begin(), flags.end());
    for (const auto& setting : settings) {
        // A serve setting in the shared environment or file is not an error elsewhere.
        if (setting.spec->serve_only && line.command != Command::kServe) {
            continue;
        }
        if (auto error = setting.spec->apply(line, setting.value)) {
            return UsageError{setting.source + *error};
        }
    }
    if (line.command == Command::kKeysCreate && line.organization.empty()) {
        return UsageError{"keys create needs --org ORG_ID"};
    }
    if (line.command == Command::kClerkMap && line.organization.empty()) {
        return UsageError{"clerk map needs --org ORG_ID"};
    }
    if ((line.command == Command::kClerkMap || line.command == Command::kClerkUnmap) &&
        !is_clerk_organization_id(line.argument)) {
        return UsageError{
            "CLERK_ORG_ID must be a Clerk organization id such as org_2abc (org_ and "
            "1 to 64 letters and digits)"};
    }
    const auto& bearer = line.serve.bearer;
    if (bearer.enabled() && bearer.issuer.empty()) {
        return UsageError{"--clerk-public-key and --clerk-jwks need --clerk-issuer"};
    }
    if (!bearer.enabled() && (!bearer.issuer.empty() || !bearer.authorized_parties.empty())) {
        return UsageError{
            "--clerk-issuer and --clerk-authorized-parties need "
            "--clerk-public-key or --clerk-jwks"};
    }
    return line;
}

std::string usage_text() {
    return R"(threadsd: a self-hosted server for web chat threads (Feather AI's thread API)

usage:
  threadsd [serve] [options]              serve the API (the default subcommand)
  threadsd migrate                        apply migrations; seed the demo data if the store is empty
  threadsd agents import FILE.json        upsert organizations, agents and versions
  threadsd agents list                    agents as a JSON array
  threadsd keys create --org ORG_ID [--name NAME] [--rate N]
                                          print a new API key (shown once); --rate limits
                                          it to N requests per second
  threadsd keys list                      API keys as a JSON array (never the secrets)
  threadsd keys revoke KEY_ID             refuse a key from now on
  threadsd clerk map CLERK_ORG_ID --org ORG_ID
                                          bearer tokens of that Clerk organization act for
                                          ORG_ID (replaces an earlier mapping)
  threadsd clerk list                     the mappings as a JSON array
  threadsd clerk unmap CLERK_ORG_ID       refuse that Clerk organization's tokens from now on

every subcommand:
  --db PATH                 database file (default ./threadsd.db)
  --no-demo                 when the store is created, do not seed the demo organization
  --config FILE             read settings from FILE (default: $THREADSD_CONFIG, else none)

serve:
  --listen HOST:PORT        address to listen on (default 127.0.0.1:8080; port 0 = any free port)
  --workers N               I/O threads (default: one per core)
  --durability MODE         full: a 200 survives a power cut (default); normal: it survives
                            a crash of threadsd, and the last commits may be lost on power loss
  --shutdown-grace DUR      wait at most this long for requests on SIGTERM/SIGINT (default 5s)
  --request-timeout DUR     a request must be complete this long after its first byte (default 10s)
  --idle-timeout DUR        close a keep-alive connection idle this long (default 75s)
  --write-timeout DUR       a client must take each response within this long (default 10s)
  --max-connections N       open connections; beyond it 503 and close (default 10000)
  --access-log on|off       a JSON line per answered request on stdout (default on)
  --trusted-proxies LIST    addresses or networks (127.0.0.1,10.0.0.0/8) whose X-Forwarded-For
                            names the client in the access log (default none: the peer)
  --rate-limit N            requests per second of a key without its own --rate (default 0: off)
  --clerk-public-key FILE   PEM public key that verifies Clerk bearer tokens (RS256)
  --clerk-jwks FILE         JWKS with the keys that verify them, chosen by kid; a key file
                            is read again when it changes (default: neither; tokens refused)
  --clerk-issuer URL        the iss that tokens must carry (required with a key file)
  --clerk-authorized-parties LIST
                            allowed azp values, comma-separated (default: any)
  --clerk-leeway DUR        clock skew allowed on exp, nbf and iat (default 5s)
  --max-queued-writes N     writes waiting for the disk; beyond it 503 (default 1000)
  --max-header-bytes N      request line plus headers (default 16384, at most 65535)
  --max-body-bytes N        request body (default 65536)
  --max-framing-bytes N     chunk sizes, extensions and trailers of a body (default 16384)
  --max-map-keys N          keys in metadata or variables (default 64)
  --max-key-bytes N         bytes in one map key (default 128)
  --max-value-bytes N       bytes in one map value (default 8192)

durations: 10s, 500ms, or a bare number of seconds.

settings: --db and every option of serve can also be set in the environment, as
THREADSD_ and the option's name in capitals with '_' for '-' (THREADSD_DB,
THREADSD_MAX_BODY_BYTES, ...), or in the config file as `name = value` lines without the
dashes (`max-body-bytes = 65536`; '#' starts a comment line). A flag wins over the
environment, which wins over the file. Other subcommands ignore serve's settings from the
environment and the file, so one file serves them all.
)";
}

}  // namespace threadsd::app
