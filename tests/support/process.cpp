#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

#include "support/files.hpp"

extern char** environ;

namespace threadsd::test {
namespace {

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

/// Spawns `command` (the binary, or a wrapper of it, then its arguments) with stdout and
/// stderr sent to files (stdin from /dev/null), `extra_environment` added to ours, and
/// `fd3` (when not -1) as its file descriptor 3.
pid_t spawn_command(std::vector<std::string> argv_storage, const std::string& out_path,
                    const std::string& err_path,
                    const std::vector<std::string>& extra_environment = {}, int fd3 = -1) {
    std::vector<char*> argv;
    for (auto& arg : argv_storage) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    if (fd3 >= 0) {
        posix_spawn_file_actions_adddup2(&actions, fd3, 3);
    }
    // The extra entries come first: getenv() takes the first of two entries with a name,
    // so an extra entry replaces ours.
    std::vector<std::string> environment_storage(extra_environment);
    std::vector<char*> environment;
    for (auto& entry : environment_storage) {
        environment.push_back(entry.data());
    }
    for (char** entry = environ; *entry != nullptr; ++entry) {
        environment.push_back(*entry);
    }
    environment.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environment.data());
    posix_spawn_file_actions_destroy(&actions);
    BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
    return pid;
}

/// Spawns the binary with `args`.
pid_t spawn(const std::vector<std::string>& args, const std::string& out_path,
            const std::string& err_path) {
    std::vector<std::string> command{threadsd_binary()};
    command.insert(command.end(), args.begin(), args.end());
    return spawn_command(std::move(command), out_path, err_path);
}

/// Waits for `pid` at most `seconds`, then kills it; its exit code, or -1 when killed.
int wait_bounded(pid_t pid, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (true) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return decode_status(status);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

std::string threadsd_binary() {
    const char* configured = std::getenv("THREADSD_BIN");
    return configured != nullptr ? configured : THREADSD_BUILT_BINARY;
}

TempDir::TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "threadsd-test-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

CommandResult run_threadsd(const std::vector<std::string>& args) {
    TempDir dir;
    const auto out = dir.file("out");
    const auto err = dir.file("err");
    const pid_t pid = spawn(args, out, err);
    int status = 0;
    waitpid(pid, &status, 0);
    return {decode_status(status), read_file(out), read_file(err)};
}

CommandResult run_threadsd_bounded(const std::vector<std::string>& args, double seconds) {
    TempDir dir;
    const auto out = dir.file("out");
    const auto err = dir.file("err");
    const pid_t pid = spawn(args, out, err);
    const int exit_code = wait_bounded(pid, seconds);
    return {exit_code, read_file(out), read_file(err)};
}

CommandResult run_threadsd_unprivileged(const std::vector<std::string>& args, double seconds) {
    TempDir dir;
    const auto out = dir.file("out");
    const auto err = dir.file("err");
    std::vector<std::string> command;
    if (::geteuid() == 0) {
        // The build tree may sit under a directory `nobody` cannot enter (/root).
        namespace fs = std::filesystem;
        fs::permissions(dir.path(),
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        const auto copy = dir.file("threadsd");
        fs::copy_file(threadsd_binary(), copy);
        command = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy};
    } else {
        command = {threadsd_binary()};
    }
    command.insert(command.end(), args.begin(), args.end());
    const int exit_code = wait_bounded(spawn_command(std::move(command), out, err), seconds);
    return {exit_code, read_file(out), read_file(err)};
}

std::string run_ok(const std::vector<std::string>& args) {
    const auto result = run_threadsd(args);
    std::string command = "threadsd";
    for (const auto& arg : args) {
        command += " " + arg;
    }
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0,
                          command << " failed with " << result.exit_code << ": " << result.err);
    return result.out;
}

std::string create_key(const std::string& db, const std::string& organization,
                       const std::vector<std::string>& extra) {
    std::vector<std::string> args{"keys", "create", "--org", organization, "--db", db};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = run_threadsd(args);
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "keys create failed: " << result.err);
    std::string key = result.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) {
        key.pop_back();
    }
    return key;
}

std::string create_demo_key(const std::string& db) {
    return create_key(db, demo::kOrganization);
}

std::string key_id_of(const std::string& db, const std::string& key) {
    const auto listing = boost::json::parse(run_ok({"keys", "list", "--db", db}));
    std::vector<std::string> matches;
    for (const auto& entry : listing.as_array()) {
        const auto& object = entry.as_object();
        const std::string prefix(object.at("prefix").as_string());
        if (!prefix.empty() && key.rfind(prefix, 0) == 0) {
            matches.emplace_back(object.at("id").as_string());
        }
    }
    BOOST_REQUIRE_MESSAGE(matches.size() == 1, "expected one key with the prefix of " << key);
    return matches.front();
}

void import_agents(const std::string& db, const std::string& path, const std::string& content) {
    write_file(path, content);
    run_ok({"agents", "import", path, "--db", db});
}

ServerProcess::ServerProcess(const std::string& db, const std::vector<std::string>& extra,
                             const Launch& launch) {
    log_path_ = log_dir_.file("stderr");
    std::vector<std::string> command;
    if (launch.listening_fd >= 0) {
        // LISTEN_PID must be the server's own pid, which only the child knows: the shell
        // sets it to its $$ and execs the server in its place.
        command = {"/bin/sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\""};
    }
    command.push_back(std::filesystem::absolute(threadsd_binary()).string());
    for (const auto& arg : {"serve", "--listen", "127.0.0.1:0", "--db"}) {
        command.emplace_back(arg);
    }
    command.push_back(db);
    command.insert(command.end(), extra.begin(), extra.end());
    pid_ = spawn_command(command, log_dir_.file("stdout"), log_path_, launch.environment,
                         launch.listening_fd);
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch match;
        const std::string text = stderr_text();
        if (std::regex_search(text, match, listening)) {
            port_ = static_cast<unsigned short>(std::stoi(match[1]));
            return;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            BOOST_FAIL("threadsd serve exited early: " << text);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_FAIL("threadsd serve did not report its port: " << stderr_text());
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) {
        kill9();
    }
}

void ServerProcess::signal(int signal) const {
    ::kill(pid_, signal);
}

void ServerProcess::freeze() const {
    ::kill(pid_, SIGSTOP);
    const auto tasks = std::filesystem::path("/proc") / std::to_string(pid_) / "task";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        bool all_stopped = true;
        for (const auto& task : std::filesystem::directory_iterator(tasks)) {
            // The state is the field after the parenthesised command name.
            const auto stat = read_file(task.path() / "stat");
            const auto name_end = stat.rfind(')');
            if (name_end == std::string::npos || name_end + 2 >= stat.size() ||
                stat[name_end + 2] != 'T') {
                all_stopped = false;
                break;
            }
        }
        if (all_stopped) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    BOOST_FAIL("threadsd serve did not stop within 10 s of SIGSTOP");
}

void ServerProcess::kill9() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

int ServerProcess::wait_exit(double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return decode_status(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

std::string ServerProcess::stderr_text() const {
    return read_file(log_path_);
}

std::string ServerProcess::stdout_text() const {
    return read_file(log_dir_.file("stdout"));
}

}  // namespace threadsd::test
