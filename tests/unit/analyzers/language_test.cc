// Unit tests of language tags and script-based language detection (analyzers/language.h).
#include "analyzers/language.h"

#include <gtest/gtest.h>

namespace {

using mixi::analyzers::detect_language;
using mixi::analyzers::primary_language;

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

} // namespace
} // namespace mixi::analyzers
