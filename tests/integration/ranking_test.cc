// Ranking with page views and the searcher's region, through the real binary: views imported
// with `mixi-search views import` or counted by POST /v1/views, regions from the MaxMind test
// databases in tests/fixtures/geoip, clients named by X-Forwarded-For from a trusted proxy.
#include "../unit/temp_dir.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <fstream>
#include <gtest/gtest.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::json_body;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;
using testing::slurp;

const fs::path source_dir = MIXI_SOURCE_DIR;
const fs::path geoip_dir = source_dir / "tests/fixtures/geoip";
const std::string jp_client = "2001:218::1"; // JP in GeoIP2-Country-Test.mmdb
const std::string gb_client = "81.2.69.142"; // GB
/// explain=1 (the score parts and view counts of each hit) needs the admin key.
const std::string admin_key = "admin-key-0123456789abcdef";

std::string record(const std::string& id, const std::string& title, const std::string& body) {
    return "{\"id\":\"" + id + "\",\"url\":\"https://example.social/t/" + id + "\",\"title\":\"" +
           title + "\",\"body\":\"" + body +
           "\",\"type\":\"article\",\"lang\":\"en\",\"published\":\"2025-05-01\","
           "\"visibility\":\"public\"}\n";
}

std::vector<std::string> hit_ids(const json::value& v) {
    std::vector<std::string> ids;
    for (const auto& h : v.at("hits").as_array())
        ids.emplace_back(h.at("id").as_string());
    return ids;
}

std::string today() {
    const std::time_t now = std::time(nullptr);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
    return buf;
}

class Ranking : public ::testing::Test {
  protected:
    void SetUp() override {
        // Pairs of documents with the same text, so only views can order them. The one that
        // should win comes second, so the index order alone would put it last.
        std::ofstream(tmp.path() / "docs.ndjson")
            << record("lantern-gb", "Lantern festival", "Paper lanterns float on the river.")
            << record("lantern-jp", "Lantern festival", "Paper lanterns float on the river.")
            << record("camera-a", "Camera strap review", "A leather strap for small cameras.")
            << record("camera-b", "Camera strap review", "A leather strap for small cameras.")
            << record("tax-forms", "Filing tax forms", "Deadlines and forms for this year.")
            << record("glimmer", "Glimmerstone quarry", "Glimmerstone is quarried by hand here.");
        const Outcome b = run(
            {"index", "build", "--index", index().string(), (tmp.path() / "docs.ndjson").string()},
            tmp.path());
        ASSERT_EQ(b.status, 0) << b.err;
    }

    fs::path index() const { return tmp.path() / "index"; }
    fs::path data() const { return tmp.path() / "var"; }

    void import(const std::string& csv) {
        std::ofstream(tmp.path() / "views.csv") << csv;
        const Outcome r = run({"views", "import", "--data", data().string(), "--index",
                               index().string(), (tmp.path() / "views.csv").string()},
                              tmp.path());
        ASSERT_EQ(r.status, 0) << r.out << r.err;
    }

    std::unique_ptr<ServerProcess> start(std::vector<std::string> sets = {}) {
        std::vector<std::string> args = {
            "--index", index().string(),
            "--data",  data().string(),
            "--set",   "geoip.database=" + (geoip_dir / "GeoIP2-Country-Test.mmdb").string(),
            "--set",   "server.trusted_proxies=127.0.0.1,::1",
            "--set",   "auth.admin_keys=" + admin_key,
            "--set",   "analytics.flush_interval_ms=100",
            "--set",   "ranking.refresh_interval_ms=100"};
        for (auto& s : sets) {
            args.push_back("--set");
            args.push_back(std::move(s));
        }
        return std::make_unique<ServerProcess>(tmp.path(), args);
    }

    json::value search(ServerProcess& s, const std::string& q, const std::string& client = "") {
        std::vector<std::pair<std::string, std::string>> headers = {
            {"Authorization", "Bearer " + admin_key}};
        if (!client.empty())
            headers.emplace_back("X-Forwarded-For", client);
        const auto r = s.get("/v1/search?explain=1&q=" + testing::url_encode(q), headers);
        EXPECT_EQ(r->result_int(), 200u) << r->body();
        return json_body(*r);
    }

    testing::TempDir tmp;
};

TEST_F(Ranking, TheSearchersCountryRanksTheDocumentViewedFromThereFirst) {
    // Both lantern pages have 420 views in all; each is popular in a different country.
    const std::string d = today();
    import("id,region,day,count\n"
           "lantern-jp,JP," +
           d + ",400\nlantern-jp,GB," + d +
           ",20\n"
           "lantern-gb,GB," +
           d + ",400\nlantern-gb,JP," + d +
           ",20\n"
           "tax-forms,JP," +
           d + ",100000\n");
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();

    const auto jp = search(*s, "lantern", jp_client);
    EXPECT_EQ(hit_ids(jp), (std::vector<std::string>{"lantern-jp", "lantern-gb"})) << jp;
    const auto& first = jp.at("hits").at(0).at("explain");
    EXPECT_GT(first.at("region").as_double(), 0) << first;
    EXPECT_NEAR(first.at("region_views").as_double(), 400, 1e-6) << first;
    EXPECT_NEAR(first.at("views").as_double(), 420, 1e-6) << first;
    const double parts = first.at("text").as_double() + first.at("popularity").as_double() +
                         first.at("region").as_double();
    EXPECT_NEAR(parts, jp.at("hits").at(0).at("score").as_double(), 1e-9) << jp;

    const auto gb = search(*s, "lantern", gb_client);
    EXPECT_EQ(hit_ids(gb), (std::vector<std::string>{"lantern-gb", "lantern-jp"})) << gb;

    // The most viewed page of all does not match, and is never returned.
    for (const auto& client : {jp_client, gb_client, std::string()})
        for (const char* q : {"lantern", "festival", "camera"}) {
            const auto ids = hit_ids(search(*s, q, client));
            EXPECT_EQ(std::count(ids.begin(), ids.end(), "tax-forms"), 0) << q;
        }
}

TEST_F(Ranking, ForwardedForIsIgnoredFromUntrustedPeers) {
    const std::string d = today();
    import("lantern-jp,JP," + d + ",400\nlantern-gb,GB," + d + ",400\n");
    auto s = start({"server.trusted_proxies="});
    ASSERT_TRUE(s->started()) << s->describe();
    // The peer (loopback) has no country: no region term, equal views, index order.
    const auto r = search(*s, "lantern", jp_client);
    EXPECT_EQ(hit_ids(r), (std::vector<std::string>{"lantern-gb", "lantern-jp"})) << r;
    EXPECT_EQ(r.at("hits").at(1).at("explain").at("region").as_double(), 0) << r;
}

TEST_F(Ranking, EqualTextRelevanceIsOrderedByViews) {
    import("camera-a,US," + today() + ",3\ncamera-b,US," + today() + ",900\n");
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    const auto r = search(*s, "camera strap");
    EXPECT_EQ(hit_ids(r), (std::vector<std::string>{"camera-b", "camera-a"})) << r;
    // text = score - popularity: equal up to rounding.
    EXPECT_NEAR(r.at("hits").at(0).at("explain").at("text").as_double(),
                r.at("hits").at(1).at("explain").at("text").as_double(), 1e-9);

    // With the popularity weight at zero the same index answers in index order.
    s->terminate();
    auto plain = start({"ranking.popularity_weight=0"});
    ASSERT_TRUE(plain->started()) << plain->describe();
    EXPECT_EQ(hit_ids(search(*plain, "camera strap")),
              (std::vector<std::string>{"camera-a", "camera-b"}));
}

TEST_F(Ranking, BeaconCountsViewsByRegionAndNeverStoresTheAddress) {
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    auto post = [&](const std::string& body, const std::string& type,
                    const std::string& client = gb_client) {
        testing::HttpClient c(s->port());
        return c.request("POST", "/v1/views", {{"Content-Type", type}, {"X-Forwarded-For", client}},
                         body);
    };
    // fetch() sends JSON; navigator.sendBeacon sends the same text as text/plain.
    EXPECT_EQ(post(R"({"id":"camera-a"})", "application/json")->result_int(), 204u);
    EXPECT_EQ(post(R"({"url":"https://example.social/t/camera-a"})", "text/plain;charset=UTF-8")
                  ->result_int(),
              204u);
    EXPECT_EQ(post(R"({"id":"camera-a"})", "text/plain", jp_client)->result_int(), 204u);
    testing::expect_error(post(R"({"id":"nobody"})", "application/json"), 404, "unknown id");
    testing::expect_error(post(R"({"id":"camera-a","url":"x"})", "application/json"), 400, "both");
    testing::expect_error(post("not json", "text/plain"), 400, "not json");
    testing::expect_error(post(R"({"id":"camera-a"})", "application/x-www-form-urlencoded"), 415,
                          "form");
    testing::expect_error(s->get("/v1/views"), 405, "GET");

    // Flushed and picked up by the searchers within a few flush intervals.
    double views = 0, region_views = 0;
    for (int i = 0; i < 100 && views < 3; ++i) {
        std::this_thread::sleep_for(50ms);
        const auto r = search(*s, "camera strap", gb_client);
        for (const auto& h : r.at("hits").as_array())
            if (h.at("id").as_string() == "camera-a") {
                views = h.at("explain").at("views").as_double();
                region_views = h.at("explain").at("region_views").as_double();
            }
    }
    EXPECT_EQ(views, 3);
    EXPECT_EQ(region_views, 2);

    EXPECT_EQ(post(R"({"id":"camera-b"})", "application/json")->result_int(), 204u);
    EXPECT_EQ(s->terminate(), 0) << s->log();
    // The view counted just before the stop was flushed at shutdown.
    const Outcome stats = run({"views", "stats", "--data", data().string()}, tmp.path());
    EXPECT_EQ(stats.status, 0) << stats.err;
    EXPECT_NE(stats.out.find("views: 4 "), std::string::npos) << stats.out;
    EXPECT_NE(stats.out.find("GB=3"), std::string::npos) << stats.out;
    EXPECT_NE(stats.out.find("JP=1"), std::string::npos) << stats.out;

    // Nothing in the data directory or the logs holds a client address.
    for (const auto& entry : fs::recursive_directory_iterator(tmp.path())) {
        if (!entry.is_regular_file())
            continue;
        const std::string bytes = slurp(entry.path());
        for (const std::string& a : {gb_client, jp_client})
            EXPECT_EQ(bytes.find(a), std::string::npos) << a << " found in " << entry.path();
    }
}

TEST_F(Ranking, BrokenGeoIpDatabaseIsAClearStartupErrorUnlessIgnored) {
    const fs::path bad = geoip_dir / "bad/maxminddb-golang-unexpected-bytes.mmdb";
    auto s = start({"geoip.database=" + bad.string()});
    EXPECT_FALSE(s->started());
    EXPECT_EQ(s->wait(5s), 1);
    EXPECT_NE(s->log().find("unexpected-bytes.mmdb"), std::string::npos) << s->log();

    auto lenient = start({"geoip.database=" + bad.string(), "geoip.ignore_errors=true"});
    ASSERT_TRUE(lenient->started()) << lenient->describe();
    const auto r = search(*lenient, "lantern", jp_client);
    EXPECT_EQ(hit_ids(r).size(), 2u) << r;
    EXPECT_NE(lenient->log().find("without regions"), std::string::npos) << lenient->log();
}

TEST_F(Ranking, AdminDeletesADocumentFromResultsSuggestionsSpellingAndViewsAtOnce) {
    import("glimmer,JP," + today() + ",50\ncamera-a,JP," + today() + ",5\n");
    const std::string key = admin_key;
    auto s = start();
    ASSERT_TRUE(s->started()) << s->describe();
    auto suggest = [&](const std::string& q) {
        return testing::json_body(*s->get("/v1/suggest?q=" + q));
    };
    ASSERT_EQ(hit_ids(search(*s, "glimmerstone")), std::vector<std::string>{"glimmer"});
    ASSERT_FALSE(suggest("glimmers").at("completions").as_array().empty());
    ASSERT_EQ(testing::json_body(*s->get("/v1/search?q=glimerstone&typos=0")).at("did_you_mean"),
              "glimmerstone");

    testing::HttpClient c(s->port());
    const auto no_key = c.request("DELETE", "/v1/admin/documents/glimmer");
    EXPECT_EQ(no_key->result_int(), 401u) << no_key->body();
    const auto gone =
        c.request("DELETE", "/v1/admin/documents/glimmer", {{"Authorization", "Bearer " + key}});
    ASSERT_EQ(gone->result_int(), 200u) << gone->body();

    // At once: the next search, on any connection, no longer finds it.
    EXPECT_TRUE(hit_ids(search(*s, "glimmerstone")).empty());
    EXPECT_TRUE(suggest("glimmers").at("completions").as_array().empty());
    const auto spelled = testing::json_body(*s->get("/v1/search?q=glimerstone&typos=0"));
    EXPECT_FALSE(spelled.as_object().contains("did_you_mean")) << spelled;
    const auto again =
        c.request("DELETE", "/v1/admin/documents/glimmer", {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(again->result_int(), 404u) << again->body();
    EXPECT_EQ(s->terminate(), 0) << s->log();
    // Its view counts are gone; the others stay.
    const Outcome stats = run({"views", "stats", "--data", data().string()}, tmp.path());
    EXPECT_NE(stats.out.find("views: 5 "), std::string::npos) << stats.out;
    EXPECT_NE(stats.out.find("documents: 1"), std::string::npos) << stats.out;
}

TEST_F(Ranking, QueryCliExplainsWithACountry) {
    const std::string d = today();
    import("lantern-jp,JP," + d + ",400\nlantern-gb,GB," + d + ",400\n");
    const Outcome r = run({"query", "--index", index().string(), "--data", data().string(),
                           "--country", "JP", "--explain", "lantern"},
                          tmp.path());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto v = json::parse(r.out);
    EXPECT_EQ(hit_ids(v), (std::vector<std::string>{"lantern-jp", "lantern-gb"})) << v;
    EXPECT_GT(v.at("hits").at(0).at("explain").at("region").as_double(), 0) << v;
}

} // namespace
} // namespace mixi
