#include "../temp_dir.h"
#include "../test_store.h"
#include "analytics/views.h"
#include "common/dates.h"

#include <fstream>
#include <gtest/gtest.h>
#include <thread>

namespace mixi::analytics {
namespace {

using testing::TempDir;

class ViewStores : public testing::StoreTest {};
MIXI_ON_BOTH_STORES(ViewStores);

std::int64_t day(const char* date) {
    return day_of(*parse_date(date));
}

TEST(Views, DayOfCountsWholeDaysSinceTheEpoch) {
    EXPECT_EQ(day_of(0), 0);
    EXPECT_EQ(day_of(86399), 0);
    EXPECT_EQ(day_of(86400), 1);
    EXPECT_EQ(day_of(-1), -1);
    EXPECT_EQ(day("2024-01-01"), 19723);
}

TEST(Views, RegionCodesAreTwoCapitalLetters) {
    EXPECT_TRUE(is_region_code("JP"));
    EXPECT_TRUE(is_region_code("ZZ"));
    EXPECT_FALSE(is_region_code("jp"));
    EXPECT_FALSE(is_region_code("JPN"));
    EXPECT_FALSE(is_region_code("J"));
    EXPECT_FALSE(is_region_code("1A"));
}

TEST(Views, CounterAggregatesPerDocumentRegionAndDayFromManyThreads) {
    ViewCounter counter;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                counter.add("a", i % 2 ? "JP" : "GB", 100);
        });
    for (auto& t : threads)
        t.join();
    counter.add("b", "JP", 101, 5);
    auto counts = counter.take();
    ASSERT_EQ(counts.size(), 3u);
    EXPECT_EQ(counts[0].id, "a");
    EXPECT_EQ(counts[0].region, "GB");
    EXPECT_EQ(counts[0].count, 2000);
    EXPECT_EQ(counts[1].region, "JP");
    EXPECT_EQ(counts[1].count, 2000);
    EXPECT_EQ(counts[2].count, 5);
    EXPECT_TRUE(counter.take().empty());
}

TEST_P(ViewStores, StoreAddsUpCountsAcrossFlushesAndReportsStats) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE(store->add({{"a", "JP", 100, 3}, {"a", "GB", 100, 1}}));
    ASSERT_TRUE(store->add({{"a", "JP", 100, 2}, {"b", "JP", 101, 7}}));
    auto s = store->stats();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->rows, 3);
    EXPECT_EQ(s->documents, 2);
    EXPECT_EQ(s->views, 13);
    EXPECT_EQ(s->first_day, 100);
    EXPECT_EQ(s->last_day, 101);
    ASSERT_EQ(s->regions.size(), 2u);
    EXPECT_EQ(s->regions[0], (std::pair<std::string, std::int64_t>{"JP", 12}));
    EXPECT_EQ(std::filesystem::exists(this->store().dir() / "analytics.sqlite"), !postgres());
}

TEST_P(ViewStores, PopularityDecaysWithTheHalfLife) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->add({{"a", "JP", 100, 80}, {"a", "GB", 93, 80}, {"b", "JP", 107, 10}}));
    auto p = store->popularity(107, {7});
    ASSERT_TRUE(p) << p.error().message;
    // 80 views one half-life ago weigh 40, two half-lives ago 20; today's count fully.
    EXPECT_NEAR((*p)->region_views("a", "JP"), 40, 1e-9);
    EXPECT_NEAR((*p)->region_views("a", "GB"), 20, 1e-9);
    EXPECT_NEAR((*p)->views("a"), 60, 1e-9);
    EXPECT_NEAR((*p)->views("b"), 10, 1e-9);
    EXPECT_EQ((*p)->views("nobody"), 0);
    EXPECT_EQ((*p)->region_views("b", "GB"), 0);
}

TEST_P(ViewStores, ChangesByAnotherConnectionAreNoticedButNotOwnWrites) {
    auto server = ViewStore::open(where());
    auto cli = ViewStore::open(where());
    ASSERT_TRUE(server && cli);
    EXPECT_TRUE(*server->changed_elsewhere()); // first call
    EXPECT_FALSE(*server->changed_elsewhere());
    ASSERT_TRUE(server->add({{"a", "JP", 1, 1}}));
    EXPECT_FALSE(*server->changed_elsewhere());
    ASSERT_TRUE(cli->add({{"a", "JP", 1, 1}}));
    EXPECT_TRUE(*server->changed_elsewhere());
    EXPECT_FALSE(*server->changed_elsewhere());
}

TEST_P(ViewStores, RemoveDocumentDeletesItsCounts) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->add({{"a", "JP", 1, 1}, {"a", "GB", 2, 1}, {"b", "JP", 1, 1}}));
    EXPECT_EQ(*store->remove_document("a"), 2);
    EXPECT_EQ(store->stats()->documents, 1);
    EXPECT_EQ((*store->popularity(2, {7}))->views("a"), 0);
}

TEST_P(ViewStores, TheSameCountTwiceInOneBatchAddsUp) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    // An import may name one (document, region, day) on two lines.
    ASSERT_TRUE(store->add({{"a", "JP", 1, 2}, {"a", "JP", 1, 3}, {"b\"\\,{}", "GB", 1, 1}}));
    EXPECT_EQ(store->stats()->views, 6);
    EXPECT_EQ((*store->popularity(1, {7}))->views("a"), 5);
    EXPECT_EQ((*store->popularity(1, {7}))->views("b\"\\,{}"), 1);
}

class Import : public testing::StoreTest {
  protected:
    std::filesystem::path write(const std::string& text) {
        const auto path = store().dir() / "views.csv";
        std::ofstream(path) << text;
        return path;
    }
    ImportOptions options() {
        ImportOptions o;
        o.resolve_url = [](std::string_view url) -> std::optional<std::string> {
            if (url == "https://example.social/a,1")
                return "a";
            return std::nullopt;
        };
        o.resolve_id = [](std::string_view id) -> std::optional<std::string> {
            if (id == "a" || id == "b")
                return std::string(id);
            return std::nullopt;
        };
        o.on_problem = [this](const CsvProblem& p) { problems.push_back(p); };
        return o;
    }
    std::vector<CsvProblem> problems;
};
MIXI_ON_BOTH_STORES(Import);

TEST_P(Import, IdsUrlsQuotedFieldsAndBadLinesWithLineNumbers) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    const auto file = write("a,JP,2024-05-01,10\n"
                            "\"https://example.social/a,1\",GB,2024-05-02,5\n"
                            "b,jp,2024-05-01,1\n"         // 3: lower-case region
                            "b,JP,2024-13-01,1\n"         // 4: no such month
                            "b,JP,2024-05-01,-3\n"        // 5: negative count
                            "nobody,JP,2024-05-01,1\n"    // 6: not indexed
                            "b,JP,2024-05-01\n"           // 7: three fields
                            "\n"                          // 8: blank, ignored
                            "\"b,JP,2024-05-01,1\n"       // 9: open quote
                            "b , JP , 2024-05-03 , 4\n"); // 10: spaces are trimmed
    auto report = import_views_csv(file, *store, options());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->imported, 3u);
    EXPECT_EQ(report->views, 19);
    EXPECT_EQ(report->skipped, 6u);
    std::vector<std::size_t> lines;
    for (const auto& p : problems)
        lines.push_back(p.line);
    EXPECT_EQ(lines, (std::vector<std::size_t>{3, 4, 5, 6, 7, 9}));
    EXPECT_NE(problems[3].reason.find("nobody"), std::string::npos) << problems[3].reason;
    const auto s = store->stats();
    EXPECT_EQ(s->views, 19);
    EXPECT_EQ(s->documents, 2);
}

TEST_P(Import, HeaderNamesTheFirstColumn) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    // With a url header even a value without http:// is looked up as a URL.
    auto report =
        import_views_csv(write("url,region,day,count\na,JP,2024-05-01,1\n"), *store, options());
    ASSERT_TRUE(report);
    EXPECT_EQ(report->imported, 0u);
    EXPECT_EQ(report->skipped, 1u);
    report = import_views_csv(write("id,region,day,count\na,JP,2024-05-01,2\n"), *store, options());
    ASSERT_TRUE(report);
    EXPECT_EQ(report->imported, 1u);
}

TEST_P(Import, StrictStopsAtTheFirstBadLineAndStoresNothing) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    auto o = options();
    o.stop_on_error = true;
    auto report =
        import_views_csv(write("a,JP,2024-05-01,10\nb,JP,May,1\na,JP,2024-05-02,1\n"), *store, o);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("views.csv:2"), std::string::npos)
        << report.error().message;
    EXPECT_EQ(store->stats()->views, 0);
}

TEST_P(Import, MissingFileIsAnError) {
    auto store = ViewStore::open(where());
    ASSERT_TRUE(store);
    auto report = import_views_csv(this->store().dir() / "absent.csv", *store, options());
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::not_found);
}

} // namespace
} // namespace mixi::analytics
