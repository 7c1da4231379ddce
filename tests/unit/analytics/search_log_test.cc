#include "../temp_dir.h"
#include "analytics/search_log.h"
#include "common/dates.h"
#include "fold.h"

#include <fstream>
#include <gtest/gtest.h>
#include <iterator>

namespace mixi::analytics {
namespace {

using testing::TempDir;

TEST(Scrub, PersonalDataBecomesPlaceholders) {
    EXPECT_EQ(scrub_query("mail taro.yamada@example.co.jp about refund"),
              "mail <email> about refund");
    EXPECT_EQ(scrub_query("call 090-1234-5678 now"), "call <phone> now");
    EXPECT_EQ(scrub_query("+81 90 1234 5678"), "<phone>");
    EXPECT_EQ(scrub_query("(03) 1234-5678 tokyo office"), "<phone> tokyo office");
    EXPECT_EQ(scrub_query("order 12345678 status"), "order <number> status");
    EXPECT_EQ(scrub_query("card 4111111111111111"), "card <number>");
    EXPECT_EQ(scrub_query("see https://example.org/u/42?token=abc"), "see <url>");
    // Short numbers are what people search for: kept.
    EXPECT_EQ(scrub_query("iphone 15 pro 2024"), "iphone 15 pro 2024");
    EXPECT_EQ(scrub_query("covid-19 vaccine"), "covid-19 vaccine");
    EXPECT_EQ(scrub_query("  spaces   collapse  "), "spaces collapse");
    EXPECT_EQ(scrub_query("東京 090-1234-5678"), "東京 <phone>");
}

TEST(Scrub, TheSettingsArePublishedAsTheyApply) {
    const std::string digits(min_number_digits, '7');
    EXPECT_EQ(scrub_query("order " + digits), "order <number>");
    EXPECT_EQ(scrub_query("order " + digits.substr(1)), "order " + digits.substr(1));
    const std::string phone = "090-123-" + std::string(min_phone_digits - 6, '4');
    EXPECT_EQ(scrub_query(phone), "<phone>");
    EXPECT_EQ(scrub_query(std::string(3 * max_query_chars, 'a')).size(), max_query_chars);
    EXPECT_EQ(scrubbed_kinds(),
              (std::vector<std::string>{
                  "e-mail addresses", "phone numbers",
                  "runs of " + std::to_string(min_number_digits) + " or more digits", "URLs"}));
}

TEST(Scrub, LongQueriesAreCutOnCharacterBoundaries) {
    EXPECT_EQ(scrub_query(std::string(300, 'a')).size(), 100u);
    const std::string ja = scrub_query("写真写真写真写真写真", 3);
    EXPECT_EQ(ja, "写真写");
}

/// Uniform 64-bit keys, as HMAC gives (splitmix64).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

TEST(DistinctCounter, ExactWhileSmallThenWithinAFewPercent) {
    DistinctCounter c;
    for (int round = 0; round < 3; ++round)
        for (std::uint64_t i = 0; i < 500; ++i)
            c.add(mix(i));
    EXPECT_EQ(c.estimate(), 500u);
    for (std::uint64_t i = 500; i < 100500; ++i)
        c.add(mix(i));
    const double e = static_cast<double>(c.estimate());
    EXPECT_NEAR(e, 100500, 100500 * 0.05);
}

TEST(SearcherKeys, StableWithinADayUnlinkableAcrossDays) {
    SearcherKeys keys;
    const auto a = keys.key(100, "81.2.69.142", "Firefox");
    EXPECT_EQ(keys.key(100, "81.2.69.142", "Firefox"), a);
    EXPECT_NE(keys.key(100, "81.2.69.142", "Chrome"), a);
    EXPECT_NE(keys.key(100, "81.2.69.143", "Firefox"), a);
    EXPECT_NE(keys.key(101, "81.2.69.142", "Firefox"), a); // a new salt
    SearcherKeys other;                                    // another process, another salt
    EXPECT_NE(other.key(100, "81.2.69.142", "Firefox"), a);
}

RawSearch event(std::int64_t time, std::string query, std::uint64_t searcher,
                std::uint64_t results = 3, std::string account = "", bool raw = true) {
    RawSearch e;
    e.time = time;
    e.query = std::move(query);
    e.lang = "en";
    e.country = "JP";
    e.results = results;
    e.account = std::move(account);
    e.do_not_track = !raw;
    e.searcher = searcher;
    return e;
}

TEST(SearchLog, RowsAndDailyAggregates) {
    TempDir dir;
    auto log = SearchLog::open(dir.path());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t t = *parse_date("2026-05-01T10:20:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    buffer.record_search(event(t, "lantern", 1));
    buffer.record_search(event(t + 60, "lantern", 1));
    buffer.record_search(event(t + 120, "lantern", 2, 0));
    buffer.record_search(event(t + 180, "lantern", 3, 5, "", false)); // Sec-GPC: aggregate only
    ASSERT_TRUE(log->add(buffer.take()));
    EXPECT_EQ(*log->raw_rows(), 3);
    EXPECT_EQ(*log->oldest_raw_hour(), *parse_date("2026-05-01T10:00:00Z"));
    // A second flush adds to the same cell; the distinct estimate covers both.
    buffer.record_search(event(t + 240, "lantern", 4));
    ASSERT_TRUE(log->add(buffer.take()));
    auto db = Database::open(dir.path() / "analytics.sqlite");
    auto q = db->prepare("SELECT searches, zero_results, searchers FROM daily_terms");
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->int64(0), 5);
    EXPECT_EQ(q->int64(1), 1);
    EXPECT_EQ(q->int64(2), 4);
    EXPECT_FALSE(*q->step());
}

TEST(SearchLog, AccountHistoryExportAndDelete) {
    TempDir dir;
    auto log = SearchLog::open(dir.path());
    ASSERT_TRUE(log);
    const std::int64_t t = *parse_date("2026-05-01T10:00:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    buffer.record_search(event(t, "first", 1, 3, "acct-1"));
    buffer.record_search(event(t + 3600, "second", 1, 3, "acct-1"));
    buffer.record_search(event(t + 7200, "third", 1, 3, "acct-1"));
    buffer.record_search(event(t, "other", 2, 3, "acct-2"));
    buffer.record_search(event(t, "anonymous", 3));
    ASSERT_TRUE(log->add(buffer.take()));
    auto history = log->account_history("acct-1");
    ASSERT_TRUE(history);
    ASSERT_EQ(history->size(), 3u);
    EXPECT_EQ((*history)[0].query, "first");
    EXPECT_EQ((*history)[2].hour, t + 7200);

    EXPECT_EQ(*log->delete_entry("acct-1", (*history)[0].id), 1);
    EXPECT_EQ(*log->delete_entry("acct-2", (*history)[1].id), 0);     // not theirs
    EXPECT_EQ(*log->delete_account("acct-1", t + 3600, t + 7200), 1); // "second" only
    EXPECT_EQ(log->account_history("acct-1")->size(), 1u);
    EXPECT_EQ(*log->delete_account("acct-1"), 1);
    EXPECT_TRUE(log->account_history("acct-1")->empty());
    EXPECT_EQ(log->account_history("acct-2")->size(), 1u);
    EXPECT_EQ(*log->raw_rows(), 2);
}

TEST(SearchLog, PurgeWithAFakeClockLeavesNothingOlderThanTheRetention) {
    TempDir dir;
    auto log = SearchLog::open(dir.path());
    ASSERT_TRUE(log);
    const std::int64_t now = *parse_date("2026-06-01T00:00:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    for (int day = 0; day < 60; ++day)
        for (int i = 0; i < 50; ++i)
            buffer.record_search(event(now - day * 86400 - i * 60,
                                       std::string(1, static_cast<char>('a' + i % 7)),
                                       static_cast<std::uint64_t>(i)));
    ASSERT_TRUE(log->add(buffer.take()));
    EXPECT_EQ(*log->raw_rows(), 3000);
    RetentionOptions options;
    options.retention_days = 30;
    options.aggregate_retention_days = 45;
    options.batch_rows = 100; // many small batches
    auto report = log->purge(now, options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_GT(report->rows, 1400);
    EXPECT_GE(*log->oldest_raw_hour(), now - 30 * 86400);
    // Rows within the period stay.
    EXPECT_EQ(*log->raw_rows(), 3000 - report->rows);
    EXPECT_GE(*log->raw_rows(), 30 * 50);
    auto db = Database::open(dir.path() / "analytics.sqlite");
    auto q = db->prepare("SELECT min(day) FROM daily_terms");
    ASSERT_TRUE(*q->step());
    EXPECT_GE(q->int64(0), now / 86400 - 45);
    // Nothing left to purge: a second run deletes nothing.
    EXPECT_EQ(log->purge(now, options)->rows, 0);
}

/// Everything SQLite wrote in a data directory (the database, its WAL and any journal).
std::string stored_bytes(const std::filesystem::path& dir) {
    std::string out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        out.append(std::istreambuf_iterator<char>(in), {});
    }
    return out;
}

TEST(SearchLog, RecordSearchStoresOnlyTheScrubbedQueryAndNoRowUnderDoNotTrack) {
    TempDir dir;
    auto log = SearchLog::open(dir.path());
    ASSERT_TRUE(log) << log.error().message;
    SearchLogBuffer buffer{testing::ascii_fold};
    RawSearch search;
    search.time = *parse_date("2026-05-01T10:20:00Z");
    search.query = "Refund Taro.Yamada@Example.co.jp 090-1234-5678";
    search.lang = "ja";
    search.country = "JP";
    search.account = "acct-signed-in";
    search.results = 2;
    search.searcher = 1;
    buffer.record_search(search);
    search.account = "acct-dnt"; // the same search, by someone who asked not to be tracked
    search.do_not_track = true;
    search.searcher = 2;
    buffer.record_search(search);
    ASSERT_TRUE(log->add(buffer.take()));

    auto db = Database::open(dir.path() / "analytics.sqlite");
    ASSERT_TRUE(db);
    auto rows = db->prepare("SELECT query, account FROM searches");
    ASSERT_TRUE(*rows->step());
    EXPECT_EQ(rows->text(0), "refund <email> <phone>");
    EXPECT_EQ(rows->text(1), "acct-signed-in");
    EXPECT_FALSE(*rows->step()) << "a Do Not Track search wrote a row";
    auto cells = db->prepare("SELECT query, searches FROM daily_terms");
    ASSERT_TRUE(*cells->step());
    EXPECT_EQ(cells->text(0), "refund <email> <phone>");
    EXPECT_EQ(cells->int64(1), 2); // both count in the aggregates
    EXPECT_FALSE(*cells->step());
    EXPECT_TRUE(log->account_history("acct-dnt")->empty());

    // Nothing of the query as typed, and no link to the Do Not Track account, reached the files.
    const std::string stored = stored_bytes(dir.path());
    for (const char* personal : {"yamada", "example.co", "090-1234", "1234-5678", "acct-dnt"})
        EXPECT_EQ(stored.find(personal), std::string::npos) << personal;
    EXPECT_NE(stored.find("acct-signed-in"), std::string::npos); // the check can see text
}

} // namespace
} // namespace mixi::analytics
