// Unit tests of language tags and script-based language detection (analyzers/language.h).
#include "analyzers/language.h"

#include <gtest/gtest.h>

namespace {

using mixi::analyzers::detect_language;
using mixi::analyzers::identify_document_language;
using mixi::analyzers::primary_language;
using mixi::analyzers::undetermined_language;

TEST(PrimaryLanguage, Subtags) {
    EXPECT_EQ(primary_language("ja-JP"), "ja");
    EXPECT_EQ(primary_language("zh-Hans-CN"), "zh");
    EXPECT_EQ(primary_language("EN"), "en");
    EXPECT_EQ(primary_language("pt_BR"), "pt");
    EXPECT_EQ(primary_language("fil"), "fil");
    EXPECT_EQ(primary_language("de"), "de");
}

TEST(PrimaryLanguage, NotWellFormed) {
    EXPECT_EQ(primary_language("x"), "");
    EXPECT_EQ(primary_language(""), "");
    EXPECT_EQ(primary_language("-JP"), "");
    EXPECT_EQ(primary_language("english"), "");
    EXPECT_EQ(primary_language("e1"), "");
    EXPECT_EQ(primary_language("日本"), "");
}

TEST(DetectLanguage, ByScript) {
    EXPECT_EQ(detect_language("これはペンです"), "ja");
    EXPECT_EQ(detect_language("東京都で写真を検索"), "ja"); // Han with some kana
    EXPECT_EQ(detect_language("我们在北京拍照片"), "zh");
    EXPECT_EQ(detect_language("上海外滩夜景延时摄影"), "zh");
    EXPECT_EQ(detect_language("한국어 텍스트입니다"), "ko");
    EXPECT_EQ(detect_language("Привет, как дела?"), "ru");
    EXPECT_EQ(detect_language("ภาษาไทย"), "th");
    EXPECT_EQ(detect_language("Καλημέρα κόσμε"), "el");
}

TEST(DetectLanguage, LatinByStopWords) {
    EXPECT_EQ(detect_language("The cat is on the table"), "en");
    EXPECT_EQ(detect_language("Der Hund ist nicht mit dem Ball gekommen"), "de");
    EXPECT_EQ(detect_language("Le chat est sur la table avec les enfants"), "fr");
    EXPECT_EQ(detect_language("Die Wälder leuchten im Herbst und die Hütten sind für alle"), "de");
    EXPECT_EQ(detect_language("Lyon est une ville idéale pour les amateurs de cuisine"), "fr");
}

TEST(DetectLanguage, DefaultsToEnglish) {
    EXPECT_EQ(detect_language(""), "en");
    EXPECT_EQ(detect_language("12345 !!!"), "en");
    EXPECT_EQ(detect_language("xyzzy plugh"), "en");
    EXPECT_EQ(detect_language("\xff\xfe\xfd"), "en"); // ill-formed bytes do not crash
}

TEST(DetectLanguage, MostlyLatinWithAFewKanjiIsNotChinese) {
    // Latin letters outnumber the (weighted) ideographs.
    EXPECT_EQ(detect_language("This is a long English sentence about the city of 東京 and travel"),
              "en");
}

} // namespace

namespace mixi::analyzers {
namespace {

TEST(QueryLanguage, ThePreferenceDecidesWhenTheScriptFits) {
    // Han alone reads as Chinese, unless the searcher reads Japanese.
    EXPECT_EQ(detect_language("東京"), "zh");
    EXPECT_EQ(query_language("東京", "ja-JP"), "ja");
    EXPECT_EQ(query_language("東京", ""), "zh");
    EXPECT_EQ(query_language("haus", "de"), "de");
    // A script the preferred language does not use: detection decides.
    EXPECT_EQ(query_language("写真を撮る", "en"), "ja");
    EXPECT_EQ(query_language("photography", "ja"), "en");
    EXPECT_EQ(query_language("photography", "not a tag"), "en");
    EXPECT_TRUE(share_script("en", "fr"));
    EXPECT_TRUE(share_script("ja", "zh"));
    EXPECT_FALSE(share_script("ja", "en"));
    EXPECT_FALSE(share_script("ru", "en"));
}

TEST(IdentifyDocumentLanguage, LatinTextGetsTheLanguageItIsWrittenIn) {
    // The stop words of three languages call all of these English; the profiles do not.
    const std::pair<const char*, const char*> texts[] = {
        {"es", "Las montañas del norte son perfectas para hacer senderismo durante el verano."},
        {"nl", "De fietsroute langs de rivier is prachtig en de zon scheen de hele dag."},
        {"it", "Abbiamo mangiato una pizza buonissima in una piccola trattoria vicino al mare."},
        {"pt", "A cidade fica muito bonita à noite, quando as luzes se acendem ao longo do rio."},
        {"de",
         "Die Wanderung durch die Berge war anstrengend, aber die Aussicht hat sich gelohnt."},
        {"fr", "Nous avons visité le marché du dimanche et acheté des fromages de la région."},
        {"en", "We walked along the harbour at sunset and watched the fishing boats come home."},
    };
    for (const auto& [lang, text] : texts)
        EXPECT_EQ(identify_document_language(text), lang) << text;
    EXPECT_EQ(detect_language(texts[0].second), "en"); // what the stop words say
    // Other scripts as detect_language tells them.
    EXPECT_EQ(identify_document_language("東京都で写真を撮りました"), "ja");
    EXPECT_EQ(identify_document_language("Привет, как дела?"), "ru");
}

TEST(IdentifyDocumentLanguage, ShortLatinTextIsUndeterminedNotEnglish) {
    for (const char* text : {"hiking boots", "ok", "lol 123"})
        EXPECT_EQ(identify_document_language(text), undetermined_language) << text;
}

} // namespace
} // namespace mixi::analyzers
