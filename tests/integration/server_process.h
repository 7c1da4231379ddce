// A running `mixi-search serve --port 0`, for the integration tests.
#pragma once

#include "http_client.h"
#include "process.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

namespace mixi::testing {

using namespace std::chrono_literals;

/// A running `mixi-search serve --port 0 ...`; killed when destroyed if still running.
class ServerProcess {
  public:
    ServerProcess(const fs::path& dir, const std::vector<std::string>& args,
                  const std::vector<std::string>& env = {}) {
        static std::atomic<int> counter{0};
        const std::string name = "server" + std::to_string(counter++);
        out_ = dir / (name + ".out");
        err_ = dir / (name + ".err");
        std::vector<std::string> all = {"serve", "--port", "0"};
        all.insert(all.end(), args.begin(), args.end());
        pid_ = spawn(all, out_, err_, env);
        if (pid_ < 0)
            return;
        // The first line of stdout is the bound address.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            const std::string out = slurp(out_);
            if (const auto nl = out.find('\n'); nl != std::string::npos) {
                url_ = out.substr(0, nl);
                const auto colon = url_.rfind(':');
                if (url_.starts_with("http://127.0.0.1:") && colon != std::string::npos)
                    port_ = static_cast<std::uint16_t>(std::stoi(url_.substr(colon + 1)));
                return;
            }
            if (auto code = wait_exit(pid_, 0ms)) {
                exited_ = code;
                return;
            }
            std::this_thread::sleep_for(5ms);
        }
    }
    ~ServerProcess() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            wait_exit(pid_, 5s);
        }
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    bool started() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    const std::string& url() const { return url_; }
    pid_t pid() const { return pid_; }
    std::string log() const { return slurp(err_); }
    std::string describe() const { return "url \"" + url_ + "\", stderr:\n" + log(); }

    bool running() {
        if (exited_)
            return false;
        if (auto code = wait_exit(pid_, 0ms)) {
            exited_ = code;
            return false;
        }
        return true;
    }
    void signal(int sig) { ::kill(pid_, sig); }
    /// Waits for the exit; its code, or nothing after `timeout`.
    std::optional<int> wait(Millis timeout) {
        if (!exited_)
            exited_ = wait_exit(pid_, timeout);
        return exited_;
    }
    /// SIGTERM and wait; the exit code (-1 when it had to be killed).
    int terminate(Millis timeout = 10s) {
        if (exited_)
            return *exited_;
        signal(SIGTERM);
        if (auto code = wait(timeout))
            return *code;
        ::kill(pid_, SIGKILL);
        wait(5s);
        return -1;
    }

    HttpClient connect() const { return HttpClient(port_); }
    /// One request on a new connection.
    std::optional<HttpResponse>
    get(const std::string& target, const std::vector<std::pair<std::string, std::string>>& h = {}) {
        HttpClient c(port_);
        return c.get(target, h);
    }

  private:
    pid_t pid_ = -1;
    fs::path out_, err_;
    std::string url_;
    std::uint16_t port_ = 0;
    std::optional<int> exited_;
};

} // namespace mixi::testing
