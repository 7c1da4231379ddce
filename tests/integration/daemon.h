// Other programs a deployment runs beside mixi-search (xapian-tcpsrv, xapian-replicate-server,
// xapian-replicate), started by a test on loopback and killed when the test ends.
#pragma once

#include "process.h"

#include <arpa/inet.h>
#include <cstdint>
#include <netinet/in.h>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace mixi::testing {

/// A free loopback port (bound and released: Xapian's servers cannot be asked to pick one).
inline std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

/// Whether something accepts connections on the loopback `port`.
inline bool accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

/// A program in a process group of its own (servers that fork a child per connection die
/// with their children), started at construction and killed when destroyed.
class Daemon {
  public:
    /// `listens`: the loopback port it serves on, waited for (up to 2 s) at each start.
    Daemon(std::string exe, std::vector<std::string> args, std::uint16_t listens = 0)
        : exe_(std::move(exe)), args_(std::move(args)), port_(listens) {
        start();
    }
    ~Daemon() { stop(SIGKILL); }
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    void start() {
        pid_ = spawn_program(exe_, args_, "/dev/null", "/dev/null", {}, true);
        for (int i = 0; i < 200 && port_ && pid_ > 0 && !accepts(port_); ++i)
            std::this_thread::sleep_for(10ms);
    }
    /// Sends `sig` to the whole group; SIGKILL also waits for the exit.
    void stop(int sig = SIGKILL) {
        if (pid_ <= 0)
            return;
        ::kill(-pid_, sig);
        if (sig == SIGKILL) {
            wait_exit(pid_, 5s);
            pid_ = -1;
        }
    }
    std::uint16_t port() const { return port_; }

  private:
    std::string exe_;
    std::vector<std::string> args_;
    std::uint16_t port_;
    pid_t pid_ = -1;
};

} // namespace mixi::testing
