// threadsd under systemd, with the real pieces: the units in systemd/ checked by
// systemd-analyze, sd_notify messages received on a datagram socket as systemd would
// receive them, and a listening socket passed in as socket activation passes it.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "support/test_store.hpp"

namespace threadsd::test {
namespace {

namespace fs = std::filesystem;

/// Runs a shell command; its exit code and what it printed (stdout and stderr).
std::pair<int, std::string> shell(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    BOOST_TEST_REQUIRE(pipe != nullptr);
    char chunk[4096];
    while (const auto n = std::fread(chunk, 1, sizeof chunk, pipe)) {
        output.append(chunk, n);
    }
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

/// Copies of the units in systemd/ whose ExecStart runs the binary under test, which
/// systemd-analyze verify wants to exist; the replica templates as instance 8081.
fs::path units_for_the_built_binary(const TempDir& dir) {
    const fs::path source = fs::path(THREADSD_SOURCE_DIR) / "systemd";
    for (const auto& [unit, copy] : {std::pair{"threadsd.service", "threadsd.service"},
                                     std::pair{"threadsd.socket", "threadsd.socket"},
                                     std::pair{"threadsd@.service", "threadsd@8081.service"},
                                     std::pair{"threadsd@.socket", "threadsd@8081.socket"}}) {
        std::string text = read_file(source / unit);
        const std::string installed = "/usr/local/bin/threadsd";
        if (const auto at = text.find(installed); at != std::string::npos) {
            text.replace(at, installed.size(), fs::absolute(threadsd_binary()).string());
        }
        write_file(dir.path() / copy, text);
    }
    return dir.path();
}

/// Checks that `systemd-analyze verify` accepts `units` (paths in `dir`) without a word.
void check_verified(const fs::path& dir, const std::string& units) {
    const auto [verified, output] =
        shell("cd '" + dir.string() + "' && systemd-analyze verify " + units);
    BOOST_TEST(verified == 0, output);
    BOOST_TEST(output.empty(), output);
}

/// The lines of the [Service] section of `unit`, comments and blank lines left out.
std::vector<std::string> service_lines(const std::string& unit) {
    std::istringstream in(read_file(fs::path(THREADSD_SOURCE_DIR) / "systemd" / unit));
    std::vector<std::string> lines;
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("[")) {
            inside = line == "[Service]";
        } else if (inside && !line.empty() && !line.starts_with("#")) {
            lines.push_back(line);
        }
    }
    return lines;
}

/// A datagram socket bound to a path, where the server's sd_notify messages arrive.
class NotifySocket {
  public:
    explicit NotifySocket(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        BOOST_TEST_REQUIRE(fd_ >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        BOOST_TEST_REQUIRE(path.size() < sizeof address.sun_path);
        std::copy(path.begin(), path.end(), address.sun_path);
        BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        timeval tv{};
        tv.tv_sec = 10;
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~NotifySocket() { ::close(fd_); }

    /// The next message, or "" when none came within 10 s.
    std::string next() {
        char buffer[4096];
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }

    /// Reads messages until one contains `needle`; false after 10 s of silence.
    bool wait_for(const std::string& needle, std::vector<std::string>& seen) {
        for (;;) {
            auto message = next();
            if (message.empty()) {
                return false;
            }
            seen.push_back(message);
            if (message.find(needle) != std::string::npos) {
                return true;
            }
        }
    }

  private:
    std::string path_;  ///< Where it is bound.
    int fd_ = -1;       ///< The socket.
};

/// A TCP socket listening on 127.0.0.1 and a free port, as threadsd.socket would be.
class ListeningSocket {
  public:
    ListeningSocket() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        BOOST_TEST_REQUIRE(fd_ >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        BOOST_TEST_REQUIRE(::listen(fd_, 64) == 0);
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~ListeningSocket() { ::close(fd_); }
    int fd() const { return fd_; }
    unsigned short port() const { return port_; }

  private:
    int fd_ = -1;              ///< The socket.
    unsigned short port_ = 0;  ///< Its port.
};

/// A GET /healthz that asks for the connection to be closed.
const std::string kHealthRequest = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(systemd_units)

BOOST_AUTO_TEST_CASE(the_units_verify_and_the_service_is_rated_ok) {
    TempDir dir;
    const auto units = units_for_the_built_binary(dir);
    check_verified(units, "./threadsd.socket ./threadsd.service");

    const auto [rated, security] = shell("cd '" + units.string() +
                                         "' && systemd-analyze security --offline=yes"
                                         " ./threadsd.service");
    BOOST_TEST(rated == 0, security);
    std::smatch match;
    const std::regex overall("Overall exposure level for threadsd\\.service: ([0-9.]+) ([A-Z]+)");
    BOOST_TEST_REQUIRE(std::regex_search(security, match, overall), security);
    BOOST_TEST(std::stod(match[1]) < 5.0, "exposure " << match[1]);
    BOOST_TEST(match[2] == "OK");
}

BOOST_AUTO_TEST_CASE(the_replica_template_verifies_and_is_the_service_but_for_its_store) {
    TempDir dir;
    check_verified(units_for_the_built_binary(dir),
                   "./threadsd@8081.socket ./threadsd@8081.service");

    // The sandbox and every other setting are the single server's: only where the store
    // comes from differs (a replica must be given a PostgreSQL URI, never the local file).
    auto single = service_lines("threadsd.service");
    auto replica = service_lines("threadsd@.service");
    std::erase(single, "EnvironmentFile=-/etc/threadsd/threadsd.env");
    std::erase(single, "Environment=THREADSD_DB=/var/lib/threadsd/threadsd.db");
    std::erase(replica, "EnvironmentFile=/etc/threadsd/threadsd.env");
    BOOST_TEST(single == replica, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ready_watchdog_and_stopping_reach_the_notify_socket) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    NotifySocket notify(dir.file("notify"));
    ServerProcess server(db, {}, {{"NOTIFY_SOCKET=" + dir.file("notify"), "WATCHDOG_USEC=200000"}});

    std::vector<std::string> seen;
    BOOST_TEST_REQUIRE(notify.wait_for("READY=1", seen));
    // READY=1 comes once the listener accepts: a request right now is answered.
    HttpClient client(server.port());
    BOOST_TEST(
        client.request(boost::beast::http::verb::get, "/healthz", std::nullopt, {}).status() ==
        200u);
    // Pings every 100 ms (half of WatchdogSec).
    int pings = 0;
    while (pings < 3) {
        const auto message = notify.next();
        BOOST_TEST_REQUIRE(!message.empty(), "no WATCHDOG=1 within 10 s");
        pings += message.find("WATCHDOG=1") != std::string::npos ? 1 : 0;
    }
    server.signal(SIGTERM);
    BOOST_TEST(notify.wait_for("STOPPING=1", seen));
    BOOST_TEST(server.wait_exit(20) == 0);
}

BOOST_AUTO_TEST_CASE(a_passed_listening_socket_is_served_and_keeps_connections_across_a_restart) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    ListeningSocket listening;

    // A client connects before any server runs: the connection waits in the backlog.
    RawConnection early(listening.port(), 20);
    BOOST_TEST_REQUIRE(early.write(kHealthRequest));
    {
        ServerProcess server(db, {}, {{}, listening.fd()});
        BOOST_TEST(server.port() == listening.port());
        const auto answer = parse_response(early.read_until_closed().bytes);
        BOOST_TEST_REQUIRE(answer.has_value());
        BOOST_TEST(answer->status() == 200u);
        server.signal(SIGTERM);
        BOOST_TEST(server.wait_exit(20) == 0);
    }
    // Between two servers, as during a restart: the connection is not refused.
    RawConnection between(listening.port(), 20);
    BOOST_TEST_REQUIRE(between.write(kHealthRequest));
    ServerProcess next(db, {}, {{}, listening.fd()});
    const auto answer = parse_response(between.read_until_closed().bytes);
    BOOST_TEST_REQUIRE(answer.has_value());
    BOOST_TEST(answer->status() == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
