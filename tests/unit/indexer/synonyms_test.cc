#include "indexer/synonyms.h"
#include "test_util.h"

#include <gtest/gtest.h>

namespace mixi::indexer {
namespace {

using testing::build_sample;
using testing::open_current;
using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

SynonymSet parse_ok(std::string_view text) {
    analyzers::Analyzer analyzer;
    auto set = parse_synonyms(text, "synonyms.txt", analyzer);
    EXPECT_TRUE(set) << (set ? "" : set.error().message);
    return set ? *set : SynonymSet{};
}

std::string parse_error(std::string_view text) {
    analyzers::Analyzer analyzer;
    auto set = parse_synonyms(text, "synonyms.txt", analyzer);
    EXPECT_FALSE(set);
    if (set)
        return {};
    EXPECT_EQ(set.error().code, ErrorCode::invalid_input);
    return set.error().message;
}

TEST(ParseSynonyms, GroupsOneWayCommentsAndBlankLines) {
    const SynonymSet set = parse_ok("# the team's synonyms\n"
                                    "\n"
                                    "写真, フォト, Photo   # every way\n"
                                    "  TV => Television, telly\n"
                                    "\r\n");
    const SynonymSet expected = {
        {"写真", {"フォト", "photo"}},
        {"フォト", {"写真", "photo"}},
        {"photo", {"写真", "フォト"}},
        {"tv", {"television", "telly"}},
    };
    EXPECT_EQ(set, expected);
}

TEST(ParseSynonyms, WordsAreFoldedAsQueriesAreAndAWordIsNeverItsOwnSynonym) {
    // NFKC case folding: full-width Latin and half-width katakana fold to the forms a query has.
    const SynonymSet set = parse_ok("ＰＨＯＴＯ, ﾌｫﾄ, photo\n");
    const SynonymSet expected = {{"photo", {"フォト"}}, {"フォト", {"photo"}}};
    EXPECT_EQ(set, expected);
}

TEST(ParseSynonyms, GroupsThatShareAWordAreMerged) {
    const SynonymSet set = parse_ok("car, auto\ncar, automobile\n");
    EXPECT_EQ(set.at("car"), (std::set<std::string>{"auto", "automobile"}));
    EXPECT_EQ(set.at("auto"), (std::set<std::string>{"car"}));
}

TEST(ParseSynonyms, ErrorsNameFileAndLine) {
    EXPECT_EQ(parse_error("a, b\nnew york, nyc\n"),
              "synonyms.txt:2: \"new york\" is more than one word (\"new\", \"york\"): a query "
              "term is one word, so a synonym must be one");
    EXPECT_EQ(parse_error("lonely\n"),
              "synonyms.txt:1: a group needs two words or more, separated by commas (or \"word "
              "=> word\" for one way)");
    EXPECT_EQ(parse_error("a,,b"), "synonyms.txt:1: an empty entry (two commas, or a comma at an "
                                   "end)");
    EXPECT_EQ(parse_error("=> b"), "synonyms.txt:1: no word before \"=>\"");
    EXPECT_EQ(parse_error("a =>"), "synonyms.txt:1: no word after \"=>\"");
    EXPECT_EQ(parse_error("a => b => c"), "synonyms.txt:1: more than one \"=>\" on a line");
    EXPECT_EQ(parse_error("a, ..."), "synonyms.txt:1: \"...\" has no word to search for");
    EXPECT_EQ(parse_error("a, \xff\xfe"), "synonyms.txt:1: an entry is not valid UTF-8");
    EXPECT_EQ(parse_error("a, " + std::string(81, 'x')),
              "synonyms.txt:1: an entry is longer than 80 bytes");
}

TEST(ParseSynonyms, ALineHoldsAtMostAHundredWords) {
    std::string line = "w0";
    for (int i = 1; i < 100; ++i)
        line += ", w" + std::to_string(i);
    EXPECT_EQ(parse_ok(line).size(), 100u);
    EXPECT_EQ(parse_error(line + ", w100\n"),
              "synonyms.txt:1: more than 100 words (split the group)");
    // Ten thousand words on a line: refused at once, never ten million pairs.
    std::string huge = "a";
    for (int i = 0; i < 10000; ++i)
        huge += ", b" + std::to_string(i);
    EXPECT_EQ(parse_error("x => " + huge), "synonyms.txt:1: more than 100 words (split the group)");
}

TEST(ParseSynonyms, EveryBadLineIsReportedUpToTwenty) {
    std::string text;
    for (int i = 0; i < 25; ++i)
        text += "good, fine\nbad\n";
    const std::string message = parse_error(text);
    EXPECT_NE(message.find("synonyms.txt:2: "), std::string::npos);
    EXPECT_NE(message.find("synonyms.txt:40: "), std::string::npos);
    EXPECT_EQ(message.find("synonyms.txt:42: "), std::string::npos);
    EXPECT_NE(message.find("... and 5 more"), std::string::npos) << message;
}

TEST(ParseSynonyms, FormatReadsBackAsTheSameSet) {
    const SynonymSet set = parse_ok("写真, フォト, photo\ntv => television\n");
    EXPECT_EQ(parse_ok(format_synonyms(set)), set);
    EXPECT_EQ(parse_ok(""), SynonymSet{});
}

TEST(Synonyms, ReplaceReadAndDeleteInTheIndex) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    build_sample(dir);
    auto empty = read_synonyms(dir);
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_TRUE(empty->empty());

    const SynonymSet set = parse_ok("写真, フォト, photo\ntv => television\n");
    ASSERT_TRUE(replace_synonyms(dir, set));
    EXPECT_EQ(*read_synonyms(dir), set);
    // In Xapian's own synonym table, where query/ reads it.
    Xapian::Database db = open_current(dir);
    std::set<std::string> of_tv(db.synonyms_begin("tv"), db.synonyms_end("tv"));
    EXPECT_EQ(of_tv, (std::set<std::string>{"television"}));

    // An import replaces the whole set.
    const SynonymSet other = parse_ok("car, auto\n");
    ASSERT_TRUE(replace_synonyms(dir, other));
    EXPECT_EQ(*read_synonyms(dir), other);

    // A deleted word goes from its own entry and from the others'.
    ASSERT_TRUE(replace_synonyms(dir, set));
    auto deleted = delete_synonym(dir, "photo");
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_TRUE(*deleted);
    const SynonymSet after = {{"写真", {"フォト"}}, {"フォト", {"写真"}}, {"tv", {"television"}}};
    EXPECT_EQ(*read_synonyms(dir), after);
    // The last expansion of a word gone: the word goes too.
    ASSERT_TRUE(delete_synonym(dir, "television"));
    EXPECT_FALSE(read_synonyms(dir)->contains("tv"));
    auto missing = delete_synonym(dir, "nothing");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST(Synonyms, NoIndexIsNotFound) {
    TempDir tmp;
    auto read = read_synonyms(tmp.path() / "none");
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, ErrorCode::not_found);
    auto replaced = replace_synonyms(tmp.path() / "none", {{"a", {"b"}}});
    ASSERT_FALSE(replaced);
    EXPECT_EQ(replaced.error().code, ErrorCode::not_found);
}

TEST(Synonyms, EveryShardHoldsTheWholeSet) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    IndexOptions options;
    options.shards = 3;
    build_sample(dir, options);
    const SynonymSet set = parse_ok("写真, フォト, photo\n");
    ASSERT_TRUE(replace_synonyms(dir, set));
    for (unsigned i = 0; i < 3; ++i)
        EXPECT_EQ(synonyms_of(open_current(layout::shard_dir(dir, i))), set) << "shard " << i;
    ASSERT_TRUE(delete_synonym(dir, "photo"));
    for (unsigned i = 0; i < 3; ++i)
        EXPECT_FALSE(synonyms_of(open_current(layout::shard_dir(dir, i))).contains("photo"));
}

TEST(Synonyms, KeptByAFullBuildAndByTheCompactionAfterADelete) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    IndexOptions options;
    options.shards = 2;
    build_sample(dir, options);
    const SynonymSet set = parse_ok("写真, フォト, photo\ntv => television\n");
    ASSERT_TRUE(replace_synonyms(dir, set));

    const fs::path before = layout::resolve_database(layout::shard_dir(dir, 0));
    build_sample(dir, options); // a new version of every shard
    EXPECT_NE(layout::resolve_database(layout::shard_dir(dir, 0)), before);
    for (unsigned i = 0; i < 2; ++i)
        EXPECT_EQ(synonyms_of(open_current(layout::shard_dir(dir, i))), set) << "shard " << i;

    // A delete compacts the shard it removed from into a new version.
    const fs::path compacted = layout::resolve_database(layout::shard_dir(dir, 0));
    const fs::path other = layout::resolve_database(layout::shard_dir(dir, 1));
    auto deleted = delete_documents(dir, {"a-001"});
    ASSERT_TRUE(deleted);
    ASSERT_EQ(deleted->deleted.size(), 1u);
    EXPECT_TRUE(layout::resolve_database(layout::shard_dir(dir, 0)) != compacted ||
                layout::resolve_database(layout::shard_dir(dir, 1)) != other);
    EXPECT_EQ(*read_synonyms(dir), set);
    for (unsigned i = 0; i < 2; ++i)
        EXPECT_EQ(synonyms_of(open_current(layout::shard_dir(dir, i))), set) << "shard " << i;
}

TEST(Synonyms, AReplicaIsNeverWritten) {
    TempDir tmp;
    const fs::path primary = tmp.path() / "primary";
    build_sample(primary);
    const fs::path replica = tmp.path() / "replica";
    fs::create_directories(replica);
    fs::copy(layout::resolve_database(primary), replica / "replica_1");
    write_file(layout::replica_stub(replica), "auto replica_1\n");
    auto replaced = replace_synonyms(replica, {{"a", {"b"}}});
    ASSERT_FALSE(replaced);
    EXPECT_EQ(replaced.error().code, ErrorCode::read_only_copy);
    auto deleted = delete_synonym(replica, "a");
    ASSERT_FALSE(deleted);
    EXPECT_EQ(deleted.error().code, ErrorCode::read_only_copy);
    EXPECT_TRUE(read_synonyms(replica)); // read like the index it copies
}

} // namespace
} // namespace mixi::indexer
