#include "../temp_dir.h"
#include "../test_store.h"
#include "analytics/search_log.h"
#include "analytics/trends.h"
#include "common/dates.h"
#include "fold.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <thread>

namespace mixi::analytics {
namespace {

using testing::TempDir;

const std::int64_t day0 = *parse_date("2026-03-01") / 86400;

RandomBits seeded(std::uint64_t seed) {
    auto engine = std::make_shared<std::mt19937_64>(seed);
    return [engine] { return (*engine)(); };
}

class Trends : public testing::StoreTest {
  protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (IsSkipped())
            return;
        auto opened = SearchLog::open(where());
        ASSERT_TRUE(opened);
        log.emplace(std::move(*opened));
        auto db_opened = Database::connect(where());
        ASSERT_TRUE(db_opened);
        db.emplace(std::move(*db_opened));
    }
    /// One search of `query` on day0 + `day` by `searcher`.
    void search(const std::string& query, int day, std::uint64_t searcher,
                const std::string& country = "JP") {
        RawSearch e;
        e.time = (day0 + day) * 86400 + 3600;
        e.query = query;
        e.lang = "en";
        e.country = country;
        e.results = 3;
        e.searcher = searcher;
        buffer.record_search(e);
    }
    /// On each of `days` days from `day`, in time order (as the server sees them): for each
    /// (query, people), that many different searchers search the query once.
    void searched_by(int day, int days, const std::vector<std::pair<std::string, int>>& queries) {
        for (int d = day; d < day + days; ++d)
            for (const auto& [query, people] : queries)
                for (int p = 0; p < people; ++p)
                    search(query, d, next_searcher++);
        ASSERT_TRUE(log->add(buffer.take()));
    }
    std::int64_t bounded(const std::string& query, int day) {
        auto q = db->prepare("SELECT coalesce(sum(bounded), 0) FROM daily_terms WHERE query = ?1"
                             " AND day = ?2");
        q->bind(1, query).bind(2, day0 + day);
        EXPECT_TRUE(*q->step());
        return q->int64(0);
    }
    TrendRelease release(int from, int to, std::uint64_t seed, double epsilon = 1.0,
                         std::size_t top = 20) {
        TrendRequest r;
        r.from_day = day0 + from;
        r.to_day = day0 + to;
        r.top = top;
        auto out = release_trends(*db, r, {epsilon, 1e-6}, 1'000'000, seeded(seed));
        EXPECT_TRUE(out) << out.error().message;
        return *out;
    }
    std::optional<SearchLog> log;
    std::optional<Database> db;
    SearchLogBuffer buffer{testing::ascii_fold};
    std::uint64_t next_searcher = 1;
};
MIXI_ON_BOTH_STORES(Trends);

TEST_P(Trends, EachSearcherDayAddsOnceToAtMostFourQueries) {
    static_assert(max_terms_per_searcher_day == 4);
    for (int i = 0; i < 3; ++i)
        search("again", 0, 7);
    for (const char* q : {"b", "c", "d", "e", "f"})
        search(q, 0, 7);
    search("f", 0, 8); // someone else
    search("f", 1, 7); // the next day is a new searcher-day
    ASSERT_TRUE(log->add(buffer.take()));
    EXPECT_EQ(bounded("again", 0), 1);
    EXPECT_EQ(bounded("b", 0), 1);
    EXPECT_EQ(bounded("d", 0), 1);
    EXPECT_EQ(bounded("e", 0), 0); // past the bound: counted as a search, not in the DP count
    EXPECT_EQ(bounded("f", 0), 1);
    EXPECT_EQ(bounded("f", 1), 1);
    auto searches = db->scalar("SELECT searches FROM daily_terms WHERE query = 'again'");
    EXPECT_EQ(*searches, 3);
}

TEST(DiscreteLaplace, MeanZeroVarianceAndTailAsCalibrated) {
    const double scale = 4;
    const double a = std::exp(-1 / scale);
    auto bits = seeded(42);
    const int n = 200'000;
    double sum = 0, squares = 0;
    int tail = 0; // x >= 8
    for (int i = 0; i < n; ++i) {
        const auto x = static_cast<double>(discrete_laplace(scale, bits));
        sum += x;
        squares += x * x;
        tail += x >= 8;
    }
    EXPECT_NEAR(sum / n, 0.0, 0.05);
    const double variance = 2 * a / ((1 - a) * (1 - a));
    EXPECT_NEAR(squares / n / variance, 1.0, 0.03);
    EXPECT_NEAR(static_cast<double>(tail) / n / (std::pow(a, 8) / (1 + a)), 1.0, 0.05);
}

TEST(DpThreshold, HoldsOneSearcherDayBelowDeltaAndNeverBelowK) {
    // b = 4, a = e^-0.25: 1 + ceil(4 ln(4 / (1e-6 (1 + a)))) = 60.
    EXPECT_EQ(dp_threshold({1.0, 1e-6}, 10), 60);
    EXPECT_EQ(dp_threshold({1.0, 1e-6}, 100), 100);
    EXPECT_LT(dp_threshold({8.0, 1e-6}, 0), dp_threshold({1.0, 1e-6}, 0));
}

TEST_P(Trends, PopularQueriesAreReleasedNearTheTruthAndRareOnesNever) {
    // The week before: 210 searcher-days of "rising", 910 of "falling".
    searched_by(0, 7, {{"rising", 30}, {"falling", 130}});
    // This week: 1050 of "rising", 700 of "falling", and on one day 300 queries one
    // searcher-day each searched.
    std::vector<std::pair<std::string, int>> rare;
    for (int i = 0; i < 300; ++i)
        rare.emplace_back("rare " + std::to_string(i), 1);
    searched_by(7, 1, {{"rising", 150}, {"falling", 100}});
    searched_by(8, 1, rare);
    searched_by(8, 6, {{"rising", 150}, {"falling", 100}});
    const TrendRelease out = release(7, 13, 1);
    ASSERT_EQ(out.terms.size(), 1u) << trends_json(out);
    EXPECT_EQ(out.terms[0].query, "rising");
    // Noise of scale 4: |x| > 60 has probability below 1e-6.
    EXPECT_NEAR(static_cast<double>(out.terms[0].searchers), 1050, 60);
    EXPECT_NEAR(static_cast<double>(out.terms[0].previous), 210, 60);
    EXPECT_EQ(out.threshold, 60);
    const std::string json = trends_json(out);
    EXPECT_NE(json.find("\"unit\":\"searcher-day\""), std::string::npos) << json;
    EXPECT_EQ(json.find("rare"), std::string::npos);
    EXPECT_EQ(trends_csv(out).find("rare"), std::string::npos);
}

TEST_P(Trends, ARepeatedRequestGetsTheStoredReleaseNotFreshNoise) {
    std::vector<std::pair<std::string, int>> terms;
    for (int i = 0; i < 10; ++i)
        terms.emplace_back("term " + std::to_string(i), 20 + i);
    searched_by(7, 7, terms);
    const TrendRelease first = release(7, 13, 1);
    ASSERT_FALSE(first.terms.empty());
    const TrendRelease again = release(7, 13, 2); // other random bits: same answer
    EXPECT_EQ(trends_json(first), trends_json(again));
    // Top is applied to the stored release: a prefix of it, not a new draw.
    const TrendRelease top1 = release(7, 13, 3, 1.0, 1);
    ASSERT_EQ(top1.terms.size(), 1u);
    EXPECT_EQ(top1.terms[0].query, first.terms[0].query);
    EXPECT_EQ(top1.terms[0].searchers, first.terms[0].searchers);
    // Another epsilon is another release (and spends its own budget).
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM trend_releases"), 1);
    release(7, 13, 4, 2.0);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM trend_releases"), 2);
}

TEST_P(Trends, ServersAskingAtOnceGetOneReleaseForTheService) {
    std::vector<std::pair<std::string, int>> terms;
    for (int i = 0; i < 10; ++i)
        terms.emplace_back("term " + std::to_string(i), 20 + i);
    searched_by(7, 7, terms);
    // Four processes (each its own connection) ask for the same release at the same moment,
    // each with its own random bits: one release is made, and all four get it.
    std::vector<std::string> answers(4);
    std::vector<std::thread> servers;
    for (int i = 0; i < 4; ++i)
        servers.emplace_back([&, i] {
            auto own = Database::connect(where());
            ASSERT_TRUE(own) << own.error().message;
            TrendRequest r;
            r.from_day = day0 + 7;
            r.to_day = day0 + 13;
            auto out = release_trends(*own, r, {1.0, 1e-6}, 1'000'000,
                                      seeded(static_cast<std::uint64_t>(100 + i)));
            ASSERT_TRUE(out) << out.error().message;
            answers[static_cast<std::size_t>(i)] = trends_json(*out);
        });
    for (auto& t : servers)
        t.join();
    for (const auto& a : answers)
        EXPECT_EQ(a, answers[0]);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM trend_releases"), 1);
}

TEST_P(Trends, RejectsAMeaninglessBudget) {
    TrendRequest r;
    r.from_day = day0;
    r.to_day = day0 + 6;
    TrendRequest backwards;
    backwards.from_day = day0 + 6;
    backwards.to_day = day0;
    EXPECT_FALSE(release_trends(*db, r, {0.0, 1e-6}, 0));
    EXPECT_FALSE(release_trends(*db, r, {-1.0, 1e-6}, 0));
    EXPECT_FALSE(release_trends(*db, r, {NAN, 1e-6}, 0));
    EXPECT_FALSE(release_trends(*db, r, {1.0, 0.0}, 0));
    EXPECT_FALSE(release_trends(*db, r, {1.0, 1.0}, 0));
    EXPECT_FALSE(release_trends(*db, backwards, {1.0, 1e-6}, 0));
    EXPECT_TRUE(release_trends(*db, r, {1.0, 1e-6}, 0)); // an empty log releases nothing
}

} // namespace
} // namespace mixi::analytics
