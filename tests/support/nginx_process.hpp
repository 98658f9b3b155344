#pragma once
// A real nginx (Debian's package) in front of threadsd, running the site file of the source
// tree, systemd/threadsd.nginx, with only its ports, its upstream servers, its log path and
// (for one case) its read timeout changed.

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/process.hpp"

namespace threadsd::test {

/// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short free_loopback_port();

/// The shipped site file with one upstream server per port of `threadsd_ports`, listening
/// on `nginx_port`, with `read_timeout` as proxy_read_timeout, and logging into `log_dir`.
std::string site_for_test(const std::vector<unsigned short>& threadsd_ports,
                          unsigned short nginx_port, const std::string& read_timeout,
                          const std::string& log_dir);

/// nginx in the foreground with one worker, its files in a temporary directory and the
/// shipped site file included in its http block, as Debian's nginx.conf includes it.
class NginxProcess {
  public:
    /// Starts nginx in front of `threadsd_ports` and waits until it accepts connections.
    NginxProcess(const std::vector<unsigned short>& threadsd_ports,
                 const std::string& read_timeout = "30s");
    /// Stops nginx (SIGTERM) and waits for it.
    ~NginxProcess();
    NginxProcess(const NginxProcess&) = delete;
    NginxProcess& operator=(const NginxProcess&) = delete;

    /// The port nginx listens on.
    unsigned short port() const { return port_; }
    /// The site's access log so far.
    std::string access_log() const;
    /// nginx's error log so far.
    std::string error_log() const;

  private:
    /// The http block around the site file, with every path inside the temp directory.
    std::string main_config() const;
    /// Forks nginx and waits for its port; leaves pid_ at -1 when nginx exited instead.
    void start();

    TempDir dir_;              ///< Configuration, logs, pid file and temp directories.
    pid_t pid_ = -1;           ///< The master process.
    unsigned short port_ = 0;  ///< Where it listens.
};

}  // namespace threadsd::test
