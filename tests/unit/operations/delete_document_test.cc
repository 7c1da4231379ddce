#include "../temp_dir.h"
#include "../test_store.h"
#include "analytics/views.h"
#include "common/index_layout.h"
#include "common/schema.h"
#include "indexer/index_writer.h"
#include "indexer/sources.h"
#include "operations/delete_document.h"

#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <xapian.h>

namespace mixi::operations {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr std::int64_t today = 20'000;

std::string article(const std::string& id, const std::string& title, const std::string& body) {
    return "{\"id\": \"" + id + "\", \"title\": \"" + title + "\", \"body\": \"" + body +
           "\", \"type\": \"article\", \"lang\": \"en\", \"visibility\": \"public\"}\n";
}

/// An index of two English articles: "kept" (lantern festival) and "gone" (zeppelin harbour).
void build_index(const fs::path& index, const fs::path& scratch) {
    const fs::path ndjson = scratch / "records.ndjson";
    std::ofstream(ndjson) << article("kept", "lantern festival", "paper lanterns")
                          << article("gone", "zeppelin harbour", "airship mooring");
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::NdjsonSource>(ndjson));
    auto built = indexer::build_index(index, std::move(sources), {});
    ASSERT_TRUE(built) << built.error().message;
    ASSERT_EQ(built->indexed, 2u);
}

/// How often `word` is in the spelling table (0 when it is not; Xapian 1.4 has no
/// Database::get_spelling_frequency).
Xapian::doccount spelling_frequency(const Xapian::Database& db, const std::string& word) {
    auto s = db.spellings_begin();
    s.skip_to(word);
    return s != db.spellings_end() && *s == word ? s.get_termfreq() : 0;
}

Xapian::Database current(const fs::path& index) {
    return Xapian::Database(layout::resolve_database(index).string());
}

class DeleteDocumentStores : public testing::StoreTest {};
MIXI_ON_BOTH_STORES(DeleteDocumentStores);

TEST_P(DeleteDocumentStores, TheIndexItsSpellingAndItsViewCountsLoseTheDocument) {
    TempDir index;
    build_index(index.path(), this->store().dir());
    auto store = analytics::ViewStore::open(where());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE(store->add(
        {{"kept", "JP", today, 5}, {"gone", "JP", today, 7}, {"never-indexed", "GB", today, 2}}));
    ASSERT_GT(spelling_frequency(current(index.path()), "zeppelin"), 0u);

    auto report =
        delete_document_everywhere(index.path(), {"gone", "never-indexed"}, stored_views(where()));
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->deleted, std::vector<std::string>{"gone"});
    EXPECT_EQ(report->not_found, std::vector<std::string>{"never-indexed"});

    const Xapian::Database db = current(index.path());
    EXPECT_EQ(db.get_doccount(), 1u);
    EXPECT_EQ(db.get_termfreq(schema::term(schema::id, "gone")), 0u);
    EXPECT_EQ(spelling_frequency(db, "zeppelin"), 0u);
    EXPECT_GT(spelling_frequency(db, "lantern"), 0u);
    // View counts of every id asked for go, whether it was in the index or not.
    auto popularity = store->popularity(today, {});
    ASSERT_TRUE(popularity) << popularity.error().message;
    EXPECT_EQ((*popularity)->views("kept"), 5);
    EXPECT_EQ((*popularity)->views("gone"), 0);
    EXPECT_EQ((*popularity)->views("never-indexed"), 0);
}

TEST(DeleteDocumentEverywhere, ADataDirectoryWithoutCountsGetsNone) {
    TempDir index, data;
    build_index(index.path(), data.path());
    auto report = delete_document_everywhere(index.path(), {"gone"}, stored_views(data.path()));
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->deleted, std::vector<std::string>{"gone"});
    EXPECT_FALSE(fs::exists(data.path() / "analytics.sqlite"));
}

TEST_P(DeleteDocumentStores, WithoutAnIndexNothingIsDeleted) {
    TempDir index;
    auto store = analytics::ViewStore::open(where());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->add({{"gone", "JP", today, 7}}));
    std::vector<std::string> asked;
    auto report = delete_document_everywhere(index.path(), {"gone"}, [&](std::string_view id) {
        asked.emplace_back(id);
        return Expected<void>{};
    });
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::not_found);
    EXPECT_TRUE(asked.empty());
    EXPECT_EQ((*store->popularity(today, {}))->views("gone"), 7);
}

} // namespace
} // namespace mixi::operations
