#include "../test_store.h"
#include "analytics/database.h"
#include "analytics/schema.h"
#include "analytics/views.h"

#include <gtest/gtest.h>

namespace mixi::analytics {
namespace {

class DatabaseStores : public testing::StoreTest {};
MIXI_ON_BOTH_STORES(DatabaseStores);

TEST_P(DatabaseStores, TheProgramCreatesTheTablesAndRecordsTheSchemaVersion) {
    auto db = Database::connect(where());
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(*db->scalar("SELECT version FROM schema_version"), schema_version);
    EXPECT_EQ(*db->scalar("SELECT count(*) FROM schema_version"), 1);
    for (const char* table : {"views", "searches", "daily_terms", "monthly_terms", "daily_volume",
                              "search_log_state", "trend_releases", "trend_release_terms"})
        EXPECT_TRUE(db->scalar(std::string("SELECT count(*) FROM ") + table)) << table;
    // A second connection finds the store at its version and changes nothing.
    auto again = Database::connect(where());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again->scalar("SELECT count(*) FROM schema_version"), 1);
}

TEST_P(DatabaseStores, AStoreWrittenByANewerProgramIsRefusedClearly) {
    {
        auto db = Database::connect(where());
        ASSERT_TRUE(db);
        ASSERT_TRUE(
            db->exec("UPDATE schema_version SET version = " + std::to_string(schema_version + 1)));
    }
    auto newer = Database::connect(where());
    ASSERT_FALSE(newer);
    EXPECT_NE(newer.error().message.find("newer than this program"), std::string::npos)
        << newer.error().message;
}

TEST_P(DatabaseStores, PlaceholdersAreNumberedOrInOrderAndNeverInsideQuotes) {
    auto db = Database::connect(where());
    ASSERT_TRUE(db);
    auto q = db->prepare("SELECT ?2 || '?' || ?1 || ?3");
    ASSERT_TRUE(q);
    q->bind(1, "b").bind(2, "a").bind(3, "c");
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->text(0), "a?bc");
    q->reset();
    auto plain = db->prepare("SELECT ? + ?");
    ASSERT_TRUE(plain);
    plain->bind(1, std::int64_t{40}).bind(2, std::int64_t{2});
    ASSERT_TRUE(*plain->step());
    EXPECT_EQ(plain->int64(0), 42);
}

TEST(Database, AnOldSqliteFileWithoutAVersionIsTakenOverAsItIs) {
    testing::TempDir dir;
    {
        // A store from before the version table: views only, with a count.
        auto c = open_sqlite(dir.path() / "analytics.sqlite");
        ASSERT_TRUE(c);
        ASSERT_TRUE((*c)->exec("CREATE TABLE views (doc_id TEXT NOT NULL, region TEXT NOT NULL,"
                               " day INTEGER NOT NULL, count INTEGER NOT NULL,"
                               " PRIMARY KEY (doc_id, region, day)) WITHOUT ROWID;"
                               "INSERT INTO views VALUES ('a', 'JP', 100, 3);"));
    }
    auto store = ViewStore::open(dir.path());
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store->stats()->views, 3);
    auto db = Database::open_in(dir.path());
    EXPECT_EQ(*db->scalar("SELECT version FROM schema_version"), schema_version);
}

TEST_P(DatabaseStores, AVersion1StoreCountsTheCellsOfItsMergedDaysAsMerged) {
    {
        // A store at version 1: no merged columns; days before 101 are in monthly_terms.
        auto db = Database::connect(where());
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("ALTER TABLE daily_terms DROP COLUMN merged_searches;"
                             "ALTER TABLE daily_terms DROP COLUMN merged_zero;"
                             "UPDATE schema_version SET version = 1;"
                             "INSERT INTO search_log_state VALUES ('merged_before', 101);"
                             "INSERT INTO daily_terms VALUES (100, 'a', 'en', 'JP', 12, 2, 6, 0);"
                             "INSERT INTO daily_terms VALUES (101, 'a', 'en', 'JP', 3, 1, 1, 0);"));
    }
    auto db = Database::connect(where());
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(*db->scalar("SELECT version FROM schema_version"), schema_version);
    EXPECT_EQ(*db->scalar("SELECT merged_searches * 100 + merged_zero FROM daily_terms"
                          " WHERE day = 100"),
              1202);
    EXPECT_EQ(*db->scalar("SELECT merged_searches + merged_zero FROM daily_terms WHERE day = 101"),
              0);
}

TEST_P(DatabaseStores, ABrokenConnectionIsMadeAgainAtItsNextUse) {
    if (!postgres())
        GTEST_SKIP() << "a SQLite file has no connection to lose";
    auto db = Database::connect(where());
    auto killer = Database::connect(where());
    ASSERT_TRUE(db && killer);
    const std::int64_t pid = *db->scalar("SELECT pg_backend_pid()");
    ASSERT_TRUE(killer->exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"));
    EXPECT_FALSE(db->scalar("SELECT 1")); // this one fails: the server closed the connection
    auto after = db->scalar("SELECT 1");  // the next one connects again
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(*after, 1);
    EXPECT_NE(*db->scalar("SELECT pg_backend_pid()"), pid);
}

} // namespace
} // namespace mixi::analytics
