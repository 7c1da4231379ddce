#include "../temp_dir.h"
#include "../test_store.h"
#include "analytics/database.h"
#include "analytics/search_log.h"
#include "analytics/trends.h"
#include "analytics/views.h"
#include "indexer/index_writer.h"
#include "indexer/sources.h"
#include "operations/purge.h"

#include <fstream>
#include <gtest/gtest.h>
#include <memory>

namespace mixi::operations {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr std::int64_t today = 20'000;
constexpr std::int64_t now = today * 86400 + 3600;

/// An index with the one public article "kept".
void build_index(const fs::path& index, const fs::path& scratch) {
    const fs::path ndjson = scratch / "records.ndjson";
    std::ofstream(ndjson) << "{\"id\": \"kept\", \"title\": \"lantern festival\", \"body\": "
                             "\"paper lanterns\", \"lang\": \"en\", \"visibility\": \"public\"}\n";
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::NdjsonSource>(ndjson));
    auto built = indexer::build_index(index, std::move(sources), {});
    ASSERT_TRUE(built) << built.error().message;
}

std::int64_t count(const analytics::StoreLocation& where, const std::string& sql) {
    auto db = analytics::Database::connect(where);
    return *db->scalar(sql);
}

/// Stores one search `days` days before now.
void log_search(analytics::SearchLog& log, int days, const std::string& query) {
    analytics::SearchLogBuffer buffer{[](std::string_view q) { return std::string(q); }};
    analytics::RawSearch search;
    search.time = now - days * 86400;
    search.query = query;
    search.lang = "en";
    search.country = "JP";
    search.searcher = 1;
    buffer.record_search(search);
    ASSERT_TRUE(log.add(buffer.take()));
}

class PurgeExpired : public testing::StoreTest {};
MIXI_ON_BOTH_STORES(PurgeExpired);

TEST_P(PurgeExpired, DeletesWhatIsPastEachRetentionAndTheCountsOfDocumentsNotInTheIndex) {
    TempDir index;
    build_index(index.path(), store().dir());
    {
        auto views = analytics::ViewStore::open(where());
        ASSERT_TRUE(views) << views.error().message;
        ASSERT_TRUE(views->add({{"kept", "JP", today, 5},
                                {"kept", "JP", today - 139, 4}, // within 140 days: kept
                                {"kept", "GB", today - 141, 3}, // older: deleted
                                {"deleted-doc", "JP", today, 7},
                                {"deleted-doc", "GB", today - 1, 1}}));
        auto log = analytics::SearchLog::open(where());
        ASSERT_TRUE(log);
        log_search(*log, 40, "expired row");
        log_search(*log, 1, "recent row");
        auto db = analytics::Database::connect(where());
        ASSERT_TRUE(db);
        for (const std::int64_t to : {today - 410, today - 8}) {
            analytics::TrendRequest period;
            period.from_day = to - 6;
            period.to_day = to;
            ASSERT_TRUE(analytics::release_trends(*db, period, {}, now));
        }
    }
    // The server's connection stays open (when the last one closes, SQLite removes the WAL
    // itself).
    auto server = analytics::Database::connect(where());
    ASSERT_TRUE(server);
    PurgeOptions options;
    options.store = where();
    options.index = index.path();
    options.now = now;
    auto report = purge_expired(options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->log.rows, 1);
    EXPECT_EQ(report->trend_releases, 1);
    EXPECT_EQ(report->expired_views, 1);
    EXPECT_TRUE(report->index_checked);
    EXPECT_EQ(report->gone_documents, 1);
    EXPECT_EQ(report->gone_views, 2);

    EXPECT_EQ(count(where(), "SELECT count(*) FROM searches"), 1);
    EXPECT_EQ(count(where(), "SELECT count(*) FROM trend_releases"), 1);
    EXPECT_EQ(count(where(), "SELECT min(to_day) FROM trend_releases"), today - 8);
    EXPECT_EQ(count(where(), "SELECT count(*) FROM views"), 2);
    EXPECT_EQ(count(where(), "SELECT count(*) FROM views WHERE doc_id != 'kept'"), 0);
    EXPECT_EQ(count(where(), "SELECT min(day) FROM views"), today - 139);
    // The checkpoint left nothing in the WAL.
    if (!postgres()) {
        EXPECT_EQ(fs::file_size(store().dir() / "analytics.sqlite-wal"), 0u);
    }
    // Again: nothing more to delete.
    auto again = purge_expired(options);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->expired_views + again->gone_views + again->trend_releases + again->log.rows,
              0);
}

TEST_P(PurgeExpired, WithoutAnIndexTheCountsOfEveryDocumentAreKept) {
    TempDir index;
    {
        auto views = analytics::ViewStore::open(where());
        ASSERT_TRUE(views);
        ASSERT_TRUE(views->add({{"any", "JP", today, 5}, {"any", "JP", today - 200, 5}}));
    }
    PurgeOptions options;
    options.store = where();
    options.index = index.path(); // empty directory: no index yet
    options.view_retention_days = 30;
    options.now = now;
    auto report = purge_expired(options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_FALSE(report->index_checked);
    EXPECT_EQ(report->expired_views, 1);
    EXPECT_EQ(count(where(), "SELECT count(*) FROM views"), 1);
}

TEST_P(PurgeExpired, OneProcessPurgesAtATimeTheOthersSkipTheirTurn) {
    {
        auto views = analytics::ViewStore::open(where());
        ASSERT_TRUE(views);
        ASSERT_TRUE(views->add({{"any", "JP", today - 200, 5}}));
    }
    // Another server is purging: it holds the lock.
    auto other = analytics::Database::connect(where());
    ASSERT_TRUE(other);
    ASSERT_TRUE(*other->try_lock(purge_lock_key));
    PurgeOptions options;
    options.store = where();
    options.now = now;
    auto report = purge_expired(options);
    ASSERT_TRUE(report) << report.error().message;
    // PostgreSQL: skipped, nothing deleted. SQLite: one file, whose own locks order the writers.
    EXPECT_EQ(report->skipped, postgres());
    EXPECT_EQ(count(where(), "SELECT count(*) FROM views"), postgres() ? 1 : 0);
    other->unlock(purge_lock_key);
    auto after = purge_expired(options);
    ASSERT_TRUE(after);
    EXPECT_FALSE(after->skipped);
    EXPECT_EQ(count(where(), "SELECT count(*) FROM views"), 0);
}

} // namespace
} // namespace mixi::operations
