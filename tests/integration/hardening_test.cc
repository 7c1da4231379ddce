// The server guarding its secrets and what it holds in memory: the account secret's minimum
// length, admin keys that cannot be split, warnings about secret files others can read, the
// limit on wrong admin keys, no core files, and --print-config without secrets.
#include "../unit/temp_dir.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <fstream>
#include <gtest/gtest.h>
#include <signal.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;

const std::string account_secret = "account-secret-0123456789abcdef-0123456789";
const std::string admin_key = "admin-key-for-the-hardening-tests";

class Hardening : public ::testing::Test {
  protected:
    /// A server without an index (it answers 503 for searches, which these tests do not need).
    std::unique_ptr<ServerProcess> start(const std::vector<std::string>& sets,
                                         const std::vector<std::string>& env = {}) {
        std::vector<std::string> args = {"--index", (tmp.path() / "index").string(), "--data",
                                         (tmp.path() / "var").string()};
        for (const auto& s : sets) {
            args.push_back("--set");
            args.push_back(s);
        }
        return std::make_unique<ServerProcess>(tmp.path(), args, env);
    }
    /// Writes `text` to `name` with `mode`; its path.
    fs::path write(const std::string& name, const std::string& text,
                   fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
        const fs::path path = tmp.path() / name;
        std::ofstream(path) << text;
        fs::permissions(path, mode);
        return path.string();
    }
    testing::TempDir tmp;
};

TEST_F(Hardening, AShortAccountSecretStopsTheServerWithExitStatusTwo) {
    const std::string short_secret = "thirty-one-bytes-0123456789abcd";
    ASSERT_EQ(short_secret.size(), 31u);
    for (const auto& [sets, env] :
         std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
             {{"auth.account_secret=" + short_secret}, {}},
             {{}, {"MIXI_AUTH_ACCOUNT_SECRET=" + short_secret}},
             {{"auth.account_secret_file=" + write("secret", short_secret + "\n").string()}, {}}}) {
        auto s = start(sets, env);
        EXPECT_FALSE(s->started()) << s->describe();
        EXPECT_EQ(s->wait(10s), 2) << s->describe();
        EXPECT_NE(s->log().find("auth.account_secret must be at least 32 bytes"), std::string::npos)
            << s->log();
        EXPECT_EQ(s->log().find(short_secret), std::string::npos) << s->log();
    }
    auto ok = start({"auth.account_secret=" + short_secret + "e"});
    EXPECT_TRUE(ok->started()) << ok->describe();
}

TEST_F(Hardening, AnAdminKeyWithACommaStopsTheServerInsteadOfMakingTwoKeys) {
    const std::string joined = admin_key + "-one," + admin_key + "-two";
    const fs::path toml = write("keys.toml", "[auth]\nadmin_keys = [\"" + joined + "\"]\n");
    const fs::path key_file = write("keys", joined + "\n");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--config", toml.string()},
          std::vector<std::string>{"--set", "auth.admin_key_file=" + key_file.string()}}) {
        auto s = std::make_unique<ServerProcess>(tmp.path(), args);
        EXPECT_FALSE(s->started()) << s->describe();
        EXPECT_EQ(s->wait(10s), 2) << s->describe();
        EXPECT_NE(s->log().find("may not contain a comma"), std::string::npos) << s->log();
        EXPECT_EQ(s->log().find(admin_key), std::string::npos) << s->log();
    }
}

TEST_F(Hardening, SecretFilesOthersCanReadAreWarnedAboutAtStart) {
    using fs::perms;
    const fs::path key_file =
        write("keys", admin_key + "\n", perms::owner_read | perms::group_read | perms::others_read);
    const fs::path secret_file =
        write("secret", account_secret + "\n", perms::owner_read | perms::group_read);
    const std::vector<std::string> sets = {"auth.admin_key_file=" + key_file.string(),
                                           "auth.account_secret_file=" + secret_file.string()};
    auto loose = start(sets);
    ASSERT_TRUE(loose->started()) << loose->describe();
    const std::string log = loose->log();
    EXPECT_NE(log.find("warning: auth.admin_key_file: " + key_file.string()), std::string::npos)
        << log;
    EXPECT_NE(log.find("(mode 0444)"), std::string::npos) << log;
    EXPECT_NE(log.find("warning: auth.account_secret_file: " + secret_file.string()),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("(mode 0440)"), std::string::npos) << log;
    EXPECT_EQ(log.find(admin_key), std::string::npos) << log;
    EXPECT_EQ(log.find(account_secret), std::string::npos) << log;
    // The keys work all the same.
    EXPECT_EQ(loose->get("/v1/admin/reports/volume", {{"Authorization", "Bearer " + admin_key}})
                  ->result_int(),
              200u);
    loose->terminate();

    fs::permissions(key_file, perms::owner_read);
    fs::permissions(secret_file, perms::owner_read);
    auto tight = start(sets);
    ASSERT_TRUE(tight->started()) << tight->describe();
    EXPECT_EQ(tight->log().find("warning"), std::string::npos) << tight->log();
}

TEST_F(Hardening, WrongAdminKeysAreRateLimitedPerClient) {
    // Behind a trusted proxy, so that the test can be several clients.
    auto s = start({"auth.admin_keys=" + admin_key, "server.trusted_proxies=127.0.0.1"});
    ASSERT_TRUE(s->started()) << s->describe();
    auto admin = [&](const std::string& client, const std::string& key) {
        return s->get("/v1/admin/reports/volume",
                      {{"Authorization", "Bearer " + key}, {"X-Forwarded-For", client}});
    };
    for (int i = 0; i < 12; ++i)
        ASSERT_EQ(admin("192.0.2.1", admin_key)->result_int(), 200u) << i;
    for (int i = 0; i < 10; ++i)
        testing::expect_error(admin("192.0.2.1", "wrong-key-0123456789abcdef"), 403, "forbidden");
    const auto limited = admin("192.0.2.1", "wrong-key-0123456789abcdef");
    testing::expect_error(limited, 429, "rate_limited");
    const int wait = std::stoi(std::string((*limited)[testing::http::field::retry_after]));
    EXPECT_GT(wait, 0);
    EXPECT_LE(wait, 60);
    // Not even the right key is compared from there; another client is not held back.
    testing::expect_error(admin("192.0.2.1", admin_key), 429, "rate_limited");
    EXPECT_EQ(admin("192.0.2.2", admin_key)->result_int(), 200u);
}

/// The soft and hard "Max core file size" of /proc/PID/limits.
std::pair<std::string, std::string> core_limit(pid_t pid) {
    std::istringstream in(testing::slurp("/proc/" + std::to_string(pid) + "/limits"));
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("Max core file size")) {
            std::istringstream fields(line.substr(std::string("Max core file size").size()));
            std::string soft, hard;
            fields >> soft >> hard;
            return {soft, hard};
        }
    return {};
}

/// The owner of /proc/PID/status: the process's user, or root when the process is not
/// dumpable (the files in /proc/PID, not the directory itself).
uid_t proc_owner(pid_t pid) {
    struct stat st {};
    return ::stat(("/proc/" + std::to_string(pid) + "/status").c_str(), &st) == 0 ? st.st_uid
                                                                                  : uid_t(-1);
}

TEST_F(Hardening, TheRunningServerIsNotDumpableAndHasNoCoreFileLimit) {
    // Started with core files allowed, as a shell with `ulimit -c unlimited` would.
    struct rlimit before {};
    ASSERT_EQ(::getrlimit(RLIMIT_CORE, &before), 0);
    struct rlimit allowed = before;
    allowed.rlim_cur = before.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_CORE, &allowed), 0);
    auto s = start({"auth.account_secret=" + account_secret});
    ::setrlimit(RLIMIT_CORE, &before);
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(core_limit(s->pid()), std::make_pair(std::string("0"), std::string("0")));
    // A non-dumpable process's /proc files belong to root instead of its user. Not running as
    // root, that is this server; as root, one started as another user (and, to show the
    // difference, another program started the same way).
    if (::getuid() != 0) {
        EXPECT_EQ(proc_owner(s->pid()), 0u);
        return;
    }
    const uid_t nobody = 65534;
    fs::permissions(tmp.path(), fs::perms::all); // for nobody's server to write its data
    // A copy of the binary, since the build directory may sit where nobody cannot go.
    const fs::path binary = tmp.path() / "mixi-search";
    fs::copy_file(MIXI_BINARY, binary);
    auto run_as_nobody = [&](const std::string& program, const std::vector<std::string>& args,
                             const std::string& name) {
        // setpriv (util-linux) drops to the user and execs the program in the same process.
        std::vector<std::string> as_nobody = {"--reuid=" + std::to_string(nobody),
                                              "--regid=" + std::to_string(nobody), "--clear-groups",
                                              program};
        as_nobody.insert(as_nobody.end(), args.begin(), args.end());
        return testing::spawn_program("/usr/bin/setpriv", as_nobody, tmp.path() / (name + ".out"),
                                      tmp.path() / (name + ".err"));
    };
    const pid_t server =
        run_as_nobody(binary.string(),
                      {"serve", "--port", "0", "--index", (tmp.path() / "index").string(), "--data",
                       (tmp.path() / "nobody-var").string()},
                      "nobody-server");
    const pid_t other = run_as_nobody("/bin/sleep", {"30"}, "nobody-sleep");
    ASSERT_GT(server, 0);
    ASSERT_GT(other, 0);
    // Listening: it has read its configuration and made itself non-dumpable.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (testing::slurp(tmp.path() / "nobody-server.out").find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_NE(testing::slurp(tmp.path() / "nobody-server.out").find("http://"), std::string::npos)
        << testing::slurp(tmp.path() / "nobody-server.err");
    EXPECT_EQ(proc_owner(other), nobody);
    EXPECT_EQ(proc_owner(server), 0u);
    for (pid_t pid : {server, other}) {
        ::kill(pid, SIGKILL);
        testing::wait_exit(pid, 5s);
    }
}

TEST_F(Hardening, PrintConfigNeverShowsASecret) {
    std::vector<std::string> secrets;
    auto secret = [&](const std::string& name) {
        secrets.push_back(name + "-0123456789abcdef0123456789abcdef");
        return secrets.back();
    };
    // From the file, a key file, the environment, --set and the account secret file.
    const fs::path key_file = write("keys", secret("file-key") + "\n");
    const fs::path config =
        write("mixi.toml", "[auth]\naccount_secret = \"" + secret("toml-secret") +
                               "\"\nadmin_keys = [\"" + secret("toml-key") + "\", \"" +
                               secret("toml-key2") + "\"]\nadmin_key_file = \"" +
                               key_file.string() + "\"\n");
    const std::vector<std::string> env = {"MIXI_AUTH_ACCOUNT_SECRET=" + secret("env-secret"),
                                          "MIXI_AUTH_ADMIN_KEYS=" + secret("env-key") + "," +
                                              secret("env-key2")};
    const fs::path secret_file = write("secret", secret("file-secret") + "\n");
    const std::vector<Outcome> runs = {
        run({"serve", "--config", config.string(), "--print-config"}, tmp.path()),
        run({"serve", "--config", config.string(), "--print-config"}, tmp.path(), env),
        run({"serve", "--set", "auth.account_secret_file=" + secret_file.string(), "--set",
             "auth.admin_keys=" + secret("set-key"), "--set",
             "auth.admin_key_file=" + key_file.string(), "--print-config"},
            tmp.path())};
    for (const Outcome& r : runs) {
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.out.find("account_secret = '(hidden)'"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("admin_keys = [\"(hidden)\"]"), std::string::npos) << r.out;
        for (const auto& s : secrets) {
            EXPECT_EQ(r.out.find(s), std::string::npos) << s << "\n" << r.out;
            EXPECT_EQ(r.err.find(s), std::string::npos) << s << "\n" << r.err;
        }
        // Nor any part of one: every secret holds this.
        EXPECT_EQ(r.out.find("0123456789abcdef"), std::string::npos) << r.out;
    }
}

} // namespace
} // namespace mixi
