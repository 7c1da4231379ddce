// Synonyms at query time: a word also matches its synonyms from the index's synonym table, below
// the word as typed, with no reindexing.
#include "../temp_dir.h"
#include "analyzers/analyzer.h"
#include "indexer/index_writer.h"
#include "indexer/synonyms.h"
#include "query/searcher.h"

#include <gtest/gtest.h>

namespace mixi::query {
namespace {

indexer::Record note(std::string id, std::string body, std::string lang = "en") {
    indexer::Record r;
    r.id = id;
    r.title = "note " + id;
    r.lang = std::move(lang);
    r.body = std::move(body);
    r.visibility = "public";
    return r;
}

void build(const std::filesystem::path& dir, std::vector<indexer::Record> records) {
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
    auto built = indexer::build_index(dir, std::move(sources), {});
    ASSERT_TRUE(built) << built.error().message;
}

void import(const std::filesystem::path& dir, std::string_view text) {
    analyzers::Analyzer analyzer;
    auto set = indexer::parse_synonyms(text, "synonyms.txt", analyzer);
    ASSERT_TRUE(set) << set.error().message;
    auto replaced = indexer::replace_synonyms(dir, *set);
    ASSERT_TRUE(replaced) << replaced.error().message;
}

SearchResult search(Searcher& s, const std::string& q) {
    SearchRequest req;
    req.q = q;
    auto r = s.search(req);
    if (!r)
        throw std::runtime_error(r.error().message);
    return std::move(*r);
}

std::vector<std::string> ids(const SearchResult& r) {
    std::vector<std::string> out;
    for (const auto& h : r.hits)
        out.push_back(h.id);
    return out;
}

using Expanded = std::map<std::string, std::vector<std::string>>;

TEST(Synonyms, AWordMatchesItsSynonymsBelowItself) {
    testing::TempDir dir;
    // The same text but for the one word: only the synonym weight can order them.
    build(dir.path(),
          {note("tv", "A tv in the lounge."), note("television", "A television in the lounge."),
           note("radio", "A radio in the lounge.")});
    import(dir.path(), "tv, television\n");
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    SearchResult r = search(*s, "tv");
    ASSERT_EQ(ids(r), (std::vector<std::string>{"tv", "television"}));
    EXPECT_GT(r.hits[0].score, r.hits[1].score);
    EXPECT_EQ(r.synonyms, (Expanded{{"tv", {"television"}}}));
    // The other way round too: a group is every way.
    r = search(*s, "Television");
    EXPECT_EQ(ids(r), (std::vector<std::string>{"television", "tv"}));
    EXPECT_EQ(r.synonyms, (Expanded{{"television", {"tv"}}}));
    EXPECT_TRUE(search(*s, "radio").synonyms.empty());

    // A weight of 0 turns synonyms off.
    SearchOptions off;
    off.synonym_weight = 0;
    auto plain = Searcher::open(dir.path(), off);
    ASSERT_TRUE(plain);
    r = search(*plain, "tv");
    EXPECT_EQ(ids(r), std::vector<std::string>{"tv"});
    EXPECT_TRUE(r.synonyms.empty());
}

TEST(Synonyms, OneWayExpandsOnlyTheLeft) {
    testing::TempDir dir;
    build(dir.path(),
          {note("tv", "A tv in the lounge."), note("television", "A television in the lounge.")});
    import(dir.path(), "tv => television\n");
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(ids(search(*s, "tv")), (std::vector<std::string>{"tv", "television"}));
    EXPECT_EQ(ids(search(*s, "television")), std::vector<std::string>{"television"});
}

TEST(Synonyms, AWordWithSynonymsIsNeverCorrectedAsATypo) {
    // "telly" is one edit from "tell": typo tolerance and "did you mean" would read it as that.
    testing::TempDir dir;
    build(dir.path(),
          {note("television", "A television in the lounge."), note("tell-1", "Tell me about it."),
           note("tell-2", "Tell me more."), note("tell-3", "Do tell.")});
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    const SearchResult before = search(*s, "telly");
    ASSERT_EQ(before.corrected.count("telly"), 1u);
    EXPECT_EQ(before.total, 3u);
    SearchRequest exact;
    exact.q = "telly";
    exact.typos = false;
    ASSERT_EQ(s->search(exact)->did_you_mean, "tell");

    import(dir.path(), "telly => television\n");
    ASSERT_TRUE(s->reopen());
    const SearchResult after = search(*s, "telly");
    EXPECT_TRUE(after.corrected.empty());
    EXPECT_EQ(ids(after), std::vector<std::string>{"television"});
    EXPECT_EQ(after.synonyms, (Expanded{{"telly", {"television"}}}));
    // One match, and a correction would find three: still not offered.
    EXPECT_FALSE(s->search(exact)->did_you_mean);
}

TEST(Synonyms, KanjiAndKatakanaVariantsFindEachOther) {
    testing::TempDir dir;
    build(dir.path(), {note("shashin", "山の写真を見ました。", "ja"),
                       note("foto", "山のフォトを見ました。", "ja"),
                       note("other", "山の地図を見ました。", "ja")});
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(ids(search(*s, "写真")), std::vector<std::string>{"shashin"});
    import(dir.path(), "写真, フォト, photo\n");
    ASSERT_TRUE(s->reopen());
    SearchResult r = search(*s, "写真");
    EXPECT_EQ(ids(r), (std::vector<std::string>{"shashin", "foto"}));
    EXPECT_GT(r.hits[0].score, r.hits[1].score);
    EXPECT_EQ(r.synonyms.at("写真"), (std::vector<std::string>{"photo", "フォト"}));
    EXPECT_EQ(ids(search(*s, "フォト")), (std::vector<std::string>{"foto", "shashin"}));
    // An English word of the group finds both.
    r = search(*s, "photo");
    EXPECT_EQ(r.total, 2u);
}

TEST(Synonyms, AChangeNeedsNoReindexOnlyAReopen) {
    testing::TempDir dir;
    build(dir.path(),
          {note("tv", "A tv in the lounge."), note("television", "A television in the lounge.")});
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(search(*s, "tv").total, 1u);
    import(dir.path(), "tv, television\n");
    auto changed = s->reopen();
    ASSERT_TRUE(changed && *changed);
    EXPECT_EQ(search(*s, "tv").total, 2u);
    auto deleted = indexer::delete_synonym(dir.path(), "television");
    ASSERT_TRUE(deleted && *deleted);
    ASSERT_TRUE(s->reopen());
    EXPECT_EQ(search(*s, "tv").total, 1u);
    EXPECT_TRUE(search(*s, "tv").synonyms.empty());
}

} // namespace
} // namespace mixi::query
