// The search-term log through the real server: what a search writes, what Sec-GPC/DNT keep out,
// what the scrubber removes, and that no client address or e-mail address reaches a file.
#include "../unit/temp_dir.h"
#include "analytics/database.h"
#include "analytics/reports.h"
#include "analytics/search_log.h"
#include "analytics/views.h"
#include "http_client.h"
#include "process.h"
#include "server/auth.h"
#include "server_process.h"

#include <fstream>
#include <gtest/gtest.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;
using testing::slurp;

const fs::path source_dir = MIXI_SOURCE_DIR;
const std::string client = "81.2.69.142"; // GB in the test database
const std::string email = "taro.yamada@example.co.jp";

class SearchLog : public ::testing::Test {
  protected:
    void SetUp() override {
        const Outcome b = run({"index", "build", "--index", (tmp.path() / "index").string(),
                               (source_dir / "data/sample.ndjson").string()},
                              tmp.path());
        ASSERT_EQ(b.status, 0) << b.err;
    }

    std::unique_ptr<ServerProcess> start(const std::vector<std::string>& sets = {},
                                         const std::vector<std::string>& env = {}) {
        std::vector<std::string> args = {
            "--index",
            (tmp.path() / "index").string(),
            "--data",
            data().string(),
            "--set",
            "geoip.database=" +
                (source_dir / "tests/fixtures/geoip/GeoIP2-Country-Test.mmdb").string(),
            "--set",
            "server.trusted_proxies=127.0.0.1",
            "--set",
            "analytics.flush_interval_ms=100"};
        for (const auto& s : sets) {
            args.push_back("--set");
            args.push_back(s);
        }
        return std::make_unique<ServerProcess>(tmp.path(), args, env);
    }

    unsigned search(ServerProcess& s, const std::string& target,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
        headers.emplace_back("X-Forwarded-For", client);
        return s.get(target, headers)->result_int();
    }

    /// Rows of a query on the data directory's database.
    std::vector<std::vector<std::string>> rows(const std::string& sql) {
        auto db = analytics::Database::open(data() / "analytics.sqlite");
        EXPECT_TRUE(db) << db.error().message;
        auto q = db->prepare(sql);
        EXPECT_TRUE(q) << q.error().message;
        std::vector<std::vector<std::string>> out;
        while (*q->step()) {
            out.emplace_back();
            for (int i = 0; i < 4; ++i)
                out.back().push_back(q->text(i));
        }
        return out;
    }

    fs::path data() const { return tmp.path() / "var"; }
    testing::TempDir tmp;
};

TEST_F(SearchLog, RowsAreScrubbedAndDoNotTrackWritesOnlyAggregates) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(search(*s, "/v1/search?q=Hiking"), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=hiking", {{"Sec-GPC", "1"}}), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=hiking", {{"DNT", "1"}}), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=gpcsecretword%20hiking", {{"Sec-GPC", "1"}}), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=mail%20" + email + "%20call%20090-1234-5678"), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=nothingmatchesthis"), 200u);
    // Not searches of their own: keystrokes of search-as-you-type, and next pages.
    EXPECT_EQ(search(*s, "/v1/search?q=hik&prefix=1"), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=hiking&page=2"), 200u);
    EXPECT_EQ(s->terminate(), 0) << s->log();

    const auto raw = rows("SELECT query, lang, country, results FROM searches ORDER BY id");
    ASSERT_EQ(raw.size(), 3u);
    EXPECT_EQ(raw[0], (std::vector<std::string>{"hiking", "en", "GB", "1"}));
    EXPECT_EQ(raw[1][0], "mail <email> call <phone>");
    EXPECT_EQ(raw[2][0], "nothingmatchesthis");
    EXPECT_EQ(raw[2][3], "0");
    EXPECT_TRUE(rows("SELECT query, '', '', '' FROM searches WHERE account IS NOT NULL").empty());

    // The aggregates with text count the searches without Sec-GPC / DNT; the daily volume, which
    // has no text, counts them all.
    const auto daily = rows("SELECT query, searches, zero_results, searchers FROM daily_terms"
                            " ORDER BY query");
    ASSERT_EQ(daily.size(), 3u);
    EXPECT_EQ(daily[0], (std::vector<std::string>{"hiking", "1", "0", "1"}));
    EXPECT_EQ(daily[2], (std::vector<std::string>{"nothingmatchesthis", "1", "1", "1"}));
    EXPECT_EQ(rows("SELECT sum(searches), '', '', '' FROM daily_volume")[0][0], "6");

    // No file under the test's folder (data directory, index, server logs) holds the client
    // address or the e-mail address that was typed.
    for (const auto& entry : fs::recursive_directory_iterator(tmp.path())) {
        if (!entry.is_regular_file())
            continue;
        const std::string bytes = slurp(entry.path());
        EXPECT_EQ(bytes.find(client), std::string::npos) << entry.path();
        EXPECT_EQ(bytes.find(email), std::string::npos) << entry.path();
        EXPECT_EQ(bytes.find("090-1234"), std::string::npos) << entry.path();
        EXPECT_EQ(bytes.find("gpcsecretword"), std::string::npos) << entry.path();
    }
}

TEST_F(SearchLog, JapaneseInputAndControlCharactersAreScrubbedAfterTheServersFold) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    // As an IME types them: full-width digits, letters and signs, which the server's NFKC case
    // folding turns into ASCII before the scrubber sees them, and ー, which it keeps.
    for (const char* query :
         {"電話 ０９０ー１２３４ー５６７８", "０９０～１２３４～５６７８", "＠Taro_Yamada",
          "TARO＠GMAIL", "ＥＸＡＭＰＬＥ．ＣＯＭ／ｐａｔｈ", "Red\x1b[31mText\r\nNext"})
        EXPECT_EQ(search(*s, "/v1/search?q=" + testing::url_encode(query)), 200u) << query;
    EXPECT_EQ(s->terminate(), 0) << s->log();

    std::vector<std::string> stored;
    for (const auto& row : rows("SELECT query, '', '', '' FROM searches ORDER BY id"))
        stored.push_back(row[0]);
    EXPECT_EQ(stored, (std::vector<std::string>{"電話 <phone>", "<phone>", "<handle>", "<email>",
                                                "<url>", "red [31mtext next"}));
}

TEST_F(SearchLog, PurgeDeletesRowsPastTheRetention) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(search(*s, "/v1/search?q=hiking"), 200u);
    EXPECT_EQ(s->terminate(), 0) << s->log();
    ASSERT_EQ(rows("SELECT query, '', '', '' FROM searches").size(), 1u);

    // Within the retention the row stays; 31 days on (default 30) it is gone. The day's cell,
    // one searcher, is below the thresholds: its text went when the purge folded the closed
    // day, and the search is counted in the daily volume only.
    const Outcome kept = run({"purge", "--data", data().string(), "--now", "2099-01-01T00:00:00Z",
                              "--retention-days", "36500", "--aggregate-retention-days", "36500"},
                             tmp.path());
    EXPECT_EQ(kept.status, 0) << kept.err;
    EXPECT_EQ(rows("SELECT query, '', '', '' FROM searches").size(), 1u);
    const std::time_t later = std::time(nullptr) + 31 * 86400;
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&later));
    const Outcome purged = run({"purge", "--data", data().string(), "--now", when}, tmp.path());
    EXPECT_EQ(purged.status, 0) << purged.err;
    EXPECT_NE(purged.out.find("deleted 1 search-log rows"), std::string::npos) << purged.out;
    EXPECT_TRUE(rows("SELECT query, '', '', '' FROM searches").empty());
    EXPECT_TRUE(rows("SELECT query, '', '', '' FROM daily_terms").empty());
    EXPECT_EQ(rows("SELECT sum(searches), '', '', '' FROM daily_volume")[0][0], "1");
    EXPECT_EQ(run({"purge", "--data", data().string(), "--retention-days", "0"}, tmp.path()).status,
              2);
}

TEST_F(SearchLog, PurgeDeletesViewCountsPastTheirRetentionAndOfDocumentsNotInTheIndex) {
    const std::int64_t today = analytics::day_of(std::time(nullptr));
    auto store_counts = [&] {
        auto views = analytics::ViewStore::open(data());
        ASSERT_TRUE(views) << views.error().message;
        ASSERT_TRUE(views->add({{"a-001", "JP", today, 3},
                                {"a-001", "JP", today - 200, 4},
                                {"deleted-doc", "GB", today, 5}}));
    };
    auto counts = [&] { return rows("SELECT doc_id, day, count, '' FROM views ORDER BY day"); };
    store_counts();
    // Without --index the counts of documents are kept; those older than 140 days are not.
    const Outcome plain = run({"purge", "--data", data().string()}, tmp.path());
    EXPECT_EQ(plain.status, 0) << plain.err;
    EXPECT_NE(plain.out.find("1 page-view counts older than 140 days"), std::string::npos)
        << plain.out;
    EXPECT_EQ(counts().size(), 2u);
    const Outcome with_index =
        run({"purge", "--data", data().string(), "--index", (tmp.path() / "index").string()},
            tmp.path());
    EXPECT_EQ(with_index.status, 0) << with_index.err;
    EXPECT_NE(with_index.out.find("1 page-view counts of 1 documents not in the index"),
              std::string::npos)
        << with_index.out;
    ASSERT_EQ(counts().size(), 1u);
    EXPECT_EQ(counts()[0][0], "a-001");
    // No index yet (a fresh install): everything else is purged, the counts of documents are
    // kept, and the run succeeds with a note, whether there is no directory or an empty one.
    store_counts();
    std::filesystem::create_directories(tmp.path() / "empty");
    for (const char* name : {"nowhere", "empty"}) {
        const Outcome none =
            run({"purge", "--data", data().string(), "--index", (tmp.path() / name).string()},
                tmp.path());
        EXPECT_EQ(none.status, 0) << name << ": " << none.err;
        EXPECT_NE(none.err.find("no index at"), std::string::npos) << none.err;
        EXPECT_NE(none.err.find("yet: the counts of deleted documents were not checked"),
                  std::string::npos)
            << none.err;
        EXPECT_EQ(counts().size(), 2u) << name;
    }
    // An index that is there but cannot be opened stays a failure.
    const std::filesystem::path broken = tmp.path() / "broken";
    std::filesystem::create_directories(broken);
    std::filesystem::create_directory_symlink("versions/gone", broken / "current");
    const Outcome unreadable =
        run({"purge", "--data", data().string(), "--index", broken.string()}, tmp.path());
    EXPECT_EQ(unreadable.status, 1);
    EXPECT_EQ(unreadable.err.find("no index at"), std::string::npos) << unreadable.err;
    EXPECT_NE(unreadable.err.find(broken.string()), std::string::npos) << unreadable.err;
    std::ofstream(tmp.path() / "a-file") << "not an index\n";
    const Outcome file =
        run({"purge", "--data", data().string(), "--index", (tmp.path() / "a-file").string()},
            tmp.path());
    EXPECT_EQ(file.status, 1);
    EXPECT_NE(file.err.find("is not an index directory"), std::string::npos) << file.err;
    EXPECT_EQ(counts().size(), 2u);

    // The server does the same as it starts.
    store_counts();
    auto s = start({"analytics.view_retention_days=100"});
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(s->terminate(), 0) << s->log();
    ASSERT_EQ(counts().size(), 1u);
    EXPECT_EQ(counts()[0][0], "a-001");
    EXPECT_EQ(counts()[0][1], std::to_string(today));
}

TEST_F(SearchLog, PurgeTakesItsDataDirectoryAndRetentionFromTheConfigFile) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(search(*s, "/v1/search?q=hiking"), 200u);
    EXPECT_EQ(s->terminate(), 0) << s->log();
    ASSERT_EQ(rows("SELECT query, '', '', '' FROM searches").size(), 1u);

    // The server's file: where its data is, and rows kept 2 days (not the default 30).
    const fs::path config = tmp.path() / "mixi.toml";
    std::ofstream(config) << "[server]\ndata_dir = '" << data().string()
                          << "'\n\n[analytics]\nretention_days = 2\n"
                             "aggregate_retention_days = 2\n";
    const std::time_t later = std::time(nullptr) + 3 * 86400;
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&later));
    // Flags still override the file.
    const Outcome kept = run({"purge", "--config", config.string(), "--now", when,
                              "--retention-days", "5", "--aggregate-retention-days", "5"},
                             tmp.path());
    EXPECT_EQ(kept.status, 0) << kept.err;
    EXPECT_NE(kept.out.find("deleted 0 search-log rows older than 5 days"), std::string::npos)
        << kept.out;
    EXPECT_EQ(rows("SELECT query, '', '', '' FROM searches").size(), 1u);
    const Outcome purged = run({"purge", "--config", config.string(), "--now", when}, tmp.path());
    EXPECT_EQ(purged.status, 0) << purged.err;
    EXPECT_NE(purged.out.find("deleted 1 search-log rows older than 2 days"), std::string::npos)
        << purged.out;
    EXPECT_TRUE(rows("SELECT query, '', '', '' FROM searches").empty());
    // The same checks as the server's: a bad retention is refused, naming the key.
    const Outcome bad =
        run({"purge", "--config", config.string(), "--aggregate-retention-days", "1"}, tmp.path());
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("analytics.aggregate_retention_days"), std::string::npos) << bad.err;
}

const std::string secret = "a shared secret the website also knows";
const std::string admin_key = "admin-key-0123456789abcdef";

TEST_F(SearchLog, SignedInSearchesExportAndDelete) {
    auto s = start({"auth.account_secret=" + secret, "auth.admin_keys=" + admin_key});
    ASSERT_TRUE(s->started()) << s->describe();
    const std::string token =
        server::sign_account_token("acct-1", std::time(nullptr) + 3600, secret);
    EXPECT_EQ(search(*s, "/v1/search?q=hiking", {{"X-Account-Token", token}}), 200u);
    EXPECT_EQ(search(*s, "/v1/search?q=photography", {{"X-Account-Token", token}}), 200u);
    // Global Privacy Control: counted in the aggregates, no row and no account link.
    EXPECT_EQ(
        search(*s, "/v1/search?q=secret+plans", {{"X-Account-Token", token}, {"Sec-GPC", "1"}}),
        200u);
    EXPECT_EQ(search(*s, "/v1/search?q=hiking"), 200u); // anonymous

    // Bad tokens are refused with a reason, never logged as anonymous.
    const std::string other =
        server::sign_account_token("acct-1", std::time(nullptr) + 3600, "not the secret");
    const std::string expired =
        server::sign_account_token("acct-1", std::time(nullptr) - 1, secret);
    testing::expect_error(s->get("/v1/search?q=x", {{"X-Account-Token", other}}), 401, "signature");
    testing::expect_error(s->get("/v1/search?q=x", {{"X-Account-Token", expired}}), 401, "expired");
    testing::expect_error(s->get("/v1/search?q=x", {{"X-Account-Token", "v1.garbage"}}), 401,
                          "malformed");

    // The admin API: 401 without a key, 403 with a wrong one.
    const std::string export_path = "/v1/admin/accounts/acct-1/export";
    testing::expect_error(s->get(export_path), 401, "no key");
    testing::expect_error(s->get(export_path, {{"Authorization", "Bearer wrong-key-0123456789"}}),
                          403, "wrong key");
    auto admin = [&](const std::string& method, const std::string& target) {
        testing::HttpClient c(s->port());
        return c.request(method, target, {{"Authorization", "Bearer " + admin_key}});
    };
    auto exported = [&] {
        const auto r = admin("GET", export_path);
        EXPECT_EQ(r->result_int(), 200u) << r->body();
        return testing::json_body(*r);
    };
    // Searches still in memory are stored before the export answers.
    auto first = exported();
    ASSERT_EQ(first.at("searches").as_array().size(), 2u) << first;
    EXPECT_EQ(first.at("searches").at(0).at("query").as_string(), "hiking");
    EXPECT_EQ(first.at("searches").at(1).at("query").as_string(), "photography");

    const auto entry = first.at("searches").at(0).at("id").as_int64();
    EXPECT_EQ(admin("DELETE", "/v1/admin/accounts/acct-1/searches/" + std::to_string(entry))
                  ->result_int(),
              200u);
    EXPECT_EQ(admin("DELETE", "/v1/admin/accounts/acct-1/searches/" + std::to_string(entry))
                  ->result_int(),
              404u);
    EXPECT_EQ(exported().at("searches").as_array().size(), 1u);
    const auto gone = admin("DELETE", "/v1/admin/accounts/acct-1");
    EXPECT_EQ(gone->result_int(), 200u) << gone->body();
    EXPECT_EQ(testing::json_body(*gone).at("deleted").as_int64(), 1);
    EXPECT_TRUE(exported().at("searches").as_array().empty());
    testing::expect_error(admin("DELETE", "/v1/admin/accounts/acct-1?from=yesterday"), 400,
                          "bad from");
    EXPECT_EQ(s->terminate(), 0) << s->log();

    // The anonymous search stays; the GPC one left no row at all.
    EXPECT_EQ(rows("SELECT query, '', '', '' FROM searches").size(), 1u);
    EXPECT_TRUE(
        rows("SELECT query, '', '', '' FROM searches WHERE query = 'secret plans'").empty());
    // Nor any cell with its text: it counts in the daily volume only.
    EXPECT_TRUE(
        rows("SELECT query, '', '', '' FROM daily_terms WHERE query = 'secret plans'").empty());
    // No file holds a token or the secret.
    for (const auto& e : fs::recursive_directory_iterator(tmp.path())) {
        if (!e.is_regular_file())
            continue;
        const std::string bytes = slurp(e.path());
        EXPECT_EQ(bytes.find(token), std::string::npos) << e.path();
        EXPECT_EQ(bytes.find(secret), std::string::npos) << e.path();
        EXPECT_EQ(bytes.find(admin_key), std::string::npos) << e.path();
    }
}

TEST_F(SearchLog, AccountCliExportsAndDeletes) {
    auto s = start({"auth.account_secret=" + secret});
    ASSERT_TRUE(s->started()) << s->describe();
    const std::string token =
        server::sign_account_token("acct-2", std::time(nullptr) + 3600, secret);
    EXPECT_EQ(search(*s, "/v1/search?q=hiking", {{"X-Account-Token", token}}), 200u);
    EXPECT_EQ(s->terminate(), 0) << s->log();
    const Outcome out = run({"account", "export", "acct-2", "--data", data().string()}, tmp.path());
    ASSERT_EQ(out.status, 0) << out.err;
    EXPECT_NE(out.out.find("\"query\":\"hiking\""), std::string::npos) << out.out;
    const Outcome del = run({"account", "delete", "acct-2", "--data", data().string()}, tmp.path());
    EXPECT_EQ(del.status, 0) << del.err;
    EXPECT_NE(del.out.find("deleted 1"), std::string::npos) << del.out;
    const Outcome again =
        run({"account", "export", "acct-2", "--data", data().string()}, tmp.path());
    EXPECT_NE(again.out.find("\"searches\":[]"), std::string::npos) << again.out;
}

TEST_F(SearchLog, ReportsShowOnlyTermsAboveTheThresholdsOnEveryPath) {
    auto s = start({"auth.admin_keys=" + admin_key, "ranking.refresh_interval_ms=100"});
    ASSERT_TRUE(s->started()) << s->describe();
    // Six people search "hiking" twice each; two people search "photography" six times each.
    // (People differ by network here: a searcher is an IPv4 /24.)
    auto from = [&](const std::string& target, int person) {
        return s->get(target, {{"X-Forwarded-For", "81.2." + std::to_string(60 + person) + ".1"}})
            ->result_int();
    };
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(from("/v1/search?q=hiking", i % 6), 200u);
        EXPECT_EQ(from("/v1/search?q=photography", i % 2), 200u);
    }
    auto admin = [&](const std::string& target) {
        return s->get(target, {{"Authorization", "Bearer " + admin_key}});
    };
    const auto json = admin("/v1/admin/reports/popular");
    ASSERT_EQ(json->result_int(), 200u) << json->body();
    const auto v = testing::json_body(*json);
    ASSERT_EQ(v.at("terms").as_array().size(), 1u) << v;
    EXPECT_EQ(v.at("terms").at(0).at("query").as_string(), "hiking");
    EXPECT_EQ(v.at("terms").at(0).at("searchers").as_int64(), 6);
    EXPECT_EQ(v.at("other_searches").as_int64(), 12);
    const auto csv = admin("/v1/admin/reports/popular?format=csv&top=5");
    ASSERT_EQ(csv->result_int(), 200u) << csv->body();
    EXPECT_TRUE((*csv)[testing::http::field::content_type].starts_with("text/csv"));
    EXPECT_NE(csv->body().find("hiking,12,0,6\r\n"), std::string::npos) << csv->body();
    const auto volume = testing::json_body(*admin("/v1/admin/reports/volume"));
    EXPECT_EQ(volume.at("total_searches").as_int64(), 24) << volume;
    testing::expect_error(admin("/v1/admin/reports/everything"), 404, "unknown report");
    testing::expect_error(s->get("/v1/admin/reports/popular"), 401, "no key");
    testing::expect_error(admin("/v1/admin/reports/popular?from=May"), 400, "bad from");
    EXPECT_EQ(s->terminate(), 0) << s->log();

    for (const std::string format : {"table", "csv", "json"}) {
        const Outcome r =
            run({"report", "popular", "--data", data().string(), "--format", format}, tmp.path());
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.out.find("hiking"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("photography"), std::string::npos) << r.out;
    }
    // Flags may raise the thresholds, never lower them.
    const Outcome lower =
        run({"report", "popular", "--data", data().string(), "--k", "1", "--k-distinct", "1"},
            tmp.path());
    EXPECT_EQ(lower.out.find("photography"), std::string::npos) << lower.out;
    const Outcome higher =
        run({"report", "popular", "--data", data().string(), "--k-distinct", "7"}, tmp.path());
    EXPECT_EQ(higher.out.find("hiking"), std::string::npos) << higher.out;
}

TEST_F(SearchLog, SearchersAreCountedByNetworkNotByUserAgentOrAddress) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    auto from = [&](const std::string& target, const std::string& address,
                    const std::string& agent = "Firefox") {
        EXPECT_EQ(
            s->get(target, {{"X-Forwarded-For", address}, {"User-Agent", agent}})->result_int(),
            200u);
    };
    for (int i = 0; i < 6; ++i) {
        // One host with six User-Agents.
        from("/v1/search?q=lantern", "81.2.69.142", "Agent/" + std::to_string(i));
        // Six addresses of one IPv4 /24, and six of one IPv6 /48 (different /64s).
        from("/v1/search?q=compass", "81.2.69." + std::to_string(10 + i));
        from("/v1/search?q=kettle", "2001:db8:1:" + std::to_string(i) + "::1");
    }
    // Two networks.
    from("/v1/search?q=tent", "81.2.69.1");
    from("/v1/search?q=tent", "81.2.70.1");
    EXPECT_EQ(s->terminate(), 0) << s->log();
    const auto daily =
        rows("SELECT query, searches, searchers, '' FROM daily_terms ORDER BY query");
    ASSERT_EQ(daily.size(), 4u);
    EXPECT_EQ(daily[0], (std::vector<std::string>{"compass", "6", "1", ""}));
    EXPECT_EQ(daily[1], (std::vector<std::string>{"kettle", "6", "1", ""}));
    EXPECT_EQ(daily[2], (std::vector<std::string>{"lantern", "6", "1", ""}));
    EXPECT_EQ(daily[3], (std::vector<std::string>{"tent", "2", "2", ""}));
}

TEST_F(SearchLog, SuggestCompletesOnlyTermsOverTheThresholdsOnThreeDays) {
    // Two past days as a server would have stored them: "hiking" over both thresholds on both,
    // "hillwalking" on one.
    const std::int64_t today = std::time(nullptr) / 86400;
    {
        auto log = analytics::SearchLog::open(data());
        ASSERT_TRUE(log) << log.error().message;
        analytics::SearchLogBuffer buffer{[](std::string_view q) { return std::string(q); }};
        auto searched = [&](std::int64_t day, const std::string& query) {
            for (std::uint64_t p = 0; p < 12; ++p) {
                analytics::RawSearch e;
                e.time = day * 86400 + 7200;
                e.query = query;
                e.lang = "en";
                e.results = 1;
                e.searcher = p % 6;
                buffer.record_search(e);
            }
        };
        searched(today - 2, "hiking");
        searched(today - 1, "hiking");
        searched(today - 1, "hillwalking");
        ASSERT_TRUE(log->add(buffer.take()));
    }
    auto s = start({"ranking.refresh_interval_ms=100"});
    ASSERT_TRUE(s->started()) << s->describe();
    // Today both pass the thresholds: six networks search each twice.
    for (int i = 0; i < 12; ++i)
        for (const std::string q : {"hiking", "hillwalking"})
            EXPECT_EQ(s->get("/v1/search?q=" + q,
                             {{"X-Forwarded-For", "81.2." + std::to_string(60 + i % 6) + ".1"}})
                          ->result_int(),
                      200u);
    json::value popular;
    for (int i = 0; i < 100; ++i) {
        popular = testing::json_body(*s->get("/v1/suggest?q=Hi")).at("popular");
        if (!popular.as_array().empty())
            break;
        std::this_thread::sleep_for(50ms);
    }
    // "hiking" on three days is completed; "hillwalking", on two, is not.
    EXPECT_EQ(popular, json::array{"hiking"});
    EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST_F(SearchLog, ReportCliTakesTheThresholdsFromTheEnvironmentAsTheServerDoes) {
    // Two searchers, three searches of "hiking": enough for k = 2, not for k = 50.
    const std::vector<std::string> low = {"MIXI_ANALYTICS_REPORT_K=2",
                                          "MIXI_ANALYTICS_REPORT_K_DISTINCT=2"};
    const std::vector<std::string> high = {"MIXI_ANALYTICS_REPORT_K=50",
                                           "MIXI_ANALYTICS_REPORT_K_DISTINCT=2"};
    auto s = start({"auth.admin_keys=" + admin_key}, low);
    ASSERT_TRUE(s->started()) << s->describe();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(s->get("/v1/search?q=hiking",
                         {{"X-Forwarded-For", "81.2." + std::to_string(60 + i % 2) + ".1"}})
                      ->result_int(),
                  200u);
    auto popular = [](ServerProcess& server) {
        const auto r =
            server.get("/v1/admin/reports/popular", {{"Authorization", "Bearer " + admin_key}});
        EXPECT_EQ(r->result_int(), 200u) << r->body();
        return r->body();
    };
    // Counted in memory until the next flush; the report reads the stored counts.
    std::string api;
    for (int i = 0; i < 400 && api.find("hiking") == std::string::npos; ++i) {
        std::this_thread::sleep_for(50ms);
        api = popular(*s);
    }
    EXPECT_NE(api.find("hiking"), std::string::npos) << api;
    EXPECT_EQ(s->terminate(), 0) << s->log();
    s = start({"auth.admin_keys=" + admin_key}, high);
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(popular(*s).find("hiking"), std::string::npos);
    EXPECT_EQ(s->terminate(), 0) << s->log();

    // The CLI, in the same environments, shows what the API shows.
    const std::vector<std::string> report = {"report", "popular", "--data", data().string()};
    const Outcome shown = run(report, tmp.path(), low);
    EXPECT_EQ(shown.status, 0) << shown.err;
    EXPECT_NE(shown.out.find("hiking"), std::string::npos) << shown.out;
    const Outcome hidden = run(report, tmp.path(), high);
    EXPECT_EQ(hidden.status, 0) << hidden.err;
    EXPECT_EQ(hidden.out.find("hiking"), std::string::npos) << hidden.out;
    // And a threshold below the floor in the environment is refused, as the server refuses it.
    const Outcome bad = run(report, tmp.path(), {"MIXI_ANALYTICS_REPORT_K_DISTINCT=1"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("analytics.report_k_distinct"), std::string::npos) << bad.err;
}

TEST_F(SearchLog, AdminApiIsOffWithoutKeys) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    testing::expect_error(s->get("/v1/admin/accounts/a/export",
                                 {{"Authorization", "Bearer admin-key-0123456789abcdef"}}),
                          403, "no keys configured");
    testing::expect_error(s->get("/v1/search?q=x", {{"X-Account-Token", "v1.a.1.ab"}}), 401,
                          "no secret");
}

TEST_F(SearchLog, PublicTrendsAreOffByDefaultAndOtherwiseOnlyAPrivateReleaseStoredOnce) {
    // Aggregates of past days, as a server would have stored them: the latest complete 7-day
    // period (the one /v1/trends releases) and the period before it.
    const std::int64_t today = std::time(nullptr) / 86400;
    const std::int64_t to = today / 7 * 7 - 1, from = to - 6;
    {
        auto log = analytics::SearchLog::open(data());
        ASSERT_TRUE(log) << log.error().message;
        analytics::SearchLogBuffer buffer{[](std::string_view q) { return std::string(q); }};
        std::uint64_t searcher = 1;
        for (std::int64_t day = from - 7; day <= to; ++day) {
            auto searched = [&](const std::string& query, int people) {
                for (int p = 0; p < people; ++p) {
                    analytics::RawSearch e;
                    e.time = day * 86400 + 7200;
                    e.query = query;
                    e.lang = "en";
                    e.country = "GB";
                    e.results = 1;
                    e.searcher = searcher++;
                    buffer.record_search(e);
                }
            };
            searched("hiking", day < from ? 20 : 100);
            if (day == to)
                for (int i = 0; i < 40; ++i)
                    searched("someone's rare query " + std::to_string(i), 1);
        }
        ASSERT_TRUE(log->add(buffer.take()));
    }
    {
        auto s = start();
        ASSERT_TRUE(s->started()) << s->describe();
        testing::expect_error(s->get("/v1/trends"), 404, "off by default");
    }
    auto s = start({"trends.enabled=true", "trends.epsilon=1"});
    ASSERT_TRUE(s->started()) << s->describe();
    const auto first = s->get("/v1/trends");
    ASSERT_EQ(first->result_int(), 200u) << first->body();
    const auto v = testing::json_body(*first);
    EXPECT_EQ(v.at("from").as_string(), analytics::day_text(from));
    EXPECT_EQ(v.at("to").as_string(), analytics::day_text(to));
    ASSERT_EQ(v.at("terms").as_array().size(), 1u) << v;
    const auto& term = v.at("terms").at(0);
    EXPECT_EQ(term.at("query").as_string(), "hiking");
    // 700 searcher-days against 140 before, with noise of scale 4 (|x| > 60: p < 1e-6).
    EXPECT_NEAR(static_cast<double>(term.at("searchers").as_int64()), 700, 60);
    EXPECT_NEAR(static_cast<double>(term.at("previous").as_int64()), 140, 60);
    // Never the analysts' figures: no search counts, zero-result counts or "other".
    EXPECT_FALSE(term.as_object().contains("searches"));
    EXPECT_FALSE(v.as_object().contains("other_searches"));
    EXPECT_EQ(first->body().find("rare"), std::string::npos);
    // Asking again gets the same release, not new noise to average.
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(s->get("/v1/trends")->body(), first->body());
    EXPECT_EQ(s->get("/v1/trends?top=1")->result_int(), 200u);
    testing::expect_error(s->get("/v1/trends?top=21"), 400, "top above trends.top");
    testing::expect_error(s->get("/v1/trends?from=2020-01-01"), 400, "unknown parameter");
    const auto privacy = testing::json_body(*s->get("/v1/privacy"));
    EXPECT_EQ(privacy.at("public_trends").at("epsilon").as_double(), 1.0);

    // The CLI releases the same way: stored, complete days only, trending only.
    const std::vector<std::string> release = {"report",       "trending",
                                              "--data",       data().string(),
                                              "--dp-epsilon", "1",
                                              "--from",       analytics::day_text(from),
                                              "--to",         analytics::day_text(to),
                                              "--format",     "json"};
    const Outcome cli = run(release, tmp.path());
    EXPECT_EQ(cli.status, 0) << cli.err;
    EXPECT_EQ(cli.out, first->body() + "\n"); // the server's release for the same period
    const Outcome today_too = run({"report", "trending", "--data", data().string(), "--dp-epsilon",
                                   "1", "--to", analytics::day_text(today)},
                                  tmp.path());
    EXPECT_EQ(today_too.status, 2);
    EXPECT_NE(today_too.err.find("complete days"), std::string::npos) << today_too.err;
    EXPECT_EQ(run({"report", "popular", "--data", data().string(), "--dp-epsilon", "1"}, tmp.path())
                  .status,
              2);
}

} // namespace
} // namespace mixi
