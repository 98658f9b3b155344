#include "support/postgres_cluster.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "support/require.hpp"

extern char** environ;

namespace threadsd::test {
namespace {

namespace fs = std::filesystem;

/// The port named in the cluster's configuration: the socket's name, as no TCP is used.
constexpr const char* kPort = "5432";

/// What a finished command printed and how it ended.
struct Output {
    int exit_code = -1;  ///< Exit status, 128+signal, or -1 when it had to be killed.
    std::string out;     ///< Its stdout.
    std::string err;     ///< Its stderr.
};

/// `argv` as one line, for messages.
std::string command_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& arg : argv) {
        line += (line.empty() ? "" : " ") + arg;
    }
    return line;
}

/// Closes a file descriptor at scope end.
struct Fd {
    int fd = -1;  ///< The descriptor, -1 once closed.
    ~Fd() { reset(); }
    /// Closes it now.
    void reset() {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
};

/// Runs `argv` (an absolute path first) in `cwd` to completion, at most `timeout`, with
/// stdin from /dev/null and stdout and stderr captured. Only descriptors 0-2 are passed
/// on: a server started by it must not hold the test's sockets open.
Output run_command(const std::vector<std::string>& argv, const fs::path& cwd,
                   std::chrono::seconds timeout = std::chrono::seconds(120)) {
    int out_pipe[2];
    int err_pipe[2];
    require(::pipe2(out_pipe, O_CLOEXEC) == 0, "cannot make a pipe");
    Fd out_read{out_pipe[0]};
    Fd out_write{out_pipe[1]};
    require(::pipe2(err_pipe, O_CLOEXEC) == 0, "cannot make a pipe");
    Fd err_read{err_pipe[0]};
    Fd err_write{err_pipe[1]};

    std::vector<std::string> storage(argv);
    std::vector<char*> args;
    for (auto& arg : storage) {
        args.push_back(arg.data());
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    require(rc == 0, "cannot start " + command_line(argv) + ": " + std::strerror(rc));
    out_write.reset();
    err_write.reset();

    Output output;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool killed = false;
    while (out_read.fd >= 0 || err_read.fd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            killed = true;
            break;
        }
        pollfd fds[2] = {{out_read.fd, POLLIN, 0}, {err_read.fd, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                (i == 0 ? output.out : output.err).append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                (i == 0 ? out_read : err_read).reset();
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (killed) {
        output.exit_code = -1;
    } else if (WIFEXITED(status)) {
        output.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        output.exit_code = 128 + WTERMSIG(status);
    }
    return output;
}

/// The PostgreSQL binaries: $THREADSD_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin.
fs::path find_binaries() {
    if (const char* configured = std::getenv("THREADSD_PG_BINDIR"); configured != nullptr) {
        return configured;
    }
    fs::path best;
    long best_version = -1;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
        const std::string name = entry.path().filename().string();
        char* end = nullptr;
        const long version = std::strtol(name.c_str(), &end, 10);
        if (end == name.c_str() || *end != '\0' || version <= best_version) {
            continue;
        }
        if (fs::exists(entry.path() / "bin" / "initdb") &&
            fs::exists(entry.path() / "bin" / "pg_ctl")) {
            best = entry.path() / "bin";
            best_version = version;
        }
    }
    require(best_version >= 0,
            "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)");
    return best;
}

/// `text` percent-encoded for a URI, '/' kept (a socket directory reads as a path).
std::string percent_encode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

/// The last `lines` lines of the file at `path`, for a failure message.
std::string tail_of(const fs::path& path, std::size_t lines = 20) {
    std::ifstream in(path);
    std::vector<std::string> kept;
    for (std::string line; std::getline(in, line);) {
        kept.push_back(line);
        if (kept.size() > lines) {
            kept.erase(kept.begin());
        }
    }
    std::string text;
    for (const auto& line : kept) {
        text += line + "\n";
    }
    return text;
}

}  // namespace

PostgresCluster::PostgresCluster() : bin_(find_binaries()) {
    std::string pattern = "/tmp/threadsd-pg-XXXXXX";
    require(::mkdtemp(pattern.data()) != nullptr,
            std::string("cannot make a directory under /tmp: ") + std::strerror(errno));
    dir_ = pattern;
    data_ = dir_ / "data";
    log_ = dir_ / "server.log";
    try {
        // PostgreSQL refuses to run as root; its files and the socket directory then
        // belong to nobody.
        if (::geteuid() == 0) {
            const passwd* nobody = ::getpwnam("nobody");
            require(nobody != nullptr, "no user `nobody` to run PostgreSQL as");
            unprivileged_ = true;
            uid_ = nobody->pw_uid;
            gid_ = nobody->pw_gid;
            require(::chown(dir_.c_str(), uid_, gid_) == 0,
                    "cannot give " + dir_.string() + " to nobody: " + std::strerror(errno));
        }
        std::vector<std::string> initdb;
        if (unprivileged_) {
            initdb = {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid_),
                      "--regid=" + std::to_string(gid_), "--clear-groups", "--"};
        }
        // --no-sync: a throwaway cluster need not be flushed at creation; the server itself
        // runs with fsync on, like a real one.
        initdb.insert(initdb.end(), {(bin_ / "initdb").string(), "-D", data_.string(), "-U",
                                     "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C",
                                     "--no-sync", "--no-instructions"});
        const auto made = run_command(initdb, dir_);
        require(made.exit_code == 0, command_line(initdb) + " failed (" +
                                         std::to_string(made.exit_code) + "): " + made.err +
                                         made.out);

        // Appending keeps the file's owner (nobody) and mode.
        std::ofstream conf(data_ / "postgresql.conf", std::ios::app);
        conf << "\n# threadsd tests\n"
             << "listen_addresses = ''\n"
             << "unix_socket_directories = '" << dir_.string() << "'\n"
             << "port = " << kPort << "\n"
             << "fsync = on\n"
             << "synchronous_commit = on\n"
             << "max_connections = 100\n"
             << "shared_buffers = 32MB\n";
        conf.close();
        require(static_cast<bool>(conf), "cannot write " + (data_ / "postgresql.conf").string());
        start();
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        throw;
    }
}

PostgresCluster::~PostgresCluster() {
    // Immediate: the data is about to be deleted, so the shutdown checkpoint a fast stop
    // makes (seconds of fsync over every database the tests created) would be wasted.
    try {
        std::lock_guard lock(control_);
        pg_ctl({"-m", "immediate", "stop"});
    } catch (const std::exception&) {
        // Not running (a test stopped it and failed before starting it again).
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

void PostgresCluster::pg_ctl(const std::vector<std::string>& action) const {
    std::vector<std::string> command;
    if (unprivileged_) {
        command = {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid_),
                   "--regid=" + std::to_string(gid_), "--clear-groups", "--"};
    }
    command.insert(command.end(), {(bin_ / "pg_ctl").string(), "-D", data_.string(), "-w"});
    command.insert(command.end(), action.begin(), action.end());
    const auto result = run_command(command, dir_);
    require(result.exit_code == 0, command_line(command) + " failed (" +
                                       std::to_string(result.exit_code) + "): " + result.err +
                                       result.out + "\nserver log:\n" + tail_of(log_));
}

void PostgresCluster::stop() const {
    std::lock_guard lock(control_);
    pg_ctl({"-m", "fast", "stop"});
}

void PostgresCluster::start() const {
    std::lock_guard lock(control_);
    pg_ctl({"-t", "60", "-l", log_.string(), "start"});
}

std::string PostgresCluster::uri_for(const std::string& db) const {
    return "postgresql://postgres@/" + percent_encode(db) +
           "?host=" + percent_encode(dir_.string());
}

std::string PostgresCluster::create_database() const {
    const std::string name = "threadsd_" + std::to_string(::getpid()) + "_" +
                             std::to_string(databases_.fetch_add(1) + 1);
    psql("postgres", "CREATE DATABASE " + name);
    return uri_for(name);
}

std::string PostgresCluster::psql(const std::string& db, const std::string& sql) const {
    // psql is a client: it may run as root. -X skips ~/.psqlrc.
    const std::vector<std::string> command{(bin_ / "psql").string(),
                                           "-X",
                                           "-q",
                                           "-A",
                                           "-t",
                                           "-v",
                                           "ON_ERROR_STOP=1",
                                           "-h",
                                           dir_.string(),
                                           "-p",
                                           kPort,
                                           "-U",
                                           "postgres",
                                           "-d",
                                           db,
                                           "-c",
                                           sql};
    const auto result = run_command(command, dir_);
    require(result.exit_code == 0, "psql on " + db + " failed (" +
                                       std::to_string(result.exit_code) + ") for `" + sql +
                                       "`: " + result.err);
    return result.out;
}

const PostgresCluster& postgres_cluster() {
    static const PostgresCluster cluster;
    return cluster;
}

}  // namespace threadsd::test
