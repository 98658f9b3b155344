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

/// A year in milliseconds: the longest conversation window.
constexpr std::uint64_t kYearMs = 8760ull * 3'600'000;

/// Parses `250ms`, `10s`, `5m`, `24h` or a bare number of seconds; at least 1 ms, at most
/// `most_ms` (a day unless said).
std::optional<milliseconds> parse_duration(std::string_view text,
                                           std::uint64_t most_ms = 86'400'000) {
    std::uint64_t scale = 1000;
    if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
        scale = 1;
        text.remove_suffix(2);
    } else if (text.size() > 1 && text.back() == 's') {
        text.remove_suffix(1);
    } else if (text.size() > 1 && text.back() == 'm') {
        scale = 60'000;
        text.remove_suffix(1);
    } else if (text.size() > 1 && text.back() == 'h') {
        scale = 3'600'000;
        text.remove_suffix(1);
    }
    const auto count = parse_count(text, 1, most_ms / scale);
    if (!count) {
        return std::nullopt;
    }
    return milliseconds(*count * scale);
}

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
                                        std::string_view value,
                                        std::uint64_t most_ms = 86'400'000) {
    const auto duration = parse_duration(value, most_ms);
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

/// A duration in the largest whole unit: `24h`, `15m`, `10s` or `250ms`.
std::string format_long_duration(milliseconds duration) {
    const auto ms = duration.count();
    if (ms % 3'600'000 == 0) {
        return std::to_string(ms / 3'600'000) + "h";
    }
    if (ms % 60'000 == 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

/// A duration as a flag would take it: `10s`, or `250ms` when not whole seconds.
std::string format_duration(milliseconds duration) {
    return duration.count() % 1000 == 0 ? std::to_string(duration.count() / 1000) + "s"
                                        : std::to_string(duration.count()) + "ms";
}

/// `text`, or `none` when it is empty.
std::string or_none(const std::string& text) {
    return text.empty() ? "none" : text;
}

constexpr std::uint64_t kMiB = 1024 * 1024;
/// Highest per-key rate, in requests per second.
constexpr std::uint64_t kMaxRate = 1'000'000;

/// Every setting; --help lists them in this order, those of every subcommand first.
const Setting kSettings[] = {
    {"--db", "PATH", false, SettingSources::kEverywhere,
     "the database: a SQLite file, or a postgresql:// URI (docs/postgresql.md); its first use "
     "creates it, applies the migrations and seeds the demo data",
     "", [](const CommandLine& c) { return c.database; },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty()) {
             return "--db must name a file or a postgresql:// URI";
         }
         c.database = std::string(v);
         return std::nullopt;
     }},
    {"--no-demo", "", false, SettingSources::kFlagOnly,
     "when the store is created, do not seed the demo organization", "",
     [](const CommandLine& c) -> std::string { return c.no_demo ? "on" : "off"; },
     [](CommandLine& c, std::string_view) -> std::optional<std::string> {
         c.no_demo = true;
         return std::nullopt;
     }},
    {"--config", "FILE", false, SettingSources::kFlagAndEnvironment,
     "read settings from FILE, one name = value per line", "",
     [](const CommandLine& c) { return or_none(c.config_file); },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         c.config_file = std::string(v);
         return std::nullopt;
     }},
    {"--listen", "HOST:PORT", true, SettingSources::kEverywhere,
     "address to listen on; port 0 picks a free one; unused with a socket from systemd", "",
     [](const CommandLine& c) { return c.serve.listen; },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.find(':') == std::string_view::npos) {
             return "--listen must be HOST:PORT";
         }
         c.serve.listen = std::string(v);
         return std::nullopt;
     }},
    {"--workers", "N", true, SettingSources::kEverywhere, "I/O threads", "1 to 256",
     [](const CommandLine& c) {
         return c.serve.workers == 0 ? std::string("one per core")
                                     : std::to_string(c.serve.workers);
     },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         std::size_t workers = 0;
         auto error = set_size(workers, "--workers", v, 1, 256);
         c.serve.workers = static_cast<unsigned>(workers);
         return error;
     }},
    {"--durability", "MODE", true, SettingSources::kEverywhere,
     "full: a 200 survives a power cut; normal: it survives a crash of threadsd, and the last "
     "commits may be lost on power loss",
     "full or normal",
     [](const CommandLine& c) -> std::string {
         return c.serve.durability == store::Durability::kFull ? "full" : "normal";
     },
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
    {"--shutdown-grace", "DUR", true, SettingSources::kEverywhere,
     "on SIGTERM or SIGINT, wait at most this long for the requests already begun", "1ms to 86400s",
     [](const CommandLine& c) { return format_duration(c.serve.shutdown_grace); },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.shutdown_grace, "--shutdown-grace", v);
     }},
    {"--request-timeout", "DUR", true, SettingSources::kEverywhere,
     "a request must be complete this long after its first byte, else its connection is "
     "closed",
     "1ms to 86400s",
     [](const CommandLine& c) { return format_duration(c.serve.http.request_timeout); },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.http.request_timeout, "--request-timeout", v);
     }},
    {"--idle-timeout", "DUR", true, SettingSources::kEverywhere,
     "close a keep-alive connection idle this long", "1ms to 86400s",
     [](const CommandLine& c) { return format_duration(c.serve.http.idle_timeout); },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.http.idle_timeout, "--idle-timeout", v);
     }},
    {"--write-timeout", "DUR", true, SettingSources::kEverywhere,
     "a client must take each response within this long, else its connection is closed",
     "1ms to 86400s",
     [](const CommandLine& c) { return format_duration(c.serve.http.write_timeout); },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.http.write_timeout, "--write-timeout", v);
     }},
    {"--conversation-window", "DUR", true, SettingSources::kEverywhere,
     "a thread with no inbound message for this long is closed with closedReason EXPIRED",
     "1ms to 8760h",
     [](const CommandLine& c) {
         return format_long_duration(c.serve.messages.conversation_window);
     },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.messages.conversation_window, "--conversation-window", v,
                             kYearMs);
     }},
    {"--expiry-sweep-interval", "DUR", true, SettingSources::kEverywhere,
     "how often the server looks for conversation windows that ended (the contract closes "
     "them within 60 s)",
     "1ms to 60s",
     [](const CommandLine& c) {
         return format_long_duration(c.serve.messages.expiry_sweep_interval);
     },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.messages.expiry_sweep_interval, "--expiry-sweep-interval", v,
                             60'000);
     }},
    {"--stream-keepalive", "DUR", true, SettingSources::kEverywhere,
     "a live stream with no event for this long gets a comment line, so proxies keep it",
     "1ms to 86400s",
     [](const CommandLine& c) { return format_long_duration(c.serve.messages.stream_keepalive); },
     [](CommandLine& c, std::string_view v) {
         return set_duration(c.serve.messages.stream_keepalive, "--stream-keepalive", v);
     }},
    {"--max-message-bytes", "N", true, SettingSources::kEverywhere,
     "UTF-8 bytes of one message, beyond it 400", "1 to 1048576",
     [](const CommandLine& c) { return std::to_string(c.serve.messages.max_message_bytes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.messages.max_message_bytes, "--max-message-bytes", v, 1,
                         1024 * 1024);
     }},
    {"--max-connections", "N", true, SettingSources::kEverywhere,
     "open connections; one more is answered 503 and closed", "1 to 1000000",
     [](const CommandLine& c) { return std::to_string(c.serve.http.max_connections); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_connections, "--max-connections", v, 1, 1'000'000);
     }},
    {"--access-log", "on|off", true, SettingSources::kEverywhere,
     "a JSON line per answered request on stdout", "on or off",
     [](const CommandLine& c) -> std::string { return c.serve.access_log.enabled ? "on" : "off"; },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v != "on" && v != "off") {
             return "--access-log must be on or off";
         }
         c.serve.access_log.enabled = v == "on";
         return std::nullopt;
     }},
    {"--trusted-proxies", "LIST", true, SettingSources::kEverywhere,
     "proxies whose X-Forwarded-For names the client in the access log; without them, the "
     "client is the peer",
     "comma-separated IP addresses or networks such as 127.0.0.1,10.0.0.0/8",
     [](const CommandLine& c) -> std::string {
         return c.serve.access_log.trusted_proxies.empty() ? "none" : "a list";
     },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         auto parsed = http::TrustedProxies::parse(v);
         if (auto* error = std::get_if<std::string>(&parsed)) {
             return "--trusted-proxies: " + *error;
         }
         c.serve.access_log.trusted_proxies = std::get<http::TrustedProxies>(std::move(parsed));
         return std::nullopt;
     }},
    {"--rate-limit", "N", true, SettingSources::kEverywhere,
     "requests per second of an API key without its own keys create --rate; beyond it 429",
     "0 to 1000000; 0 is off",
     [](const CommandLine& c) {
         return c.serve.rate_limit == 0 ? std::string("off") : std::to_string(c.serve.rate_limit);
     },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         std::size_t rate = 0;
         if (auto error = set_size(rate, "--rate-limit", v, 0, kMaxRate)) {
             return error;
         }
         c.serve.rate_limit = static_cast<std::uint32_t>(rate);
         return std::nullopt;
     }},
    {"--clerk-public-key", "FILE", true, SettingSources::kEverywhere,
     "PEM public key that verifies Clerk bearer tokens (RS256); without it or a JWKS, bearer "
     "tokens are refused",
     "", [](const CommandLine& c) { return or_none(c.serve.bearer.public_key_file); },
     [](CommandLine& c, std::string_view v) {
         return set_path(c.serve.bearer.public_key_file, "--clerk-public-key", v);
     }},
    {"--clerk-jwks", "FILE", true, SettingSources::kEverywhere,
     "JWKS whose keys verify Clerk bearer tokens, chosen by kid; a key file is read again when "
     "it changes",
     "", [](const CommandLine& c) { return or_none(c.serve.bearer.jwks_file); },
     [](CommandLine& c, std::string_view v) {
         return set_path(c.serve.bearer.jwks_file, "--clerk-jwks", v);
     }},
    {"--clerk-issuer", "URL", true, SettingSources::kEverywhere,
     "the iss that tokens must carry; required with a key file", "",
     [](const CommandLine& c) { return or_none(c.serve.bearer.issuer); },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty()) {
             return "--clerk-issuer must be the issuer URL of the Clerk instance";
         }
         c.serve.bearer.issuer = std::string(v);
         return std::nullopt;
     }},
    {"--clerk-authorized-parties", "LIST", true, SettingSources::kEverywhere,
     "allowed azp values, comma-separated", "",
     [](const CommandLine& c) {
         std::string list;
         for (const auto& party : c.serve.bearer.authorized_parties) {
             list += (list.empty() ? "" : ",") + party;
         }
         return list.empty() ? std::string("any") : list;
     },
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         const auto parties = util::split_list(v);
         c.serve.bearer.authorized_parties.assign(parties.begin(), parties.end());
         return std::nullopt;
     }},
    {"--clerk-leeway", "DUR", true, SettingSources::kEverywhere,
     "clock skew allowed on exp, nbf and iat", "whole seconds from 0 to 300",
     [](const CommandLine& c) { return format_duration(c.serve.bearer.leeway); },
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
    {"--max-queued-writes", "N", true, SettingSources::kEverywhere,
     "writes waiting for the disk (queued or being committed); beyond it 503", "1 to 1000000",
     [](const CommandLine& c) { return std::to_string(c.serve.max_queued_writes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.max_queued_writes, "--max-queued-writes", v, 1, 1'000'000);
     }},
    {"--max-header-bytes", "N", true, SettingSources::kEverywhere,
     "request line plus headers; beyond it 431", "1024 to 65535",
     [](const CommandLine& c) { return std::to_string(c.serve.http.max_header_bytes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_header_bytes, "--max-header-bytes", v, 1024,
                         http::kMaxHeaderBytesCeiling);
     }},
    {"--max-body-bytes", "N", true, SettingSources::kEverywhere,
     "request body, beyond it 413; also a thread's metadata plus variables as JSON, beyond it "
     "400",
     "1024 to 67108864",
     [](const CommandLine& c) { return std::to_string(c.serve.http.max_body_bytes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_body_bytes, "--max-body-bytes", v, 1024, 64 * kMiB);
     }},
    {"--max-framing-bytes", "N", true, SettingSources::kEverywhere,
     "chunk sizes, extensions and trailers of a body; beyond it 413", "64 to 1048576",
     [](const CommandLine& c) { return std::to_string(c.serve.http.max_framing_bytes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.http.max_framing_bytes, "--max-framing-bytes", v, 64, kMiB);
     }},
    {"--max-map-keys", "N", true, SettingSources::kEverywhere,
     "keys in metadata or in variables; beyond it 400", "1 to 100000",
     [](const CommandLine& c) { return std::to_string(c.serve.input.max_map_keys); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.input.max_map_keys, "--max-map-keys", v, 1, 100'000);
     }},
    {"--max-key-bytes", "N", true, SettingSources::kEverywhere,
     "UTF-8 bytes of one map key; beyond it 400", "1 to 1048576",
     [](const CommandLine& c) { return std::to_string(c.serve.input.max_key_bytes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.input.max_key_bytes, "--max-key-bytes", v, 1, kMiB);
     }},
    {"--max-value-bytes", "N", true, SettingSources::kEverywhere,
     "UTF-8 bytes of one map value; beyond it 400", "1 to 67108864",
     [](const CommandLine& c) { return std::to_string(c.serve.input.max_value_bytes); },
     [](CommandLine& c, std::string_view v) {
         return set_size(c.serve.input.max_value_bytes, "--max-value-bytes", v, 1, 64 * kMiB);
     }},
};

/// The value of every setting in a command line with none given: the option structs'
/// defaults.
std::string format_default(const Setting& setting) {
    return setting.format(CommandLine{});
}

/// How usage shows `setting`: its flag and the placeholder of its value.
std::string usage_of(const Setting& setting) {
    std::string usage(setting.flag);
    if (!setting.placeholder.empty()) {
        usage += " " + std::string(setting.placeholder);
    }
    return usage;
}

/// Where --help starts the meaning of an option, and how wide its lines may be.
constexpr std::size_t kHelpMeaningColumn = 28;
constexpr std::size_t kHelpWidth = 92;

/// The lines of --help for `setting`: its usage, then its meaning, default and range,
/// wrapped at word boundaries into the meaning column.
std::string help_line(const Setting& setting) {
    std::string text = "  " + usage_of(setting);
    std::string meaning(setting.meaning);
    meaning += " (default " + format_default(setting);
    if (!setting.range.empty()) {
        meaning += "; allowed " + std::string(setting.range);
    }
    meaning += ")";
    // A long usage gets the meaning on the next line.
    std::size_t column = text.size();
    if (column + 2 > kHelpMeaningColumn) {
        text += "\n";
        column = 0;
    }
    text.append(kHelpMeaningColumn - column, ' ');
    column = kHelpMeaningColumn;
    bool line_start = true;
    std::string_view rest = meaning;
    while (!rest.empty()) {
        const auto space = rest.find(' ');
        const auto word = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        if (!line_start && column + 1 + word.size() > kHelpWidth) {
            text += "\n" + std::string(kHelpMeaningColumn, ' ');
            column = kHelpMeaningColumn;
            line_start = true;
        }
        if (!line_start) {
            text += ' ';
            ++column;
        }
        text += word;
        column += word.size();
        line_start = false;
    }
    return text + "\n";
}

/// `text` made fit for a Markdown table cell: a `|`, even in a code span, would end it.
std::string markdown_cell(std::string_view text) {
    std::string cell;
    for (const char c : text) {
        cell += c == '|' ? std::string("\\|") : std::string(1, c);
    }
    return cell;
}

/// Options of one subcommand (keys create, clerk map): part of its words, so not settings;
/// their usage is in the subcommand lines of --help.
const Setting kSubcommandOptions[] = {
    {"--org", "ORG_ID", false, SettingSources::kFlagOnly, "", "", nullptr,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         auto id = util::normalize_uuid(v);
         if (!id) {
             return "--org must be a UUID";
         }
         c.organization = *id;
         return std::nullopt;
     }},
    {"--name", "NAME", false, SettingSources::kFlagOnly, "", "", nullptr,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty() || v.size() > 200) {
             return "--name must be 1 to 200 characters";
         }
         c.key_name = std::string(v);
         return std::nullopt;
     }},
    {"--rate", "N", false, SettingSources::kFlagOnly, "", "", nullptr,
     [](CommandLine& c, std::string_view v) -> std::optional<std::string> {
         std::size_t rate = 0;
         if (auto error = set_size(rate, "--rate", v, 1, kMaxRate)) {
             return error;
         }
         c.key_rate = static_cast<std::int64_t>(rate);
         return std::nullopt;
     }},
    {"--from", "SRC", false, SettingSources::kFlagOnly, "", "", nullptr,
     [](CommandLine& c, std::string_view v) { return set_path(c.copy_from, "--from", v); }},
    {"--to", "DST", false, SettingSources::kFlagOnly, "", "", nullptr,
     [](CommandLine& c, std::string_view v) { return set_path(c.copy_to, "--to", v); }},
    {"--resume", "", false, SettingSources::kFlagOnly, "", "", nullptr,
     [](CommandLine& c, std::string_view) -> std::optional<std::string> {
         c.copy_resume = true;
         return std::nullopt;
     }},
};

/// The option named `flag`, a setting or a subcommand's, or null.
const Setting* find_option(std::string_view flag) {
    for (const auto table :
         {std::span<const Setting>(kSettings), std::span<const Setting>(kSubcommandOptions)}) {
        for (const auto& option : table) {
            if (option.flag == flag) {
                return &option;
            }
        }
    }
    return nullptr;
}

/// True for an option that takes a value (`--db PATH`), false for a switch (`--no-demo`).
bool takes_value(const Setting& option) {
    return !option.placeholder.empty();
}

/// One value given for an option: which option, its text, and where it came from.
struct GivenValue {
    const Setting* option;  ///< The option.
    std::string value;      ///< Its text.
    std::string source;     ///< Prefix for an error: "", "THREADSD_X: ", "file line 3: ".
};

/// Reads `name = value` lines (blank lines and `#` comments aside) into `settings`.
std::optional<std::string> read_config_file(const std::string& path, std::string_view text,
                                            std::vector<GivenValue>& settings) {
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
        const Setting* option = find_option(name);
        if (option == nullptr || !config_file_name(*option)) {
            return where + "unknown setting " + name.substr(2);
        }
        settings.push_back({option, std::string(util::trim(content.substr(equals + 1))), where});
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
    if (words[0] == "db" && words.size() >= 2 && words[1] == "copy") {
        line.command = Command::kDbCopy;
        return expect(2, "db copy --from SRC --to DST [--resume]");
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

std::span<const Setting> settings() {
    return kSettings;
}

std::optional<std::string> environment_variable(const Setting& setting) {
    if (setting.sources == SettingSources::kFlagOnly) {
        return std::nullopt;
    }
    return environment_name(setting.flag);
}

std::optional<std::string> config_file_name(const Setting& setting) {
    if (setting.sources != SettingSources::kEverywhere) {
        return std::nullopt;
    }
    return std::string(setting.flag.substr(2));
}

std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& arguments,
                                                         const Environment& environment,
                                                         const FileReader& read_file) {
    CommandLine line;
    std::vector<std::string> words;
    std::vector<GivenValue> flags;
    const Setting* const config_option = find_option("--config");
    std::optional<std::string> config_path;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (argument == "--help" || argument == "-h" || argument == "--help-markdown") {
            line.command = Command::kHelp;
            line.help =
                argument == "--help-markdown" ? HelpTopic::kSettingsMarkdown : HelpTopic::kUsage;
            return line;
        }
        if (argument.rfind("--", 0) != 0) {
            words.push_back(argument);
            continue;
        }
        const auto equals = argument.find('=');
        const std::string name = argument.substr(0, equals);
        const Setting* option = find_option(name);
        if (option == nullptr) {
            return UsageError{"unknown option " + name + "; see threadsd --help"};
        }
        std::string value;
        if (equals != std::string::npos) {
            if (!takes_value(*option)) {
                return UsageError{name + " takes no value"};
            }
            value = argument.substr(equals + 1);
        } else if (takes_value(*option)) {
            // `--db --no-demo` is a forgotten value, not a file named --no-demo.
            if (i + 1 >= arguments.size() || arguments[i + 1].rfind("--", 0) == 0) {
                return UsageError{name + " needs a value"};
            }
            value = arguments[++i];
        }
        if (option == config_option) {
            config_path = std::move(value);
        } else {
            flags.push_back({option, std::move(value), ""});
        }
    }
    if (auto error = read_command(words, line)) {
        return UsageError{*error};
    }
    for (const auto& flag : flags) {
        const std::string_view name = flag.option->flag;
        if (flag.option->serve_only && line.command != Command::kServe) {
            return UsageError{std::string(name) + " applies to serve only"};
        }
        if (name == "--org" && line.command != Command::kKeysCreate &&
            line.command != Command::kClerkMap) {
            return UsageError{"--org applies to keys create and clerk map only"};
        }
        if ((name == "--name" || name == "--rate") && line.command != Command::kKeysCreate) {
            return UsageError{std::string(name) + " applies to keys create only"};
        }
        if ((name == "--from" || name == "--to" || name == "--resume") &&
            line.command != Command::kDbCopy) {
            return UsageError{std::string(name) + " applies to db copy only"};
        }
    }

    // Lowest precedence first: the file, the environment, then the flags.
    std::vector<GivenValue> settings;
    if (!config_path) {
        config_path = environment(*environment_variable(*config_option));
    }
    if (config_path && !config_path->empty()) {
        config_option->apply(line, *config_path);
        const auto text = read_file(*config_path);
        if (!text) {
            return UsageError{"cannot read config file " + *config_path};
        }
        if (auto error = read_config_file(*config_path, *text, settings)) {
            return UsageError{*error};
        }
    }
    for (const auto& option : kSettings) {
        // $THREADSD_CONFIG named the file above; it is no value to apply.
        const auto name = &option == config_option ? std::nullopt : environment_variable(option);
        if (!name) {
            continue;
        }
        if (auto value = environment(*name); value && !value->empty()) {
            settings.push_back({&option, std::move(*value), *name + ": "});
        }
    }
    settings.insert(settings.end(), flags.begin(), flags.end());
    for (const auto& setting : settings) {
        // A serve setting in the shared environment or file is not an error elsewhere.
        if (setting.option->serve_only && line.command != Command::kServe) {
            continue;
        }
        if (auto error = setting.option->apply(line, setting.value)) {
            return UsageError{setting.source + *error};
        }
    }
    if (line.command == Command::kKeysCreate && line.organization.empty()) {
        return UsageError{"keys create needs --org ORG_ID"};
    }
    if (line.command == Command::kDbCopy && (line.copy_from.empty() || line.copy_to.empty())) {
        return UsageError{"db copy needs --from SRC and --to DST"};
    }
    if (line.command == Command::kDbCopy && line.copy_from == line.copy_to) {
        // A first copy replaces the destination's catalog: into itself, that would be lost.
        return UsageError{"db copy needs two different stores: --from and --to name the same"};
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
    std::string text =
        R"(threadsd: a self-hosted server for web chat threads (Feather AI's thread API)

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
  threadsd db copy --from SRC --to DST [--resume]
                                          copy a whole store (a SQLite file or a postgresql://
                                          URI) into a new one, with progress on stderr;
                                          --resume continues a copy that stopped
  threadsd --help-markdown                the settings below as a Markdown table
)";
    text += "\nevery subcommand:\n";
    for (const auto& setting : kSettings) {
        if (!setting.serve_only) {
            text += help_line(setting);
        }
    }
    text += "\nserve:\n";
    for (const auto& setting : kSettings) {
        if (setting.serve_only) {
            text += help_line(setting);
        }
    }
    text += R"(
durations: 10s, 500ms, or a bare number of seconds.

settings: --db and every option of serve can also be set in the environment, as
THREADSD_ and the option's name in capitals with '_' for '-' (THREADSD_DB,
THREADSD_MAX_BODY_BYTES, ...), or in the config file as `name = value` lines without the
dashes (`max-body-bytes = 65536`; '#' starts a comment line); the config file itself may be
named by $THREADSD_CONFIG. A flag wins over the environment, which wins over the file.
Other subcommands ignore serve's settings from the environment and the file, so one file
serves them all.
)";
    return text;
}

std::string settings_markdown() {
    std::string table =
        "| setting | environment | config file | default | meaning |\n"
        "|---|---|---|---|---|\n";
    // Built by appending: g++ 12 at -O3 warns (-Wrestrict) about "`" + std::string.
    const auto code = [](std::string_view text) {
        std::string cell("`");
        cell.append(text).push_back('`');
        return cell;
    };
    const auto code_or_dash = [&code](const std::optional<std::string>& name) {
        return name ? code(*name) : std::string("—");
    };
    for (const auto& setting : kSettings) {
        std::string meaning(setting.meaning);
        if (!setting.range.empty()) {
            meaning += " (allowed: " + std::string(setting.range) + ")";
        }
        for (const auto& cell :
             {code(usage_of(setting)), code_or_dash(environment_variable(setting)),
              code_or_dash(config_file_name(setting)), format_default(setting), meaning}) {
            table += "| " + markdown_cell(cell) + " ";
        }
        table += "|\n";
    }
    return table;
}

std::string help_text(HelpTopic topic) {
    return topic == HelpTopic::kSettingsMarkdown ? settings_markdown() : usage_text();
}

}  // namespace threadsd::app
