// The user-facing privacy pieces of the server: the lang cookie (the only cookie), the language
// preference it carries, GET /v1/privacy, and the per-client rate limit.
#include "../unit/temp_dir.h"
#include "analytics/search_log.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <gtest/gtest.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::json_body;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;

const fs::path source_dir = MIXI_SOURCE_DIR;

class Privacy : public ::testing::Test {
  protected:
    void SetUp() override {
        const Outcome b = run({"index", "build", "--index", (tmp.path() / "index").string(),
                               (source_dir / "data/sample.ndjson").string()},
                              tmp.path());
        ASSERT_EQ(b.status, 0) << b.err;
    }
    std::unique_ptr<ServerProcess> start(std::vector<std::string> sets = {}) {
        std::vector<std::string> args = {"--index", (tmp.path() / "index").string(), "--data",
                                         (tmp.path() / "var").string()};
        for (auto& s : sets) {
            args.push_back("--set");
            args.push_back(std::move(s));
        }
        return std::make_unique<ServerProcess>(tmp.path(), args);
    }
    testing::TempDir tmp;
};

TEST_F(Privacy, PrefsSetsOnlyTheLangCookie) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    testing::HttpClient c(s->port());
    const auto set = c.request("POST", "/v1/prefs", {{"Content-Type", "application/json"}},
                               R"({"lang":"ja-JP"})");
    ASSERT_EQ(set->result_int(), 204u) << set->body();
    EXPECT_EQ((*set)[testing::http::field::set_cookie],
              "lang=ja-JP; Path=/; Max-Age=31536000; SameSite=Lax");
    const auto cleared =
        c.request("POST", "/v1/prefs", {{"Content-Type", "application/json"}}, R"({"lang":null})");
    EXPECT_EQ((*cleared)[testing::http::field::set_cookie],
              "lang=; Path=/; Max-Age=0; SameSite=Lax");
    for (const char* bad : {R"({"lang":"ja; Secure"})", R"({"lang":"x"})", R"({"lang":7})",
                            R"({"lang":"ja","id":"u1"})", "not json"}) {
        testing::expect_error(c.request("POST", "/v1/prefs", {}, bad), 400, bad);
    }
    // No other route sets a cookie (http_client checks every response of every test).
    EXPECT_EQ(s->get("/v1/search?q=photo")->count(testing::http::field::set_cookie), 0u);
}

TEST_F(Privacy, TheLanguagePreferenceRanksDocumentsInThatLanguageHigher) {
    const std::string key = "admin-key-0123456789abcdef"; // explain=1 needs it
    auto s = start({"auth.admin_keys=" + key});
    ASSERT_TRUE(s->started()) << s->describe();
    // "type:photo" alone matches the photos of every language with the same (zero) text score,
    // so only the preference orders them.
    auto first_lang = [&](std::vector<std::pair<std::string, std::string>> headers) {
        headers.emplace_back("Authorization", "Bearer " + key);
        const auto r = s->get("/v1/search?explain=1&q=type:photo", headers);
        const auto v = json_body(*r);
        return std::make_pair(std::string(v.at("hits").at(0).at("lang").as_string()),
                              v.at("hits").at(0).at("explain").at("language").as_double());
    };
    const auto ja = first_lang({{"Cookie", "theme=dark; lang=ja"}});
    EXPECT_EQ(ja.first, "ja");
    EXPECT_EQ(ja.second, 1);
    const auto en = first_lang({{"Accept-Language", "fr;q=0.2, en-GB, ja;q=0.5"}});
    EXPECT_EQ(en.first, "en");
    EXPECT_EQ(en.second, 1);
    // The cookie wins over the browser's languages.
    EXPECT_EQ(first_lang({{"Cookie", "lang=ja"}, {"Accept-Language", "en"}}).first, "ja");
}

TEST_F(Privacy, PrivacyEndpointStatesWhatThisDeploymentDoes) {
    auto s = start({"analytics.retention_days=14", "analytics.aggregate_retention_days=90",
                    "analytics.view_retention_days=60",
                    "geoip.database=" +
                        (source_dir / "tests/fixtures/geoip/GeoIP2-Country-Test.mmdb").string(),
                    "geoip.level=continent"});
    ASSERT_TRUE(s->started()) << s->describe();
    const auto v = json_body(*s->get("/v1/privacy"));
    EXPECT_EQ(v.at("search_log").at("retention_days").as_int64(), 14) << v;
    EXPECT_EQ(v.at("search_log").at("aggregate_retention_days").as_int64(), 90) << v;
    EXPECT_EQ(v.at("page_view_retention_days").as_int64(), 60) << v;
    EXPECT_EQ(v.at("region").as_string(), "continent") << v;
    // The scrubber's settings as the library applies them.
    EXPECT_EQ(v.at("search_log").at("max_query_characters").to_number<std::size_t>(),
              analytics::max_query_chars)
        << v;
    EXPECT_EQ(json::value_to<std::vector<std::string>>(v.at("search_log").at("scrubbed")),
              analytics::scrubbed_kinds())
        << v;
    EXPECT_EQ(v.at("reports").at("min_searches").to_number<std::uint64_t>(), 10u) << v;
    // Searchers are networks, query text stays only above the thresholds, Sec-GPC / DNT
    // searches are only volume, public completions need three days.
    EXPECT_EQ(v.at("distinct_searcher").at("counted_by").as_string(), "network") << v;
    EXPECT_EQ(v.at("distinct_searcher").at("ipv4_prefix").as_int64(), 24) << v;
    EXPECT_EQ(v.at("distinct_searcher").at("ipv6_prefix").as_int64(), 48) << v;
    EXPECT_FALSE(v.at("distinct_searcher").at("user_agent").as_bool()) << v;
    EXPECT_TRUE(v.at("aggregates").at("query_text_kept_only_above_thresholds").as_bool()) << v;
    EXPECT_NE(v.at("do_not_track").as_string().find("daily search volume"), std::string::npos) << v;
    EXPECT_EQ(v.at("suggest_completions").at("min_days").to_number<std::uint64_t>(), 3u) << v;
    EXPECT_EQ(v.at("cookies").as_array().size(), 1u) << v;
    EXPECT_FALSE(v.at("signed_in_searches").as_bool()) << v;
}

TEST_F(Privacy, PublicRoutesAreRateLimitedPerClient) {
    auto s = start({"limits.rate_per_second=5", "limits.rate_burst=5"});
    ASSERT_TRUE(s->started()) << s->describe();
    testing::HttpClient c(s->port());
    std::vector<unsigned> statuses;
    for (int i = 0; i < 8; ++i)
        statuses.push_back(c.get("/v1/search?q=photo")->result_int());
    EXPECT_EQ(std::count(statuses.begin(), statuses.begin() + 5, 200u), 5);
    const auto limited = c.get("/v1/search?q=photo");
    ASSERT_EQ(limited->result_int(), 429u) << limited->body();
    EXPECT_EQ((*limited)[testing::http::field::retry_after], "1");
    // Monitoring is not limited; and a second later the client may search again.
    EXPECT_EQ(c.get("/healthz")->result_int(), 200u);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(c.get("/v1/search?q=photo")->result_int(), 200u);
}

} // namespace
} // namespace mixi
