// The search-term log through the real server: what a search writes, what Sec-GPC/DNT keep out,
// what the scrubber removes, and that no client address or e-mail address reaches a file.
#include "../unit/temp_dir.h"
#include "analytics/sqlite.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <fstream>
#include <gtest/gtest.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
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

    std::unique_ptr<ServerProcess> start() {
        return std::make_unique<ServerProcess>(
            tmp.path(),
            std::vector<std::string>{
                "--index", (tmp.path() / "index").string(), "--data", data().string(), "--set",
                "geoip.database=" +
                    (source_dir / "tests/fixtures/geoip/GeoIP2-Country-Test.mmdb").string(),
                "--set", "server.trusted_proxies=127.0.0.1", "--set",
                "analytics.flush_interval_ms=100"});
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

    // The aggregates count every search, with or without Do Not Track, and one searcher.
    const auto daily = rows("SELECT query, searches, zero_results, searchers FROM daily_terms"
                            " ORDER BY query");
    ASSERT_EQ(daily.size(), 3u);
    EXPECT_EQ(daily[0], (std::vector<std::string>{"hiking", "3", "0", "1"}));
    EXPECT_EQ(daily[2], (std::vector<std::string>{"nothingmatchesthis", "1", "1", "1"}));

    // No file under the test's folder (data directory, index, server logs) holds the client
    // address or the e-mail address that was typed.
    for (const auto& entry : fs::recursive_directory_iterator(tmp.path())) {
        if (!entry.is_regular_file())
            continue;
        const std::string bytes = slurp(entry.path());
        EXPECT_EQ(bytes.find(client), std::string::npos) << entry.path();
        EXPECT_EQ(bytes.find(email), std::string::npos) << entry.path();
        EXPECT_EQ(bytes.find("090-1234"), std::string::npos) << entry.path();
    }
}

TEST_F(SearchLog, PurgeDeletesRowsPastTheRetention) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    EXPECT_EQ(search(*s, "/v1/search?q=hiking"), 200u);
    EXPECT_EQ(s->terminate(), 0) << s->log();
    ASSERT_EQ(rows("SELECT query, '', '', '' FROM searches").size(), 1u);

    // Within the retention the row stays; 31 days on (default 30) it is gone, the aggregate not.
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
    EXPECT_EQ(rows("SELECT query, '', '', '' FROM daily_terms").size(), 1u);
    EXPECT_EQ(run({"purge", "--data", data().string(), "--retention-days", "0"}, tmp.path()).status,
              2);
}

} // namespace
} // namespace mixi
