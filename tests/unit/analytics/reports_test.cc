#include "../temp_dir.h"
#include "../test_store.h"
#include "analytics/reports.h"
#include "analytics/search_log.h"
#include "analytics/views.h"
#include "common/dates.h"
#include "fold.h"

#include <gtest/gtest.h>

namespace mixi::analytics {
namespace {

using testing::TempDir;

const std::int64_t day0 = *parse_date("2026-03-01") / 86400;

class Reports : public testing::StoreTest {
  protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (IsSkipped())
            return;
        auto opened = SearchLog::open(where());
        ASSERT_TRUE(opened);
        log.emplace(std::move(*opened));
    }
    /// `searches` searches of `query` on day0 + `day`, by `searchers` different people.
    void searched(const std::string& query, int day, int searches, int searchers,
                  std::uint64_t results = 5, const std::string& country = "JP") {
        for (int i = 0; i < searches; ++i) {
            RawSearch e;
            e.time = (day0 + day) * 86400 + 3600;
            e.query = query;
            e.lang = "en";
            e.country = country;
            e.results = results;
            e.searcher = 1000 + static_cast<std::uint64_t>(i % searchers);
            buffer.record_search(e);
        }
        ASSERT_TRUE(log->add(buffer.take()));
    }
    Report report(ReportKind kind, int from, int to, const std::string& country = "") {
        auto db = Database::connect(where());
        ReportRequest r;
        r.kind = kind;
        r.from_day = day0 + from;
        r.to_day = day0 + to;
        r.country = country;
        auto out = build_report(*db, r);
        EXPECT_TRUE(out) << out.error().message;
        return *out;
    }
    static std::vector<std::string> terms(const Report& r) {
        std::vector<std::string> out;
        for (const auto& t : r.terms)
            out.push_back(t.query);
        return out;
    }
    std::optional<SearchLog> log;
    SearchLogBuffer buffer{testing::ascii_fold};
};
MIXI_ON_BOTH_STORES(Reports);

TEST_P(Reports, OnlyTermsAboveBothThresholdsAreShownEverythingElseIsOther) {
    searched("shown", 0, 12, 6);
    searched("few people", 0, 12, 4); // enough searches, too few searchers
    searched("few searches", 0, 9, 9);
    // Three people on each of three days: 9 searchers added up, but never 5 on one day.
    for (int d = 0; d < 3; ++d)
        searched("spread thin", d, 4, 3);
    const Report r = report(ReportKind::popular, 0, 6);
    EXPECT_EQ(terms(r), std::vector<std::string>{"shown"});
    EXPECT_EQ(r.terms[0].searches, 12);
    EXPECT_EQ(r.terms[0].searchers, 6);
    EXPECT_EQ(r.total_searches, 12 + 12 + 9 + 12);
    EXPECT_EQ(r.other_searches, 12 + 9 + 12);
    // No output path shows a hidden term.
    for (const std::string& out : {report_csv(r), report_json(r), report_table(r)})
        for (const char* hidden : {"few people", "few searches", "spread thin"})
            EXPECT_EQ(out.find(hidden), std::string::npos) << hidden << " in " << out;
    EXPECT_NE(report_csv(r).find("(other),33,"), std::string::npos) << report_csv(r);
}

TEST_P(Reports, ZeroResultTermsAreRankedByTheirFailedSearches) {
    searched("found", 0, 30, 10, 5);
    searched("missing thing", 0, 12, 6, 0);
    searched("also missing", 1, 20, 8, 0);
    const Report r = report(ReportKind::zero_results, 0, 6);
    EXPECT_EQ(terms(r), (std::vector<std::string>{"also missing", "missing thing"}));
    EXPECT_EQ(r.terms[0].zero_results, 20);
    EXPECT_EQ(r.total_searches, 32); // zero-result searches
    EXPECT_EQ(r.other_searches, 0);
}

TEST_P(Reports, TrendingComparesWithThePreviousPeriodOfTheSameLength) {
    // Days 0-6 are the previous week, 7-13 this week.
    searched("steady", 0, 40, 10);
    searched("steady", 7, 40, 10);
    searched("doubling", 1, 20, 10);
    searched("doubling", 8, 40, 10);
    searched("new", 9, 15, 6);
    searched("fading", 2, 50, 10);
    searched("fading", 10, 20, 10);
    searched("new but rare", 9, 15, 3); // below k_distinct: never shown
    const Report r = report(ReportKind::trending, 7, 13);
    // Growth (now + 1) / (before + 1): new 16/1, doubling 41/21; steady and fading did not grow.
    EXPECT_EQ(terms(r), (std::vector<std::string>{"new", "doubling"}));
    EXPECT_EQ(r.terms[0].previous, 0);
    EXPECT_EQ(r.terms[1].previous, 20);
    EXPECT_EQ(r.terms[1].searches, 40);
}

TEST_P(Reports, VolumeHasEveryDayOfThePeriodAndFiltersByCountry) {
    searched("a", 0, 7, 7, 5, "JP");
    searched("b", 0, 3, 3, 0, "GB");
    searched("a", 2, 4, 4, 5, "JP");
    const Report all = report(ReportKind::volume, 0, 3);
    ASSERT_EQ(all.days.size(), 4u);
    EXPECT_EQ(all.days[0].searches, 10);
    EXPECT_EQ(all.days[0].zero_results, 3);
    EXPECT_EQ(all.days[1].searches, 0);
    EXPECT_EQ(all.days[2].searches, 4);
    EXPECT_EQ(all.total_searches, 14);
    EXPECT_EQ(report(ReportKind::volume, 0, 3, "GB").total_searches, 3);
    EXPECT_TRUE(terms(report(ReportKind::popular, 0, 3, "GB")).empty());
}

TEST_P(Reports, PublicCompletionsNeedTheThresholdsOnThreeDifferentDays) {
    static_assert(popular_min_days == 3);
    // "two days" is over both thresholds on two days, "three days" on three; "one big day" has
    // many searches but one day: one day of fake searchers is not enough.
    for (int day : {0, 1})
        searched("two days", day, 10, 5);
    for (int day : {0, 2, 4})
        searched("three days", day, 10, 5);
    searched("one big day", 3, 100, 50);
    searched("two days", 2, 4, 4); // a third day, but below the thresholds
    auto db = Database::connect(where());
    ReportRequest r;
    r.from_day = day0;
    r.to_day = day0 + 5;
    r.min_days = popular_min_days;
    auto completions = build_report(*db, r);
    ASSERT_TRUE(completions) << completions.error().message;
    EXPECT_EQ(terms(*completions), std::vector<std::string>{"three days"});
    EXPECT_EQ(completions->other_searches, 20 + 4 + 100);
    r.min_days = 1; // the analysts' reports
    EXPECT_EQ(terms(*build_report(*db, r)),
              (std::vector<std::string>{"one big day", "three days", "two days"}));
}

TEST(ReportCsv, HostileTermsAreQuotedAndFormulasDefused) {
    EXPECT_EQ(csv_field("plain words"), "plain words");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
    EXPECT_EQ(csv_field("+1"), "'+1");
    EXPECT_EQ(csv_field("-2+3"), "'-2+3");
    EXPECT_EQ(csv_field("@SUM(A1)"), "'@SUM(A1)");
    EXPECT_EQ(csv_field("line\nbreak"), "\"line\nbreak\"");
    EXPECT_EQ(csv_field("東京 写真"), "東京 写真");
}

TEST(ReportKinds, NamesRoundTrip) {
    for (auto k :
         {ReportKind::popular, ReportKind::zero_results, ReportKind::trending, ReportKind::volume})
        EXPECT_EQ(report_kind(report_name(k)), k);
    EXPECT_FALSE(report_kind("Popular"));
}

} // namespace
} // namespace mixi::analytics

namespace mixi::analytics {
namespace {

TEST(Months, DaysAndMonthsRoundTrip) {
    EXPECT_EQ(month_of(0), 0);
    EXPECT_EQ(first_day_of_month(0), 0);
    const std::int64_t feb29 = *parse_date("2024-02-29") / 86400;
    EXPECT_EQ(month_of(feb29), (2024 - 1970) * 12 + 1);
    EXPECT_EQ(first_day_of_month(month_of(feb29)), *parse_date("2024-02-01") / 86400);
    EXPECT_EQ(first_day_of_month(month_of(feb29) + 1), feb29 + 1);
    EXPECT_EQ(month_of(-1), -1); // 1969-12
}

TEST_P(Reports, LongPeriodsReadWholeMonthsAndAgreeWithDays) {
    // Searches on both sides of month boundaries; a period from the middle of one month to the
    // middle of another is read as days + whole months + days and must add up the same.
    const int jan15 = static_cast<int>(*parse_date("2026-01-15") / 86400 - day0);
    for (int d = jan15; d < jan15 + 100; d += 7)
        searched("weekly", d, 3, 3);
    searched("one big day", jan15 + 40, 12, 6);
    const Report r = report(ReportKind::popular, jan15 + 3, jan15 + 90);
    // "weekly": 13 days in the period x 3 searches, but never 5 searchers on a day.
    EXPECT_EQ(terms(r), std::vector<std::string>{"one big day"});
    EXPECT_EQ(r.total_searches, 12 * 3 + 12);
    EXPECT_EQ(r.other_searches, 36);
    // A purge 60 days after day 100 keeps days 40 on: February's monthly row goes (some of its
    // days expired), and its remaining days are read one by one.
    ASSERT_TRUE(log->purge((day0 + jan15 + 100) * 86400, {30, 60, 1000}));
    const Report after = report(ReportKind::volume, jan15, jan15 + 100);
    EXPECT_EQ(after.total_searches, 3 * 9 + 12); // weekly on days 42..98, and day 40
    const Report kept = report(ReportKind::popular, jan15, jan15 + 100);
    EXPECT_EQ(terms(kept), std::vector<std::string>{"one big day"});
    EXPECT_EQ(kept.total_searches, 39);
    ASSERT_TRUE(log->purge((day0 + jan15 + 101) * 86400, {30, 60, 1000}));
    EXPECT_TRUE(terms(report(ReportKind::popular, jan15, jan15 + 100)).empty());
}

TEST(ReportPeriod, DefaultsToTheLastThirtyDaysEndingOnTheLastDay) {
    const std::int64_t now = *parse_date("2026-03-31T18:00:00Z");
    static_assert(default_report_days == 30);
    const ReportPeriod today = report_period(now);
    EXPECT_EQ(today.to_day, day_of(now));
    EXPECT_EQ(today.from_day, *parse_date("2026-03-02") / 86400);
    const ReportPeriod ending = report_period(now, std::nullopt, parse_date("2026-02-10"));
    EXPECT_EQ(ending.to_day, *parse_date("2026-02-10") / 86400);
    EXPECT_EQ(ending.from_day, *parse_date("2026-01-12") / 86400);
    const ReportPeriod given = report_period(now, parse_date("2026-03-30"), std::nullopt);
    EXPECT_EQ(given.from_day, *parse_date("2026-03-30") / 86400);
    EXPECT_EQ(given.to_day, day_of(now));
}

} // namespace
} // namespace mixi::analytics
