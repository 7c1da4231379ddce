// The file of events a stopped server held, read back at start: within the bound, stored by the
// first flush, then deleted; an unreadable one is moved aside.
#include "../temp_dir.h"
#include "analytics/database.h"
#include "analytics/held_events.h"
#include "server/analytics_service.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <gtest/gtest.h>

namespace mixi::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

std::unique_ptr<AnalyticsService> start_in(const fs::path& dir, std::uint64_t max_held) {
    AnalyticsOptions options;
    options.store = dir;
    options.data_dir = dir;
    options.flush_interval = 60s; // stored by sync()
    options.max_held_events = max_held;
    auto started = AnalyticsService::start(std::move(options));
    EXPECT_TRUE(started) << started.error().message;
    return started ? std::move(*started) : nullptr;
}

std::int64_t scalar(const fs::path& dir, const std::string& sql) {
    auto db = analytics::Database::connect(analytics::StoreLocation(dir));
    EXPECT_TRUE(db) << db.error().message;
    auto v = db->scalar(sql);
    EXPECT_TRUE(v) << v.error().message;
    return v.value_or(-1);
}

TEST(HeldEventsFile, IsReadBackWithinTheBoundStoredAtTheFirstFlushAndDeleted) {
    testing::TempDir data;
    const std::int64_t now = std::time(nullptr);
    analytics::SearchLogBuffer buffer([](std::string_view q) { return std::string(q); });
    analytics::HeldEvents held;
    for (const auto& [query, n] : {std::pair("oldest", 3), std::pair("newest", 2)}) {
        for (int i = 0; i < n; ++i) {
            analytics::RawSearch s;
            s.time = now;
            s.query = query;
            s.lang = "en";
            s.country = "CH";
            s.results = 1;
            s.searcher = static_cast<std::uint64_t>(i + 1);
            buffer.record_search(s);
        }
        held.batches.push_back(buffer.take());
    }
    held.views = {{"a-002", "EU", analytics::day_of(now), 4}};
    const fs::path file = data.path() / held_file_name;
    write(file, analytics::held_events_text(held));

    // Five searches and one view count against a bound of three: the oldest batch goes.
    auto service = start_in(data.path(), 3);
    ASSERT_TRUE(service);
    EXPECT_EQ(service->health().held_events, 3u);
    EXPECT_EQ(service->health().dropped_events, 3u);
    service->sync();
    EXPECT_FALSE(fs::exists(file));
    EXPECT_EQ(service->health().held_events, 0u);
    const fs::path store = data.path();
    EXPECT_EQ(scalar(store, "SELECT coalesce(sum(searches), 0) FROM daily_terms WHERE query ="
                            " 'newest'"),
              2);
    EXPECT_EQ(scalar(store, "SELECT count(*) FROM searches WHERE query = 'newest'"), 2);
    EXPECT_EQ(scalar(store, "SELECT count(*) FROM daily_terms WHERE query = 'oldest'"), 0);
    EXPECT_EQ(scalar(store, "SELECT coalesce(sum(count), 0) FROM views WHERE doc_id = 'a-002'"), 4);
    // Stopped with everything stored: no file.
    service.reset();
    EXPECT_FALSE(fs::exists(file));
}

TEST(HeldEventsFile, AnUnreadableOneIsMovedAsideAndTheServiceStarts) {
    for (const std::string& text :
         {std::string("garbage"), std::string("{\"format\":\"other\",\"version\":1}\n"),
          std::string()}) {
        testing::TempDir data;
        const fs::path file = data.path() / held_file_name;
        write(file, text);
        auto service = start_in(data.path(), 100);
        ASSERT_TRUE(service);
        EXPECT_FALSE(fs::exists(file));
        EXPECT_TRUE(fs::exists(file.string() + ".bad"));
        EXPECT_EQ(service->health().held_events, 0u);
        EXPECT_TRUE(service->health().store_ok);
        service->count("a-001", "EU");
        service->sync();
        EXPECT_EQ(scalar(data.path(), "SELECT coalesce(sum(count), 0) FROM views"), 1);
    }
}

} // namespace
} // namespace mixi::server
