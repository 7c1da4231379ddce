// Unit tests of the UTF-8 helpers (common/utf8.h).
#include "common/utf8.h"

#include <gtest/gtest.h>
#include <random>
#include <string>

namespace {

using mixi::is_valid_utf8;
using mixi::repair_utf8;
using mixi::utf8_prefix;

const std::string kFffd = "\xEF\xBF\xBD";

TEST(IsValidUtf8, WellFormed) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("東京都で写真を検索"));
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9"));
    EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));     // U+1F600
    EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));     // U+10FFFF
    EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));         // U+D7FF
    EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3))); // NUL is a character
}

TEST(IsValidUtf8, IllFormed) {
    EXPECT_FALSE(is_valid_utf8("\xff"));
    EXPECT_FALSE(is_valid_utf8("\x80"));             // lone continuation
    EXPECT_FALSE(is_valid_utf8("\xc3"));             // truncated
    EXPECT_FALSE(is_valid_utf8("\xe6\x9d"));         // truncated
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));     // overlong
    EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\xaf")); // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate U+D800
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // U+110000
    EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
    EXPECT_FALSE(is_valid_utf8("ok\xc3(")); // bad continuation
}

TEST(RepairUtf8, ValidInputUnchanged) {
    EXPECT_EQ(repair_utf8(""), "");
    EXPECT_EQ(repair_utf8("東京 abc"), "東京 abc");
}

TEST(RepairUtf8, ReplacesEachBadByte) {
    EXPECT_EQ(repair_utf8("abc\xff\xfe"
                          "def"),
              "abc" + kFffd + kFffd + "def");
    EXPECT_EQ(repair_utf8("x\xc3"), "x" + kFffd);
    EXPECT_EQ(repair_utf8("\xc3("), kFffd + "(");
    // A truncated 3-byte sequence before a valid character: the valid one survives.
    EXPECT_EQ(repair_utf8("\xe6\x9d東"), kFffd + kFffd + "東");
    EXPECT_EQ(repair_utf8("\xed\xa0\x80"), kFffd + kFffd + kFffd);
}

TEST(RepairUtf8, RandomBytesBecomeValid) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> length(0, 48), byte(0, 255);
    for (int i = 0; i < 2000; ++i) {
        std::string s(static_cast<std::size_t>(length(rng)), '\0');
        for (char& c : s)
            c = static_cast<char>(byte(rng));
        const std::string r = repair_utf8(s);
        ASSERT_TRUE(is_valid_utf8(r)) << i;
        if (is_valid_utf8(s))
            ASSERT_EQ(r, s);
        else
            ASSERT_NE(r.find(kFffd), std::string::npos);
    }
}

TEST(Utf8Prefix, DoesNotSplitCharacters) {
    const std::string s = "a東b"; // 1 + 3 + 1 bytes
    EXPECT_EQ(utf8_prefix(s, 0), "");
    EXPECT_EQ(utf8_prefix(s, 1), "a");
    EXPECT_EQ(utf8_prefix(s, 2), "a");
    EXPECT_EQ(utf8_prefix(s, 3), "a");
    EXPECT_EQ(utf8_prefix(s, 4), "a東");
    EXPECT_EQ(utf8_prefix(s, 5), "a東b");
    EXPECT_EQ(utf8_prefix(s, 100), "a東b");
    EXPECT_EQ(utf8_prefix("abcdef", 3), "abc");
    EXPECT_EQ(utf8_prefix("", 3), "");
    EXPECT_EQ(utf8_prefix("\xf0\x9f\x98\x80x", 3), "");
}

TEST(Utf8Prefix, AlwaysValidForValidInput) {
    const std::string s = "写真を検索 café 😀 done";
    for (std::size_t n = 0; n <= s.size() + 1; ++n) {
        const auto p = utf8_prefix(s, n);
        EXPECT_LE(p.size(), n);
        EXPECT_TRUE(is_valid_utf8(p)) << n;
        EXPECT_EQ(s.compare(0, p.size(), p), 0);
        EXPECT_GE(p.size() + 3, std::min(n, s.size())); // at most one character dropped
    }
}

} // namespace
