// Shards: the sample site split by `index build --shards N`, searched as one through local
// shard directories and through xapian-tcpsrv on loopback, against one index of the same
// documents; and what a search tier does when a remote shard dies, hangs and comes back.
#include "../unit/temp_dir.h"
#include "analytics/views.h"
#include "common/index_layout.h"
#include "daemon.h"
#include "http_client.h"
#include "process.h"
#include "query/searcher.h"
#include "server_process.h"

#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;

const fs::path source_dir = MIXI_SOURCE_DIR;
const char* const tcpsrv = "/usr/bin/xapian-tcpsrv";

/// xapian-tcpsrv serving one database on a loopback port; killed when destroyed.
class RemoteShard : public testing::Daemon {
  public:
    explicit RemoteShard(const fs::path& database, std::uint16_t port = testing::free_port())
        : Daemon(tcpsrv,
                 {"--interface", "127.0.0.1", "--port", std::to_string(port), "--quiet",
                  database.string()},
                 port) {}
    std::string spec() const { return "tcp://127.0.0.1:" + std::to_string(port()); }
};

class Shards : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (::access(tcpsrv, X_OK) != 0)
            GTEST_SKIP() << tcpsrv << " is missing (Debian package xapian-tools)";
    }
    void SetUp() override {
        if (::access(tcpsrv, X_OK) != 0)
            GTEST_SKIP() << tcpsrv << " is missing (Debian package xapian-tools)";
    }
    /// Builds the whole sample site into `name` with `shards` shards (0: one index).
    fs::path build(const std::string& name, unsigned shards) {
        const fs::path dir = tmp.path() / name;
        std::vector<std::string> args = {"index",
                                         "build",
                                         "--quiet",
                                         "--index",
                                         dir.string(),
                                         (source_dir / "data/site").string(),
                                         (source_dir / "data/sample.ndjson").string()};
        if (shards) {
            args.push_back("--shards");
            args.push_back(std::to_string(shards));
        }
        const Outcome b = run(args, tmp.path());
        EXPECT_EQ(b.status, 0) << b.err;
        return dir;
    }
    testing::TempDir tmp;
};

/// The top 10 as (id, score), in order; ties in score in id order, since shards number
/// documents differently.
std::vector<std::pair<std::string, double>> top10(query::Searcher& s, const std::string& q,
                                                  const PopularitySnapshot& views = {},
                                                  const std::string& region = "") {
    query::SearchRequest r;
    r.q = q;
    r.popularity = views;
    r.region = region;
    r.snippets = false;
    auto result = s.search(r);
    EXPECT_TRUE(result) << q << ": " << result.error().message;
    std::vector<std::pair<std::string, double>> out;
    if (result)
        for (const auto& h : result->hits)
            out.emplace_back(h.id, h.score);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::abs(a.second - b.second) > 1e-9 * std::abs(a.second) ? a.second > b.second
                                                                         : a.first < b.first;
    });
    return out;
}

void expect_same(const std::vector<std::pair<std::string, double>>& one,
                 const std::vector<std::pair<std::string, double>>& sharded,
                 const std::string& what) {
    ASSERT_EQ(one.size(), sharded.size()) << what;
    for (std::size_t i = 0; i < one.size(); ++i) {
        EXPECT_EQ(one[i].first, sharded[i].first) << what << " #" << i;
        EXPECT_NEAR(one[i].second, sharded[i].second, 1e-9 * std::abs(one[i].second))
            << what << " #" << i;
    }
}

TEST_F(Shards, TwoAndThreeShardsLocalAndRemoteRankAsOneIndex) {
    const fs::path one = build("one", 0);
    auto single = query::Searcher::open(one);
    ASSERT_TRUE(single) << single.error().message;
    // Page views by region (the demo's), to rank by as well as text.
    const Outcome imported =
        run({"views", "import", "--data", (tmp.path() / "data").string(), "--index", one.string(),
             (source_dir / "data/views.csv").string()},
            tmp.path());
    ASSERT_EQ(imported.status, 0) << imported.err;
    auto store = analytics::ViewStore::open(tmp.path() / "data");
    ASSERT_TRUE(store);
    auto views = store->popularity(analytics::day_of(std::time(nullptr)), {7});
    ASSERT_TRUE(views);

    const std::vector<std::string> queries = {"debian",
                                              "package management",
                                              "photography tips",
                                              "apt-get install",
                                              "東京",
                                              "写真",
                                              "富士山",
                                              "Wartung",
                                              "mise à jour",
                                              "\"rule of thirds\"",
                                              "handbook kernel -apt",
                                              "type:photo night"};
    for (const unsigned n : {2u, 3u}) {
        const fs::path dir = build("sharded" + std::to_string(n), n);
        std::vector<std::unique_ptr<RemoteShard>> remotes;
        std::vector<std::string> specs;
        for (unsigned i = 0; i < n; ++i) {
            remotes.push_back(std::make_unique<RemoteShard>(layout::shard_dir(dir, i) / "current"));
            specs.push_back(remotes.back()->spec());
        }
        query::SearchOptions options;
        options.spelling_index = dir;
        auto local = query::Searcher::open(dir);
        auto remote = query::Searcher::open_shards(specs, options);
        ASSERT_TRUE(local) << local.error().message;
        ASSERT_TRUE(remote) << remote.error().message;
        EXPECT_EQ(remote->document_count(), single->document_count());
        for (const auto& q : queries) {
            const auto want = top10(*single, q);
            ASSERT_FALSE(want.empty()) << q;
            expect_same(want, top10(*local, q), q + ", " + std::to_string(n) + " local shards");
            expect_same(want, top10(*remote, q), q + ", " + std::to_string(n) + " remote shards");
            const auto ranked = top10(*single, q, *views, "JP");
            expect_same(ranked, top10(*remote, q, *views, "JP"),
                        q + " with views from JP, " + std::to_string(n) + " remote shards");
        }
        // Facets, "did you mean" (from the local spelling copy) and totals match too.
        query::SearchRequest r;
        r.q = "photgraphy";
        r.facets = true;
        auto a = single->search(r), b = remote->search(r);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->total, b->total);
        EXPECT_EQ(a->corrected, b->corrected);
        r.typos = false;
        a = single->search(r);
        b = remote->search(r);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->total, b->total);
        ASSERT_TRUE(a->did_you_mean);
        EXPECT_EQ(a->did_you_mean, b->did_you_mean);
        r.typos = true;
        r.q = "debian";
        a = single->search(r);
        b = remote->search(r);
        EXPECT_EQ(a->type_facets, b->type_facets);
        EXPECT_EQ(a->lang_facets, b->lang_facets);
        EXPECT_FALSE(b->partial);
        // Suggestions: completions from the shards' words, spelling past them, titles.
        for (const std::string typed : {"photo", "東京", "photgr"}) {
            query::SuggestRequest sr;
            sr.q = typed;
            auto x = single->suggest(sr), y = remote->suggest(sr);
            ASSERT_TRUE(x && y) << typed;
            EXPECT_EQ(x->completions, y->completions) << typed;
            ASSERT_EQ(x->titles.size(), y->titles.size()) << typed;
        }
    }
}

TEST_F(Shards, TwoAndThreeShardsRankAsOneIndexWithProximity) {
    // Proximity re-ranks the first matches from their positions and the whole index's
    // statistics: the same scores and order over local and remote shards as in one index.
    query::SearchOptions options;
    options.proximity_weight = 0.05;
    options.proximity_window = 30;
    const fs::path one = build("one", 0);
    auto single = query::Searcher::open(one, options);
    ASSERT_TRUE(single) << single.error().message;
    const std::vector<std::string> queries = {"package management",
                                              "photography tips for beginners",
                                              "debian package management tools",
                                              "rule of thirds composition",
                                              "apt-get install package",
                                              "mise à jour du système"};
    query::SearchOptions off = options;
    off.proximity_weight = 0;
    auto plain = query::Searcher::open(one, off);
    ASSERT_TRUE(plain);
    bool moved = false; // the boost changes some order or score, or the test shows nothing
    for (const auto& q : queries)
        moved = moved || top10(*single, q) != top10(*plain, q);
    EXPECT_TRUE(moved);
    for (const unsigned n : {2u, 3u}) {
        const fs::path dir = build("sharded" + std::to_string(n), n);
        std::vector<std::unique_ptr<RemoteShard>> remotes;
        std::vector<std::string> specs;
        for (unsigned i = 0; i < n; ++i) {
            remotes.push_back(std::make_unique<RemoteShard>(layout::shard_dir(dir, i) / "current"));
            specs.push_back(remotes.back()->spec());
        }
        auto local = query::Searcher::open(dir, options);
        auto remote = query::Searcher::open_shards(specs, options);
        ASSERT_TRUE(local) << local.error().message;
        ASSERT_TRUE(remote) << remote.error().message;
        for (const auto& q : queries) {
            const auto want = top10(*single, q);
            ASSERT_FALSE(want.empty()) << q;
            expect_same(want, top10(*local, q), q + ", " + std::to_string(n) + " local shards");
            expect_same(want, top10(*remote, q), q + ", " + std::to_string(n) + " remote shards");
        }
    }
}

TEST_F(Shards, ADeadShardIsAClearErrorOrPartialResultsAndSearchRecoversWhenItReturns) {
    const fs::path dir = build("sharded", 2);
    RemoteShard first(layout::shard_dir(dir, 0) / "current");
    RemoteShard second(layout::shard_dir(dir, 1) / "current");
    auto start = [&](bool partial) {
        return std::make_unique<ServerProcess>(
            tmp.path(),
            std::vector<std::string>{
                "--set", "shards.list=" + first.spec() + "," + second.spec(), "--set",
                "shards.timeout_ms=500", "--set", "shards.connect_timeout_ms=500", "--set",
                std::string("shards.allow_partial=") + (partial ? "true" : "false"), "--set",
                "server.reopen_interval_ms=100", "--threads", "1"});
    };
    auto strict = start(false);
    auto lenient = start(true);
    ASSERT_TRUE(strict->started()) << strict->describe();
    ASSERT_TRUE(lenient->started()) << lenient->describe();
    const auto whole = testing::json_body(*strict->get("/v1/search?q=debian"));
    EXPECT_FALSE(whole.as_object().contains("partial"));

    second.stop(SIGKILL);
    for (int i = 0; i < 3; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        testing::expect_error(strict->get("/v1/search?q=debian"), 503, "a shard is down");
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
        const auto part = lenient->get("/v1/search?q=debian");
        ASSERT_EQ(part->result_int(), 200u) << part->body();
        const auto v = testing::json_body(*part);
        EXPECT_TRUE(v.at("partial").as_bool());
        EXPECT_LT(v.at("total").as_int64(), whole.at("total").as_int64());
    }

    // A shard that hangs (stopped, not dead) times out instead of holding requests.
    first.stop(SIGSTOP);
    const auto t0 = std::chrono::steady_clock::now();
    const auto hung = strict->get("/v1/search?q=debian");
    EXPECT_EQ(hung->result_int(), 503u) << hung->body();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    first.stop(SIGCONT);

    // Back on the same port: both servers answer whole results again within a few seconds.
    second.start();
    for (auto* s : {strict.get(), lenient.get()}) {
        bool recovered = false;
        for (int i = 0; i < 50 && !recovered; ++i) {
            const auto r = s->get("/v1/search?q=debian");
            recovered = r->result_int() == 200 &&
                        !testing::json_body(*r).as_object().contains("partial") &&
                        testing::json_body(*r).at("total") == whole.at("total");
            if (!recovered)
                std::this_thread::sleep_for(100ms);
        }
        EXPECT_TRUE(recovered) << s->describe();
    }
}

TEST_F(Shards, SynonymsApplyOverRemoteShardsFromTheSearchTiersCopy) {
    // Every word pair in both shards, so that each shard server holds part of the matches.
    std::string docs;
    for (int i = 0; i < 6; ++i) {
        const std::string n = std::to_string(i);
        docs += "{\"id\":\"tv-" + n + "\",\"title\":\"Lounge " + n +
                "\",\"body\":\"A tv in the lounge.\",\"lang\":\"en\",\"visibility\":\"public\"}\n";
        docs += "{\"id\":\"television-" + n + "\",\"title\":\"Lounge " + n +
                "\",\"body\":\"A television in the lounge.\",\"lang\":\"en\","
                "\"visibility\":\"public\"}\n";
    }
    // Two languages, as the site has: a query word keeps its exact form beside its stem.
    docs += "{\"id\":\"ja\",\"title\":\"写真\",\"lang\":\"ja\",\"visibility\":\"public\"}\n";
    std::ofstream(tmp.path() / "docs.ndjson") << docs;
    std::ofstream(tmp.path() / "synonyms.txt") << "tv, television\n";
    const fs::path dir = tmp.path() / "sharded";
    ASSERT_EQ(run({"index", "build", "--quiet", "--shards", "2", "--index", dir.string(),
                   (tmp.path() / "docs.ndjson").string()},
                  tmp.path())
                  .status,
              0);
    const Outcome imported =
        run({"synonyms", "import", "--index", dir.string(), (tmp.path() / "synonyms.txt").string()},
            tmp.path());
    ASSERT_EQ(imported.status, 0) << imported.err;
    RemoteShard first(layout::shard_dir(dir, 0) / "current");
    RemoteShard second(layout::shard_dir(dir, 1) / "current");
    const std::vector<std::string> specs = {first.spec(), second.spec()};

    auto local = query::Searcher::open(dir);
    ASSERT_TRUE(local) << local.error().message;
    query::SearchRequest r;
    r.q = "tv";
    r.per_page = 20;
    auto want = local->search(r);
    ASSERT_TRUE(want);
    EXPECT_EQ(want->total, 12u);
    EXPECT_EQ(want->synonyms.at("tv"), std::vector<std::string>{"television"});

    // xapian-tcpsrv serves no synonyms, and says nothing: without a local copy the word
    // matches itself only.
    auto bare = query::Searcher::open_shards(specs);
    ASSERT_TRUE(bare) << bare.error().message;
    auto without = bare->search(r);
    ASSERT_TRUE(without);
    EXPECT_EQ(without->total, 6u);
    EXPECT_TRUE(without->synonyms.empty());

    // From the search tier's copy: the same matches, ranks and scores as the local shards.
    query::SearchOptions options;
    options.spelling_index = dir;
    auto remote = query::Searcher::open_shards(specs, options);
    ASSERT_TRUE(remote) << remote.error().message;
    auto got = remote->search(r);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->synonyms, want->synonyms);
    expect_same(top10(*local, "tv"), top10(*remote, "tv"), "tv over remote shards");
    EXPECT_EQ(got->total, 12u);

    // The server, with a copy of the shard directories as the search tier keeps one: searches
    // expand, the admin API lists the copy's synonyms and refuses to change them (the shards
    // are written where they are built).
    const fs::path copy = tmp.path() / "copy";
    fs::copy(dir, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    const std::string key = "admin-key-0123456789abcdef";
    ServerProcess s(tmp.path(),
                    {"--set", "shards.list=" + first.spec() + "," + second.spec(), "--set",
                     "shards.spelling_index=" + copy.string(), "--set", "auth.admin_keys=" + key,
                     "--set", "server.reopen_interval_ms=100", "--threads", "1"});
    ASSERT_TRUE(s.started()) << s.describe();
    const auto searched = s.get("/v1/search?q=tv&per_page=20");
    ASSERT_EQ(searched->result_int(), 200u) << searched->body();
    const auto v = testing::json_body(*searched);
    EXPECT_EQ(v.at("total"), 12) << v;
    EXPECT_EQ(v.at("synonyms"), boost::json::parse(R"({"tv":["television"]})")) << v;
    const std::vector<std::pair<std::string, std::string>> auth = {
        {"Authorization", "Bearer " + key}};
    const auto listed = s.get("/v1/admin/synonyms", auth);
    ASSERT_EQ(listed->result_int(), 200u) << listed->body();
    EXPECT_EQ(testing::json_body(*listed).at("synonyms"),
              boost::json::parse(R"({"television":["tv"],"tv":["television"]})"));
    testing::HttpClient c(s.port());
    EXPECT_EQ(testing::expect_error(c.request("PUT", "/v1/admin/synonyms", auth, "a, b\n"), 409,
                                    "PUT over remote shards"),
              "read_only_copy");
    EXPECT_EQ(testing::expect_error(c.request("DELETE", "/v1/admin/synonyms/tv", auth), 409,
                                    "DELETE over remote shards"),
              "read_only_copy");

    // Changed in the copy: the search tier follows at its next reopen, also when the copy
    // has a new version (a full build, as after copying the shards again).
    auto follows = [&](std::int64_t total) {
        for (int i = 0; i < 50; ++i) {
            const auto after = testing::json_body(*s.get("/v1/search?q=tv&per_page=20"));
            if (after.at("total") == total &&
                after.as_object().contains("synonyms") == (total == 12))
                return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    };
    const Outcome deleted =
        run({"synonyms", "delete", "--index", copy.string(), "Television"}, tmp.path());
    ASSERT_EQ(deleted.status, 0) << deleted.err;
    EXPECT_TRUE(follows(6)) << s.describe();
    ASSERT_EQ(run({"index", "build", "--quiet", "--shards", "2", "--index", copy.string(),
                   (tmp.path() / "docs.ndjson").string()},
                  tmp.path())
                  .status,
              0);
    ASSERT_EQ(run({"synonyms", "import", "--index", copy.string(),
                   (tmp.path() / "synonyms.txt").string()},
                  tmp.path())
                  .status,
              0);
    EXPECT_TRUE(follows(12)) << s.describe();
}

} // namespace
} // namespace mixi
