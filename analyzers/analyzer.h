// Text -> tokens, the same for documents and queries: ICU word break (dictionary segmentation
// for Japanese, Chinese and Thai), NFKC case folding, Snowball stemming by language, stop words.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <xapian.h>

namespace mixi::analyzers {

enum class TokenKind : std::uint8_t {
    word,   ///< letters of a space-separated script (Latin, Cyrillic, Hangul, Thai, ...)
    number, ///< digits, possibly with separators ("3.14", "2024")
    cjk,    ///< Han ideographs or kana: a dictionary-segmented Japanese or Chinese word
};

struct Token {
    std::string term;        ///< NFKC case-folded text of the word
    std::uint32_t begin = 0; ///< byte offset of the word in the analysed text
    std::uint32_t end = 0;   ///< byte offset one past the word
    TokenKind kind = TokenKind::word;
    bool joins_previous = false; ///< a CJK word that directly follows another CJK word
};

struct AnalyzerOptions {
    /// Folded words longer than this (in bytes) are dropped: they are noise, not words, and
    /// Xapian limits term length.
    std::size_t max_term_bytes = 80;
    /// Pure ASCII text is split by a direct implementation of the same word-break rules
    /// (UAX #29 restricted to ASCII, as ICU applies them), many times faster than ICU. Tests
    /// turn it off to compare the two.
    bool ascii_fast_path = true;
};

/// ASCII white space. No word-break rule joins across it, so the words of a text are the words
/// of its stretches between white space, each segmented alone (Analyzer::split cuts there too).
constexpr bool is_word_break_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Analyses text. Holds an ICU break iterator and stemmers, so it is not thread-safe: use one
/// Analyzer per thread. Never throws on bad text: ill-formed UTF-8 becomes U+FFFD.
class Analyzer {
  public:
    explicit Analyzer(AnalyzerOptions options = {});
    ~Analyzer();
    Analyzer(Analyzer&&) noexcept;
    Analyzer& operator=(Analyzer&&) noexcept;

    /// The words of `text` in order. Offsets index `text` as given.
    std::vector<Token> tokenize(std::string_view text);

    /// As tokenize, but words of kind `word` and `number` keep an empty `term` (CJK words are
    /// folded as usual): for callers that look at most words' text only rarely and fold those
    /// themselves with fold() (snippets).
    std::vector<Token> segment(std::string_view text);

    /// NFKC case folding of a whole string (no word break): for tags, authors, ids.
    std::string fold(std::string_view text) const;

    /// The Snowball stem of a folded word in `lang` (a primary language subtag), or the word
    /// itself when there is no stemmer for the language.
    std::string stem(std::string_view term, std::string_view lang);

    /// True when Xapian has a Snowball stemmer for `lang`.
    bool has_stemmer(std::string_view lang);

    /// True for a stop word of `lang` (or of English when the language has no list).
    bool is_stopword(std::string_view term, std::string_view lang) const;

  private:
    std::vector<Token> split(std::string_view text, bool fold_words);
    void tokenize_ascii(std::string_view text, std::uint32_t base, bool fold_words,
                        std::vector<Token>& out) const;
    void tokenize_icu(std::string_view text, std::uint32_t base, bool fold_words,
                      std::vector<Token>& out);
    struct Icu;
    AnalyzerOptions options_;
    std::unique_ptr<Icu> icu_;
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    /// A stemmer and the stems it already computed (words repeat: a page has a few hundred
    /// distinct words among thousands).
    struct CachedStemmer {
        Xapian::Stem stemmer;
        std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> cache;
    };
    CachedStemmer& stemmer_for(std::string_view lang);
    std::map<std::string, CachedStemmer, std::less<>> stemmers_;
};

/// Character bigrams over each run of adjacent CJK tokens, so that text and a query that were
/// segmented differently still share terms ("東京都" -> "東京", "京都").
std::vector<std::string> cjk_bigrams(const std::vector<Token>& tokens);

/// Character bigrams of one CJK string.
std::vector<std::string> cjk_bigrams(std::string_view text);

} // namespace mixi::analyzers
