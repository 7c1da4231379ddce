// Fault tests: the real binary killed with SIGKILL at random moments while it builds
// or updates an index and while it serves views and searches, and run out of disk space.
//
// The random delays come from a seed printed with every failure; FAULT_SEED=<n> repeats a run,
// FAULT_TRIALS=<n> changes the number of indexer kills (default 24), FAULT_NO_TMPFS=1 runs the
// full-disk tests as where mounting a tmpfs is not permitted.
#include "../unit/temp_dir.h"
#include "analytics/database.h"
#include "common/index_layout.h"
#include "process.h"
#include "query/searcher.h"
#include "server_process.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <random>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Outcome;
using testing::ServerProcess;

const fs::path source_dir = MIXI_SOURCE_DIR;
const fs::path site = source_dir / "data/site";
const fs::path sample = source_dir / "data/sample.ndjson";

unsigned env_number(const char* name, unsigned fallback) {
    const char* v = std::getenv(name);
    return v && *v ? static_cast<unsigned>(std::strtoul(v, nullptr, 10)) : fallback;
}

unsigned seed() {
    static const unsigned s = env_number("FAULT_SEED", std::random_device{}());
    return s;
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::uint64_t doc_count(const fs::path& index) {
    auto s = query::Searcher::open(index);
    return s ? s->document_count() : 0;
}

/// The first column of the first row of `sql`, as text.
std::string text_of(analytics::Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    if (!st)
        return "prepare failed: " + st.error().message;
    auto row = st->step();
    if (!row)
        return "step failed: " + row.error().message;
    return *row ? st->text(0) : "";
}

std::int64_t number_of(analytics::Database& db, const std::string& sql) {
    auto v = db.scalar(sql);
    EXPECT_TRUE(v.has_value()) << sql << ": " << (v ? "" : v.error().message);
    return v.value_or(-1);
}

/// A tmpfs of `bytes` mounted at `dir` while this lives (we run as root in CI; a container may
/// refuse it, and then ok() is false and why() says so).
class Tmpfs {
  public:
    Tmpfs(const fs::path& dir, std::size_t bytes) : dir_(dir) {
        fs::create_directories(dir);
        const std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
        if (std::getenv("FAULT_NO_TMPFS"))
            why_ = "FAULT_NO_TMPFS is set";
        else if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0)
            mounted_ = true;
        else
            why_ = std::string("mount -t tmpfs is not permitted here: ") + std::strerror(errno);
    }
    ~Tmpfs() {
        if (mounted_)
            ::umount2(dir_.c_str(), MNT_DETACH);
    }
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;
    bool ok() const { return mounted_; }
    const std::string& why() const { return why_; }

  private:
    fs::path dir_;
    bool mounted_ = false;
    std::string why_;
};

/// Writes `path` until the file system is full (at most `limit` bytes); the bytes written.
std::size_t fill(const fs::path& path, std::size_t limit = 64u << 20) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return 0;
    const std::string chunk(4096, 'x');
    std::size_t total = 0;
    while (total < limit) {
        const ssize_t n = ::write(fd, chunk.data(), chunk.size());
        if (n <= 0)
            break;
        total += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return total;
}

/// Like testing::run, but the child's files may not grow past `max_file_bytes` (RLIMIT_FSIZE,
/// SIGXFSZ ignored, so a write past it fails with EFBIG): a stand-in for a full disk where
/// mounting a small tmpfs is not permitted.
Outcome run_with_file_limit(const std::vector<std::string>& args, const fs::path& dir,
                            rlim_t max_file_bytes) {
    std::vector<std::string> argv_s = {MIXI_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const fs::path out = dir / "limited.out", err = dir / "limited.err";
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    Outcome r;
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit lim{max_file_bytes, max_file_bytes};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    if (pid < 0)
        return r;
    r.status = testing::wait_exit(pid, 60s).value_or(-1);
    r.out = testing::slurp(out);
    r.err = testing::slurp(err);
    return r;
}

class Fault : public ::testing::Test {
  protected:
    void SetUp() override {
        RecordProperty("fault_seed", std::to_string(seed()));
        std::cout << "[ fault    ] seed " << seed() << " (FAULT_SEED=" << seed()
                  << " repeats this run)\n";
    }
    testing::TempDir tmp;
    fs::path index() const { return tmp.path() / "index"; }
    Outcome run(const std::vector<std::string>& args) { return testing::run(args, tmp.path()); }
};

// ------------------------------------------------------------------------------- indexer

/// What a reader of `dir` sees must be a complete version: `current` is a symlink to
/// versions/<name> (never a temporary name), it opens with all `docs` documents, `index stats`
/// and a search work, and nothing in the index directory but the known names.
void expect_complete_index(const fs::path& dir, std::uint64_t docs, const std::string& what,
                           const fs::path& work) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(mixi::layout::current_link(dir), ec);
    ASSERT_FALSE(ec) << what << ": current is not a symlink: " << ec.message();
    EXPECT_EQ(target.parent_path(), fs::path("versions")) << what << ": current -> " << target;
    EXPECT_EQ(target.filename().string().find("tmp"), std::string::npos)
        << what << ": current -> " << target;
    EXPECT_TRUE(fs::is_regular_file(dir / target / "iamglass")) << what << ": " << target;
    EXPECT_EQ(doc_count(dir), docs) << what << ": current -> " << target;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        EXPECT_TRUE(name == "current" || name == "versions" || name == "write.lock" ||
                    name.starts_with("current.tmp."))
            << what << ": unexpected " << e.path();
    }
    const Outcome stats = testing::run({"index", "stats", "--index", dir.string()}, work);
    EXPECT_EQ(stats.status, 0) << what << ": " << stats.err;
    EXPECT_NE(stats.out.find("documents:      " + std::to_string(docs)), std::string::npos)
        << what << ": " << stats.out;
    const Outcome q = testing::run({"query", "--index", dir.string(), "photography"}, work);
    EXPECT_EQ(q.status, 0) << what << ": " << q.err;
    EXPECT_NE(q.out.find("\"id\":\"a-001\""), std::string::npos) << what << ": " << q.out;
}

TEST_F(Fault, IndexerKilledAtRandomMomentsLeavesTheLastCompleteVersion) {
    const fs::path idx = index();
    const std::vector<std::string> build = {"index",     "build", "--index",     idx.string(),
                                            "--threads", "2",     site.string(), sample.string()};
    std::vector<std::string> update = build;
    update[1] = "update";
    // One uninterrupted run of each: the whole corpus and how long they take here and now.
    auto t = Clock::now();
    const Outcome first = run(build);
    const double build_ms = ms_since(t);
    ASSERT_EQ(first.status, 0) << first.err;
    const std::uint64_t docs = doc_count(idx);
    ASSERT_GT(docs, 200u);
    t = Clock::now();
    ASSERT_EQ(run(update).status, 0);
    const double update_ms = ms_since(t);

    std::mt19937 rng(seed());
    const unsigned trials = env_number("FAULT_TRIALS", 24);
    unsigned killed = 0, finished = 0, switched = 0;
    const auto start = Clock::now();
    for (unsigned i = 0; i < trials; ++i) {
        const bool is_build = i % 2 == 0;
        const double span = (is_build ? build_ms : update_ms) * 1.1;
        const int delay = std::uniform_int_distribution<int>(0, static_cast<int>(span))(rng);
        const std::string what = std::string(is_build ? "build" : "update") + " killed after " +
                                 std::to_string(delay) + " ms (trial " + std::to_string(i) +
                                 ", seed " + std::to_string(seed()) + ")";
        SCOPED_TRACE(what);
        const fs::path before = fs::read_symlink(idx / "current");
        const pid_t pid = testing::spawn(is_build ? build : update, tmp.path() / "killed.out",
                                         tmp.path() / "killed.err");
        ASSERT_GT(pid, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        ::kill(pid, SIGKILL);
        const auto code = testing::wait_exit(pid, 10s);
        ASSERT_TRUE(code.has_value());
        if (*code == 128 + SIGKILL) {
            ++killed;
        } else {
            EXPECT_EQ(*code, 0) << testing::slurp(tmp.path() / "killed.err");
            ++finished;
        }

        const fs::path after = fs::read_symlink(idx / "current");
        if (!is_build)
            EXPECT_EQ(after, before) << "an update never switches versions";
        else if (after != before)
            ++switched; // killed after the rename: the new version is complete
        ASSERT_NO_FATAL_FAILURE(expect_complete_index(idx, docs, what, tmp.path()));

        // The next writer gets the lock at once and its update succeeds.
        const Outcome next = run({"index", "update", "--index", idx.string(), sample.string()});
        EXPECT_EQ(next.status, 0) << next.err;
        EXPECT_NE(next.out.find("updated"), std::string::npos) << next.out;
        EXPECT_EQ(doc_count(idx), docs);
    }
    const double trials_s = ms_since(start) / 1000;
    // A full build afterwards succeeds and leaves only itself and the version it replaced: the
    // partial versions of killed builds are gone.
    ASSERT_EQ(run(build).status, 0);
    expect_complete_index(idx, docs, "final build", tmp.path());
    int versions = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(idx / "versions"))
        ++versions;
    EXPECT_EQ(versions, 2);
    std::cout << "[ fault    ] " << trials << " trials in " << trials_s << " s (build " << build_ms
              << " ms, update " << update_ms << " ms uninterrupted): " << killed << " killed, "
              << finished << " finished before the kill, " << switched
              << " builds killed after the switch\n";
    // Delays reach 1.1 times an uninterrupted run, and a loaded machine makes runs faster or
    // slower than that first one: a third is enough to show the kills hit running writers.
    EXPECT_GE(killed, trials / 3) << "trials should kill a running writer";
}

TEST_F(Fault, FullDiskFailsTheBuildClearlyAndKeepsThePreviousVersion) {
    const fs::path disk = tmp.path() / "disk";
    Tmpfs tmpfs(disk, 4u << 20);
    const fs::path idx = tmpfs.ok() ? disk / "index" : index();
    ASSERT_EQ(run({"index", "build", "--index", idx.string(), sample.string()}).status, 0);
    const std::uint64_t docs = doc_count(idx);
    ASSERT_GT(docs, 30u);
    const fs::path before = fs::read_symlink(idx / "current");
    const std::vector<std::string> big_build = {"index",       "build",        "--index",
                                                idx.string(),  "--threads",    "2",
                                                site.string(), sample.string()};
    std::vector<std::string> big_update = big_build;
    big_update[1] = "update";

    // 4 MiB with 1 MiB of other files: the whole site (5 MiB) does not fit.
    std::string expected_error = "No space left on device";
    if (tmpfs.ok()) {
        ASSERT_GT(fill(disk / "other-files", 1u << 20), 0u);
    } else {
        std::cout << "[ fault    ] " << tmpfs.why()
                  << ": RLIMIT_FSIZE (1 MiB per file, EFBIG) stands in for a full disk\n";
        expected_error = "File too large";
    }
    auto run_full = [&](const std::vector<std::string>& args) {
        return tmpfs.ok() ? run(args) : run_with_file_limit(args, tmp.path(), 1u << 20);
    };

    const Outcome b = run_full(big_build);
    EXPECT_EQ(b.status, 1) << b.err; // an error, not a crash (128 + signal)
    EXPECT_NE(b.err.find("cannot build"), std::string::npos) << b.err;
    EXPECT_NE(b.err.find(expected_error), std::string::npos) << b.err;
    EXPECT_EQ(fs::read_symlink(idx / "current"), before);
    int versions = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(idx / "versions"))
        ++versions;
    EXPECT_EQ(versions, 1) << "the partial version is removed";
    expect_complete_index(idx, docs, "after the failed build", tmp.path());

    const Outcome u = run_full(big_update);
    EXPECT_EQ(u.status, 1) << u.err;
    EXPECT_NE(u.err.find("cannot update"), std::string::npos) << u.err;
    EXPECT_NE(u.err.find(expected_error), std::string::npos) << u.err;
    expect_complete_index(idx, docs, "after the failed update", tmp.path());

    // Space again: the next update and build succeed.
    if (tmpfs.ok())
        fs::remove(disk / "other-files");
    const Outcome next = run({"index", "update", "--index", idx.string(), sample.string()});
    EXPECT_EQ(next.status, 0) << next.err;
    const Outcome rebuilt = run({"index", "build", "--index", idx.string(), sample.string()});
    EXPECT_EQ(rebuilt.status, 0) << rebuilt.err;
    expect_complete_index(idx, docs, "after space came back", tmp.path());
}

// -------------------------------------------------------------------------------- server

/// Public ids of data/sample.ndjson (the ones the views beacon accepts).
const std::vector<std::string> view_ids = {"a-001", "a-002", "a-003", "p-001", "p-002", "v-001"};

struct Traffic {
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<Clock::time_point> views_acked, searches_acked;
    std::uint64_t views_tried = 0, searches_tried = 0;
};

/// Views and searches, alternating, on one keep-alive connection (a new one when it drops),
/// until `t.stop`.
void drive(std::uint16_t port, Traffic& t) {
    testing::HttpClient c(port);
    for (unsigned i = 0; !t.stop; ++i) {
        if (!c.connected()) {
            c = testing::HttpClient(port);
            if (!c.connected())
                return;
        }
        const bool view = i % 2 == 0;
        {
            std::lock_guard lock(t.mutex);
            ++(view ? t.views_tried : t.searches_tried);
        }
        const auto res =
            view ? c.request("POST", "/v1/views", {{"Content-Type", "application/json"}},
                             R"({"id":")" + view_ids[(i / 2) % view_ids.size()] + "\"}", 2000ms)
                 : c.get("/v1/search?q=photography+tips", {}, 2000ms);
        const auto now = Clock::now();
        if (res->result_int() == 0) {
            c.close();
            continue;
        }
        const unsigned want = view ? 204 : 200;
        if (res->result_int() != want) {
            ADD_FAILURE() << res->result_int() << ": " << res->body();
            continue;
        }
        std::lock_guard lock(t.mutex);
        (view ? t.views_acked : t.searches_acked).push_back(now);
    }
}

std::uint64_t acked_before(const std::vector<Clock::time_point>& acked, Clock::time_point t) {
    return static_cast<std::uint64_t>(std::lower_bound(acked.begin(), acked.end(), t) -
                                      acked.begin());
}

/// How far before `kill` the stored count reaches: the loss window of one trial (0 when nothing
/// acknowledged was lost).
double loss_window_ms(const std::vector<Clock::time_point>& acked, std::uint64_t stored,
                      Clock::time_point kill) {
    if (stored >= acked.size())
        return 0;
    return std::chrono::duration<double, std::milli>(kill - acked[stored]).count();
}

TEST_F(Fault, ServerKilledDuringViewAndLogWritesKeepsSqliteConsistent) {
    ASSERT_EQ(run({"index", "build", "--index", index().string(), sample.string()}).status, 0);
    const fs::path data = tmp.path() / "var";
    constexpr int flush_ms = 200;
    // An acknowledged view or search is in SQLite one flush interval later; the margin is for a
    // busy CI machine.
    constexpr auto window = std::chrono::milliseconds(flush_ms + 400);
    std::mt19937 rng(seed() + 1);
    std::uint64_t views_stored = 0, rows_stored = 0; // after the previous trial
    for (int trial = 0; trial < 4; ++trial) {
        const int delay = std::uniform_int_distribution<int>(300, 1500)(rng);
        SCOPED_TRACE("trial " + std::to_string(trial) + ", killed after " + std::to_string(delay) +
                     " ms, seed " + std::to_string(seed()));
        ServerProcess s(tmp.path(), {"--index", index().string(), "--data", data.string(), "--set",
                                     "analytics.flush_interval_ms=" + std::to_string(flush_ms),
                                     "--set", "limits.rate_per_second=0", "--set",
                                     "limits.requests_per_connection=1000000", "--set",
                                     "server.access_log=false"});
        ASSERT_TRUE(s.started()) << s.describe();
        Traffic t;
        std::thread client(drive, s.port(), std::ref(t));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        s.signal(SIGKILL);
        const auto killed = Clock::now();
        const auto code = s.wait(5s);
        t.stop = true;
        client.join();
        ASSERT_EQ(code, 128 + SIGKILL);
        ASSERT_GT(t.views_acked.size(), 10u) << s.log();

        auto db = analytics::Database::open(data / "analytics.sqlite");
        ASSERT_TRUE(db.has_value()) << db.error().message;
        EXPECT_EQ(text_of(*db, "PRAGMA integrity_check"), "ok");
        const auto views_now =
            static_cast<std::uint64_t>(number_of(*db, "SELECT coalesce(sum(count), 0) FROM views"));
        const auto rows_now =
            static_cast<std::uint64_t>(number_of(*db, "SELECT count(*) FROM searches"));
        // Rows and daily aggregates are written in one transaction.
        EXPECT_EQ(number_of(*db, "SELECT coalesce(sum(searches), 0) FROM daily_volume"),
                  static_cast<std::int64_t>(rows_now));
        ASSERT_GE(views_now, views_stored);
        ASSERT_GE(rows_now, rows_stored);
        const std::uint64_t views = views_now - views_stored, rows = rows_now - rows_stored;
        // Never more than was sent (a request in flight at the kill may have been counted
        // without its answer), never less than what was acknowledged a window before the kill.
        EXPECT_LE(views, t.views_tried);
        EXPECT_GE(views, acked_before(t.views_acked, killed - window))
            << "views acknowledged " << window.count() << " ms before the kill were lost";
        EXPECT_LE(rows, t.searches_tried);
        EXPECT_GE(rows, acked_before(t.searches_acked, killed - window))
            << "searches answered " << window.count() << " ms before the kill were lost";
        std::cout << "[ fault    ] server killed after " << delay << " ms: views sent "
                  << t.views_tried << " (204: " << t.views_acked.size() << "), stored " << views
                  << "; searches sent " << t.searches_tried << " (200: " << t.searches_acked.size()
                  << "), logged " << rows << "; oldest lost view acknowledged "
                  << loss_window_ms(t.views_acked, views, killed)
                  << " ms before the kill, oldest lost search "
                  << loss_window_ms(t.searches_acked, rows, killed) << " ms (flush every "
                  << flush_ms << " ms)\n";
        views_stored = views_now;
        rows_stored = rows_now;
    }
}

TEST_F(Fault, ServerOnAFullDiskKeepsServingAndStoresViewsWhenSpaceReturns) {
    const fs::path disk = tmp.path() / "disk";
    Tmpfs tmpfs(disk, 1u << 20);
    if (!tmpfs.ok())
        GTEST_SKIP() << tmpfs.why() << ": the full-disk server test needs a small tmpfs";
    ASSERT_EQ(run({"index", "build", "--index", index().string(), sample.string()}).status, 0);
    const fs::path data = disk / "var";
    ServerProcess s(tmp.path(), {"--index", index().string(), "--data", data.string(), "--set",
                                 "analytics.flush_interval_ms=100", "--set",
                                 "limits.rate_per_second=0", "--set", "server.access_log=false"});
    ASSERT_TRUE(s.started()) << s.describe();
    ASSERT_GT(fill(disk / "other-files"), 0u);

    auto c = s.connect();
    int accepted = 0;
    for (int i = 0; i < 200; ++i) {
        const auto r = c.request("POST", "/v1/views", {{"Content-Type", "application/json"}},
                                 R"({"id":")" + view_ids[i % view_ids.size()] + "\"}");
        if (r->result_int() == 204)
            ++accepted;
        else
            testing::expect_error(r, 503, "a view on a full disk");
        if (i % 10 == 0) {
            const auto q = c.get("/v1/search?q=photography+word" + std::to_string(i));
            EXPECT_EQ(q->result_int(), 200u) << q->body();
        }
        if (i % 50 == 0)
            std::this_thread::sleep_for(150ms); // a few flushes into the full disk
    }
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(s.running()) << s.log();
    EXPECT_EQ(s.get("/healthz")->result_int(), 200u);
    const std::string log = s.log();
    const auto first_error = log.find("mixi-search: cannot");
    std::cout << "[ fault    ] full data disk: " << accepted
              << " of 200 views accepted; the server logs: "
              << (first_error == std::string::npos ? log : log.substr(first_error, 240)) << "\n";
    EXPECT_NE(log.find("cannot store"), std::string::npos) << log;

    // Space again: the views kept in memory are stored at the next flush.
    fs::remove(disk / "other-files");
    std::uint64_t stored = 0;
    for (auto deadline = Clock::now() + 5s; Clock::now() < deadline;) {
        auto db = analytics::Database::open(data / "analytics.sqlite");
        ASSERT_TRUE(db.has_value()) << db.error().message;
        stored =
            static_cast<std::uint64_t>(number_of(*db, "SELECT coalesce(sum(count), 0) FROM views"));
        if (stored >= static_cast<std::uint64_t>(accepted))
            break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(stored, static_cast<std::uint64_t>(accepted)) << s.log();
    EXPECT_EQ(s.terminate(), 0) << s.log();
    auto db = analytics::Database::open(data / "analytics.sqlite");
    ASSERT_TRUE(db.has_value());
    EXPECT_EQ(text_of(*db, "PRAGMA integrity_check"), "ok");
}

} // namespace
} // namespace mixi
