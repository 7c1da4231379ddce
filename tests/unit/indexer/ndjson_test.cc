// Unit tests of NDJSON records: parse_ndjson_record and NdjsonSource.
#include "common/utf8.h"
#include "indexer/sources.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <string>
#include <variant>

namespace {

using mixi::indexer::DefaultVisibility;
using mixi::indexer::NdjsonSource;
using mixi::indexer::parse_ndjson_record;
using mixi::indexer::Record;
using mixi::indexer::SourceItem;
using mixi::indexer::SourceProblem;
using mixi::testing::TempDir;
using mixi::testing::write_file;

// Most tests check the fields of public records: these helpers read a record without a
// visibility as public, as `--default-visibility public` does.
Record expect_record(std::string_view line,
                     DefaultVisibility missing = DefaultVisibility::public_) {
    auto parsed = parse_ndjson_record(line, missing);
    if (auto* error = std::get_if<std::string>(&parsed)) {
        ADD_FAILURE() << "rejected: " << *error << "\n  line: " << line;
        return {};
    }
    return std::get<Record>(std::move(parsed));
}

std::string expect_error(std::string_view line,
                         DefaultVisibility missing = DefaultVisibility::public_) {
    auto parsed = parse_ndjson_record(line, missing);
    if (std::holds_alternative<Record>(parsed)) {
        ADD_FAILURE() << "accepted: " << line;
        return {};
    }
    return std::get<std::string>(parsed);
}

// ------------------------------------------------------------------- parse_ndjson_record

TEST(ParseNdjsonRecord, ValidRecordAllFields) {
    const Record r = expect_record(
        R"({"id": "p-001", "url": "https://example.social/photos/2001", "title": "東京都で撮った写真",)"
        R"( "body": "Night view", "type": "photo", "lang": "ja-JP", "published": "2024-05-17T09:30:00+09:00",)"
        R"( "tags": ["夜景", "Tokyo"], "author": "Haruka", "visibility": "public"})");
    EXPECT_EQ(r.id, "p-001");
    EXPECT_EQ(r.url, "https://example.social/photos/2001");
    EXPECT_EQ(r.title, "東京都で撮った写真");
    EXPECT_EQ(r.body, "Night view");
    EXPECT_EQ(r.type, "photo");
    EXPECT_EQ(r.lang, "ja"); // reduced to the primary subtag
    EXPECT_EQ(r.published, "2024-05-17T09:30:00+09:00");
    EXPECT_EQ(r.tags, (std::vector<std::string>{"夜景", "Tokyo"}));
    EXPECT_EQ(r.author, "Haruka"); // folding happens later, in the document builder
    EXPECT_EQ(r.visibility, "public");
    EXPECT_TRUE(mixi::indexer::is_public(r));
}

TEST(ParseNdjsonRecord, Defaults) {
    const Record r = expect_record(R"({"id": "x-1"})");
    EXPECT_EQ(r.id, "x-1");
    EXPECT_EQ(r.type, "article");
    EXPECT_EQ(r.visibility, "public");
    EXPECT_EQ(r.lang, "");
    EXPECT_EQ(r.published, "");
    EXPECT_TRUE(r.tags.empty());

    // null counts as absent (but not for visibility); an empty type means article.
    const Record n = expect_record(
        R"({"id": "x-2", "title": null, "tags": null, "type": "", "visibility": "public"})");
    EXPECT_EQ(n.type, "article");
    EXPECT_EQ(n.title, "");
    EXPECT_EQ(n.visibility, "public");
}

TEST(ParseNdjsonRecord, IdIsTrimmed) {
    EXPECT_EQ(expect_record(R"({"id": "  a-1 \t"})").id, "a-1");
}

TEST(ParseNdjsonRecord, NonPublicVisibilityIsKept) {
    const Record r = expect_record(R"({"id": "a-011", "visibility": "private"})");
    EXPECT_EQ(r.visibility, "private");
    EXPECT_FALSE(mixi::indexer::is_public(r));
    EXPECT_FALSE(
        mixi::indexer::is_public(expect_record(R"({"id": "v", "visibility": "friends"})")));
}

TEST(ParseNdjsonRecord, MissingId) {
    EXPECT_NE(expect_error(R"({"title": "no id"})").find("id"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": "", "title": "empty id"})").find("id"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": "   "})").find("id"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": null})").find("id"), std::string::npos);
}

TEST(ParseNdjsonRecord, IdAsNumber) {
    EXPECT_EQ(expect_record(R"({"id": 42, "title": "numbered"})").id, "42");
    EXPECT_EQ(expect_record(R"({"id": 18446744073709551615})").id, "18446744073709551615");
    // Only integers: a fractional or boolean id is an error.
    EXPECT_NE(expect_error(R"({"id": 4.5})").find("id"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": true})").find("id"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": ["a"]})").find("id"), std::string::npos);
}

TEST(ParseNdjsonRecord, FieldsOfWrongType) {
    EXPECT_NE(expect_error(R"({"id": "a", "title": 5})").find("title"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": "a", "body": {"x": 1}})").find("body"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": "a", "url": 5})").find("url"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": "a", "author": ["x"]})").find("author"), std::string::npos);
    // A visibility of the wrong type is not public (a removal), not an error: see below.
    EXPECT_FALSE(mixi::indexer::is_public(expect_record(R"({"id": "a", "visibility": false})")));
}

TEST(ParseNdjsonRecord, VisibilityIsReadFirstAndAnythingButPublicIsARemoval) {
    // Every field but the id is bad: a record that is not public still comes out, with its id
    // only, so that `index update` takes its old public copy out of the index.
    const std::string bad_fields = R"("title": 5, "body": ["x"], "type": "podcast", )"
                                   R"("lang": "??", "published": "yesterday", "tags": "t")";
    for (const char* visibility :
         {R"("private")", R"("friends")", R"("Public")", R"(" public")", R"("")", "null", "0",
          "false", R"({"v": "public"})", R"(["public"])"}) {
        for (const auto missing : {DefaultVisibility::private_, DefaultVisibility::public_}) {
            const std::string line = std::string(R"({"id": " a-1 ", "visibility": )") + visibility +
                                     ", " + bad_fields + "}";
            auto parsed = parse_ndjson_record(line, missing);
            ASSERT_TRUE(std::holds_alternative<Record>(parsed))
                << line << ": " << std::get<std::string>(parsed);
            const Record& r = std::get<Record>(parsed);
            EXPECT_EQ(r.id, "a-1") << line;
            EXPECT_FALSE(mixi::indexer::is_public(r)) << line;
            EXPECT_FALSE(r.visibility.empty()) << line << ": given, so not counted as missing";
            EXPECT_EQ(r.title, "") << line;
            EXPECT_EQ(r.body, "") << line;
        }
    }
    // The one-argument form too (what the fuzz target and older callers use).
    auto parsed = parse_ndjson_record(R"({"id": "b", "visibility": null, "type": "podcast"})");
    ASSERT_TRUE(std::holds_alternative<Record>(parsed));
    EXPECT_FALSE(mixi::indexer::is_public(std::get<Record>(parsed)));
    // Without a usable id nothing can be removed: still a problem.
    EXPECT_NE(expect_error(R"({"visibility": "private"})").find("id"), std::string::npos);
    // Exactly "public" is public, and then the other fields must be right.
    EXPECT_NE(
        expect_error(R"({"id": "c", "visibility": "public", "type": "podcast"})").find("podcast"),
        std::string::npos);
}

TEST(ParseNdjsonRecord, MissingVisibilityIsPrivateUnlessTheRunSaysPublic) {
    // By default a record without a visibility is not public, whatever its other fields.
    for (const char* line : {R"({"id": "m-1", "title": "kept out"})",
                             R"({"id": "m-2", "type": "podcast", "published": "soon"})"}) {
        auto parsed = parse_ndjson_record(line);
        ASSERT_TRUE(std::holds_alternative<Record>(parsed)) << line;
        const Record& r = std::get<Record>(parsed);
        EXPECT_FALSE(mixi::indexer::is_public(r)) << line;
        EXPECT_EQ(r.visibility, "") << line << ": counted as missing";
        EXPECT_EQ(r.title, "") << line;
    }
    // With the default public, it is public and its fields are checked.
    const Record r =
        expect_record(R"({"id": "m-1", "title": "let in"})", DefaultVisibility::public_);
    EXPECT_TRUE(mixi::indexer::is_public(r));
    EXPECT_EQ(r.title, "let in");
    EXPECT_NE(expect_error(R"({"id": "m-2", "type": "podcast"})", DefaultVisibility::public_)
                  .find("podcast"),
              std::string::npos);
}

TEST(ParseNdjsonRecord, UnknownType) {
    const std::string error = expect_error(R"({"id": "a", "type": "podcast"})");
    EXPECT_NE(error.find("podcast"), std::string::npos) << error;
    expect_error(R"({"id": "a", "type": "Photo"})"); // case matters
    for (const char* t : {"article", "photo", "video", "comment"})
        EXPECT_EQ(expect_record(std::string(R"({"id": "a", "type": ")") + t + "\"}").type, t);
}

TEST(ParseNdjsonRecord, BadPublishedDate) {
    const std::string error = expect_error(R"({"id": "a", "published": "2024-13-01"})");
    EXPECT_NE(error.find("published"), std::string::npos) << error;
    expect_error(R"({"id": "a", "published": "yesterday"})");
    expect_error(R"({"id": "a", "published": "2023-02-29"})");
    expect_error(R"({"id": "a", "published": 2024})");
    EXPECT_EQ(expect_record(R"({"id": "a", "published": "2024"})").published, "2024");
}

TEST(ParseNdjsonRecord, BadLanguageTag) {
    const std::string error = expect_error(R"({"id": "a", "lang": "english"})");
    EXPECT_NE(error.find("lang"), std::string::npos) << error;
    EXPECT_EQ(expect_record(R"({"id": "a", "lang": "zh-Hans-CN"})").lang, "zh");
}

TEST(ParseNdjsonRecord, TagsNotArray) {
    const std::string error = expect_error(R"({"id": "a", "tags": "photography"})");
    EXPECT_NE(error.find("tags"), std::string::npos) << error;
    EXPECT_NE(expect_error(R"({"id": "a", "tags": ["ok", 3]})").find("tags"), std::string::npos);
    EXPECT_NE(expect_error(R"({"id": "a", "tags": {"a": "b"}})").find("tags"), std::string::npos);
    EXPECT_TRUE(expect_record(R"({"id": "a", "tags": []})").tags.empty());
}

TEST(ParseNdjsonRecord, NotAnObject) {
    for (const char* line : {"[1, 2, 3]", "\"a string\"", "42", "null", "true"}) {
        const std::string error = expect_error(line);
        EXPECT_NE(error.find("not a JSON object"), std::string::npos) << line << ": " << error;
    }
}

TEST(ParseNdjsonRecord, MalformedJson) {
    for (const char* line : {R"({"id": "a")", R"({"id": "a",})", "{id: 'a'}", "", "   ",
                             R"({"id": "a"} {"id": "b"})", "\x01\x02"}) {
        const std::string error = expect_error(line);
        EXPECT_NE(error.find("malformed JSON"), std::string::npos) << line << ": " << error;
    }
}

TEST(ParseNdjsonRecord, InvalidUtf8IsRepaired) {
    const Record r =
        expect_record("{\"id\": \"u-1\", \"title\": \"caf\xff\", \"body\": \"\xc3 ok\","
                      " \"tags\": [\"t\xfe\"]}");
    EXPECT_EQ(r.id, "u-1");
    EXPECT_EQ(r.title, "caf\xEF\xBF\xBD");
    EXPECT_EQ(r.body, "\xEF\xBF\xBD ok");
    EXPECT_EQ(r.tags, (std::vector<std::string>{"t\xEF\xBF\xBD"}));
    EXPECT_TRUE(mixi::is_valid_utf8(r.title));
}

TEST(ParseNdjsonRecord, EscapesAreDecoded) {
    const Record r = expect_record(R"({"id": "e", "title": "line\nbreak \u6771\u4eac \"q\""})");
    EXPECT_EQ(r.title, "line\nbreak 東京 \"q\"");
}

TEST(IsKnownType, Types) {
    EXPECT_TRUE(mixi::indexer::is_known_type("article"));
    EXPECT_TRUE(mixi::indexer::is_known_type("comment"));
    EXPECT_FALSE(mixi::indexer::is_known_type("Article"));
    EXPECT_FALSE(mixi::indexer::is_known_type(""));
}

// -------------------------------------------------------------------------- NdjsonSource

std::vector<SourceItem> drain(mixi::indexer::Source& source) {
    std::vector<SourceItem> items;
    while (auto item = source.next()) {
        items.push_back(std::move(*item));
        if (items.size() > 1000)
            break; // a source that never ends is a failure, not a hang
    }
    return items;
}

TEST(NdjsonSource, GoodAndBadLinesWithLineNumbers) {
    TempDir tmp;
    const auto path = tmp.path() / "mixed.ndjson";
    const std::string content = "{\"id\": \"a\", \"title\": \"First\"}\n"   // 1 good
                                "\n"                                        // 2 blank
                                "{\"id\": \"b\", \"title\": \n"             // 3 malformed
                                "{\"id\": \"c\", \"title\": \"Third\"}\r\n" // 4 good, CRLF
                                "   \t \n"                                  // 5 blank (spaces)
                                "\r\n"                                      // 6 blank (CRLF)
                                "{\"title\": \"no id\"}\r\n"                // 7 missing id
                                "{\"id\": \"d\", \"type\": \"podcast\"}\n"  // 8 unknown type
                                "{\"id\": \"e\", \"title\": \"Last\"}"; // 9 good, no final newline
    write_file(path, content);
    NdjsonSource source(path, DefaultVisibility::public_); // field checks apply to public ones
    EXPECT_EQ(source.total(), content.size());
    const auto items = drain(source);
    ASSERT_EQ(items.size(), 6u);

    auto record = [&](std::size_t i) -> const Record& { return std::get<Record>(items.at(i)); };
    auto problem = [&](std::size_t i) -> const SourceProblem& {
        return std::get<SourceProblem>(items.at(i));
    };
    ASSERT_TRUE(std::holds_alternative<Record>(items[0]));
    EXPECT_EQ(record(0).id, "a");
    EXPECT_EQ(record(0).title, "First");
    ASSERT_TRUE(std::holds_alternative<SourceProblem>(items[1]));
    EXPECT_EQ(problem(1).where, path.string() + ":3");
    EXPECT_NE(problem(1).reason.find("malformed JSON"), std::string::npos) << problem(1).reason;
    ASSERT_TRUE(std::holds_alternative<Record>(items[2]));
    EXPECT_EQ(record(2).id, "c");
    EXPECT_EQ(record(2).title, "Third"); // no stray \r
    ASSERT_TRUE(std::holds_alternative<SourceProblem>(items[3]));
    EXPECT_EQ(problem(3).where, path.string() + ":7");
    EXPECT_NE(problem(3).reason.find("id"), std::string::npos);
    ASSERT_TRUE(std::holds_alternative<SourceProblem>(items[4]));
    EXPECT_EQ(problem(4).where, path.string() + ":8");
    EXPECT_NE(problem(4).reason.find("podcast"), std::string::npos);
    ASSERT_TRUE(std::holds_alternative<Record>(items[5]));
    EXPECT_EQ(record(5).id, "e");
    EXPECT_EQ(record(5).title, "Last");

    EXPECT_FALSE(source.next().has_value()); // stays at the end
    EXPECT_GE(source.done(), source.total());
}

TEST(NdjsonSource, EmptyFile) {
    TempDir tmp;
    const auto path = tmp.path() / "empty.ndjson";
    write_file(path, "");
    NdjsonSource source(path);
    EXPECT_FALSE(source.next().has_value());
    EXPECT_EQ(source.total(), 0u);
}

TEST(NdjsonSource, MissingFileIsAProblem) {
    TempDir tmp;
    const auto path = tmp.path() / "does-not-exist.ndjson";
    NdjsonSource source(path);
    auto first = source.next();
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(std::holds_alternative<SourceProblem>(*first));
    EXPECT_EQ(std::get<SourceProblem>(*first).where, path.string());
    EXPECT_FALSE(std::get<SourceProblem>(*first).reason.empty());
    EXPECT_FALSE(source.next().has_value());
    EXPECT_FALSE(source.next().has_value());
    EXPECT_EQ(source.total(), 0u);
}

TEST(NdjsonSource, SampleFile) {
    NdjsonSource source(mixi::testing::sample_ndjson());
    const auto items = drain(source);
    ASSERT_EQ(items.size(), 40u);
    std::size_t public_records = 0;
    for (const auto& item : items) {
        ASSERT_TRUE(std::holds_alternative<Record>(item));
        public_records += mixi::indexer::is_public(std::get<Record>(item)) ? 1 : 0;
    }
    EXPECT_EQ(public_records, mixi::testing::kSamplePublic);
    EXPECT_EQ(std::get<Record>(items.front()).id, "a-001");
    EXPECT_EQ(std::get<Record>(items.back()).id, "c-010");
    EXPECT_EQ(source.done(), source.total());
}

TEST(NdjsonSource, RecordsWithoutVisibilityAreNotPublicUnlessTheDefaultIsPublic) {
    TempDir tmp;
    const auto path = tmp.path() / "in.ndjson";
    write_file(path, "{\"id\": \"a\", \"title\": \"no visibility\"}\n"
                     "{\"id\": \"b\", \"visibility\": null}\n"
                     "{\"id\": \"c\", \"visibility\": \"public\"}\n");
    for (const auto missing : {DefaultVisibility::private_, DefaultVisibility::public_}) {
        std::vector<std::string> public_ids;
        for (const auto& item : drain(*mixi::indexer::open_source(path, missing)))
            if (const auto* r = std::get_if<Record>(&item); r && mixi::indexer::is_public(*r))
                public_ids.push_back(r->id);
        EXPECT_EQ(public_ids, missing == DefaultVisibility::public_
                                  ? (std::vector<std::string>{"a", "c"})
                                  : (std::vector<std::string>{"c"}));
    }
}

TEST(OpenSource, FileIsNdjson) {
    auto source = mixi::indexer::open_source(mixi::testing::sample_ndjson());
    ASSERT_TRUE(source);
    auto first = source->next();
    ASSERT_TRUE(first && std::holds_alternative<Record>(*first));
    EXPECT_EQ(std::get<Record>(*first).id, "a-001");
}

} // namespace
