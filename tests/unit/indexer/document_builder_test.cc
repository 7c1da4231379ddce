// Unit tests of DocumentBuilder: a record becomes a document laid out as common/schema.h says.
#include "common/dates.h"
#include "common/schema.h"
#include "common/stored_data.h"
#include "common/utf8.h"
#include "indexer/document_builder.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>
#include <xapian.h>

namespace {

using mixi::indexer::BuildOptions;
using mixi::indexer::DocumentBuilder;
using mixi::indexer::PreparedDocument;
using mixi::indexer::Record;

std::map<std::string, Xapian::termcount> wdfs(const Xapian::Document& doc) {
    std::map<std::string, Xapian::termcount> out;
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
        out[*t] = t.get_wdf();
    return out;
}

std::vector<Xapian::termpos> positions(const Xapian::Document& doc, const std::string& term) {
    std::vector<Xapian::termpos> out;
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
        if (*t != term)
            continue;
        for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p)
            out.push_back(*p);
    }
    return out;
}

Record english_record() {
    Record r;
    r.id = "a-001";
    r.url = "https://example.social/articles/101";
    r.title = "Running Photography";
    r.body = "Photographers running in 2024 with cameras.";
    r.type = "photo";
    r.lang = "en";
    r.published = "2024-03-12";
    r.tags = {"Photography", "ＴＩＰＳ"};
    r.author = "Emma_Lens";
    return r;
}

TEST(DocumentBuilder, BooleanTermsAndValues) {
    DocumentBuilder builder;
    const PreparedDocument out = builder.build(english_record());
    EXPECT_EQ(out.id_term, "Qa-001");
    const auto terms = wdfs(out.document);
    for (const char* t : {"Qa-001", "XTphoto", "Len", "Kphotography", "Ktips", "Aemma_lens"})
        EXPECT_TRUE(terms.contains(t)) << t;
    EXPECT_EQ(out.document.get_value(mixi::schema::slot_type), "photo");
    EXPECT_EQ(out.document.get_value(mixi::schema::slot_lang), "en");
    EXPECT_EQ(out.document.get_value(mixi::schema::slot_published),
              Xapian::sortable_serialise(static_cast<double>(*mixi::parse_date("2024-03-12"))));
}

TEST(DocumentBuilder, TitleBodyStemsAndWeights) {
    DocumentBuilder builder; // title_weight 2
    const PreparedDocument out = builder.build(english_record());
    const auto terms = wdfs(out.document);
    // Title words: unprefixed with the title weight, plus S-prefixed.
    EXPECT_EQ(terms.at("photography"), 2u);
    EXPECT_TRUE(terms.contains("Sphotography"));
    EXPECT_TRUE(terms.contains("Srunning"));
    // "running" is in the title (2) and the body (1).
    EXPECT_EQ(terms.at("running"), 3u);
    EXPECT_FALSE(terms.contains("Scameras")); // body words are not title words
    EXPECT_EQ(terms.at("cameras"), 1u);
    // English stems with Z.
    EXPECT_TRUE(terms.contains("Zrun"));
    EXPECT_TRUE(terms.contains("Zphotographi"));
    EXPECT_TRUE(terms.contains("Zcamera"));
    EXPECT_EQ(terms.at("Zrun"), 3u);
    EXPECT_TRUE(terms.contains("2024"));
    EXPECT_FALSE(terms.contains("Z2024")); // numbers are not stemmed
    // Body positions start after the offset, so no phrase spans title and body.
    EXPECT_EQ(positions(out.document, "photography"), (std::vector<Xapian::termpos>{2}));
    const auto body_pos = positions(out.document, "cameras");
    ASSERT_EQ(body_pos.size(), 1u);
    EXPECT_GT(body_pos[0], mixi::schema::body_position_offset);
    EXPECT_EQ(positions(out.document, "running"),
              (std::vector<Xapian::termpos>{1, 2 + mixi::schema::body_position_offset + 2}));
}

TEST(DocumentBuilder, ARecordWithoutLanguageIsStemmedInTheLanguageItIsWrittenIn) {
    DocumentBuilder builder;
    Record r = english_record();
    r.lang.clear();
    r.title = "Caminatas por las montañas";
    r.body = "Las montañas del norte son perfectas para hacer senderismo durante el verano.";
    const PreparedDocument spanish = builder.build(r);
    EXPECT_EQ(spanish.document.get_value(mixi::schema::slot_lang), "es");
    EXPECT_TRUE(wdfs(spanish.document).contains("Zmontañ")); // Spanish Snowball: montañas
    // Too short to tell: no stemmer rather than a wrong one.
    r.title = "ok";
    r.body = "nice";
    const PreparedDocument unknown = builder.build(r);
    EXPECT_EQ(unknown.document.get_value(mixi::schema::slot_lang), "und");
    for (const auto& [term, wdf] : wdfs(unknown.document))
        EXPECT_FALSE(term.starts_with("Z")) << term;
}

TEST(DocumentBuilder, TitleWeightOption) {
    DocumentBuilder builder(BuildOptions{.title_weight = 5});
    const auto terms = wdfs(builder.build(english_record()).document);
    EXPECT_EQ(terms.at("photography"), 5u);
    EXPECT_EQ(terms.at("cameras"), 1u);
}

TEST(DocumentBuilder, HeadingAndDescriptionWordsCountAsTitleWordsWithoutPositionsOfTheirOwn) {
    Record r = english_record();
    r.body = "Package management. Tools install cameras.";
    r.emphasis = "Package management";
    const auto terms = wdfs(DocumentBuilder().build(r).document); // emphasis_weight 2
    EXPECT_EQ(terms.at("package"), 2u);
    EXPECT_EQ(terms.at("Zmanag"), 2u);
    EXPECT_EQ(terms.at("cameras"), 1u);
    EXPECT_FALSE(terms.contains("Spackage")); // not a title word
    EXPECT_EQ(positions(DocumentBuilder().build(r).document, "package").size(), 1u);
    const auto plain = wdfs(DocumentBuilder(BuildOptions{.emphasis_weight = 1}).build(r).document);
    EXPECT_EQ(plain.at("package"), 1u);
}

TEST(DocumentBuilder, SpellingWords) {
    DocumentBuilder builder;
    Record r = english_record();
    r.body = "Cameras cameras mp3 a 2024 写真 photographers";
    const PreparedDocument out = builder.build(r);
    // Distinct words only: no numbers, no one-letter words, no CJK.
    EXPECT_EQ(out.spelling_words, (std::unordered_set<std::string>{"cameras", "photographers",
                                                                   "photography", "running"}));
}

TEST(DocumentBuilder, JapaneseBigramsAndNoStems) {
    DocumentBuilder builder;
    Record r;
    r.id = "p-001";
    r.title = "東京都で写真";
    r.body = "夜の渋谷";
    r.lang = "ja";
    const auto terms = wdfs(builder.build(r).document);
    EXPECT_TRUE(terms.contains("東京"));
    EXPECT_TRUE(terms.contains("S東京"));
    EXPECT_TRUE(terms.contains("写真"));
    EXPECT_TRUE(terms.contains("XB東京"));
    EXPECT_TRUE(terms.contains("XB京都"));
    EXPECT_TRUE(terms.contains("XB写真"));
    EXPECT_EQ(terms.at("XB京都"), 2u); // title weight
    EXPECT_TRUE(terms.contains("XB渋谷"));
    EXPECT_FALSE(terms.contains("XB真夜")); // title and body are separate runs
    EXPECT_TRUE(terms.contains("Lja"));
    for (const auto& [term, wdf] : terms)
        EXPECT_NE(term.rfind("Z", 0), 0u) << "no stems for ja: " << term;
    EXPECT_TRUE(terms.contains("XTarticle")); // default type
}

TEST(DocumentBuilder, DetectsLanguageWhenMissing) {
    DocumentBuilder builder;
    Record r;
    r.id = "x";
    r.title = "これはペンです";
    const PreparedDocument ja = builder.build(r);
    EXPECT_TRUE(wdfs(ja.document).contains("Lja"));
    EXPECT_EQ(ja.document.get_value(mixi::schema::slot_lang), "ja");

    r.title = "Der Hund ist nicht mit dem Ball";
    const PreparedDocument de = builder.build(r);
    EXPECT_TRUE(wdfs(de.document).contains("Lde"));
    EXPECT_TRUE(wdfs(de.document).contains("Zhund"));
}

TEST(DocumentBuilder, StoredData) {
    DocumentBuilder builder(BuildOptions{.title_weight = 2, .stored_body_bytes = 4});
    Record r = english_record();
    r.body = "ab東京"; // cut at 4 bytes would split 東
    const PreparedDocument out = builder.build(r);
    const boost::json::object data =
        boost::json::parse(mixi::schema::unpack_stored(out.document.get_data())).as_object();
    EXPECT_EQ(data.at("id").as_string(), "a-001");
    EXPECT_EQ(data.at("url").as_string(), "https://example.social/articles/101");
    EXPECT_EQ(data.at("title").as_string(), "Running Photography");
    EXPECT_EQ(data.at("type").as_string(), "photo");
    EXPECT_EQ(data.at("lang").as_string(), "en");
    EXPECT_EQ(data.at("published").as_string(), "2024-03-12");
    EXPECT_EQ(data.at("author").as_string(), "Emma_Lens");
    EXPECT_EQ(data.at("tags").as_array().size(), 2u);
    EXPECT_EQ(data.at("body").as_string(), "ab");
}

TEST(DocumentBuilder, InvalidUtf8IsRepaired) {
    DocumentBuilder builder;
    Record r;
    r.id = "u";
    r.title = "caf\xff ok";
    r.body = "\xc3";
    r.tags = {"t\xfe"};
    r.lang = "en";
    const PreparedDocument out = builder.build(r);
    for (const auto& [term, wdf] : wdfs(out.document))
        EXPECT_TRUE(mixi::is_valid_utf8(term)) << term;
    const boost::json::object data =
        boost::json::parse(mixi::schema::unpack_stored(out.document.get_data())).as_object();
    EXPECT_EQ(data.at("title").as_string(), "caf\xEF\xBF\xBD ok");
}

} // namespace

namespace mixi::schema {
namespace {

TEST(StoredData, PackedIsAZstdFrameThatUnpacksToTheJson) {
    std::string json = R"({"id":"a-001","body":")";
    for (int i = 0; i < 200; ++i)
        json += "words that repeat compress well; ";
    json += "東京\"}";
    const std::string packed = pack_stored(json);
    EXPECT_LT(packed.size(), json.size() / 4); // compressed: Xapian's zlib has nothing to gain
    EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x28u); // zstd's magic number
    EXPECT_EQ(unpack_stored(packed), json);
    EXPECT_EQ(unpack_stored(pack_stored("")), "");
}

TEST(StoredData, OlderIndexesJsonPassesThroughAndDamageGivesNothing) {
    EXPECT_EQ(unpack_stored(R"({"id":"x"})"), R"({"id":"x"})"); // data as stored before
    std::string packed = pack_stored(R"({"id":"x","body":"some text to compress"})");
    packed.resize(packed.size() - 3); // truncated frame
    EXPECT_EQ(unpack_stored(packed), "");
    EXPECT_EQ(unpack_stored(packed.substr(0, 4)), ""); // the magic number alone
}

TEST(StoredData, ADictionaryTrainedOnTheDocumentsPacksThemSmallerAndOnlyItUnpacksThem) {
    const char* words[] = {"cohort",  "patients",   "treatment", "outcome", "trial", "dose",
                           "placebo", "randomised", "mortality", "risk",    "ratio", "study"};
    std::vector<std::string> docs;
    for (int i = 0; i < 400; ++i) {
        std::string body;
        for (int w = 0; w < 30; ++w)
            body += std::string(words[(i * 7 + w * w) % 12]) + (w % 5 ? " " : ". ");
        docs.push_back(R"({"id":"doc-)" + std::to_string(i) + R"(","url":"https://example.org/)" +
                       std::to_string(i * 7919) + R"(","type":"article","lang":"en","body":")" +
                       body + R"("})");
    }
    const std::string dictionary = train_stored_dictionary(docs);
    ASSERT_FALSE(dictionary.empty());
    const StoredPacker packer(dictionary);
    StoredDictionaries dictionaries;
    ASSERT_TRUE(dictionaries.add(dictionary));
    std::size_t plain = 0, with = 0;
    for (const std::string& doc : docs) {
        const std::string packed = packer.pack(doc);
        plain += pack_stored(doc).size();
        with += packed.size();
        EXPECT_EQ(unpack_stored(packed, &dictionaries), doc);
        EXPECT_EQ(unpack_stored(packed), ""); // without its dictionary: nothing, never garbage
        EXPECT_EQ(unpack_stored(pack_stored(doc), &dictionaries), doc); // plain frames still read
    }
    EXPECT_LT(with, plain * 3 / 4);

    EXPECT_FALSE(StoredDictionaries().add("not a dictionary"));
    EXPECT_TRUE(train_stored_dictionary({R"({"id":"a"})", R"({"id":"b"})"}).empty());
}

} // namespace
} // namespace mixi::schema
