#include "../temp_dir.h"
#include "../test_store.h"
#include "analytics/reports.h"
#include "analytics/search_log.h"
#include "analytics/trends.h"
#include "common/dates.h"
#include "fold.h"

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <optional>
#include <random>
#include <string>

namespace mixi::analytics {
namespace {

using testing::TempDir;

class SearchLogStores : public testing::StoreTest {
  protected:
    /// What the store holds: the SQLite files' bytes, or every row of every PostgreSQL table
    /// as text (its files belong to the database server).
    std::string stored_everywhere();
};
MIXI_ON_BOTH_STORES(SearchLogStores);

/// A column of scrub_cases.tsv with its escapes (\t \n \r \\ \xHH \uXXXX) replaced.
std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            out += text[i];
            continue;
        }
        const char e = text[++i];
        if (e == 't') {
            out += '\t';
        } else if (e == 'n') {
            out += '\n';
        } else if (e == 'r') {
            out += '\r';
        } else if (e == 'x' || e == 'u') {
            const std::size_t n = e == 'x' ? 2 : 4;
            const auto cp =
                static_cast<char32_t>(std::stoul(std::string(text.substr(i + 1, n)), nullptr, 16));
            i += n;
            if (e == 'x' || cp < 0x80) {
                out += static_cast<char>(cp);
            } else if (cp < 0x800) {
                out += static_cast<char>(0xC0 | (cp >> 6));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                out += static_cast<char>(0xE0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            }
        } else {
            out += e; // "\\"
        }
    }
    return out;
}

TEST(Scrub, EveryCaseInTheDataFile) {
    std::ifstream in(std::string(MIXI_SOURCE_DIR) + "/tests/unit/analytics/scrub_cases.tsv");
    ASSERT_TRUE(in) << "tests/unit/analytics/scrub_cases.tsv";
    std::string line;
    int number = 0, cases = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line.starts_with('#'))
            continue;
        const auto tab = line.find('\t');
        ASSERT_NE(tab, std::string::npos) << "scrub_cases.tsv:" << number << " has no tab";
        const std::string query = unescape(line.substr(0, tab));
        EXPECT_EQ(scrub_query(query), unescape(line.substr(tab + 1)))
            << "scrub_cases.tsv:" << number << ": " << line.substr(0, tab);
        ++cases;
    }
    EXPECT_GT(cases, 90);
}

/// The code points of valid UTF-8 text; nullopt if it is not valid UTF-8.
std::optional<std::vector<char32_t>> code_points(std::string_view s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = c < 0x80         ? 1
                                : (c >> 5) == 6  ? 2
                                : (c >> 4) == 14 ? 3
                                : (c >> 3) == 30 ? 4
                                                 : 0;
        if (len == 0 || i + len > s.size())
            return std::nullopt;
        char32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80)
                return std::nullopt;
            cp = (cp << 6) | (b & 0x3F);
        }
        constexpr char32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return std::nullopt;
        out.push_back(cp);
        i += len;
    }
    return out;
}

TEST(Scrub, AnyBytesGiveValidTextWithoutControlCharacters) {
    // Random bytes drawn mostly from those that make trouble: controls, '@', '.', '/', digits,
    // and the lead and continuation bytes of the dashes, ー and the invisible characters.
    const std::string alphabet = std::string("\x00\x01\x1b\x7f\t\r\n @./:-~(+0123456789aw", 28) +
                                 "\xc2\x80\x85\x9b\xad\xe2\x80\x8b\x94\xae\xe3\x83\xbc\xef\xbb\xbf"
                                 "\xf0\x9f\xff";
    std::mt19937 random(20240517);
    for (int round = 0; round < 20000; ++round) {
        std::string query(random() % 48, ' ');
        for (char& c : query)
            c = alphabet[random() % alphabet.size()];
        const std::string out = scrub_query(query, 20);
        const auto cps = code_points(out);
        ASSERT_TRUE(cps) << "not UTF-8 for input #" << round;
        EXPECT_LE(cps->size(), 20u);
        for (std::size_t i = 0; i < cps->size(); ++i) {
            const char32_t c = (*cps)[i];
            ASSERT_FALSE(c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xAD || c == 0x200B ||
                         c == 0x202E || c == 0xFEFF)
                << "U+" << std::hex << unsigned(c) << " kept for input #" << std::dec << round;
            ASSERT_FALSE(c == ' ' && (i == 0 || i + 1 == cps->size() || (*cps)[i + 1] == ' '))
                << "spaces not collapsed for input #" << round;
        }
    }
}

TEST(Scrub, TheSettingsArePublishedAsTheyApply) {
    const std::string digits(min_number_digits, '7');
    EXPECT_EQ(scrub_query("order " + digits), "order <number>");
    EXPECT_EQ(scrub_query("order " + digits.substr(1)), "order " + digits.substr(1));
    const std::string phone = "090-123-" + std::string(min_phone_digits - 6, '4');
    EXPECT_EQ(scrub_query(phone), "<phone>");
    EXPECT_EQ(scrub_query(std::string(3 * max_query_chars, 'a')).size(), max_query_chars);
    EXPECT_EQ(scrubbed_kinds(),
              (std::vector<std::string>{"e-mail addresses", "@handles", "phone numbers",
                                        "runs of " + std::to_string(min_number_digits) +
                                            " or more digits",
                                        "URLs", "control and invisible formatting characters"}));
}

TEST(Scrub, LongQueriesAreCutOnCharacterBoundaries) {
    EXPECT_EQ(scrub_query(std::string(300, 'a')).size(), 100u);
    const std::string ja = scrub_query("写真写真写真写真写真", 3);
    EXPECT_EQ(ja, "写真写");
    EXPECT_EQ(scrub_query("abc def", 4), "abc"); // no space left at the end of a cut
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
    const auto a = keys.key(100, "81.2.69.142");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->day, 100);
    EXPECT_EQ(keys.key(100, "81.2.69.142")->key, a->key);
    EXPECT_NE(keys.key(100, "81.2.70.142")->key, a->key);
    EXPECT_NE(keys.key(101, "81.2.69.142")->key, a->key); // a new salt
    SearcherKeys other;                                   // another process, another salt
    EXPECT_NE(other.key(100, "81.2.69.142")->key, a->key);
}

TEST(SearcherKeys, ASearcherIsAnIPv4Slash24OrAnIPv6Slash48) {
    EXPECT_EQ(searcher_network("81.2.69.142"), "81.2.69.0/24");
    EXPECT_EQ(searcher_network("::ffff:81.2.69.142"), "81.2.69.0/24");
    EXPECT_EQ(searcher_network("2001:db8:1:2:3:4:5:6"), "2001:db8:1::/48");
    EXPECT_EQ(searcher_network("2001:db8:1:ffff::1%eth0"), "2001:db8:1::/48");
    EXPECT_EQ(searcher_network("not an address"), "");
    SearcherKeys keys;
    const auto host = keys.key(100, "81.2.69.142")->key;
    // Every address of the /24 is the same searcher, whatever its User-Agent (not an input).
    for (int i = 0; i < 256; ++i)
        EXPECT_EQ(keys.key(100, "81.2.69." + std::to_string(i))->key, host) << i;
    EXPECT_NE(keys.key(100, "81.2.68.142")->key, host); // another /24, another searcher
    const auto v6 = keys.key(100, "2001:db8:1::1")->key;
    for (const char* address : {"2001:db8:1:0:ffff::2", "2001:db8:1:ab00::", "2001:db8:1:ffff::1"})
        EXPECT_EQ(keys.key(100, address)->key, v6) << address;
    EXPECT_NE(keys.key(100, "2001:db8:2::1")->key, v6);
}

TEST(SearcherKeys, TheSaltsDayNeverGoesBackwards) {
    SearcherKeys keys;
    const auto day100 = keys.key(100, "81.2.69.142");
    const auto day101 = keys.key(101, "81.2.69.142");
    ASSERT_TRUE(day100 && day101);
    // The clock steps back a day: the key is today's, never day 100's again nor a new one.
    const auto back = keys.key(100, "81.2.69.142");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->day, 101);
    EXPECT_EQ(back->key, day101->key);
    EXPECT_NE(back->key, day100->key);
    EXPECT_EQ(keys.key(102, "81.2.69.142")->day, 102);
    EXPECT_EQ(keys.key(99, "81.2.69.142")->day, 102);
}

TEST(SearcherKeys, NoRandomSaltNoKey) {
    bool random_works = false;
    SearcherKeys keys([&](unsigned char* out, std::size_t n) {
        std::fill(out, out + n, 0);
        return random_works;
    });
    EXPECT_FALSE(keys.key(100, "81.2.69.142")); // fails closed: no key with a zero salt
    EXPECT_FALSE(keys.key(100, "81.2.69.142"));
    random_works = true; // the next try draws a salt again
    EXPECT_TRUE(keys.key(100, "81.2.69.142"));
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

TEST_P(SearchLogStores, RowsAndDailyAggregates) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t t = *parse_date("2026-05-01T10:20:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    buffer.record_search(event(t, "lantern", 1));
    buffer.record_search(event(t + 60, "lantern", 1));
    buffer.record_search(event(t + 120, "lantern", 2, 0));
    buffer.record_search(event(t + 180, "lantern", 3, 5, "", false)); // Sec-GPC: volume only
    ASSERT_TRUE(log->add(buffer.take()));
    EXPECT_EQ(*log->raw_rows(), 3);
    EXPECT_EQ(*log->oldest_raw_hour(), *parse_date("2026-05-01T10:00:00Z"));
    // A second flush adds to the same cell; the distinct estimate covers both.
    buffer.record_search(event(t + 240, "lantern", 4));
    ASSERT_TRUE(log->add(buffer.take()));
    auto db = Database::connect(where());
    auto q = db->prepare("SELECT searches, zero_results, searchers FROM daily_terms");
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->int64(0), 4);
    EXPECT_EQ(q->int64(1), 1);
    EXPECT_EQ(q->int64(2), 3);
    EXPECT_FALSE(*q->step());
    // The Sec-GPC search counts in the day's volume, which has no text.
    EXPECT_EQ(*db->scalar("SELECT sum(searches) FROM daily_volume"), 5);
}

TEST_P(SearchLogStores, AccountHistoryExportAndDelete) {
    auto log = SearchLog::open(where());
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

TEST_P(SearchLogStores, PurgeWithAFakeClockLeavesNothingOlderThanTheRetention) {
    auto log = SearchLog::open(where());
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
    auto db = Database::connect(where());
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

/// The bytes of one file, as someone who copies it off the disk reads them ("" when missing).
std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string SearchLogStores::stored_everywhere() {
    if (!postgres())
        return stored_bytes(store().dir());
    auto db = Database::connect(where());
    auto tables = db->prepare(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    std::vector<std::string> names;
    while (*tables->step())
        names.push_back(tables->text(0));
    std::string out;
    for (const auto& name : names) {
        auto rows = db->prepare("SELECT t::text FROM " + name + " t");
        while (*rows->step())
            out += rows->text(0) + "\n";
    }
    return out;
}

TEST(SearchLog, DeletedAccountRowsLeaveNoBytesInTheDatabaseOrItsWal) {
    TempDir dir;
    auto log = SearchLog::open(dir.path());
    ASSERT_TRUE(log);
    const std::int64_t t = *parse_date("2026-05-01T10:00:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    buffer.record_search(event(t, "zanzibar marmalade", 1, 3, "acct-1"));
    buffer.record_search(event(t + 3600, "quokka harmonium", 1, 3, "acct-1"));
    buffer.record_search(event(t + 7200, "bergamot tuba", 1, 3, "acct-1"));
    buffer.record_search(event(t, "kept lighthouse", 2, 3, "acct-2"));
    auto batch = buffer.take();
    // Aggregates keep every query by design (they hold no account): here only the rows are
    // stored, so that any copy of a query on disk is one of the rows'.
    batch.cells.clear();
    ASSERT_TRUE(log->add(batch));
    const auto db_file = dir.path() / "analytics.sqlite";
    const auto wal_file = dir.path() / "analytics.sqlite-wal";
    auto on_disk = [&](std::string_view text) {
        return file_bytes(db_file).find(text) != std::string::npos ||
               file_bytes(wal_file).find(text) != std::string::npos;
    };
    ASSERT_TRUE(on_disk("quokka harmonium")); // what an attacker would read without the rule

    // A ranged delete: the middle hour only.
    ASSERT_EQ(*log->delete_account("acct-1", t + 3600, t + 7200), 1);
    EXPECT_FALSE(on_disk("quokka harmonium"));
    EXPECT_TRUE(on_disk("zanzibar marmalade"));
    EXPECT_TRUE(on_disk("bergamot tuba"));
    // Then all of the account, and one entry of another.
    ASSERT_EQ(*log->delete_account("acct-1"), 2);
    EXPECT_FALSE(on_disk("zanzibar marmalade"));
    EXPECT_FALSE(on_disk("bergamot tuba"));
    EXPECT_TRUE(on_disk("kept lighthouse"));
    auto history = log->account_history("acct-2");
    ASSERT_EQ(history->size(), 1u);
    ASSERT_EQ(*log->delete_entry("acct-2", history->front().id), 1);
    EXPECT_FALSE(on_disk("kept lighthouse"));
}

TEST_P(SearchLogStores, RecordSearchStoresOnlyTheScrubbedQueryAndNoRowUnderDoNotTrack) {
    auto log = SearchLog::open(where());
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

    auto db = Database::connect(where());
    ASSERT_TRUE(db);
    auto rows = db->prepare("SELECT query, account FROM searches");
    ASSERT_TRUE(*rows->step());
    EXPECT_EQ(rows->text(0), "refund <email> <phone>");
    EXPECT_EQ(rows->text(1), "acct-signed-in");
    EXPECT_FALSE(*rows->step()) << "a Do Not Track search wrote a row";
    auto cells = db->prepare("SELECT query, searches FROM daily_terms");
    ASSERT_TRUE(*cells->step());
    EXPECT_EQ(cells->text(0), "refund <email> <phone>");
    EXPECT_EQ(cells->int64(1), 1); // the Do Not Track search is not in any cell with text...
    EXPECT_FALSE(*cells->step());
    EXPECT_EQ(*db->scalar("SELECT sum(searches) FROM daily_volume"), 2); // ...only in the volume
    EXPECT_TRUE(log->account_history("acct-dnt")->empty());

    // Nothing of the query as typed, and no link to the Do Not Track account, reached the files.
    const std::string stored = stored_everywhere();
    for (const char* personal : {"yamada", "example.co", "090-1234", "1234-5678", "acct-dnt"})
        EXPECT_EQ(stored.find(personal), std::string::npos) << personal;
    EXPECT_NE(stored.find("acct-signed-in"), std::string::npos); // the check can see text
}

TEST_P(SearchLogStores, RecordSearchStoresNoControlCharacters) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    SearchLogBuffer buffer{testing::ascii_fold};
    RawSearch search;
    search.time = *parse_date("2026-05-01T10:20:00Z");
    search.query = "Red\x1b[31mText\r\nNext\tLine\x7f\xc2\x9b"
                   "2J\xe2\x80\x8b\xe2\x80\xae"
                   "End";
    search.lang = "en";
    search.results = 1;
    buffer.record_search(search);
    ASSERT_TRUE(log->add(buffer.take()));

    auto db = Database::connect(where());
    ASSERT_TRUE(db);
    for (const char* sql : {"SELECT query FROM searches", "SELECT query FROM daily_terms"}) {
        auto rows = db->prepare(sql);
        ASSERT_TRUE(*rows->step()) << sql;
        const std::string query = rows->text(0);
        EXPECT_EQ(query, "red [31mtext next line 2jend") << sql;
        for (unsigned char c : query)
            EXPECT_TRUE(c >= 0x20 && c != 0x7F) << sql << ": byte " << int(c);
        for (const char* invisible : {"\xc2\x9b", "\xe2\x80\x8b", "\xe2\x80\xae"})
            EXPECT_EQ(query.find(invisible), std::string::npos) << sql;
    }
}

TEST_P(SearchLogStores, DoNotTrackSearchesCountOnlyInTheDailyVolume) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t t = *parse_date("2026-05-01T10:20:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    for (std::uint64_t i = 0; i < 20; ++i) // enough people for any threshold
        buffer.record_search(event(t, "Gpcsecretword Lantern", i, i % 2, "acct-gpc", false));
    ASSERT_TRUE(log->add(buffer.take()));
    ASSERT_TRUE(log->fold(t + 2 * 86400, {}));
    auto db = Database::connect(where());
    ASSERT_TRUE(db);
    for (const char* table : {"searches", "daily_terms", "monthly_terms"})
        EXPECT_EQ(*db->scalar(std::string("SELECT count(*) FROM ") + table), 0) << table;
    auto volume =
        db->prepare("SELECT day, lang, country, searches, zero_results FROM daily_volume");
    ASSERT_TRUE(*volume->step());
    EXPECT_EQ(volume->int64(0), t / 86400);
    EXPECT_EQ(volume->text(1), "en");
    EXPECT_EQ(volume->text(2), "JP");
    EXPECT_EQ(volume->int64(3), 20);
    EXPECT_EQ(volume->int64(4), 10);
    EXPECT_FALSE(*volume->step());
    const std::string stored = stored_everywhere();
    for (const char* word : {"gpcsecretword", "lantern", "acct-gpc"})
        EXPECT_EQ(stored.find(word), std::string::npos) << word;
}

/// `searches` searches of `query` on `day` (days since 1970-01-01) by `searchers` people.
void searched(SearchLogBuffer& buffer, std::int64_t day, const std::string& query, int searches,
              int searchers, std::uint64_t first_searcher = 1000) {
    for (int i = 0; i < searches; ++i)
        buffer.record_search(event(day * 86400 + 3600 + i, query,
                                   first_searcher + static_cast<std::uint64_t>(i % searchers)));
}

std::vector<std::pair<std::int64_t, std::string>> cells(const StoreLocation& where) {
    auto db = Database::connect(where);
    auto q = db->prepare("SELECT day, query FROM daily_terms ORDER BY day, query");
    std::vector<std::pair<std::int64_t, std::string>> out;
    while (*q->step())
        out.emplace_back(q->int64(0), q->text(1));
    return out;
}

TEST_P(SearchLogStores, ClosedDaysKeepTextOnlyAboveTheThresholds) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t day = *parse_date("2026-05-01") / 86400;
    SearchLogBuffer buffer{testing::ascii_fold};
    searched(buffer, day, "popular", 10, 5);       // both thresholds (10 searches, 5 searchers)
    searched(buffer, day, "many searches", 40, 4); // 4 searchers: below
    searched(buffer, day, "many people", 9, 9);    // 9 searches: below
    searched(buffer, day, "rare", 1, 1);
    searched(buffer, day + 1, "rare", 1, 1); // the open day
    ASSERT_TRUE(log->add(buffer.take()));
    RetentionOptions options; // k 10, k_distinct 5, no trends
    // While the day is open nothing is folded.
    auto open = log->fold((day + 1) * 86400 - 1, options);
    ASSERT_TRUE(open) << open.error().message;
    EXPECT_EQ(open->folded, 0);
    EXPECT_EQ(cells(where()).size(), 5u);
    // The day closes: only "popular" keeps its text; the open day is untouched.
    auto closed = log->fold((day + 1) * 86400 + 5, options);
    ASSERT_TRUE(closed) << closed.error().message;
    EXPECT_TRUE(closed->due);
    EXPECT_EQ(closed->folded, 3);
    EXPECT_EQ(closed->merged, 1);
    using Cell = std::pair<std::int64_t, std::string>;
    EXPECT_EQ(cells(where()), (std::vector<Cell>{{day, "popular"}, {day + 1, "rare"}}));
    auto db = Database::connect(where());
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM monthly_terms WHERE query = 'popular'"), 1);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM monthly_terms"), 1);
    // Reports still count every search, the folded ones as "other".
    ReportRequest r;
    r.from_day = day;
    r.to_day = day + 1;
    auto report = build_report(*db, r);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->terms.size(), 1u);
    EXPECT_EQ(report->terms[0].query, "popular");
    EXPECT_EQ(report->total_searches, 10 + 40 + 9 + 1 + 1);
    EXPECT_EQ(report->other_searches, 51);
    // A fold with nothing due does nothing, and says so.
    auto again = log->fold((day + 1) * 86400 + 600, options);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->due);
    // The purge folds too: the next day's "rare" goes once that day is over.
    auto purged = log->purge((day + 2) * 86400 + 5, options);
    ASSERT_TRUE(purged) << purged.error().message;
    EXPECT_EQ(purged->folded, 1);
    EXPECT_EQ(cells(where()), (std::vector<Cell>{{day, "popular"}}));
}

TEST_P(SearchLogStores, CellsOfADayAlreadyFoldedAreFoldedAtTheNextFoldAndMergedOnce) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t day = *parse_date("2026-05-01") / 86400;
    RetentionOptions options; // k 10, k_distinct 5, no trends
    SearchLogBuffer buffer{testing::ascii_fold};
    searched(buffer, day, "popular", 10, 5);
    searched(buffer, day + 1, "open", 1, 1);
    ASSERT_TRUE(log->add(buffer.take()));
    ASSERT_TRUE(log->fold((day + 1) * 86400 + 5, options));
    auto db = Database::connect(where());
    auto monthly = [&](const std::string& query) {
        return *db->scalar("SELECT coalesce(sum(searches), 0) FROM monthly_terms WHERE query = '" +
                           query + "'");
    };
    EXPECT_EQ(monthly("popular"), 10);
    // The day is folded; then come its last searches (another server's last flush, searches
    // held while the store was down).
    SearchLogBuffer late{testing::ascii_fold};
    searched(late, day, "rare", 1, 1);          // below the thresholds
    searched(late, day, "late popular", 12, 6); // above them
    searched(late, day, "popular", 4, 4);       // 4 more of a merged cell, same searchers
    ASSERT_TRUE(log->add(late.take()));
    // The next fold (each flush folds) removes the text below the thresholds and merges the
    // rest, once: folding again, that day or the next, adds nothing.
    auto next = log->fold((day + 1) * 86400 + 10, options);
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_TRUE(next->due);
    using Cell = std::pair<std::int64_t, std::string>;
    EXPECT_EQ(cells(where()),
              (std::vector<Cell>{{day, "late popular"}, {day, "popular"}, {day + 1, "open"}}));
    EXPECT_EQ(monthly("late popular"), 12);
    EXPECT_EQ(monthly("popular"), 14);
    auto again = log->fold((day + 1) * 86400 + 20, options);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->due);
    ASSERT_TRUE(log->fold((day + 2) * 86400 + 5, options));
    EXPECT_EQ(monthly("late popular"), 12);
    EXPECT_EQ(monthly("popular"), 14);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM monthly_terms"), 2);
    EXPECT_EQ(*db->scalar("SELECT sum(zero_results) FROM monthly_terms"),
              *db->scalar("SELECT sum(zero_results) FROM daily_terms WHERE day = " +
                          std::to_string(day)));
}

TEST_P(SearchLogStores, TrendsKeepCellsOfTheirPeriodsUntilReleasedNeverPastTheRetention) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    RetentionOptions options;
    options.trend_days = 7;
    options.retention_days = 30;
    // Periods of 7 days counted from 1970-01-01; `now` is in the middle of period P.
    const std::int64_t p = *parse_date("2026-05-01") / 86400 / 7; // P
    const std::int64_t now = (p * 7 + 3) * 86400 + 3600;
    SearchLogBuffer buffer{testing::ascii_fold};
    // In the order of days (the contribution bound forgets a day once a later one is seen).
    searched(buffer, (p - 3) * 7 + 1, "older", 1, 1);         // folded
    searched(buffer, (p - 2) * 7 + 1, "period before", 1, 1); // P-2, its "before": kept
    searched(buffer, (p - 1) * 7 + 1, "latest period", 1, 1); // P-1, not released yet: kept
    searched(buffer, p * 7 + 1, "open period", 1, 1);         // P: kept
    ASSERT_TRUE(log->add(buffer.take()));
    ASSERT_TRUE(log->fold(now, options));
    auto queries = [&] {
        std::vector<std::string> out;
        for (const auto& c : cells(where()))
            out.push_back(c.second);
        return out;
    };
    EXPECT_EQ(queries(),
              (std::vector<std::string>{"period before", "latest period", "open period"}));
    // Once P-1 is released, P-2 is needed no more.
    auto db = Database::connect(where());
    ASSERT_TRUE(release_trends(*db, latest_period(now, 7), {1.0, 1e-6}, now));
    auto after = log->fold(now + 60, options);
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->due);
    EXPECT_EQ(queries(), (std::vector<std::string>{"latest period", "open period"}));
    // Never past the retention: with 8 days, P-1's day 1 goes (it is 9 days old).
    options.retention_days = 8;
    ASSERT_TRUE(log->fold(now + 120, options));
    EXPECT_EQ(queries(), (std::vector<std::string>{"open period"}));
}

TEST_P(SearchLogStores, NoTextBelowTheThresholdsOutlivesTheRetention) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    RetentionOptions options;
    options.trend_days = 7; // trends keep the most; still nothing past retention_days
    options.retention_days = 5;
    const std::int64_t day = *parse_date("2026-05-01") / 86400;
    SearchLogBuffer buffer{testing::ascii_fold};
    searched(buffer, day, "rare term", 3, 2);
    searched(buffer, day, "popular", 12, 6);
    ASSERT_TRUE(log->add(buffer.take()));
    ASSERT_TRUE(log->purge((day + 1) * 86400 + 5, options));
    auto db = Database::connect(where());
    const char* count = "SELECT (SELECT count(*) FROM searches WHERE query = 'rare term') +"
                        " (SELECT count(*) FROM daily_terms WHERE query = 'rare term') +"
                        " (SELECT count(*) FROM monthly_terms WHERE query = 'rare term')";
    EXPECT_GT(*db->scalar(count), 0); // raw rows and the trends' cell, within the retention
    ASSERT_TRUE(log->purge((day + 6) * 86400 + 5, options));
    EXPECT_EQ(*db->scalar(count), 0);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM daily_terms WHERE query = 'popular'"), 1);
    EXPECT_EQ(*db->scalar("SELECT sum(searches) FROM daily_volume"), 15);
}

// SQLite: each process keys searchers under its own salt. (PostgreSQL: the servers share the
// day's secret, so a restart keys a network as before; SharedSearcherSecrets below.)
TEST(SearchLog, ARestartInTheMiddleOfADayGetsANewKeyAndNeverAddsUpSearchers) {
    TempDir dir;
    auto log = SearchLog::open(dir.path());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t t = *parse_date("2026-05-01T10:00:00Z");
    const std::int64_t day = t / 86400;
    // Three networks search "lantern" twice each before and after a restart. The restarted
    // process has a new salt (keys cannot be recomputed), so its counter sees three new keys,
    // but the stored estimate is the larger of the two runs', never their sum: 3, not 6.
    std::vector<std::uint64_t> before, after;
    for (int run = 0; run < 2; ++run) {
        SearcherKeys keys; // a process's keys
        SearchLogBuffer buffer{testing::ascii_fold};
        for (int n = 0; n < 3; ++n) {
            const auto key = keys.key(day, "81.2." + std::to_string(60 + n) + ".1");
            ASSERT_TRUE(key);
            (run == 0 ? before : after).push_back(key->key);
            buffer.record_search(event(t + run * 3600, "lantern", key->key));
            buffer.record_search(event(t + run * 3600 + 60, "lantern", key->key));
        }
        ASSERT_TRUE(log->add(buffer.take()));
    }
    for (auto k : before)
        EXPECT_EQ(std::find(after.begin(), after.end(), k), after.end());
    auto db = Database::open_in(dir.path());
    EXPECT_EQ(*db->scalar("SELECT searches FROM daily_terms"), 12);
    EXPECT_EQ(*db->scalar("SELECT searchers FROM daily_terms"), 3);
    // So three real searchers stay below k_distinct (5), and the cell is folded.
    RetentionOptions options;
    options.k = 10;
    ASSERT_TRUE(log->fold((day + 1) * 86400, options));
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM daily_terms"), 0);
}

TEST_P(SearchLogStores, ASearchWithoutAKeyCountsNoSearcher) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log) << log.error().message;
    const std::int64_t t = *parse_date("2026-05-01T10:00:00Z");
    SearchLogBuffer buffer{testing::ascii_fold};
    for (int i = 0; i < 20; ++i) {
        RawSearch e = event(t, "lantern", 0);
        e.searcher.reset(); // no random salt could be drawn
        buffer.record_search(e);
    }
    ASSERT_TRUE(log->add(buffer.take()));
    auto db = Database::connect(where());
    EXPECT_EQ(*db->scalar("SELECT searches FROM daily_terms"), 20);
    EXPECT_EQ(*db->scalar("SELECT searchers FROM daily_terms"), 0);
    EXPECT_EQ(*db->scalar("SELECT bounded FROM daily_terms"), 0);
}

TEST_P(SearchLogStores, ServersSharingAStoreKeyANetworkAlikeSoItIsOneSearcher) {
    if (!postgres())
        GTEST_SKIP() << "a SQLite file has one server, whose salt stays in its memory";
    const std::int64_t t = *parse_date("2026-05-01T10:00:00Z");
    const std::int64_t day = t / 86400;
    // Two servers: each its connection, its keys and its buffer.
    auto log_a = SearchLog::open(where()), log_b = SearchLog::open(where());
    ASSERT_TRUE(log_a && log_b);
    SearcherKeys keys_a, keys_b;
    keys_a.share_secrets();
    keys_b.share_secrets();
    EXPECT_FALSE(keys_a.key(day, "81.2.69.1")) << "no shared secret yet: no key, no searcher";
    auto secret_a = log_a->shared_secret(day), secret_b = log_b->shared_secret(day);
    ASSERT_TRUE(secret_a && secret_b) << (secret_a ? secret_b : secret_a).error().message;
    EXPECT_EQ(secret_a->size(), 32u);
    EXPECT_EQ(*secret_a, *secret_b); // the first one made it, the second read it
    keys_a.set_secret(day, *secret_a);
    keys_b.set_secret(day, *secret_b);
    // The same network through either server is the same key; another network is not.
    EXPECT_EQ(keys_a.key(day, "81.2.69.1")->key, keys_b.key(day, "81.2.69.77")->key);
    EXPECT_NE(keys_a.key(day, "81.2.69.1")->key, keys_b.key(day, "81.2.70.1")->key);

    // Six networks search "lantern" through both servers, three more through b only.
    SearchLogBuffer buffer_a{testing::ascii_fold}, buffer_b{testing::ascii_fold};
    for (int n = 0; n < 9; ++n) {
        const std::string address = "81.2." + std::to_string(60 + n) + ".1";
        if (n < 6)
            buffer_a.record_search(event(t + n, "lantern", keys_a.key(day, address)->key));
        buffer_b.record_search(event(t + n, "lantern", keys_b.key(day, address)->key));
    }
    ASSERT_TRUE(log_a->add(buffer_a.take()));
    ASSERT_TRUE(log_b->add(buffer_b.take()));
    auto db = Database::connect(where());
    EXPECT_EQ(*db->scalar("SELECT searches FROM daily_terms"), 15);
    EXPECT_EQ(*db->scalar("SELECT searchers FROM daily_terms"), 9); // not 6 + 9, not max(6, 9)
    // A later flush of a network already counted adds a search, not a searcher.
    buffer_a.record_search(event(t + 100, "lantern", keys_a.key(day, "81.2.68.1")->key));
    buffer_a.record_search(event(t + 101, "lantern", keys_a.key(day, "81.2.60.1")->key));
    ASSERT_TRUE(log_a->add(buffer_a.take()));
    EXPECT_EQ(*db->scalar("SELECT searchers FROM daily_terms"), 9);

    // When the day is over, its secret goes (the table is truncated: no old row in its file)
    // and the keys of the day before it too; the next day's secret is another.
    auto tomorrow = log_a->shared_secret(day + 1);
    ASSERT_TRUE(tomorrow);
    EXPECT_NE(*tomorrow, *secret_a);
    ASSERT_TRUE(log_b->fold((day + 1) * 86400 + 60, {}));
    EXPECT_EQ(
        *db->scalar("SELECT count(*) FROM searcher_secrets WHERE day = " + std::to_string(day)), 0);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM searcher_secrets"), 1);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM searcher_keys"), 9); // yesterday's, until tomorrow
    ASSERT_TRUE(log_b->fold((day + 2) * 86400 + 60, {}));
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM searcher_keys"), 0);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM searcher_secrets"), 0);
    // The two tables are UNLOGGED: never in the WAL, so in no replica or WAL archive.
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM pg_class WHERE relpersistence = 'u' AND relname"
                          " IN ('searcher_secrets', 'searcher_keys')"),
              2);
}

TEST_P(SearchLogStores, AServerWhoseClockIsBehindGetsNoSecretForADayAnotherServerClosed) {
    if (!postgres())
        GTEST_SKIP() << "a SQLite file has one server, whose salt stays in its memory";
    const std::int64_t day = *parse_date("2026-05-01T10:00:00Z") / 86400;
    auto log_a = SearchLog::open(where()), log_b = SearchLog::open(where());
    ASSERT_TRUE(log_a && log_b);
    ASSERT_TRUE(log_a->shared_secret(day));
    ASSERT_TRUE(log_a->shared_secret(day + 1));
    // a closes the day; b, a few seconds behind, still asks for it.
    ASSERT_TRUE(log_a->fold((day + 1) * 86400 + 1, {}));
    auto late = log_b->shared_secret(day);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::not_found);
    auto db = Database::connect(where());
    const std::string of_day =
        "SELECT count(*) FROM searcher_secrets WHERE day = " + std::to_string(day);
    EXPECT_EQ(*db->scalar(of_day), 0);
    EXPECT_TRUE(log_b->shared_secret(day + 1)); // the open day's is still there
    // A row of a closed day left by a server of an older version goes at the next fold, even
    // one with nothing else to do.
    ASSERT_TRUE(db->exec("INSERT INTO searcher_secrets VALUES (" + std::to_string(day) +
                         ", decode('00', 'hex'))"));
    auto again = log_b->fold((day + 1) * 86400 + 2, {});
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->due);
    EXPECT_EQ(*db->scalar(of_day), 0);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM searcher_secrets"), 1);
}

TEST_P(SearchLogStores, QuotesBackslashesCommasAndBracesAreStoredAsTheyAre) {
    auto log = SearchLog::open(where());
    ASSERT_TRUE(log);
    const std::int64_t t = *parse_date("2026-05-01T10:00:00Z");
    const std::string odd = R"(say "hi", {x} \ y null)";
    SearchLogBuffer buffer{testing::ascii_fold};
    buffer.record_search(event(t, odd, 1, 3, "acct-\"odd\""));
    buffer.record_search(event(t, "null", 2));
    ASSERT_TRUE(log->add(buffer.take()));
    auto history = log->account_history("acct-\"odd\"");
    ASSERT_TRUE(history);
    ASSERT_EQ(history->size(), 1u);
    EXPECT_EQ((*history)[0].query, odd);
    auto db = Database::connect(where());
    auto q = db->prepare("SELECT query FROM daily_terms ORDER BY query");
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->text(0), "null");
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->text(0), odd);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM searches WHERE account IS NULL"), 1);
}

TEST(SearcherKeys, SharedSecretsOnlyAndTheirDayNeverGoesBackwards) {
    SearcherKeys keys([](unsigned char* out, std::size_t n) {
        std::fill(out, out + n, 7); // would be used by a process's own salt; never here
        return true;
    });
    keys.share_secrets();
    EXPECT_FALSE(keys.key(100, "81.2.69.1"));
    keys.set_secret(100, std::string(32, 'a'));
    keys.set_secret(101, std::string(32, 'b'));
    const auto on_100 = keys.key(100, "81.2.69.1");
    ASSERT_TRUE(on_100);
    const auto on_101 = keys.key(101, "81.2.69.1");
    ASSERT_TRUE(on_101);
    EXPECT_NE(on_100->key, on_101->key);
    // Day 100 is over here: a late search of it is keyed with day 101's secret.
    const auto late = keys.key(100, "81.2.69.1");
    ASSERT_TRUE(late);
    EXPECT_EQ(late->day, 101);
    EXPECT_EQ(late->key, on_101->key);
    EXPECT_FALSE(keys.has_secret(100));
    EXPECT_FALSE(keys.key(102, "81.2.69.1")) << "day 102 has no secret yet";
    keys.set_secret(102, "too short");
    EXPECT_FALSE(keys.key(102, "81.2.69.1"));

    // A day without any search: its secret still goes once the next day's are set.
    SearcherKeys quiet;
    quiet.share_secrets();
    quiet.set_secret(200, std::string(32, 'c')); // today's and tomorrow's
    quiet.set_secret(201, std::string(32, 'd'));
    EXPECT_TRUE(quiet.has_secret(200));
    quiet.set_secret(201, std::string(32, 'd')); // the next day: today's and tomorrow's
    quiet.set_secret(202, std::string(32, 'e'));
    EXPECT_FALSE(quiet.has_secret(200)) << "a past day's secret stays in memory";
    EXPECT_TRUE(quiet.has_secret(201));
}

} // namespace
} // namespace mixi::analytics
