#pragma once
// Runs the real build/threadsd for integration tests: one-shot commands and a server.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace threadsd::test {

/// The threadsd binary under test: $THREADSD_BIN when set, else the one this build made.
std::string threadsd_binary();

/// A fresh directory removed with everything in it at scope end.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    /// The directory.
    const std::filesystem::path& path() const { return path_; }
    /// A path inside it, as a string.
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;  ///< Created by mkdtemp.
};

/// What a finished command printed and how it exited.
struct CommandResult {
    int exit_code = -1;  ///< Exit status, or 128+signal.
    std::string out;     ///< stdout.
    std::string err;     ///< stderr.
};

/// Runs `threadsd args...` to completion and captures its output.
CommandResult run_threadsd(const std::vector<std::string>& args);

/// Like run_threadsd, for commands that must end on their own (`serve` that must fail at
/// startup): still running after `seconds`, it is killed and reported as exit -1.
CommandResult run_threadsd_bounded(const std::vector<std::string>& args, double seconds = 20);

/// Like run_threadsd_bounded, but never as root: when the tests run as root, a copy of the
/// binary runs as `nobody` (via setpriv), so that file permissions apply to it. Files it
/// must reach need to be readable by others.
CommandResult run_threadsd_unprivileged(const std::vector<std::string>& args, double seconds = 20);

/// Runs `threadsd args...`, fails the test unless it exits 0, and returns its stdout.
std::string run_ok(const std::vector<std::string>& args);

/// Creates a key for `organization` on `db`, with `extra` options of `keys create` (such as
/// `--rate 3`), and returns it (fails the test if not).
std::string create_key(const std::string& db, const std::string& organization,
                       const std::vector<std::string>& extra = {});

/// Creates a key for the demo organization on `db` and returns it (fails the test if not).
std::string create_demo_key(const std::string& db);

/// The id of the one key on `db` whose listed prefix begins `key`, from `keys list`.
std::string key_id_of(const std::string& db, const std::string& key);

/// Writes `content` (an `agents import` file) to `path` and imports it into `db` (must exit 0).
void import_agents(const std::string& db, const std::string& path, const std::string& content);

/// The demo organization and agents of schema/seed/demo.sql.
namespace demo {
inline constexpr const char* kOrganization = "0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60";
inline constexpr const char* kSupportBot =
    "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01";  ///< TEXT/PROMPT, v2 published
inline constexpr const char* kSupportBotV2 = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e12";
inline constexpr const char* kVoiceAgent =
    "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e02";  ///< CALL/FLOW, nulls
inline constexpr const char* kVoiceAgentV1 = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e21";
inline constexpr const char* kBooker = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03";  ///< TEXT/FLOW
inline constexpr const char* kDraftAgent =
    "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e04";  ///< no published version
}  // namespace demo

/// How a server is started beyond its arguments, as systemd would start it.
struct Launch {
    std::vector<std::string> environment;  ///< Extra NAME=value entries.
    int listening_fd =
        -1;  ///< Passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID (socket activation).
};

/// A `threadsd serve` child process on 127.0.0.1 and a free port, with its own database.
class ServerProcess {
  public:
    /// Starts `threadsd serve --listen 127.0.0.1:0 --db db extra...` and waits until it
    /// logs the port it listens on (fails the test after 20 s).
    explicit ServerProcess(const std::string& db, const std::vector<std::string>& extra = {},
                           const Launch& launch = {});
    /// Kills the server (SIGKILL) if it still runs.
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    /// The port it listens on.
    unsigned short port() const { return port_; }
    /// Its process id.
    pid_t pid() const { return pid_; }
    /// Sends `signal` without waiting.
    void signal(int signal) const;
    /// Stops the process (SIGSTOP) and returns once every one of its threads is stopped:
    /// kill() only queues the stop, and a running I/O thread could still answer meanwhile.
    void freeze() const;
    /// SIGKILL and reap: a crash as abrupt as a power cut is for the process.
    void kill9();
    /// Waits up to `seconds` for the process to exit; its exit code, or -1 on timeout.
    int wait_exit(double seconds);
    /// Everything it has written to stderr so far.
    std::string stderr_text() const;
    /// Everything it has written to stdout so far (the access log).
    std::string stdout_text() const;

  private:
    pid_t pid_ = -1;           ///< The child.
    unsigned short port_ = 0;  ///< Parsed from its log line.
    std::string log_path_;     ///< Its stderr, redirected to a file.
    TempDir log_dir_;          ///< Holds log_path_.
};

}  // namespace threadsd::test
