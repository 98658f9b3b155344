#include "support/nginx_process.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "support/files.hpp"

namespace threadsd::test {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;

constexpr const char* kNginxBinary = "/usr/sbin/nginx";

/// Replaces the one occurrence of `from` in `text`; fails the test when the site file no
/// longer has it (the test would otherwise run a configuration other than the shipped one).
void replace_once(std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    BOOST_TEST_REQUIRE(at != std::string::npos, "systemd/threadsd.nginx has no '" << from << "'");
    BOOST_TEST_REQUIRE(text.find(from, at + 1) == std::string::npos);
    text.replace(at, from.size(), to);
}

}  // namespace

unsigned short free_loopback_port() {
    net::io_context io;
    net::ip::tcp::acceptor probe(io, {net::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

std::string site_for_test(const std::vector<unsigned short>& threadsd_ports,
                          unsigned short nginx_port, const std::string& read_timeout,
                          const std::string& log_dir) {
    std::string site = read_file(fs::path(THREADSD_SOURCE_DIR) / "systemd" / "threadsd.nginx");
    std::string servers;
    for (const auto port : threadsd_ports) {
        servers += (servers.empty() ? "" : "\n    ") + std::string("server 127.0.0.1:") +
                   std::to_string(port) + ";";
    }
    replace_once(site, "server 127.0.0.1:8080;", servers);
    replace_once(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(nginx_port) + ";");
    replace_once(site, "    listen [::]:80;\n", "");
    replace_once(site, "proxy_read_timeout 30s;", "proxy_read_timeout " + read_timeout + ";");
    replace_once(site, "/var/log/nginx/threadsd.access.log", log_dir + "/threadsd.access.log");
    return site;
}

NginxProcess::NginxProcess(const std::vector<unsigned short>& threadsd_ports,
                           const std::string& read_timeout) {
    BOOST_TEST_REQUIRE(fs::exists(kNginxBinary), "nginx is not installed (Debian's nginx)");
    // Run as root, nginx's workers run as nobody and must reach their temp directories.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    // A port taken between the probe and nginx's bind gets another try.
    for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
        port_ = free_loopback_port();
        write_file(dir_.path() / "site.conf",
                   site_for_test(threadsd_ports, port_, read_timeout, dir_.path().string()));
        write_file(dir_.path() / "nginx.conf", main_config());
        start();
    }
    BOOST_TEST_REQUIRE(pid_ > 0, "nginx did not start: " << error_log());
}

NginxProcess::~NginxProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::string NginxProcess::access_log() const {
    const auto path = dir_.path() / "threadsd.access.log";
    return fs::exists(path) ? read_file(path) : std::string();
}

std::string NginxProcess::error_log() const {
    const auto path = dir_.path() / "error.log";
    return fs::exists(path) ? read_file(path) : std::string();
}

std::string NginxProcess::main_config() const {
    const std::string dir = dir_.path().string();
    return "daemon off;\nworker_processes 1;\npid " + dir + "/nginx.pid;\nerror_log " + dir +
           "/error.log info;\nevents { worker_connections 256; }\nhttp {\n    access_log " + dir +
           "/access.log;\n    client_body_temp_path " + dir + "/body;\n    proxy_temp_path " + dir +
           "/proxy;\n    fastcgi_temp_path " + dir + "/fastcgi;\n    uwsgi_temp_path " + dir +
           "/uwsgi;\n    scgi_temp_path " + dir + "/scgi;\n    include " + dir + "/site.conf;\n}\n";
}

void NginxProcess::start() {
    const std::string dir = dir_.path().string();
    const std::string config = dir + "/nginx.conf";
    const std::string early_log = dir + "/error.log";
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        const int out = ::open((dir + "/nginx.out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        ::execl(kNginxBinary, "nginx", "-p", dir.c_str(), "-c", config.c_str(), "-e",
                early_log.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child) {
            return;  // Exited: most likely the port was taken.
        }
        net::io_context io;
        net::ip::tcp::socket probe(io);
        boost::system::error_code ec;
        probe.connect({net::ip::make_address("127.0.0.1"), port_}, ec);
        if (!ec) {
            pid_ = child;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
}

}  // namespace threadsd::test
