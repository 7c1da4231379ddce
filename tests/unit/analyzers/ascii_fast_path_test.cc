// The ASCII fast path of Analyzer::tokenize must split exactly as ICU does: the index and the
// queries may take different paths (a document with one non-ASCII character goes through ICU).
#include "analyzers/analyzer.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>

namespace mixi::analyzers {
namespace {

void expect_same(Analyzer& fast, Analyzer& icu, const std::string& text) {
    const auto a = fast.tokenize(text);
    const auto b = icu.tokenize(text);
    ASSERT_EQ(a.size(), b.size()) << "text: [" << text << "]";
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].term, b[i].term) << "text: [" << text << "] token " << i;
        EXPECT_EQ(a[i].begin, b[i].begin) << "text: [" << text << "] token " << i;
        EXPECT_EQ(a[i].end, b[i].end) << "text: [" << text << "] token " << i;
        EXPECT_EQ(a[i].kind, b[i].kind) << "text: [" << text << "] token " << i;
    }
}

class AsciiFastPath : public ::testing::Test {
  protected:
    Analyzer fast{AnalyzerOptions{}};
    Analyzer icu{[] {
        AnalyzerOptions o;
        o.ascii_fast_path = false;
        return o;
    }()};
};

TEST_F(AsciiFastPath, HandPickedCases) {
    for (const char* text : {"don't stop",
                             "U.S.A. and e.g. i.e.",
                             "3.14 1,000,000 1;2 1'000",
                             "a.b.c.",
                             "x_y _a b_ ___",
                             "abc123 123abc 4x4",
                             "e-mail foo/bar a:b",
                             "'quoted' \"double\"",
                             "end.",
                             "1.",
                             ".5",
                             "a'",
                             "'a",
                             "a''b",
                             "1..2",
                             "a..b",
                             "C++ C# .NET",
                             "under_score_1.5",
                             "9_9",
                             "_",
                             "__1",
                             "x.1",
                             "1.x",
                             "tab\there\nnewline",
                             "  leading and trailing  ",
                             "ALL CAPS Mixed",
                             "a.'b",
                             "1,.2",
                             "1.,2",
                             "hello,world",
                             "v1.2.3",
                             "2024-05-17T09:30:00Z"})
        expect_same(fast, icu, text);
}

TEST_F(AsciiFastPath, RandomStrings) {
    std::mt19937 rng(42);
    // Every printable ASCII character, with the ones word break treats specially more often.
    std::string alphabet = "aZq09__..'',,;;:: -\t";
    for (char c = 32; c < 127; ++c)
        alphabet += c;
    for (int n = 0; n < 20000; ++n) {
        std::string s(rng() % 32, ' ');
        for (char& c : s)
            c = alphabet[rng() % alphabet.size()];
        expect_same(fast, icu, s);
        if (HasFailure())
            return;
    }
}

TEST_F(AsciiFastPath, RandomStringsAcrossBlocks) {
    // Longer strings take the 64-bytes-at-a-time masks (SSE2 where there is SSE2), with words
    // and joining characters across block edges, and a partial last block.
    std::mt19937 rng(7);
    const std::string alphabet = "abcXYZ0123456789_.',;: -";
    for (int n = 0; n < 3000; ++n) {
        std::string s(60 + rng() % 200, ' ');
        for (char& c : s)
            c = alphabet[rng() % alphabet.size()];
        expect_same(fast, icu, s);
        if (HasFailure())
            return;
    }
}

TEST_F(AsciiFastPath, MixedTextIsCutAtSpaces) {
    // ASCII stretches take the fast path, the rest ICU; the result must not show the seam.
    std::mt19937 rng(7);
    const std::vector<std::string> pieces = {
        "a",  "Z",  "0",  "_",  ".",  "'", ",",      " ",   " ",  "\t", "@", "-",  "é",   "β",
        "東", "京", "都", "で", "ー", "–", "\u00A0", "ไทย", "한", "ß",  "ﬁ", "Ａ", "\xff"};
    for (int n = 0; n < 20000; ++n) {
        std::string s;
        for (int k = static_cast<int>(rng() % 16); k > 0; --k)
            s += pieces[rng() % pieces.size()];
        expect_same(fast, icu, s);
        if (HasFailure())
            return;
    }
}

TEST_F(AsciiFastPath, RealPagesInEveryLanguage) {
    // The bundled sample site (en, de, fr, ja, zh-cn), cut at tags into pieces of text.
    const auto root = std::filesystem::path(MIXI_SOURCE_DIR) / "data/site";
    int checked = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.path().extension() != ".html")
            continue;
        std::ifstream in(entry.path());
        std::string piece;
        while (std::getline(in, piece, '<')) {
            expect_same(fast, icu, piece);
            ++checked;
        }
        if (HasFailure())
            return;
    }
    EXPECT_GT(checked, 50000);
}

} // namespace
} // namespace mixi::analyzers
