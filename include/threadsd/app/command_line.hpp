#pragma once
// The command line of CONTRACT.md section 6, parsed into a typed command.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "threadsd/api/limits.hpp"
#include "threadsd/auth/bearer_token.hpp"
#include "threadsd/http/access_log.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/store/limits.hpp"
#include "threadsd/store/sqlite.hpp"

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
    kHelp,          ///< threadsd --help
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
    std::uint32_t rate_limit = 0;  ///< Requests per second of a key without its own; 0 = off.
    api::InputLimits input;        ///< Limits on metadata and variables.
    auth::BearerSettings bearer;   ///< Clerk bearer tokens; off without a key file.
};

/// A parsed command line.
struct CommandLine {
    Command command = Command::kServe;       ///< What to run.
    std::string database = "./threadsd.db";  ///< --db, else $THREADSD_DB, else ./threadsd.db.
    bool no_demo = false;                    ///< --no-demo: never seed the demo data.
    ServeOptions serve;                      ///< For `serve`.
    std::string argument;      ///< FILE of `agents import`, KEY_ID of `keys revoke`, CLERK_ORG_ID.
    std::string organization;  ///< --org of `keys create` or `clerk map`.
    std::string key_name = "default";      ///< --name of `keys create`.
    std::optional<std::int64_t> key_rate;  ///< --rate of `keys create`: requests per second.
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

}  // namespace threadsd::app
