// Running the real mixi-search binary from a test: spawn it with its output in files, wait for
// it with a timeout, collect what it printed.
#pragma once

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace mixi::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Starts the program `exe` with `args`, stdout and stderr going to `out` and `err`. The
/// environment is the test's own without MIXI_* variables, plus `env`. `own_group`: in a process
/// group of its own, so that kill(-pid, ...) reaches its children too.
inline pid_t spawn_program(const std::string& exe, const std::vector<std::string>& args,
                           const fs::path& out, const fs::path& err,
                           const std::vector<std::string>& env = {}, bool own_group = false) {
    std::vector<std::string> argv_s = {exe};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e)
        if (!std::string_view(*e).starts_with("MIXI_"))
            env_s.emplace_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    if (own_group) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
    }
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data()) != 0)
        pid = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
}

/// Starts mixi-search (MIXI_BINARY) with `args`; see spawn_program.
inline pid_t spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
                   const std::vector<std::string>& env = {}) {
    return spawn_program(MIXI_BINARY, args, out, err, env);
}

inline int exit_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Waits up to `timeout` for `pid`; its exit code, or nothing while it still runs.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return exit_code(status);
        if (r < 0)
            return -1;
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
}

struct Outcome {
    int status = -1;
    std::string out, err;
};

/// Runs the binary to completion (killed after 60 s).
inline Outcome run(const std::vector<std::string>& args, const fs::path& dir,
                   const std::vector<std::string>& env = {}) {
    static std::atomic<int> counter{0};
    const std::string name = "run" + std::to_string(counter++);
    const fs::path out = dir / (name + ".out"), err = dir / (name + ".err");
    Outcome r;
    const pid_t pid = spawn(args, out, err, env);
    if (pid < 0)
        return r;
    auto code = wait_exit(pid, 60s);
    if (!code) {
        ::kill(pid, SIGKILL);
        code = wait_exit(pid, 5s);
    }
    r.status = code.value_or(-1);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

} // namespace mixi::testing
