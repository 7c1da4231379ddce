// Two real servers sharing one PostgreSQL analytics store behave as one service: reports count
// every server's searches, a searcher who reaches both servers is one searcher, a view sent to
// one ranks on the other, an account deleted through one is gone for both. Runs only when
// MIXI_TEST_POSTGRES names a cluster where the test may create a database (scripts/test.sh
// starts one).
#include "../unit/test_store.h"
#include "analytics/database.h"
#include "http_client.h"
#include "process.h"
#include "server/auth.h"
#include "server_process.h"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

namespace mixi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;

const fs::path source_dir = MIXI_SOURCE_DIR;
const std::string admin_key = "admin-key-0123456789abcdef";
const std::string secret = "a shared secret the website also knows";

class SharedStore : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::make_unique<testing::TestStore>("postgres");
        if (!store_->available())
            GTEST_SKIP() << "MIXI_TEST_POSTGRES is not set: the PostgreSQL store is not tested";
        const Outcome b = run({"index", "build", "--index", index().string(),
                               (source_dir / "data/sample.ndjson").string()},
                              store_->dir());
        ASSERT_EQ(b.status, 0) << b.err;
    }

    fs::path index() const { return store_->dir() / "index"; }
    const std::string& uri() const { return store_->location().target(); }

    /// A server on the shared store, with its own data directory (nothing analytic goes there).
    std::unique_ptr<ServerProcess> start(const std::string& name,
                                         const std::vector<std::string>& sets = {}) {
        std::vector<std::string> args = {
            "--index",
            index().string(),
            "--data",
            (store_->dir() / name).string(),
            "--set",
            "analytics.database=" + uri(),
            "--set",
            "geoip.database=" +
                (source_dir / "tests/fixtures/geoip/GeoIP2-Country-Test.mmdb").string(),
            "--set",
            "server.trusted_proxies=127.0.0.1",
            "--set",
            "analytics.flush_interval_ms=100",
            "--set",
            "ranking.refresh_interval_ms=300",
            "--set",
            "auth.admin_keys=" + admin_key,
            "--set",
            "auth.account_secret=" + secret};
        for (const auto& set : sets) {
            args.push_back("--set");
            args.push_back(set);
        }
        return std::make_unique<ServerProcess>(store_->dir(), args);
    }

    std::int64_t scalar(const std::string& sql) {
        auto db = analytics::Database::connect(store_->location());
        EXPECT_TRUE(db) << db.error().message;
        auto v = db->scalar(sql);
        EXPECT_TRUE(v) << v.error().message;
        return v.value_or(-1);
    }

    /// Waits (up to 10 s) until `sql` gives `want`; the last value.
    std::int64_t wait_for(const std::string& sql, std::int64_t want) {
        std::int64_t got = -1;
        for (int i = 0; i < 200 && (got = scalar(sql)) != want; ++i)
            std::this_thread::sleep_for(50ms);
        return got;
    }

    static std::optional<testing::HttpResponse>
    from(ServerProcess& s, const std::string& target, const std::string& address,
         std::vector<std::pair<std::string, std::string>> headers = {}) {
        headers.emplace_back("X-Forwarded-For", address);
        return s.get(target, headers);
    }

    static std::optional<testing::HttpResponse> admin(ServerProcess& s, const std::string& method,
                                                      const std::string& target) {
        testing::HttpClient c(s.port());
        return c.request(method, target, {{"Authorization", "Bearer " + admin_key}});
    }

    std::unique_ptr<testing::TestStore> store_;
};

TEST_F(SharedStore, OneClientThroughTwoServersIsOneSearcher) {
    auto a = start("a"), b = start("b");
    ASSERT_TRUE(a->started()) << a->describe();
    ASSERT_TRUE(b->started()) << b->describe();
    // One client (one network: a second address of its /24 too) reaches both servers.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(from(*a, "/v1/search?q=hiking", "81.2.69.142")->result_int(), 200u);
        EXPECT_EQ(from(*b, "/v1/search?q=hiking", "81.2.69.160")->result_int(), 200u);
    }
    const std::string cell = " FROM daily_terms WHERE query = 'hiking'";
    EXPECT_EQ(wait_for("SELECT coalesce(sum(searches), 0)" + cell, 6), 6);
    EXPECT_EQ(scalar("SELECT sum(searchers)" + cell), 1) << a->log() << b->log();
    // Another network, through b: two searchers.
    EXPECT_EQ(from(*b, "/v1/search?q=hiking", "81.2.70.1")->result_int(), 200u);
    EXPECT_EQ(wait_for("SELECT coalesce(sum(searches), 0)" + cell, 7), 7);
    EXPECT_EQ(scalar("SELECT sum(searchers)" + cell), 2);
    // The day's secret is one row the servers share, in an UNLOGGED table.
    EXPECT_EQ(scalar("SELECT count(*) FROM searcher_secrets"), 2); // today's and tomorrow's
    EXPECT_EQ(a->terminate(), 0) << a->log();
    EXPECT_EQ(b->terminate(), 0) << b->log();
}

TEST_F(SharedStore, TwoServersOnOneDatabaseBehaveAsOneService) {
    auto a = start("a"), b = start("b");
    ASSERT_TRUE(a->started()) << a->describe();
    ASSERT_TRUE(b->started()) << b->describe();

    // 12 searches of one term from 12 networks, six through each server: above k = 10 and
    // k_distinct = 5 together, below both on either server alone.
    for (int n = 0; n < 12; ++n) {
        auto& s = n % 2 ? *b : *a;
        EXPECT_EQ(
            from(s, "/v1/search?q=hiking", "81.2." + std::to_string(60 + n) + ".1")->result_int(),
            200u);
    }
    ASSERT_EQ(wait_for("SELECT coalesce(sum(searches), 0) FROM daily_terms", 12), 12);
    for (ServerProcess* s : {a.get(), b.get()}) {
        const auto r = admin(*s, "GET", "/v1/admin/reports/popular");
        ASSERT_EQ(r->result_int(), 200u) << r->body();
        const auto v = testing::json_body(*r);
        ASSERT_EQ(v.at("terms").as_array().size(), 1u) << v;
        EXPECT_EQ(v.at("terms").at(0).at("query").as_string(), "hiking");
        EXPECT_EQ(v.at("terms").at(0).at("searches").as_int64(), 12);
        EXPECT_EQ(v.at("terms").at(0).at("searchers").as_int64(), 12);
    }

    // A view sent to a ranks on b after the refresh interval.
    testing::HttpClient post(a->port());
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(
            post.request("POST", "/v1/views",
                         {{"Content-Type", "application/json"}, {"X-Forwarded-For", "81.2.69.142"}},
                         R"({"id":"a-002"})")
                ->result_int(),
            204u);
    double views = 0;
    for (int i = 0; i < 100 && views < 3; ++i) {
        std::this_thread::sleep_for(50ms);
        const auto r =
            b->get("/v1/search?q=hiking&explain=1", {{"Authorization", "Bearer " + admin_key}});
        ASSERT_EQ(r->result_int(), 200u) << r->body();
        const auto body = testing::json_body(*r);
        for (const auto& h : body.at("hits").as_array())
            if (h.at("id").as_string() == "a-002")
                views = h.at("explain").at("views").as_double();
    }
    EXPECT_EQ(views, 3) << b->log();

    // An account's searches through both servers; deleted through a, gone for both.
    const std::string token =
        server::sign_account_token("acct-1", std::time(nullptr) + 3600, secret);
    EXPECT_EQ(
        from(*a, "/v1/search?q=alps", "81.2.69.142", {{"X-Account-Token", token}})->result_int(),
        200u);
    EXPECT_EQ(from(*b, "/v1/search?q=matterhorn", "81.2.69.142", {{"X-Account-Token", token}})
                  ->result_int(),
              200u);
    ASSERT_EQ(wait_for("SELECT count(*) FROM searches WHERE account = 'acct-1'", 2), 2);
    const auto deleted = admin(*a, "DELETE", "/v1/admin/accounts/acct-1");
    ASSERT_EQ(deleted->result_int(), 200u) << deleted->body();
    EXPECT_EQ(testing::json_body(*deleted).at("deleted").as_int64(), 2);
    const auto exported = admin(*b, "GET", "/v1/admin/accounts/acct-1/export");
    ASSERT_EQ(exported->result_int(), 200u);
    EXPECT_TRUE(testing::json_body(*exported).at("searches").as_array().empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM searches WHERE account IS NOT NULL"), 0);

    // The CLI reads the same setting.
    const Outcome report =
        run({"report", "popular", "--set", "analytics.database=" + uri()}, store_->dir());
    EXPECT_EQ(report.status, 0) << report.err;
    EXPECT_NE(report.out.find("hiking"), std::string::npos) << report.out;
    EXPECT_EQ(a->terminate(), 0) << a->log();
    EXPECT_EQ(b->terminate(), 0) << b->log();
}

/// Stops and starts the throwaway cluster with its control script (scripts/common.sh); a cluster
/// this stopped is started again on the way out, whatever happened, for the tests after.
class PostgresSwitch {
  public:
    PostgresSwitch() = default;
    PostgresSwitch(const PostgresSwitch&) = delete;
    PostgresSwitch& operator=(const PostgresSwitch&) = delete;
    ~PostgresSwitch() {
        if (stopped_)
            start();
    }
    bool stop() { return stopped_ = control("stop"); }
    bool start() {
        const bool ok = control("start");
        stopped_ = stopped_ && !ok;
        return ok;
    }

  private:
    static bool control(const std::string& action) {
        const char* ctl = std::getenv("MIXI_TEST_POSTGRES_CTL");
        return ctl && std::system((std::string(ctl) + " " + action).c_str()) == 0;
    }
    bool stopped_ = false;
};

std::int64_t metric(ServerProcess& s, const std::string& name) {
    const auto r = s.get("/metrics");
    const std::string body = r ? r->body() : "";
    const auto at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(body.substr(at + name.size() + 2));
}

TEST_F(SharedStore, WhilePostgresIsDownSearchesAreAnsweredEventsHeldThenStoredOrCountedDropped) {
    if (!std::getenv("MIXI_TEST_POSTGRES_CTL"))
        GTEST_SKIP() << "MIXI_TEST_POSTGRES_CTL is not set: the cluster cannot be stopped";
    auto s = start("a", {"analytics.max_held_events=40"});
    ASSERT_TRUE(s->started()) << s->describe();
    auto search = [&](const std::string& q, int n) {
        return from(*s, "/v1/search?q=" + q, "81.2." + std::to_string(60 + n % 12) + ".1");
    };
    for (int i = 0; i < 5; ++i)
        ASSERT_EQ(search("alps", i)->result_int(), 200u);
    ASSERT_EQ(wait_for("SELECT coalesce(sum(searches), 0) FROM daily_terms", 5), 5);
    EXPECT_EQ(testing::json_body(*s->get("/healthz")).at("status").as_string(), "ok");

    PostgresSwitch postgres;
    ASSERT_TRUE(postgres.stop());
    // Searches are answered at once while the store is away; their events wait in memory.
    for (int i = 0; i < 30; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = search("hiking", i);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->result_int(), 200u);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    }
    std::string status;
    for (int i = 0; i < 100 && status != "degraded"; ++i) {
        std::this_thread::sleep_for(50ms);
        status = testing::json_body(*s->get("/healthz")).at("status").as_string();
    }
    EXPECT_EQ(status, "degraded");
    EXPECT_EQ(metric(*s, "mixi_analytics_store_up"), 0);
    EXPECT_EQ(metric(*s, "mixi_analytics_held_events"), 30);
    EXPECT_EQ(metric(*s, "mixi_analytics_dropped_events_total"), 0);
    // Past the bound (40), the oldest go (a flush's searches at a time) and are counted.
    for (int i = 0; i < 30; ++i)
        ASSERT_EQ(search("matterhorn", i)->result_int(), 200u);
    std::int64_t dropped = 0, held = 0;
    for (int i = 0; i < 100 && dropped + held != 60; ++i) {
        std::this_thread::sleep_for(50ms);
        dropped = metric(*s, "mixi_analytics_dropped_events_total");
        held = metric(*s, "mixi_analytics_held_events");
    }
    EXPECT_EQ(dropped + held, 60);
    EXPECT_GE(dropped, 20);
    EXPECT_LE(held, 40);

    // The database comes back: the held events are stored at the next flushes.
    ASSERT_TRUE(postgres.start());
    const std::int64_t total =
        wait_for("SELECT coalesce(sum(searches), 0) FROM daily_terms", 5 + held);
    EXPECT_EQ(total, 5 + held) << s->log(); // before, and every one held; none of the dropped
    // The newest were kept.
    EXPECT_EQ(scalar("SELECT coalesce(sum(searches), 0) FROM daily_terms WHERE query ="
                     " 'matterhorn'"),
              30);
    for (int i = 0; i < 100 && status != "ok"; ++i) {
        std::this_thread::sleep_for(50ms);
        status = testing::json_body(*s->get("/healthz")).at("status").as_string();
    }
    EXPECT_EQ(status, "ok");
    EXPECT_EQ(metric(*s, "mixi_analytics_held_events"), 0);
    EXPECT_TRUE(s->running());
    EXPECT_EQ(s->terminate(), 0) << s->log();
    EXPECT_NE(s->log().find("holding events in memory"), std::string::npos) << s->log();

    // A server started while the database is down serves, degraded, and stores what it held
    // once the database is back.
    ASSERT_TRUE(postgres.stop());
    auto late = start("late");
    ASSERT_TRUE(late->started()) << late->describe();
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(from(*late, "/v1/search?q=dolomites", "81.2.99.1")->result_int(), 200u);
    EXPECT_EQ(testing::json_body(*late->get("/healthz")).at("status").as_string(), "degraded");
    ASSERT_TRUE(postgres.start());
    EXPECT_EQ(wait_for("SELECT coalesce(sum(searches), 0) FROM daily_terms WHERE query ="
                       " 'dolomites'",
                       4),
              4)
        << late->log();
    EXPECT_EQ(testing::json_body(*late->get("/healthz")).at("status").as_string(), "ok");
    EXPECT_EQ(late->terminate(), 0) << late->log();
}

TEST_F(SharedStore, ASignedInSearchHeldWhilePostgresIsDownIsStoredWithoutItsAccount) {
    if (!std::getenv("MIXI_TEST_POSTGRES_CTL"))
        GTEST_SKIP() << "MIXI_TEST_POSTGRES_CTL is not set: the cluster cannot be stopped";
    auto s = start("a");
    ASSERT_TRUE(s->started()) << s->describe();
    PostgresSwitch postgres;
    ASSERT_TRUE(postgres.stop());
    const std::string token =
        server::sign_account_token("acct-3", std::time(nullptr) + 3600, secret);
    ASSERT_EQ(
        from(*s, "/v1/search?q=jungfrau", "81.2.60.1", {{"X-Account-Token", token}})->result_int(),
        200u);
    // Held once a flush has failed: from then on the search has no account link, so a delete
    // of the account through another server meanwhile cannot be undone when it is stored.
    for (int i = 0; i < 100 && metric(*s, "mixi_analytics_held_events") != 1; ++i)
        std::this_thread::sleep_for(50ms);
    ASSERT_EQ(metric(*s, "mixi_analytics_held_events"), 1) << s->log();
    ASSERT_TRUE(postgres.start());
    EXPECT_EQ(wait_for("SELECT count(*) FROM searches WHERE query = 'jungfrau'", 1), 1) << s->log();
    EXPECT_EQ(scalar("SELECT count(*) FROM searches WHERE account IS NOT NULL"), 0);
    EXPECT_EQ(scalar("SELECT sum(searches) FROM daily_terms WHERE query = 'jungfrau'"), 1);
    EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST_F(SharedStore, AServerStoppedWhilePostgresIsDownStoresWhatItHeldAfterItsNextStart) {
    if (!std::getenv("MIXI_TEST_POSTGRES_CTL"))
        GTEST_SKIP() << "MIXI_TEST_POSTGRES_CTL is not set: the cluster cannot be stopped";
    auto s = start("a");
    ASSERT_TRUE(s->started()) << s->describe();
    PostgresSwitch postgres;
    ASSERT_TRUE(postgres.stop());
    // Six searches from six networks, one of them signed in, and three views: all answered.
    const std::string token =
        server::sign_account_token("acct-2", std::time(nullptr) + 3600, secret);
    for (int n = 0; n < 6; ++n) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (n == 0)
            headers.emplace_back("X-Account-Token", token);
        EXPECT_EQ(from(*s, "/v1/search?q=eiger", "81.2." + std::to_string(60 + n) + ".1", headers)
                      ->result_int(),
                  200u);
    }
    testing::HttpClient post(s->port());
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(
            post.request("POST", "/v1/views",
                         {{"Content-Type", "application/json"}, {"X-Forwarded-For", "81.2.69.142"}},
                         R"({"id":"a-003"})")
                ->result_int(),
            204u);
    std::int64_t held = 0;
    for (int i = 0; i < 100 && held != 7; ++i) { // six searches, one view count
        std::this_thread::sleep_for(50ms);
        held = metric(*s, "mixi_analytics_held_events");
    }
    ASSERT_EQ(held, 7) << s->log();

    // Stopped now, it saves them in its data directory, readable by its user only.
    EXPECT_EQ(s->terminate(), 0) << s->log();
    const fs::path file = store_->dir() / "a" / "analytics-held.jsonl";
    {
        std::ifstream in(file);
        const std::string saved((std::istreambuf_iterator<char>(in)), {});
        EXPECT_EQ(saved.find("acct-2"), std::string::npos) << saved;
    }
    ASSERT_TRUE(fs::exists(file)) << s->log();
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
    EXPECT_NE(s->log().find("saved in"), std::string::npos) << s->log();

    // Started again once the database is back, it stores them at its first flush.
    ASSERT_TRUE(postgres.start());
    auto again = start("a");
    ASSERT_TRUE(again->started()) << again->describe();
    EXPECT_EQ(
        wait_for("SELECT coalesce(sum(searches), 0) FROM daily_terms WHERE query = 'eiger'", 6), 6)
        << again->log();
    EXPECT_EQ(scalar("SELECT sum(searchers) FROM daily_terms WHERE query = 'eiger'"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM searches WHERE query = 'eiger'"), 6);
    // The signed-in search is stored without its account: the file keeps no account links, so
    // an account deleted while it waited cannot come back.
    EXPECT_EQ(scalar("SELECT count(*) FROM searches WHERE account IS NOT NULL"), 0);
    EXPECT_EQ(wait_for("SELECT coalesce(sum(count), 0) FROM views WHERE doc_id = 'a-003'", 3), 3)
        << again->log();
    for (int i = 0; i < 100 && fs::exists(file); ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(fs::exists(file));
    EXPECT_EQ(testing::json_body(*again->get("/healthz")).at("status").as_string(), "ok");
    EXPECT_EQ(metric(*again, "mixi_analytics_held_events"), 0);
    // Stopped with nothing held, it leaves no file, and the next start stores nothing twice.
    EXPECT_EQ(again->terminate(), 0) << again->log();
    EXPECT_FALSE(fs::exists(file));
    auto third = start("a");
    ASSERT_TRUE(third->started()) << third->describe();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(scalar("SELECT coalesce(sum(searches), 0) FROM daily_terms WHERE query = 'eiger'"),
              6);
    EXPECT_EQ(third->terminate(), 0) << third->log();
}

TEST_F(SharedStore, AnUnreadableFileOfHeldEventsIsMovedAsideAndTheServerStarts) {
    const fs::path dir = store_->dir() / "bad";
    fs::create_directories(dir);
    {
        std::ofstream out(dir / "analytics-held.jsonl");
        out << "{\"format\":\"mixi-search held analytics\",\"version\":1}\n{\"batch\":{\"rows\":[";
    }
    auto s = start("bad");
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_FALSE(fs::exists(dir / "analytics-held.jsonl"));
    EXPECT_TRUE(fs::exists(dir / "analytics-held.jsonl.bad"));
    EXPECT_NE(s->log().find("cannot be read"), std::string::npos) << s->log();
    EXPECT_EQ(from(*s, "/v1/search?q=jungfrau", "81.2.69.1")->result_int(), 200u);
    EXPECT_EQ(
        wait_for("SELECT coalesce(sum(searches), 0) FROM daily_terms WHERE query = 'jungfrau'", 1),
        1);
    EXPECT_EQ(testing::json_body(*s->get("/healthz")).at("status").as_string(), "ok");
    EXPECT_EQ(s->terminate(), 0) << s->log();
}

} // namespace
} // namespace mixi
