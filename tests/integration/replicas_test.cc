// Replicas: a search server reading a local copy of the index that Xapian's own replication
// (xapian-replicate-server on the primary, xapian-replicate beside the server) keeps up to
// date. Updates and full builds on the primary reach the server's searches; searches never see
// a half-copied database; a replica that was away catches up; deletes go to the writer.
#include "../unit/temp_dir.h"
#include "common/index_layout.h"
#include "daemon.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <atomic>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

namespace mixi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Daemon;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;

const char* const replicate_server = "/usr/bin/xapian-replicate-server";
const char* const replicate_client = "/usr/bin/xapian-replicate";

std::string record(const std::string& id, const std::string& word) {
    return R"({"id": ")" + id + R"(", "url": "https://example.social/)" + id +
           R"(", "title": "A note about )" + word + R"(", "body": "Every word here is about )" +
           word + R"(.", "lang": "en", "type": "article", "visibility": "public"})" + "\n";
}

class Replicas : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* exe : {replicate_server, replicate_client})
            if (::access(exe, X_OK) != 0)
                GTEST_SKIP() << exe << " is missing (Debian package xapian-tools)";
    }

    /// Runs `mixi-search index <command>` on the primary with these records, as the writer of a
    /// replicated index runs: keeping changesets for the replicas.
    void index(const std::string& command, const std::vector<std::string>& records) {
        const fs::path in = tmp.path() / "in.ndjson";
        std::ofstream out(in);
        for (const auto& r : records)
            out << r;
        out.close();
        const Outcome o = run({"index", command, "--quiet", "--index", primary.string(), in},
                              tmp.path(), {"XAPIAN_MAX_CHANGESETS=10"});
        ASSERT_EQ(o.status, 0) << o.err;
    }

    /// The replication client of the replica directory, asking every second.
    std::unique_ptr<Daemon> replicate() {
        return std::make_unique<Daemon>(
            replicate_client,
            std::vector<std::string>{"-h", "127.0.0.1", "-p", std::to_string(master_port), "-m",
                                     "current", "-i", "1", "-r", "1", "-q", replica.string()});
    }

    std::unique_ptr<ServerProcess> serve() {
        return std::make_unique<ServerProcess>(
            tmp.path(), std::vector<std::string>{
                            "--index", replica.string(), "--data", (tmp.path() / "var").string(),
                            "--set", "server.reopen_interval_ms=100", "--set",
                            "limits.rate_per_second=0", "--set", "auth.admin_keys=" + admin_key});
    }

    /// How many documents the server finds for `word` (-1 when it answers an error).
    static std::int64_t found(ServerProcess& s, const std::string& word) {
        const auto r = s.get("/v1/search?q=" + word);
        if (!r || r->result_int() != 200)
            return -1;
        return testing::json_body(*r).at("total").as_int64();
    }

    /// Waits up to `limit` until the server finds `word`; how long that took.
    static std::optional<std::chrono::milliseconds>
    wait_until_found(ServerProcess& s, const std::string& word, std::chrono::seconds limit = 20s) {
        const auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - t0 < limit) {
            if (found(s, word) > 0)
                return std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0);
            std::this_thread::sleep_for(50ms);
        }
        return std::nullopt;
    }

    testing::TempDir tmp;
    const fs::path primary = tmp.path() / "primary";
    const fs::path replica = tmp.path() / "replica";
    const std::uint16_t master_port = testing::free_port();
    const std::string admin_key = "admin-key-0123456789abcdef";
};

TEST_F(Replicas, UpdatesAndFullBuildsReachTheServerWhichNeverSeesAHalfCopy) {
    index("build", {record("a1", "alpha")});
    // The primary's parent directory is served; the replica asks for its `current`.
    Daemon master(replicate_server,
                  {"-I", "127.0.0.1", "-p", std::to_string(master_port), primary.string()},
                  master_port);
    auto client = replicate();
    for (int i = 0; i < 200 && !layout::is_replica(replica); ++i)
        std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(layout::is_replica(replica));

    auto server = serve();
    ASSERT_TRUE(server->started()) << server->describe();
    EXPECT_EQ(found(*server, "alpha"), 1);

    // An update in place travels as a changeset, applied to the live copy.
    const std::string first_copy = layout::resolve_database(replica);
    index("update", {record("b1", "bravo")});
    const auto update = wait_until_found(*server, "bravo");
    ASSERT_TRUE(update) << "an update never reached the replica";
    EXPECT_EQ(layout::resolve_database(replica), first_copy);
    std::printf("update on the primary found on the replica after %lld ms\n",
                static_cast<long long>(update->count()));

    // A full build is a new database behind `current`: a whole copy arrives beside the old
    // one and the stub switches at once. Searches meanwhile always answer the old or the new.
    std::atomic<bool> stop{false};
    std::atomic<int> searches{0}, bad{0};
    std::thread searcher([&] {
        while (!stop) {
            const auto n = found(*server, "alpha");
            ++searches;
            if (n != 1)
                ++bad;
        }
    });
    std::vector<std::string> rebuilt = {record("a1", "alpha"), record("c1", "charlie")};
    for (int i = 0; i < 300; ++i)
        rebuilt.push_back(record("filler" + std::to_string(i), "filler"));
    index("build", rebuilt);
    const auto build = wait_until_found(*server, "charlie");
    stop = true;
    searcher.join();
    ASSERT_TRUE(build) << "a full build never reached the replica";
    std::printf("full build on the primary found on the replica after %lld ms\n",
                static_cast<long long>(build->count()));
    EXPECT_GT(searches, 10);
    EXPECT_EQ(bad, 0) << "of " << searches << " searches during the copy";
    // Each I/O thread reopens on its own (within the reopen interval): soon none finds bravo,
    // which the build left out.
    std::int64_t bravo = -1;
    for (int i = 0; i < 40 && bravo != 0; ++i) {
        bravo = found(*server, "bravo");
        if (bravo != 0)
            std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(bravo, 0) << "the build left bravo out";
    EXPECT_NE(layout::resolve_database(replica), first_copy);

    // A replica that was away catches up by itself when its client runs again.
    client.reset();
    index("update", {record("d1", "delta")});
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(found(*server, "delta"), 0);
    client = replicate();
    EXPECT_TRUE(wait_until_found(*server, "delta")) << "the replica did not catch up";

    // Deletes go to the writer: the server of a replica says so and deletes nothing.
    auto c = server->connect();
    const auto del =
        c.request("DELETE", "/v1/admin/documents/a1", {{"Authorization", "Bearer " + admin_key}});
    ASSERT_TRUE(del);
    EXPECT_EQ(del->result_int(), 409u) << del->body();
    EXPECT_NE(del->body().find("read_only_copy"), std::string::npos) << del->body();
    EXPECT_EQ(found(*server, "alpha"), 1);
}

} // namespace
} // namespace mixi
