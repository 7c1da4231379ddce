// Unit tests of mixi::analyzers::Analyzer: ICU word break, NFKC case folding, CJK bigrams,
// Snowball stemming and stop words. Expected values were checked against ICU 72 and the
// Snowball stemmers of Xapian 1.4.22.
#include "analyzers/analyzer.h"
#include "common/utf8.h"

#include <algorithm>
#include <cstdint>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mixi::analyzers::Analyzer;
using mixi::analyzers::AnalyzerOptions;
using mixi::analyzers::cjk_bigrams;
using mixi::analyzers::Token;
using mixi::analyzers::TokenKind;

std::vector<std::string> terms(const std::vector<Token>& tokens) {
    std::vector<std::string> out;
    for (const Token& t : tokens)
        out.push_back(t.term);
    return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The substring of `text` a token's offsets point at.
std::string_view slice(std::string_view text, const Token& t) {
    return text.substr(t.begin, t.end - t.begin);
}

// ------------------------------------------------------------------------------- Japanese

TEST(AnalyzerJapanese, SegmentsSentenceIntoDictionaryWords) {
    Analyzer a;
    const std::string text = "東京都で写真を検索";
    const auto tokens = a.tokenize(text);
    // ICU 72 dictionary segmentation splits 東京都 into 東京 + 都.
    EXPECT_EQ(terms(tokens), (std::vector<std::string>{"東京", "都", "で", "写真", "を", "検索"}));
}

TEST(AnalyzerJapanese, TokensAreCjkWithByteOffsets) {
    Analyzer a;
    const std::string text = "東京都で写真を検索";
    const auto tokens = a.tokenize(text);
    ASSERT_EQ(tokens.size(), 6u);
    const std::vector<std::pair<std::uint32_t, std::uint32_t>> offsets = {
        {0, 6}, {6, 9}, {9, 12}, {12, 18}, {18, 21}, {21, 27}};
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(tokens[i].kind, TokenKind::cjk);
        EXPECT_EQ(tokens[i].begin, offsets[i].first);
        EXPECT_EQ(tokens[i].end, offsets[i].second);
        EXPECT_EQ(slice(text, tokens[i]), tokens[i].term);
    }
    EXPECT_EQ(slice(text, tokens[3]), "写真");
    EXPECT_EQ(slice(text, tokens[5]), "検索");
}

TEST(AnalyzerJapanese, JoinsPreviousOnlyForAdjacentCjk) {
    Analyzer a;
    const auto tokens = a.tokenize("東京都で写真を検索");
    ASSERT_EQ(tokens.size(), 6u);
    EXPECT_FALSE(tokens[0].joins_previous);
    for (std::size_t i = 1; i < tokens.size(); ++i)
        EXPECT_TRUE(tokens[i].joins_previous) << i;

    // A space or a Latin word between CJK words breaks the run.
    const auto spaced = a.tokenize("写真 検索");
    ASSERT_EQ(spaced.size(), 2u);
    EXPECT_FALSE(spaced[0].joins_previous);
    EXPECT_FALSE(spaced[1].joins_previous);

    const auto mixed = a.tokenize("東京abc京都");
    ASSERT_EQ(mixed.size(), 3u);
    EXPECT_EQ(mixed[1].term, "abc");
    EXPECT_EQ(mixed[1].kind, TokenKind::word);
    EXPECT_FALSE(mixed[1].joins_previous); // only CJK words join
    EXPECT_EQ(mixed[2].term, "京都");
    EXPECT_FALSE(mixed[2].joins_previous);
}

TEST(AnalyzerJapanese, MixedLatinAndKatakana) {
    Analyzer a;
    const std::string text = "Debian 管理者ハンドブック";
    const auto tokens = a.tokenize(text);
    ASSERT_EQ(tokens.size(), 3u);
    EXPECT_EQ(tokens[0].term, "debian");
    EXPECT_EQ(tokens[0].kind, TokenKind::word);
    EXPECT_EQ(tokens[1].term, "管理者");
    EXPECT_EQ(tokens[1].kind, TokenKind::cjk);
    EXPECT_EQ(tokens[1].begin, 7u);
    EXPECT_FALSE(tokens[1].joins_previous);
    EXPECT_EQ(tokens[2].term, "ハンドブック");
    EXPECT_EQ(tokens[2].kind, TokenKind::cjk);
    EXPECT_TRUE(tokens[2].joins_previous);
    EXPECT_EQ(tokens[2].end, text.size());
}

// -------------------------------------------------------------------------------- bigrams

TEST(CjkBigrams, OfTokensSpanAdjacentWords) {
    Analyzer a;
    EXPECT_EQ(cjk_bigrams(a.tokenize("東京都")), (std::vector<std::string>{"東京", "京都"}));
    EXPECT_EQ(cjk_bigrams(a.tokenize("写真を検索")),
              (std::vector<std::string>{"写真", "真を", "を検", "検索"}));
}

TEST(CjkBigrams, LatinWordBreaksTheRun) {
    Analyzer a;
    // Without the break there would be a bigram 京京.
    EXPECT_EQ(cjk_bigrams(a.tokenize("東京abc京都")), (std::vector<std::string>{"東京", "京都"}));
    EXPECT_EQ(cjk_bigrams(a.tokenize("東京 京都")), (std::vector<std::string>{"東京", "京都"}));
}

TEST(CjkBigrams, OfHandMadeTokens) {
    std::vector<Token> tokens(3);
    tokens[0] = {"東京", 0, 6, TokenKind::cjk, false};
    tokens[1] = {"都", 6, 9, TokenKind::cjk, true};
    tokens[2] = {"photo", 10, 15, TokenKind::word, false};
    EXPECT_EQ(cjk_bigrams(tokens), (std::vector<std::string>{"東京", "京都"}));
    tokens[1].joins_previous = false; // two runs: 東京 and 都 (one character: no bigram)
    EXPECT_EQ(cjk_bigrams(tokens), (std::vector<std::string>{"東京"}));
    EXPECT_TRUE(cjk_bigrams(std::vector<Token>{}).empty());
}

TEST(CjkBigrams, OfString) {
    EXPECT_EQ(cjk_bigrams(std::string_view("東京都")), (std::vector<std::string>{"東京", "京都"}));
    EXPECT_TRUE(cjk_bigrams(std::string_view("都")).empty());
    EXPECT_TRUE(cjk_bigrams(std::string_view("")).empty());
}

// --------------------------------------------------------------------------------- Latin

TEST(AnalyzerEnglish, CaseFoldingAndOffsets) {
    Analyzer a;
    const std::string text = "Hello, WORLD! It's MiXeD.";
    const auto tokens = a.tokenize(text);
    EXPECT_EQ(terms(tokens), (std::vector<std::string>{"hello", "world", "it's", "mixed"}));
    ASSERT_EQ(tokens.size(), 4u);
    EXPECT_EQ(slice(text, tokens[0]), "Hello");
    EXPECT_EQ(slice(text, tokens[1]), "WORLD");
    EXPECT_EQ(slice(text, tokens[3]), "MiXeD");
    for (const Token& t : tokens) {
        EXPECT_EQ(t.kind, TokenKind::word);
        EXPECT_FALSE(t.joins_previous);
    }
}

TEST(AnalyzerEnglish, NfkcFolding) {
    Analyzer a;
    const std::string text = "ＡＢＣ ﬁle Straße";
    const auto tokens = a.tokenize(text);
    ASSERT_EQ(tokens.size(), 3u);
    EXPECT_EQ(tokens[0].term, "abc"); // fullwidth letters
    EXPECT_EQ(tokens[0].begin, 0u);
    EXPECT_EQ(tokens[0].end, 9u);      // offsets are of the original (fullwidth) bytes
    EXPECT_EQ(tokens[1].term, "file"); // ligature ﬁ
    EXPECT_EQ(slice(text, tokens[1]), "ﬁle");
    EXPECT_EQ(tokens[2].term, "strasse"); // case folding of ß

    EXPECT_EQ(a.fold("ＡＢＣ"), "abc");
    EXPECT_EQ(a.fold("ﬁ"), "fi");
    EXPECT_EQ(a.fold("ÀÉÎ"), "àéî");
    EXPECT_EQ(a.fold("Emma_Lens"), "emma_lens");
    EXPECT_EQ(a.fold(""), "");
}

TEST(AnalyzerEnglish, Numbers) {
    Analyzer a;
    const std::string text = "Pi is 3.14 in 2024";
    const auto tokens = a.tokenize(text);
    ASSERT_EQ(tokens.size(), 5u);
    EXPECT_EQ(tokens[2].term, "3.14");
    EXPECT_EQ(tokens[2].kind, TokenKind::number);
    EXPECT_EQ(slice(text, tokens[2]), "3.14");
    EXPECT_EQ(tokens[4].term, "2024");
    EXPECT_EQ(tokens[4].kind, TokenKind::number);
    EXPECT_EQ(tokens[0].kind, TokenKind::word);
    // Fullwidth digits fold to ASCII digits.
    const auto wide = a.tokenize("２０２４");
    ASSERT_EQ(wide.size(), 1u);
    EXPECT_EQ(wide[0].term, "2024");
    EXPECT_EQ(wide[0].kind, TokenKind::number);
}

TEST(AnalyzerEnglish, EmptyAndPunctuationOnly) {
    Analyzer a;
    EXPECT_TRUE(a.tokenize("").empty());
    EXPECT_TRUE(a.tokenize("   ,.;!? -- ").empty());
}

TEST(AnalyzerEnglish, OverlongWordsAreDropped) {
    Analyzer a(AnalyzerOptions{.max_term_bytes = 10});
    const auto tokens = a.tokenize("short abcdefghijklmnop tiny");
    EXPECT_EQ(terms(tokens), (std::vector<std::string>{"short", "tiny"}));
    EXPECT_EQ(tokens[1].begin, 23u);
}

TEST(AnalyzerStem, English) {
    Analyzer a;
    EXPECT_EQ(a.stem("running", "en"), "run");
    EXPECT_EQ(a.stem("connection", "en"), "connect");
    EXPECT_EQ(a.stem("connected", "en"), "connect");
    // Porter2: both become "photographi".
    EXPECT_EQ(a.stem("photography", "en"), "photographi");
    EXPECT_EQ(a.stem("photography", "en"), a.stem("photographies", "en"));
    EXPECT_EQ(a.stem("photographs", "en"), "photograph");
    EXPECT_TRUE(a.has_stemmer("en"));
}

TEST(AnalyzerStem, German) {
    Analyzer a;
    EXPECT_EQ(a.stem("häuser", "de"), "haus");
    EXPECT_EQ(a.stem("hauses", "de"), "haus");
    EXPECT_EQ(a.stem("häusern", "de"), "haus");
    EXPECT_EQ(a.stem("haus", "de"), "haus");
    EXPECT_EQ(a.stem("laufen", "de"), "lauf");
    EXPECT_TRUE(a.has_stemmer("de"));
}

TEST(AnalyzerStem, French) {
    Analyzer a;
    EXPECT_EQ(a.stem("chevaux", "fr"), "cheval");
    EXPECT_EQ(a.stem("cheval", "fr"), "cheval");
    EXPECT_EQ(a.stem("manger", "fr"), "mang");
    EXPECT_EQ(a.stem("mangé", "fr"), "mang");
    EXPECT_EQ(a.stem("généralement", "fr"), "général");
    EXPECT_EQ(a.stem("continuation", "fr"), "continu");
    EXPECT_TRUE(a.has_stemmer("fr"));
}

TEST(AnalyzerStem, NoStemmerReturnsTheWord) {
    Analyzer a;
    EXPECT_EQ(a.stem("写真", "ja"), "写真");
    EXPECT_EQ(a.stem("running", "ja"), "running");
    EXPECT_EQ(a.stem("running", "zh"), "running");
    EXPECT_EQ(a.stem("running", ""), "running");
    EXPECT_EQ(a.stem("running", "xx"), "running"); // unknown to Xapian: no throw
    EXPECT_EQ(a.stem("", "en"), "");
    EXPECT_FALSE(a.has_stemmer("ja"));
    EXPECT_FALSE(a.has_stemmer("xx"));
    EXPECT_FALSE(a.has_stemmer(""));
}

// ------------------------------------------------------------------------ other scripts

TEST(AnalyzerChinese, SegmentsShortSentence) {
    Analyzer a;
    const std::string text = "我们在北京拍照片";
    const auto tokens = a.tokenize(text);
    const auto t = terms(tokens);
    EXPECT_TRUE(contains(t, "北京")) << ::testing::PrintToString(t);
    EXPECT_TRUE(contains(t, "我们")) << ::testing::PrintToString(t);
    EXPECT_GE(tokens.size(), 4u);
    for (const Token& tok : tokens) {
        EXPECT_EQ(tok.kind, TokenKind::cjk);
        EXPECT_EQ(slice(text, tok), tok.term);
    }
    // Tokens cover the sentence without gaps.
    EXPECT_EQ(tokens.front().begin, 0u);
    EXPECT_EQ(tokens.back().end, text.size());
    for (std::size_t i = 1; i < tokens.size(); ++i)
        EXPECT_EQ(tokens[i].begin, tokens[i - 1].end);
    const auto grams = cjk_bigrams(tokens);
    EXPECT_TRUE(contains(grams, "北京"));
    EXPECT_EQ(grams.size(), 7u); // 8 characters, one run
}

TEST(AnalyzerThai, DictionarySegmentation) {
    Analyzer a;
    const std::string text = "ภาษาไทยง่ายนิดเดียว"; // no spaces
    const auto tokens = a.tokenize(text);
    EXPECT_GT(tokens.size(), 1u);
    const auto t = terms(tokens);
    EXPECT_TRUE(contains(t, "ภาษา")) << ::testing::PrintToString(t);
    EXPECT_TRUE(contains(t, "ไทย")) << ::testing::PrintToString(t);
    for (const Token& tok : tokens) {
        EXPECT_EQ(tok.kind, TokenKind::word); // Thai is not CJK
        EXPECT_EQ(slice(text, tok), tok.term);
    }
    EXPECT_TRUE(cjk_bigrams(tokens).empty());
}

TEST(AnalyzerKorean, HangulIsWords) {
    Analyzer a;
    const auto tokens = a.tokenize("한국어 텍스트");
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].term, "한국어");
    EXPECT_EQ(tokens[0].kind, TokenKind::word);
    EXPECT_EQ(tokens[1].term, "텍스트");
}

// ---------------------------------------------------------------------------- stop words

TEST(AnalyzerStopwords, Lists) {
    Analyzer a;
    EXPECT_TRUE(a.is_stopword("the", "en"));
    EXPECT_TRUE(a.is_stopword("and", "en"));
    EXPECT_FALSE(a.is_stopword("photo", "en"));
    EXPECT_FALSE(a.is_stopword("The", "en")); // lists hold folded words
    EXPECT_TRUE(a.is_stopword("の", "ja"));
    EXPECT_FALSE(a.is_stopword("写真", "ja"));
    EXPECT_TRUE(a.is_stopword("der", "de"));
    EXPECT_TRUE(a.is_stopword("le", "fr"));
    EXPECT_FALSE(a.is_stopword("", "en"));
    // A language without a list falls back to English.
    EXPECT_TRUE(a.is_stopword("the", "xx"));
    EXPECT_FALSE(a.is_stopword("photo", "xx"));
}

// ------------------------------------------------------------------------- invalid input

TEST(AnalyzerInvalidUtf8, SkipsBadBytesKeepsOffsets) {
    Analyzer a;
    const std::string text = "abc\xff\xfe def \xc3";
    const auto tokens = a.tokenize(text);
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].term, "abc");
    EXPECT_EQ(tokens[0].begin, 0u);
    EXPECT_EQ(tokens[0].end, 3u);
    EXPECT_EQ(tokens[1].term, "def");
    EXPECT_EQ(tokens[1].begin, 6u);
    EXPECT_EQ(tokens[1].end, 9u);
    EXPECT_EQ(slice(text, tokens[1]), "def");
}

TEST(AnalyzerInvalidUtf8, TruncatedCjkAndSurrogates) {
    Analyzer a;
    // "写真" then the first two bytes of 検, then an encoded surrogate, then "ok".
    const std::string text = "写真\xe6\xa4 \xed\xa0\x80 ok";
    const auto tokens = a.tokenize(text);
    const auto t = terms(tokens);
    EXPECT_TRUE(contains(t, "写真")) << ::testing::PrintToString(t);
    EXPECT_TRUE(contains(t, "ok")) << ::testing::PrintToString(t);
    for (const Token& tok : tokens) {
        EXPECT_TRUE(mixi::is_valid_utf8(tok.term));
        EXPECT_LE(tok.begin, tok.end);
        EXPECT_LE(tok.end, text.size());
    }
    EXPECT_EQ(tokens.back().term, "ok");
    EXPECT_EQ(slice(text, tokens.back()), "ok");
}

TEST(AnalyzerInvalidUtf8, RandomBytesNeverCrash) {
    Analyzer a;
    std::mt19937 rng(20240517);
    std::uniform_int_distribution<int> length(0, 64);
    std::uniform_int_distribution<int> byte(0, 255);
    // Bias towards bytes that start or continue multi-byte sequences, plus ASCII letters.
    const std::string alphabet =
        "ab Z9.\x80\xbf\xc3\xa9\xe3\x81\x82\xe6\x9d\xb1\xf0\x9f\x98\x80\xff";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::size_t total_tokens = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string s(static_cast<std::size_t>(length(rng)), '\0');
        for (char& c : s)
            c = static_cast<char>(i % 2 ? byte(rng)
                                        : static_cast<unsigned char>(alphabet[pick(rng)]));
        const auto tokens = a.tokenize(s);
        total_tokens += tokens.size();
        std::uint32_t last_end = 0;
        for (const Token& t : tokens) {
            ASSERT_TRUE(mixi::is_valid_utf8(t.term)) << "input #" << i;
            ASSERT_FALSE(t.term.empty());
            ASSERT_LT(t.begin, t.end);
            ASSERT_LE(t.end, s.size());
            ASSERT_GE(t.begin, last_end); // in order, not overlapping
            last_end = t.end;
        }
        (void)cjk_bigrams(tokens);
    }
    EXPECT_GT(total_tokens, 0u);
}

TEST(Analyzer, IsMovable) {
    Analyzer a;
    Analyzer b(std::move(a));
    EXPECT_EQ(terms(b.tokenize("Moved OK")), (std::vector<std::string>{"moved", "ok"}));
    Analyzer c;
    c = std::move(b);
    EXPECT_EQ(c.stem("running", "en"), "run");
}

} // namespace
