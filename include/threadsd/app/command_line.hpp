#pragma once
// The command line of threadsd, parsed into a typed command, and the table of its settings.

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "threadsd/api/limits.hpp"
#include "threadsd/api/message_api.hpp"
#include "threadsd/auth/bearer_token.hpp"
#include "threadsd/http/access_log.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/store/limits.hpp"
#include "threadsd/store/options.hpp"

namespace threadsd::app {

/// Which subcommand to run.
enum class Command {
    kServe,         ///< threadsd [serve]
    kMigrate,       ///< threadsd migrate
    kAgentsImport,  ///< threadsd agents import FILE
    kAgentsList,    ///< threadsd agents list
    kKeysCreate,    ///< threadsd keys create --org ORG [--name NAME]
    kKeysList,      ///< threadsd keys list
    kKeysRevoke,    ///< threadsd keys revoke KEY_ID
    kClerkMap,      ///< threadsd clerk map CLERK_ORG_ID --org ORG_ID
    kClerkList,     ///< threadsd clerk list
    kClerkUnmap,    ///< threadsd clerk unmap CLERK_ORG_ID
    kDbCopy,        ///< threadsd db copy --from SRC --to DST [--resume]
    kHelp,          ///< threadsd --help, or --help-markdown
};

/// What `threadsd --help` prints.
enum class HelpTopic {
    kUsage,             ///< --help: the subcommands and every setting.
    kSettingsMarkdown,  ///< --help-markdown: the settings table of docs/configuration.md.
};

/// Settings of `serve`.
struct ServeOptions {
    std::string listen = "127.0.0.1:8080";  ///< HOST:PORT; port 0 picks a free one.
    unsigned workers = 0;                   ///< I/O threads; 0 means one per core.
    store::Durability durability = store::Durability::kFull;  ///< What a 200 survives.
    std::chrono::milliseconds shutdown_grace{5000};  ///< Longest wait for sessions on exit.
    http::HttpLimits http;                           ///< Sizes and timeouts of requests.
    std::size_t max_queued_writes = store::kDefaultMaxQueuedWrites;  ///< Writer backlog.
    http::AccessLogSettings access_log{true, {}};  ///< A JSON line per request; who the client is.
    std::uint32_t rate_limit = 0;   ///< Requests per second of a key without its own; 0 = off.
    api::InputLimits input;         ///< Limits on metadata and variables.
    auth::BearerSettings bearer;    ///< Clerk bearer tokens; off without a key file.
    api::MessageSettings messages;  ///< Conversation window, streams, message size.
};

/// A parsed command line.
struct CommandLine {
    Command command = Command::kServe;       ///< What to run.
    HelpTopic help = HelpTopic::kUsage;      ///< What kHelp prints.
    std::string database = "./threadsd.db";  ///< --db, else $THREADSD_DB, else ./threadsd.db.
    bool no_demo = false;                    ///< --no-demo: never seed the demo data.
    std::string config_file;   ///< --config, else $THREADSD_CONFIG; "" when none was read.
    ServeOptions serve;        ///< For `serve`.
    std::string argument;      ///< FILE of `agents import`, KEY_ID of `keys revoke`, CLERK_ORG_ID.
    std::string organization;  ///< --org of `keys create` or `clerk map`.
    std::string key_name = "default";      ///< --name of `keys create`.
    std::optional<std::int64_t> key_rate;  ///< --rate of `keys create`: requests per second.
    std::string copy_from;                 ///< --from of `db copy`: the source store.
    std::string copy_to;                   ///< --to of `db copy`: the destination store.
    bool copy_resume = false;              ///< --resume of `db copy`: continue a stopped copy.
};

/// A command line that cannot run; `message` is the one line for stderr.
struct UsageError {
    std::string message;  ///< e.g. `--workers must be a whole number from 1 to 256`.
};

/// Reads environment variables (std::getenv in main; a map in tests).
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

/// Reads a whole text file, or nothing when it cannot (a file in main; a map in tests).
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

/// Reads `path` from disk.
std::optional<std::string> read_text_file(const std::string& path);

/// The environment variable that carries a setting: `--max-body-bytes` is
/// `THREADSD_MAX_BODY_BYTES`.
std::string environment_name(std::string_view option);

/// Where a setting may be given besides its flag.
enum class SettingSources {
    kEverywhere,          ///< The flag, the environment and the config file.
    kFlagAndEnvironment,  ///< --config: a config file cannot name another one.
    kFlagOnly,            ///< --no-demo: a switch with no value to write elsewhere.
};

/// One setting of threadsd. The table of them (settings()) is the one source of the
/// settings part of --help, of the names in the environment and the config file, and of
/// the table in docs/configuration.md; the values themselves stay in the option structs.
struct Setting {
    std::string_view flag;         ///< e.g. `--max-body-bytes`.
    std::string_view placeholder;  ///< Its value in usage, e.g. `N`; "" for a switch.
    bool serve_only;               ///< True for serve's settings; false for every subcommand's.
    SettingSources sources;        ///< Where else it may be given.
    std::string_view meaning;      ///< One line: what it sets.
    std::string_view range;        ///< The values allowed, e.g. `1024 to 65535`; "" for any.
    /// The setting's value in `line`, as --help shows it; of `CommandLine{}`, the default.
    /// Null only for the options of one subcommand (--org), which settings() leaves out.
    std::string (*format)(const CommandLine& line);
    /// Checks `value` and stores it in `line`; else the one-line error.
    std::optional<std::string> (*apply)(CommandLine& line, std::string_view value);
};

/// Every setting, in the order --help and the docs list them.
std::span<const Setting> settings();

/// The environment variable of `setting`, or nothing when the environment cannot set it.
std::optional<std::string> environment_variable(const Setting& setting);

/// The name of `setting` in a config file (its flag without dashes), or nothing when a
/// config file cannot set it.
std::optional<std::string> config_file_name(const Setting& setting);

/// Parses `arguments` (without the program name). Options may stand anywhere after the
/// subcommand's words, as `--name value` or `--name=value`.
///
/// Every setting (`--db` and the options of serve) may also come from the environment
/// (environment_name()) or from a config file (`--config FILE` or `$THREADSD_CONFIG`)
/// of `name = value` lines; a flag wins over the environment, which wins over the file.
/// Settings of serve that come from the environment or the file are ignored by the other
/// subcommands, so that one file serves them all.
std::variant<CommandLine, UsageError> parse_command_line(
    const std::vector<std::string>& arguments, const Environment& environment,
    const FileReader& read_file = read_text_file);

/// The text of `threadsd --help`.
std::string usage_text();

/// The Markdown table of every setting: flag, environment variable, config file name,
/// default and meaning. docs/configuration.md holds it between its settings-table markers.
std::string settings_markdown();

/// What `threadsd --help` (kUsage) or `threadsd --help-markdown` prints.
std::string help_text(HelpTopic topic);

}  // namespace threadsd::app
