#include "analyzers/analyzer.h"
#include "common/index_layout.h"
#include "common/schema.h"
#include "common/stored_data.h"
#include "common/utf8.h"
#include "fixture_index.h"
#include "query/metrics.h"
#include "query/query_parser.h"
#include "query/searcher.h"
#include "query/snippet.h"

#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <xapian.h>

namespace mixi::query {
namespace {

using testing::fixture_index;

Searcher open_fixture() {
    auto s = Searcher::open(fixture_index());
    if (!s)
        throw std::runtime_error(s.error().message);
    return std::move(*s);
}

SearchResult search(Searcher& s, SearchRequest req) {
    auto r = s.search(req);
    if (!r)
        throw std::runtime_error(r.error().message);
    return std::move(*r);
}

SearchResult search(Searcher& s, const std::string& q) {
    SearchRequest req;
    req.q = q;
    return search(s, req);
}

std::vector<std::string> ids(const SearchResult& r) {
    std::vector<std::string> out;
    for (const auto& h : r.hits)
        out.push_back(h.id);
    return out;
}

/// A public English record: the note's id as its title, `body` as its text.
indexer::Record english_note(std::string id, std::string body) {
    indexer::Record r;
    r.id = id;
    r.title = "note " + id;
    r.lang = "en";
    r.body = std::move(body);
    r.visibility = "public";
    return r;
}

TEST(Searcher, EmptyAndUnsearchableQueriesAreErrors) {
    Searcher s = open_fixture();
    for (const char* q : {"", "   ", "!!! ??"}) {
        SearchRequest req;
        req.q = q;
        auto r = s.search(req);
        ASSERT_FALSE(r) << q;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_query);
    }
    SearchRequest huge;
    huge.q = std::string(5000, 'a');
    auto r = s.search(huge);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_query);
}

TEST(Searcher, PagingLimits) {
    Searcher s = open_fixture();
    SearchRequest req;
    req.q = "the";
    req.per_page = 101;
    auto r = s.search(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    req.per_page = 0;
    EXPECT_FALSE(s.search(req));
    req.per_page = 3;
    req.page = 0;
    EXPECT_FALSE(s.search(req));

    // Pages do not overlap and together give the first hits of one long page.
    req.q = "debian";
    req.page = 1;
    const auto p1 = ids(search(s, req));
    req.page = 2;
    const auto p2 = ids(search(s, req));
    req.page = 1;
    req.per_page = 6;
    const auto both = ids(search(s, req));
    ASSERT_EQ(p1.size(), 3u);
    ASSERT_EQ(p2.size(), 3u);
    std::vector<std::string> joined = p1;
    joined.insert(joined.end(), p2.begin(), p2.end());
    EXPECT_EQ(joined, both);
}

TEST(Searcher, FacetsCountEveryMatchNotJustThePage) {
    Searcher s = open_fixture();
    SearchRequest req;
    req.q = "date:2023..2026";
    req.per_page = 1;
    req.facets = true;
    const auto r = search(s, req);
    EXPECT_TRUE(r.has_facets);
    ASSERT_EQ(r.hits.size(), 1u);
    const auto sum = [](const auto& m) {
        return std::accumulate(m.begin(), m.end(), std::uint64_t{0},
                               [](auto a, const auto& kv) { return a + kv.second; });
    };
    EXPECT_GT(r.total, 20u);
    EXPECT_EQ(sum(r.type_facets), r.total);
    EXPECT_EQ(sum(r.lang_facets), r.total);
    EXPECT_EQ(r.type_facets.size(), 4u); // article, photo, video, comment
}

TEST(Searcher, FiltersFromRequestAndSyntaxAgree) {
    Searcher s = open_fixture();
    SearchRequest req;
    req.q = "富士山";
    req.types = {"photo"};
    const auto a = ids(search(s, req));
    const auto b = ids(search(s, "富士山 type:photo"));
    EXPECT_EQ(a, b);
    ASSERT_FALSE(a.empty());
    for (const auto& h : search(s, req).hits)
        EXPECT_EQ(h.type, "photo");
}

TEST(Searcher, SortByDateIsNewestFirst) {
    Searcher s = open_fixture();
    SearchRequest req;
    req.q = "date:2023..2026";
    req.sort = Sort::date;
    req.per_page = 50;
    const auto r = search(s, req);
    ASSERT_GT(r.hits.size(), 5u);
    for (std::size_t i = 1; i < r.hits.size(); ++i)
        EXPECT_GE(r.hits[i - 1].published.substr(0, 10), r.hits[i].published.substr(0, 10));
}

TEST(Searcher, ExclusionAndPhrase) {
    Searcher s = open_fixture();
    const auto all = ids(search(s, "camera"));
    const auto without = ids(search(s, "camera -mirrorless"));
    EXPECT_NE(std::find(all.begin(), all.end(), "v-002"), all.end());
    EXPECT_EQ(std::find(without.begin(), without.end(), "v-002"), without.end());
    EXPECT_EQ(without.size() + 1, all.size());
    // Words in another order are not the phrase.
    EXPECT_EQ(search(s, "\"tips photography\"").total, 0u);
    EXPECT_EQ(search(s, "\"photography tips\"").total, 1u);
}

TEST(Searcher, BrokenSyntaxFallsBackToWords) {
    Searcher s = open_fixture();
    EXPECT_EQ(ids(search(s, "\"photography tips")), ids(search(s, "photography tips")));
    EXPECT_FALSE(search(s, "OR hiking").hits.empty());
    EXPECT_FALSE(search(s, "type: hiking").hits.empty());
}

SearchResult search_exact(Searcher& s, const std::string& q) {
    SearchRequest req;
    req.q = q;
    req.typos = false;
    return search(s, req);
}

TEST(Searcher, DidYouMeanOnlyWhenItFindsMore) {
    Searcher s = open_fixture();
    const auto r = search_exact(s, "photgraphy");
    EXPECT_EQ(r.total, 0u);
    ASSERT_TRUE(r.did_you_mean);
    EXPECT_EQ(*r.did_you_mean, "photography");
    EXPECT_FALSE(search(s, "photography").did_you_mean);
}

TEST(Searcher, DidYouMeanNeverCorrectsTheStartOfAWordTheIndexHas) {
    // "pho" is one letter from "who", but it is "photography" being typed: no correction.
    // "phtography" completes nothing and is still corrected.
    testing::TempDir dir;
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(
        std::vector<indexer::Record>{english_note("a", "Who we are and who we were."),
                                     english_note("b", "Who is who in the village."),
                                     english_note("c", "Photography of the mountains.")}));
    ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    for (bool prefix : {false, true}) {
        SearchRequest req;
        req.q = "pho";
        req.prefix = prefix;
        const auto r = search(*s, req);
        EXPECT_FALSE(r.did_you_mean) << "prefix " << prefix << ": " << *r.did_you_mean;
    }
    const auto typo = search_exact(*s, "phtography");
    ASSERT_TRUE(typo.did_you_mean);
    EXPECT_EQ(*typo.did_you_mean, "photography");
}

TEST(EditDistance, ATranspositionIsOneEdit) {
    EXPECT_EQ(edit_distance("photgraphy", "photography", 2), 1u);
    EXPECT_EQ(edit_distance("phtoography", "photography", 2), 1u);
    EXPECT_EQ(edit_distance("trial", "trail", 2), 1u);
    EXPECT_EQ(edit_distance("café", "cafe", 2), 1u);
    EXPECT_EQ(edit_distance("fotograpy", "photography", 2), 3u);
    EXPECT_EQ(edit_distance("abcd", "abcd", 1), 0u);
}

TEST(Searcher, ATypoFindsThePagesOfTheWordItMissed) {
    Searcher s = open_fixture();
    const auto exact = search(s, "photography");
    ASSERT_FALSE(exact.hits.empty());
    const auto r = search(s, "photgraphy");
    ASSERT_FALSE(r.hits.empty());
    EXPECT_EQ(ids(r), ids(exact));
    EXPECT_EQ(r.corrected, (std::map<std::string, std::string>{{"photgraphy", "photography"}}));
    EXPECT_FALSE(r.did_you_mean);
    EXPECT_TRUE(exact.corrected.empty());
    // The snippets mark the word the typo matched.
    EXPECT_EQ(r.hits[0].snippet, exact.hits[0].snippet);
    // The start of a word the index has is no typo.
    EXPECT_TRUE(search(s, "photog").corrected.empty());
    // Off, a phrase, a short word, an excluded word: the exact words only.
    EXPECT_EQ(search_exact(s, "photgraphy").total, 0u);
    EXPECT_EQ(search(s, "\"photgraphy\"").total, 0u);
    EXPECT_TRUE(search(s, "phto").corrected.empty());
    EXPECT_TRUE(search(s, "hiking -photgraphy").corrected.empty());
}

TEST(Searcher, AWordBeingTypedToleratesATypo) {
    Searcher s = open_fixture();
    SuggestRequest sr;
    sr.q = "phtogr";
    const auto completed = s.suggest(sr);
    ASSERT_TRUE(completed);
    EXPECT_NE(
        std::find(completed->completions.begin(), completed->completions.end(), "photography"),
        completed->completions.end());
    SearchRequest req;
    req.q = "phtogr";
    req.prefix = true;
    const auto exact = search(s, "photography");
    EXPECT_EQ(ids(search(s, req)), ids(exact));
    req.typos = false;
    EXPECT_EQ(search(s, req).total, 0u);
    // A prefix that starts words, or a short one, is no typo.
    const Xapian::Database db(layout::resolve_database(fixture_index()).string());
    EXPECT_EQ(typo_prefix(db, "phtogr"), "photogr");
    EXPECT_EQ(typo_prefix(db, "photogr"), "");
    EXPECT_EQ(typo_prefix(db, "pht"), "");
}

TEST(Searcher, ExactMatchesRankAboveTypoMatches) {
    // "trial" is in one page and "trail", one edit away, in thirty: both match "trial",
    // the page that has it first. "trail" is frequent: no typo of anything.
    std::vector<indexer::Record> records;
    for (int i = 0; i < 30; ++i)
        records.push_back(english_note(std::to_string(i), "A trail through the trail woods."));
    records.push_back(english_note("x", "The trial of the century."));
    testing::TempDir dir;
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
    ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    SearchRequest req;
    req.q = "trial";
    req.per_page = 50;
    const auto r = search(*s, req);
    ASSERT_EQ(r.total, 31u);
    EXPECT_EQ(r.hits[0].id, "x");
    EXPECT_GT(r.hits[0].score, r.hits[1].score);
    EXPECT_EQ(r.corrected.at("trial"), "trail");
    EXPECT_TRUE(search(*s, "trail").corrected.empty());
    EXPECT_EQ(search_exact(*s, "trial").total, 1u);
}

TEST(Searcher, TypoAndPrefixOptionsReachTheQuery) {
    // "trial" in one page, "trail" in thirty: by default "trial" also matches "trail".
    std::vector<indexer::Record> records;
    for (int i = 0; i < 30; ++i)
        records.push_back(english_note(std::to_string(i), "A trail through the trail woods."));
    records.push_back(english_note("x", "The trial of the century."));
    testing::TempDir dir;
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
    ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    auto matches = [&](const SearchOptions& options, const std::string& q, bool prefix = false) {
        auto s = Searcher::open(dir.path(), options);
        EXPECT_TRUE(s);
        SearchRequest req;
        req.q = q;
        req.prefix = prefix;
        req.per_page = 50;
        return search(*s, req).hits.size(); // exact, where total is an estimate
    };
    const SearchOptions defaults;
    EXPECT_EQ(matches(defaults, "trial"), 31u);
    SearchOptions off = defaults;
    off.typo_weight = 0;
    EXPECT_EQ(matches(off, "trial"), 1u);
    SearchOptions only_missing = defaults; // a word the index has is never a typo
    only_missing.typo_rare = 0;
    EXPECT_EQ(matches(only_missing, "trial"), 1u);
    SearchOptions demanding = defaults; // "trail" is not 40 times as frequent
    demanding.typo_ratio = 40;
    EXPECT_EQ(matches(demanding, "trial"), 1u);
    // "tr" expands to "trail" (30 postings) and "trial" (1); a budget of 30 takes "trail" only.
    EXPECT_EQ(matches(defaults, "tr", true), 31u);
    SearchOptions tight = defaults;
    tight.prefix_postings = 30;
    EXPECT_EQ(matches(tight, "tr", true), 30u);
}

TEST(Searcher, QueryWordsNextToEachOtherRankAboveTheSameWordsApart) {
    // The same words, as often, in pages of the same length: only the order differs.
    testing::TempDir dir;
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(std::vector<indexer::Record>{
        english_note("apart", "Package tools and power management hub."),
        english_note("together", "Power tools and package management hub.")}));
    ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    SearchOptions options;
    options.proximity_window = 10;
    auto ranked = [&](double proximity_weight) {
        options.proximity_weight = proximity_weight;
        auto s = Searcher::open(dir.path(), options);
        EXPECT_TRUE(s);
        return ids(search(*s, "package management"));
    };
    EXPECT_EQ(ranked(0.03), (std::vector<std::string>{"together", "apart"}));
    EXPECT_EQ(ranked(0), (std::vector<std::string>{"apart", "together"})); // a tie, by docid
    // Explained: the pair adds to the page that has it together, and the parts add up.
    options.proximity_weight = 0.03;
    auto s = Searcher::open(dir.path(), options);
    ASSERT_TRUE(s);
    SearchRequest req;
    req.q = "package management";
    req.explain = true;
    const auto r = search(*s, req);
    ASSERT_EQ(r.hits.size(), 2u);
    for (const Hit& h : r.hits) {
        ASSERT_TRUE(h.explain);
        if (h.id == "together")
            EXPECT_GT(h.explain->proximity, 0);
        else
            EXPECT_EQ(h.explain->proximity, 0);
        EXPECT_NEAR(h.explain->text + h.explain->proximity, h.score, 1e-9) << h.id;
    }
    EXPECT_NEAR(r.hits[0].explain->text, r.hits[1].explain->text, 1e-9);
}

TEST(Searcher, APagesOwnTitleTypedAsTheQueryFindsItFirst) {
    // A short page with the words in its text, against the longer page they are the title of:
    // title words count double (BuildOptions::title_weight), which puts the page first.
    auto build = [](unsigned title_weight) {
        indexer::Record apt = english_note("apt", "APT installs, upgrades and removes software on "
                                                  "Debian and tracks what depends on what, so that "
                                                  "one program brings the libraries it needs.");
        apt.title = "Package management";
        indexer::Record tools =
            english_note("tools", "Package the tools; power management of the hub.");
        tools.title = "Power tools";
        auto dir = std::make_unique<testing::TempDir>();
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(
            std::vector<indexer::Record>{std::move(apt), std::move(tools)}));
        indexer::IndexOptions options;
        options.build.title_weight = title_weight;
        EXPECT_TRUE(indexer::build_index(dir->path(), std::move(sources), options));
        return dir;
    };
    for (const unsigned weight : {2u, 1u}) {
        const auto dir = build(weight);
        auto s = Searcher::open(dir->path());
        ASSERT_TRUE(s);
        EXPECT_EQ(ids(search(*s, "package management")).front(), weight == 2 ? "apt" : "tools");
    }
}

TEST(Searcher, AJapaneseQueryRanksAJapanesePageWithAllItsWordsAboveAChinesePageSharingOne) {
    // Typed without spaces, "東京都で写真" is one request: a short Chinese page full of one of
    // its words (写真, a word in both languages) is no answer while a page has them all.
    auto page = [](std::string id, std::string lang, std::string title, std::string body) {
        indexer::Record r;
        r.id = std::move(id);
        r.lang = std::move(lang);
        r.title = std::move(title);
        r.body = std::move(body);
        r.visibility = "public";
        return r;
    };
    testing::TempDir dir;
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(std::vector<indexer::Record>{
        page("zh", "zh", "写真集", "写真 写真 写真。这是写真的页面。"),
        page("ja", "ja", "週末の散歩",
             "週末は東京都の公園を歩きました。桜がきれいで、たくさん写真を撮りました。"
             "天気も良く、友達と一緒に昼ご飯を食べました。また行きたいと思います。"),
        page("ja2", "ja", "東京都の天気", "東京都の明日の天気は晴れです。"),
        page("ja3", "ja", "東京都の交通", "東京都の電車とバスの案内です。")}));
    ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    SearchRequest req;
    req.q = "東京都で写真";
    req.typos = false;
    EXPECT_EQ(ids(search(*s, req)), std::vector<std::string>{"ja"});
    // The words typed apart stay alternatives, and so does a sentence no page has whole.
    req.q = "東京都 写真";
    const auto apart = ids(search(*s, req));
    EXPECT_EQ(apart.size(), 4u);
    req.q = "大阪で写真";
    EXPECT_EQ(ids(search(*s, req)), (std::vector<std::string>{"zh", "ja"}));
}

TEST(Searcher, DidYouMeanAfterIllFormedUtf8) {
    // Each stray byte becomes a 3-byte U+FFFD before parsing: the correction is made in that
    // repaired text, where the word offsets point (found by fuzzing: out_of_range before).
    Searcher s = open_fixture();
    const std::string bad = "\xff\xff\xff\xff\xff\xff";
    SearchRequest req;
    req.q = bad + " photgraphy";
    req.typos = false;
    const auto r = search(s, req);
    ASSERT_TRUE(r.did_you_mean);
    EXPECT_EQ(*r.did_you_mean, repair_utf8(bad) + " photography");
}

TEST(Searcher, SnippetsMarkMatchesAndEscape) {
    Searcher s = open_fixture();
    const auto r = search(s, "mirrorless");
    ASSERT_FALSE(r.hits.empty());
    EXPECT_NE(r.hits[0].snippet.find("<mark>mirrorless</mark>"), std::string::npos)
        << r.hits[0].snippet;
    const auto ja = search(s, "富士山");
    ASSERT_FALSE(ja.hits.empty());
    // The part of the word the text was segmented into is marked too (逆さ富士).
    for (const auto& h : ja.hits) {
        if (h.id == "p-003") {
            EXPECT_NE(h.snippet.find("<mark>富士</mark>"), std::string::npos) << h.snippet;
        }
    }
    EXPECT_TRUE(std::any_of(ja.hits.begin(), ja.hits.end(), [](const Hit& h) {
        return h.snippet.find("<mark>富士山</mark>") != std::string::npos;
    }));
}

TEST(Snippet, EscapesEverythingButMarks) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {"alert"}, stems;
    const std::string text = "<script>alert('x & y')</script> \"quoted\"";
    const std::string snip = make_snippet(text, {&terms, &stems, "en"}, analyzer);
    EXPECT_EQ(snip, "&lt;script&gt;<mark>alert</mark>(&#39;x &amp; y&#39;)&lt;/script&gt; "
                    "&quot;quoted&quot;");
}

TEST(Snippet, RepairsIllFormedTextAroundTheMarks) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {"fox", "dog"}, stems;
    const std::string text = "a \xFF red fox & \xC3 dog";
    const std::string snip = make_snippet(text, {&terms, &stems, "en"}, analyzer);
    EXPECT_EQ(snip, "a \uFFFD red <mark>fox</mark> &amp; \uFFFD <mark>dog</mark>");
    EXPECT_TRUE(is_valid_utf8(snip));
}

TEST(Snippet, MarksWordsWhateverTheirCase) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {"fox", "zebra"}, stems = {"dog"};
    const std::string snip = make_snippet("The FOX, a Fox, the fox; DOGS, Dog, ZEBRA [fox",
                                          {&terms, &stems, "en"}, analyzer);
    EXPECT_EQ(snip, "The <mark>FOX</mark>, a <mark>Fox</mark>, the <mark>fox</mark>; "
                    "<mark>DOGS</mark>, <mark>Dog</mark>, <mark>ZEBRA</mark> [<mark>fox</mark>");
}

std::string repeat(std::string_view piece, int times) {
    std::string out;
    for (int i = 0; i < times; ++i)
        out += piece;
    return out;
}

// NFKC folds U+309C (a kana sound mark) to a space and U+309A, so a query word can start with
// a space; the padding past the end of the text is no place to look for one.
TEST(Snippet, AQueryWordThatStartsWithASpaceIsNotLookedForPastTheText) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {analyzer.fold("\u309C\u30E3\u30E9\u30F3"), "fox"}, stems;
    ASSERT_TRUE(terms.begin()->starts_with(' '));
    for (std::size_t size = 1; size <= 40; ++size) {
        const std::string text = repeat("a", static_cast<int>(size) - 1) + " ";
        std::string snip;
        EXPECT_NO_THROW(snip = make_snippet(text, {&terms, &stems, "ja"}, analyzer)) << size;
        EXPECT_EQ(snip.find("<mark>"), std::string::npos) << size;
    }
    EXPECT_EQ(make_snippet("the fox", {&terms, &stems, "ja"}, analyzer), "the <mark>fox</mark>");
}

// Only the stretches between spaces where a query word may start are segmented (snippet.cc);
// these are the words such a shortcut could miss or cut differently.
TEST(Snippet, MarksWordsThatOnlyFoldToAQueryWord) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {"run", "file"}, stems = {"file"};
    EXPECT_EQ(make_snippet("We ＲＵＮ daily; a ﬁle, two ﬁles.", {&terms, &stems, "en"}, analyzer),
              "We <mark>ＲＵＮ</mark> daily; a <mark>ﬁle</mark>, two <mark>ﬁles</mark>.");
}

// Japanese and Chinese stretches are segmented only where a word of theirs may match (snippet.cc,
// may_match_in_run); each of these marks a word that a looser filter would have dropped.
TEST(Snippet, MarksCjkWordsTheQueryWordHoldsOrThatHoldIt) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> none;
    // The text's word 京都 is inside the query word; the query word's first character is not
    // in the text.
    const std::set<std::string> kyoto = {"東京都庁"};
    EXPECT_EQ(make_snippet("春の海を見る。京都に行く。", {&kyoto, &none, "ja"}, analyzer),
              "春の海を見る。<mark>京都</mark>に行く。");
    // The query word is inside the text's word 富士山, whose first character is not the query
    // word's; and it is well into a stretch that starts with other characters.
    const std::set<std::string> fuji = {"士山"}, fuji2 = {"富士"};
    EXPECT_EQ(make_snippet("春の海を見る。逆さ富士山が見える。", {&fuji, &none, "ja"}, analyzer),
              "春の海を見る。逆さ<mark>富士山</mark>が見える。");
    EXPECT_EQ(make_snippet("春の海を見る。逆さ富士山が見える。", {&fuji2, &none, "ja"}, analyzer),
              "春の海を見る。逆さ<mark>富士山</mark>が見える。");
    // A word of one character, only after the first characters of its stretch.
    const std::set<std::string> mountain = {"山"};
    EXPECT_EQ(make_snippet("春の山を歩く。", {&mountain, &none, "ja"}, analyzer),
              "春の<mark>山</mark>を歩く。");
    const std::set<std::string> package = {"パッケージ"};
    EXPECT_EQ(make_snippet("これはパッケージです。", {&package, &none, "ja"}, analyzer),
              "これは<mark>パッケージ</mark>です。");
    // Chinese: the query word's first character only late in the stretch.
    const std::set<std::string> system = {"系统"};
    EXPECT_EQ(
        make_snippet("这是一个很好的操作系统，我们都用它。", {&system, &none, "zh"}, analyzer),
        "这是一个很好的操作<mark>系统</mark>，我们都用它。");
}

TEST(Snippet, MarksFullWidthAndMixedJapaneseAndEnglishWords) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> none;
    const std::set<std::string> latin = {"apt", "debian", "file"};
    EXPECT_EQ(
        make_snippet("ここではＡＰＴとＤｅｂｉａｎのﬁleを使う。", {&latin, &none, "ja"}, analyzer),
        "ここでは<mark>ＡＰＴ</mark>と<mark>Ｄｅｂｉａｎ</mark>の<mark>ﬁle</mark>を使う。");
    const std::set<std::string> mixed = {"debian", "apt", "パッケージ"};
    EXPECT_EQ(make_snippet("Debianのパッケージ管理はaptで行う。", {&mixed, &none, "ja"}, analyzer),
              "<mark>Debian</mark>の<mark>パッケージ</mark>管理は<mark>apt</mark>で行う。");
    // A full-width comma joins two ASCII digits into one number, folded to "1,2".
    const std::set<std::string> number = {"1,2"};
    EXPECT_EQ(make_snippet("値は1，2です。", {&number, &none, "ja"}, analyzer),
              "値は<mark>1，2</mark>です。");
    // "_" joins katakana to ASCII letters: this CJK word holds the query word.
    const std::set<std::string> abcd = {"abcd"};
    EXPECT_EQ(make_snippet("見よ x_abcd_カタ", {&abcd, &none, "ja"}, analyzer),
              "見よ <mark>x_abcd_カタ</mark>");
}

TEST(Snippet, MarksOnlyWholeWords) {
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {"debian", "clock", "u.s.a", "fox"}, stems = {"fox"};
    const SnippetTerms query{&terms, &stems, "en"};
    // An address is one word; so are o'clock and clock_hands. U.S.A is one word too.
    EXPECT_EQ(make_snippet("mail lists@debian.org at 5 o'clock: debian, U.S.A. clock_hands", query,
                           analyzer),
              "mail lists@debian.org at 5 o&#39;clock: <mark>debian</mark>, <mark>U.S.A</mark>. "
              "clock_hands");
    // "fox" at the end of a word that crosses 16 bytes, and after white space of every kind.
    EXPECT_EQ(make_snippet("aaaaaaaaaaaaaaafox fox\tFOX\n\nfoxes_ _fox", query, analyzer),
              "aaaaaaaaaaaaaaafox <mark>fox</mark>\t<mark>FOX</mark>\n\nfoxes_ _fox");
}

TEST(Snippet, CutsAtWordsInUnspacedTextAndAcrossRunsOfSpace) {
    analyzers::Analyzer analyzer;
    const std::string ja =
        repeat("春の山を歩く。", 30) + "富士山が見える。" + repeat("夏の海で泳ぐ。", 30);
    const std::set<std::string> mountain = {"富士山"}, fox = {"fox"}, none;
    EXPECT_EQ(make_snippet(ja, {&mountain, &none, "ja"}, analyzer, 60),
              "…春の山を歩く。<mark>富士山</mark>が見える。夏の海…");
    const std::string en =
        repeat("plain   words\there\n", 20) + "the red fox" + repeat(" filler\ttext ", 20);
    EXPECT_EQ(make_snippet(en, {&fox, &none, "en"}, analyzer, 50),
              "…words\there\nthe red <mark>fox</mark> filler\ttext  filler…");
}

TEST(Snippet, PicksThePassageWithTheMostQueryWords) {
    analyzers::Analyzer analyzer;
    const std::string text = repeat("filler words here. ", 100) +
                             "The red fox jumps over the lazy dog. " +
                             repeat("more filler text. ", 100);
    const std::set<std::string> terms = {"fox", "dog"}, stems;
    const std::string snip = make_snippet(text, {&terms, &stems, "en"}, analyzer, 80);
    EXPECT_NE(snip.find("<mark>fox</mark>"), std::string::npos) << snip;
    EXPECT_NE(snip.find("<mark>dog</mark>"), std::string::npos) << snip;
    EXPECT_TRUE(snip.starts_with("…"));
    EXPECT_TRUE(snip.ends_with("…"));
    EXPECT_LT(snip.size(), 80u + 40u);
}

TEST(Snippet, TinyOrZeroLengthStillMarksAWord) {
    // search.snippet_bytes = 0 once crashed the server: the window slid past its last hit.
    analyzers::Analyzer analyzer;
    const std::set<std::string> terms = {"fox", "dog"}, stems;
    for (std::size_t bytes : {0, 1, 3}) {
        const std::string snip = make_snippet("The red fox jumps over the lazy dog.",
                                              {&terms, &stems, "en"}, analyzer, bytes);
        EXPECT_NE(snip.find("</mark>"), std::string::npos) << bytes << ": " << snip;
        EXPECT_LT(snip.size(), 40u) << bytes << ": " << snip;
    }
}

TEST(Searcher, EveryWordOfAJapaneseTitleFindsItsPage) {
    Searcher s = open_fixture();
    analyzers::Analyzer analyzer;
    SearchRequest all;
    all.q = "lang:ja";
    all.per_page = 100;
    int checked = 0;
    for (const auto& page : search(s, all).hits) {
        for (const auto& t : analyzer.tokenize(page.title)) {
            if (t.kind != analyzers::TokenKind::cjk || analyzer.is_stopword(t.term, "ja"))
                continue;
            SearchRequest req;
            req.q = t.term;
            req.per_page = 100;
            const auto found = ids(search(s, req));
            EXPECT_NE(std::find(found.begin(), found.end(), page.id), found.end())
                << "title word " << t.term << " of " << page.id;
            ++checked;
        }
    }
    EXPECT_GT(checked, 30);
}

TEST(Searcher, JapaneseQuerySegmentedDifferentlyStillMatches) {
    // The text has 東京都 (segmented as 東京 / 都); a query for 京都 shares only the
    // bigram, and 東京都で as one unspaced query still finds the photo.
    Searcher s = open_fixture();
    const auto r = ids(search(s, "東京都で"));
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r[0], "p-001");
    const auto kyoto = ids(search(s, "京都"));
    EXPECT_NE(std::find(kyoto.begin(), kyoto.end(), "a-003"), kyoto.end());
}

TEST(Searcher, ReopenSeesANewVersion) {
    testing::TempDir dir;
    auto build = [&](std::vector<indexer::Record> records) {
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
        ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    };
    auto record = [](std::string id, std::string title) {
        indexer::Record r;
        r.id = std::move(id);
        r.title = std::move(title);
        r.visibility = "public";
        return r;
    };
    build({record("one", "first version")});
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(search(*s, "second").total, 0u);
    build({record("two", "second version")});
    auto changed = s->reopen();
    ASSERT_TRUE(changed);
    EXPECT_TRUE(*changed);
    EXPECT_EQ(ids(search(*s, "second")), std::vector<std::string>{"two"});
    EXPECT_FALSE(*s->reopen());
}

TEST(Searcher, ATypoIsCorrectedWithTheWordsOfTheReopenedRevision) {
    // "zebqa" is a substitution away from "zebra": only the spelling table finds it. The first
    // revision has no zebra, and what the searcher remembers of it must not outlive it.
    testing::TempDir dir;
    auto sources_of = [](std::vector<indexer::Record> records) {
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
        return sources;
    };
    ASSERT_TRUE(indexer::build_index(dir.path(),
                                     sources_of({english_note("a", "A horse in the field.")}), {}));
    auto s = Searcher::open(dir.path());
    ASSERT_TRUE(s);
    for (int twice = 0; twice < 2; ++twice)
        EXPECT_TRUE(search(*s, "zebqa").corrected.empty());
    ASSERT_TRUE(indexer::update_index(
        dir.path(), sources_of({english_note("b", "A zebra in the field.")}), {}));
    auto changed = s->reopen();
    ASSERT_TRUE(changed && *changed);
    const SearchResult r = search(*s, "zebqa");
    EXPECT_EQ(r.corrected, (std::map<std::string, std::string>{{"zebqa", "zebra"}}));
    EXPECT_EQ(ids(r), std::vector<std::string>{"b"});
}

TEST(SpellingSuggestions, AsksTheDatabaseOnceAWordUntilCleared) {
    testing::TempDir dir; // the in-memory backend has no spelling table
    Xapian::WritableDatabase db((dir.path() / "db").string(), Xapian::DB_CREATE);
    db.add_spelling("photography");
    db.commit();
    SpellingSuggestions suggestions(db);
    EXPECT_EQ(suggestions("photogrqphy", 2), "photography");
    EXPECT_EQ(suggestions("photogrqphy", 2), "photography");
    EXPECT_EQ(suggestions("zzzzzz", 1), "");
    EXPECT_EQ(suggestions("zzzzzz", 1), "");
    EXPECT_EQ(suggestions.lookups(), 2u);
    // The edit limit is part of the question: one edit is not enough for two slips.
    EXPECT_EQ(suggestions("photogrqpyh", 1), "");
    EXPECT_EQ(suggestions("photogrqpyh", 2), "photography");
    EXPECT_EQ(suggestions.lookups(), 4u);
    suggestions.clear();
    EXPECT_EQ(suggestions("photogrqphy", 2), "photography");
    EXPECT_EQ(suggestions.lookups(), 5u);
}

TEST(Searcher, ExactFormIsOptionalOnlyWhereEveryDocumentSharesTheQuerysLanguage) {
    auto record = [](std::string id, std::string lang, std::string body) {
        indexer::Record r;
        r.id = id;
        r.title = "note " + id;
        r.lang = std::move(lang);
        r.body = std::move(body);
        r.visibility = "public";
        return r;
    };
    const std::vector<indexer::Record> english = {
        record("e1", "en", "Running shoes for running on trails."),
        record("e2", "en", "She runs every morning; a runner's diary."),
        record("e3", "en", "The running order of the concert."),
        record("e4", "en", "Shoes, socks and a rain jacket.")};
    auto build = [](const testing::TempDir& dir, std::vector<indexer::Record> records) {
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
        ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    };
    testing::TempDir one_language, mixed;
    build(one_language, english);
    auto with_japanese = english;
    with_japanese.push_back(record("j1", "ja", "ランニング running の記録"));
    build(mixed, with_japanese);

    // Over the English index, the optional exact form gives exactly what OR gives.
    const Xapian::Database db(layout::resolve_database(one_language.path()).string());
    analyzers::Analyzer analyzer;
    for (const char* q : {"running shoes", "runs", "running order", "runner rain"}) {
        std::vector<std::pair<std::string, double>> results[2];
        for (int optional = 0; optional < 2; ++optional) {
            ParseOptions po;
            po.lang = "en";
            po.index_language = optional ? "en" : "";
            auto parsed = parse_query(q, analyzer, po);
            ASSERT_TRUE(parsed) << q;
            EXPECT_EQ(parsed->query.get_description().find("AND_MAYBE") != std::string::npos,
                      optional == 1)
                << parsed->query.get_description();
            Xapian::Enquire enquire(db);
            enquire.set_query(parsed->query);
            enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
            const Xapian::MSet mset = enquire.get_mset(0, 10);
            for (auto m = mset.begin(); m != mset.end(); ++m)
                results[optional].emplace_back(m.get_document().get_value(schema::slot_id),
                                               m.get_weight());
        }
        ASSERT_EQ(results[0].size(), results[1].size()) << q;
        ASSERT_FALSE(results[0].empty()) << q;
        for (std::size_t i = 0; i < results[0].size(); ++i) {
            EXPECT_EQ(results[0][i].first, results[1][i].first) << q;
            EXPECT_NEAR(results[0][i].second, results[1][i].second, 1e-12) << q;
        }
    }

    // With the index's term frequencies, an exact form that is in every document of its stem
    // ("shoes": both shoe pages say "shoes") is left out, since no page has only a variant;
    // one whose stem has other forms ("running", beside "runs") stays.
    auto terms_of = [&](const char* q, TermFrequencies* stats) {
        ParseOptions po;
        po.lang = "en";
        po.index_language = "en";
        po.term_stats = stats;
        auto parsed = parse_query(q, analyzer, po);
        EXPECT_TRUE(parsed) << q;
        return parsed ? std::set<std::string>(parsed->query.get_unique_terms_begin(),
                                              parsed->query.get_unique_terms_end())
                      : std::set<std::string>();
    };
    EXPECT_EQ(terms_of("running shoes", nullptr),
              (std::set<std::string>{"Zrun", "Zshoe", "running", "shoes"}));
    TermFrequencies stats(db);
    EXPECT_EQ(terms_of("running shoes", &stats),
              (std::set<std::string>{"Zrun", "Zshoe", "running"}));
    // Remembered frequencies are the index's, also past the bound on how many it keeps.
    TermFrequencies two(db, 2);
    for (int round = 0; round < 2; ++round)
        for (const char* term : {"Zrun", "running", "shoes", "Zshoe", "absent"})
            EXPECT_EQ(two(term), db.get_termfreq(term)) << term;

    // The searcher knows which index is which: the Japanese page has only the exact form of
    // "running" (Japanese has no stemmer), and is still found by an English query.
    auto english_searcher = Searcher::open(one_language.path());
    auto mixed_searcher = Searcher::open(mixed.path());
    ASSERT_TRUE(english_searcher && mixed_searcher);
    SearchRequest req;
    req.q = "running";
    req.lang = "en";
    const auto english_hits = ids(search(*english_searcher, req));
    ASSERT_EQ(english_hits.size(), 3u);
    EXPECT_EQ(english_hits[2], "e2"); // "runs" only: below both pages that say "running"
    auto found = ids(search(*mixed_searcher, req));
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found, (std::vector<std::string>{"e1", "e2", "e3", "j1"}));
}

TEST(Searcher, AnUpdateThatAddsAVariantBringsTheExactFormBack) {
    auto sources_of = [](std::vector<indexer::Record> records) {
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
        return sources;
    };
    testing::TempDir dir;
    ASSERT_TRUE(indexer::build_index(dir.path(),
                                     sources_of({english_note("e1", "Running shoes for trails."),
                                                 english_note("e2", "Shoes, socks and a jacket.")}),
                                     {}));
    auto searcher = Searcher::open(dir.path());
    ASSERT_TRUE(searcher);
    SearchRequest req;
    req.q = "shoes";
    req.lang = "en";
    req.snippets = false;
    EXPECT_EQ(search(*searcher, req).total, 2u); // "shoes" is in every page of its stem

    // A page with only "shoe" is added in place: the searcher's remembered frequencies are of
    // the old revision, and must not leave the exact form out any more.
    ASSERT_TRUE(
        indexer::update_index(dir.path(), sources_of({english_note("e3", "One shoe.")}), {}));
    auto changed = searcher->reopen();
    ASSERT_TRUE(changed && *changed);
    const SearchResult found = search(*searcher, req);

    // The scores of the query with the exact form, over the updated index.
    const Xapian::Database db(layout::resolve_database(dir.path()).string());
    analyzers::Analyzer analyzer;
    ParseOptions po;
    po.lang = "en";
    po.index_language = "en";
    TermFrequencies stats(db);
    po.term_stats = &stats;
    auto parsed = parse_query(req.q, analyzer, po);
    ASSERT_TRUE(parsed);
    const std::set<std::string> terms(parsed->query.get_unique_terms_begin(),
                                      parsed->query.get_unique_terms_end());
    ASSERT_EQ(terms, (std::set<std::string>{"Zshoe", "shoes"}));
    Xapian::Enquire enquire(db);
    enquire.set_query(parsed->query);
    enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
    const Xapian::MSet mset = enquire.get_mset(0, 10);
    ASSERT_EQ(found.hits.size(), mset.size());
    auto m = mset.begin();
    for (const Hit& hit : found.hits) {
        EXPECT_EQ(hit.id, m.get_document().get_value(schema::slot_id));
        EXPECT_NEAR(hit.score, m.get_weight(), 1e-12) << hit.id;
        ++m;
    }
    EXPECT_EQ(found.hits.back().id, "e3"); // the variant ranks below the exact word
}

TEST(Searcher, HitsOfAnIndexWithAStoredFieldsDictionaryShowTheirFields) {
    // Enough documents for `index build` to train a dictionary (indexer/index_writer.cc).
    std::vector<indexer::Record> records;
    for (int i = 0; i < 300; ++i) {
        indexer::Record r;
        r.id = "n" + std::to_string(i);
        r.title = "Note " + std::to_string(i);
        r.lang = "en";
        r.body = "Field notes " + std::to_string(i * 7919) + " on the heron " +
                 std::to_string(i % 29) + " seen near the river mouth.";
        r.visibility = "public";
        records.push_back(std::move(r));
    }
    testing::TempDir dir;
    std::vector<std::unique_ptr<indexer::Source>> sources;
    sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
    ASSERT_TRUE(indexer::build_index(dir.path(), std::move(sources), {}));
    ASSERT_NE(Xapian::Database(layout::resolve_database(dir.path()).string())
                  .get_metadata(schema::stored_dictionary_key),
              "");
    auto searcher = Searcher::open(dir.path());
    ASSERT_TRUE(searcher);
    SearchRequest req;
    req.q = "heron";
    const SearchResult found = search(*searcher, req);
    ASSERT_EQ(found.hits.size(), 10u);
    for (const Hit& hit : found.hits) {
        EXPECT_TRUE(hit.title.starts_with("Note ")) << hit.id;
        EXPECT_EQ(hit.title, "Note " + hit.id.substr(1));
        EXPECT_NE(hit.snippet.find("<mark>heron</mark>"), std::string::npos) << hit.snippet;
    }
}

TEST(Searcher, MissingIndexIsUnavailable) {
    testing::TempDir dir;
    auto s = Searcher::open(dir.path() / "nothing");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::index_unavailable);
}

TEST(Metrics, MatchHandComputedValues) {
    const Judgments judged = {{"a", 1}, {"b", 1}, {"z", 0}};
    const std::vector<std::string> ranked = {"x", "a", "y", "b"};
    // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
    const double dcg = 1 / std::log2(3.0) + 1 / std::log2(5.0);
    EXPECT_NEAR(ndcg_at(ranked, judged, 10), dcg / (1 + 1 / std::log2(3.0)), 1e-12);
    EXPECT_NEAR(ndcg_at(ranked, judged, 1), 0.0, 1e-12);
    EXPECT_DOUBLE_EQ(recall_at(ranked, judged, 2), 0.5);
    EXPECT_DOUBLE_EQ(recall_at(ranked, judged, 100), 1.0);
    EXPECT_DOUBLE_EQ(mrr_at(ranked, judged, 10), 0.5);
    EXPECT_DOUBLE_EQ(mrr_at(ranked, judged, 1), 0.0);
}

} // namespace
} // namespace mixi::query

namespace mixi::query {
namespace {

/// Ranks "camera OR photography OR light" in `s` without views and then with a million views
/// (from JP, the searcher's region) of its weakest match and of a photo it does not match, and
/// checks what the views changed and what explain says each score is made of.
void check_views_reorder_matches_but_never_add_ones(Searcher& s) {
    SearchRequest req;
    req.q = "camera OR photography OR light";
    req.per_page = 100;
    req.explain = true;
    const SearchResult text = search(s, req);
    ASSERT_GE(text.hits.size(), 3u);
    const std::string last = text.hits.back().id;
    std::map<std::string, double> text_scores;
    for (const Hit& h : text.hits)
        text_scores[h.id] = h.score;

    auto pop = std::make_shared<Popularity>();
    pop->add(last, "JP", 1e6);    // the weakest match, very popular
    pop->add("p-001", "JP", 1e6); // a photo that does not match these words
    req.popularity = pop;
    req.region = "JP";
    const SearchResult ranked = search(s, req);
    // Same matches, same estimate; the popular one moved up by at most both weights.
    EXPECT_EQ(ranked.total, text.total);
    auto sorted = [](std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    };
    EXPECT_EQ(sorted(ids(ranked)), sorted(ids(text)));
    const auto ranked_ids = ids(ranked);
    EXPECT_EQ(std::count(ranked_ids.begin(), ranked_ids.end(), "p-001"), 0);
    // A million views at the default weights (2) and saturation (50), by hand.
    const double boost = 2.0 * 1e6 / (1e6 + 50);
    for (const Hit& h : ranked.hits) {
        ASSERT_TRUE(h.explain);
        // Every part is measured on its own: the text score is the one without views.
        EXPECT_NEAR(h.explain->text, text_scores[h.id], 1e-9) << h.id;
        EXPECT_NEAR(h.explain->text + h.explain->popularity + h.explain->region +
                        h.explain->language,
                    h.score, 1e-9)
            << h.id;
        EXPECT_EQ(h.explain->language, 0);
        if (h.id == last) {
            EXPECT_EQ(h.explain->views, 1e6);
            EXPECT_EQ(h.explain->region_views, 1e6);
            EXPECT_NEAR(h.explain->popularity, boost, 1e-12);
            EXPECT_NEAR(h.explain->region, boost, 1e-12);
        } else {
            EXPECT_EQ(h.explain->popularity, 0);
            EXPECT_EQ(h.explain->region, 0);
        }
    }
}

TEST(Popularity, ViewsReorderMatchesButNeverAddOnes) {
    Searcher s = open_fixture();
    check_views_reorder_matches_but_never_add_ones(s);
}

TEST(Popularity, ViewsReorderMatchesButNeverAddOnesOverShards) {
    // Views re-rank the text matches in the searcher (no posting source over shards).
    const std::string index = fixture_index().string();
    auto s = Searcher::open_shards({index, index});
    ASSERT_TRUE(s) << s.error().message;
    check_views_reorder_matches_but_never_add_ones(*s);
}

TEST(Popularity, ExplainReportsTheLanguageBoostOfMatchesInThePreferredLanguage) {
    Searcher s = open_fixture();
    SearchRequest req;
    req.q = "camera OR photography OR light";
    req.per_page = 100;
    req.explain = true;
    const SearchResult text = search(s, req);
    std::map<std::string, double> text_scores;
    for (const Hit& h : text.hits)
        text_scores[h.id] = h.score;
    req.preferred_lang = "en-GB";
    const SearchResult ranked = search(s, req);
    ASSERT_EQ(ranked.hits.size(), text.hits.size());
    int english = 0;
    for (const Hit& h : ranked.hits) {
        ASSERT_TRUE(h.explain);
        EXPECT_NEAR(h.explain->text, text_scores[h.id], 1e-9) << h.id;
        // RankingOptions::language_weight is 1 by default.
        EXPECT_EQ(h.explain->language, h.lang == "en" ? 1.0 : 0.0) << h.id;
        EXPECT_NEAR(h.explain->text + h.explain->language, h.score, 1e-9) << h.id;
        english += h.lang == "en";
    }
    EXPECT_GT(english, 0);
}

} // namespace
} // namespace mixi::query

namespace mixi::query {
namespace {

TEST(PrefixCompletions, KeepsTheMostFrequentWordsOfAShortPrefixAndScansItOnce) {
    Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
    // "apple" in 5 documents, "apricot" in 3, then 60 words in one each; "Zapple" (a stem)
    // and "banana" do not start with "a".
    for (int d = 0; d < 70; ++d) {
        Xapian::Document doc;
        if (d < 5)
            doc.add_term("apple");
        if (d < 3)
            doc.add_term("apricot");
        if (d < 60)
            doc.add_term(std::string(1, 'a').append(std::to_string(100 + d)));
        doc.add_term("Zapple");
        doc.add_term("banana");
        db.add_document(doc);
    }
    db.commit();
    PrefixCompletions completions(db);
    EXPECT_TRUE(PrefixCompletions::cached("a"));
    EXPECT_TRUE(PrefixCompletions::cached("abc"));
    EXPECT_FALSE(PrefixCompletions::cached("abcd"));
    EXPECT_FALSE(PrefixCompletions::cached(""));
    const auto& a = completions("a");
    ASSERT_EQ(a.size(), PrefixCompletions::kept);
    EXPECT_EQ(a[0], (std::pair<Xapian::doccount, std::string>{5, "apple"}));
    EXPECT_EQ(a[1], (std::pair<Xapian::doccount, std::string>{3, "apricot"}));
    // Then the words of one document, in term order: a100 ... a147.
    for (std::size_t i = 2; i < a.size(); ++i)
        EXPECT_EQ(a[i],
                  (std::pair<Xapian::doccount, std::string>{1, "a" + std::to_string(100 + i - 2)}));
    EXPECT_EQ(completions.scans(), 1u);
    completions("a");
    EXPECT_EQ(completions.scans(), 1u);
    EXPECT_TRUE(completions("x").empty());
    EXPECT_EQ(completions.scans(), 2u);
    completions.clear();
    completions("a");
    EXPECT_EQ(completions.scans(), 3u);

    // A search-as-you-type query expands a short prefix to the same words as Xapian's
    // wildcard (fewer than 50 start with "ap") and finds the same documents.
    analyzers::Analyzer analyzer;
    auto matches = [&](PrefixCompletions* c) {
        ParseOptions po;
        po.lang = "en";
        po.prefix = true;
        po.completions = c;
        auto parsed = parse_query("ap", analyzer, po);
        EXPECT_TRUE(parsed);
        Xapian::Enquire enquire(db);
        enquire.set_query(parsed->query);
        std::set<Xapian::docid> out;
        for (auto m : enquire.get_mset(0, 100))
            out.insert(m);
        return out;
    };
    const auto with_cache = matches(&completions);
    EXPECT_EQ(with_cache.size(), 5u);
    EXPECT_EQ(with_cache, matches(nullptr));
}

TEST(PrefixCompletions, AShortPrefixReadsABoundedNumberOfPostings) {
    // "all" in 40 documents, "and" in 30, "art" in 20, "axe" in 2: with room for 45 postings,
    // "a" expands to "all" (40) and "axe" (2), skipping the lists that no longer fit.
    Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
    for (int d = 0; d < 50; ++d) {
        Xapian::Document doc;
        for (auto [word, in] : {std::pair{"all", 40}, {"and", 30}, {"art", 20}, {"axe", 2}})
            if (d < in)
                doc.add_term(word);
        doc.add_term("filler");
        db.add_document(doc);
    }
    db.commit();
    PrefixCompletions completions(db);
    analyzers::Analyzer analyzer;
    ParseOptions po;
    po.lang = "en";
    po.prefix = true;
    po.completions = &completions;
    po.prefix_postings = 45;
    auto parsed = parse_query("a", analyzer, po);
    ASSERT_TRUE(parsed);
    std::set<std::string> terms(parsed->query.get_unique_terms_begin(),
                                parsed->query.get_unique_terms_end());
    EXPECT_TRUE(terms.contains("all"));
    EXPECT_TRUE(terms.contains("axe"));
    EXPECT_FALSE(terms.contains("and"));
    EXPECT_FALSE(terms.contains("art"));
    // Without the bound every word is read.
    po.prefix_postings = 1000;
    parsed = parse_query("a", analyzer, po);
    ASSERT_TRUE(parsed);
    terms = {parsed->query.get_unique_terms_begin(), parsed->query.get_unique_terms_end()};
    EXPECT_TRUE(terms.contains("and") && terms.contains("art")) << parsed->query.get_description();
}

} // namespace
} // namespace mixi::query
