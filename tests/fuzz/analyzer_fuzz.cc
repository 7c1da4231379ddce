// The analyzers (analyzers/analyzer.h) on arbitrary bytes: tokenize, segment, fold, stem, stop
// words and CJK bigrams never crash, offsets stay inside the text, terms are valid UTF-8 within
// the length limit, and for ASCII text the fast path gives the same tokens as ICU.
#include "analyzers/analyzer.h"
#include "common/utf8.h"
#include "fuzz_util.h"

#include <algorithm>

using namespace mixi;

namespace {

const char* const languages[] = {"en", "ja", "zh", "fr", "de", "ru", "th", "ko", "xx", ""};

void check_tokens(const std::vector<analyzers::Token>& tokens, std::string_view text,
                  std::size_t max_bytes, bool terms) {
    std::uint32_t last_end = 0;
    for (const auto& t : tokens) {
        fuzz::check(t.begin <= t.end && t.end <= text.size(), "token offsets outside the text");
        fuzz::check(t.begin >= last_end, "tokens overlap or go backwards");
        last_end = t.end;
        if (terms || t.kind == analyzers::TokenKind::cjk) {
            fuzz::check(!t.term.empty(), "empty term");
            fuzz::check(t.term.size() <= max_bytes, "term longer than max_term_bytes");
            fuzz::check(is_valid_utf8(t.term), "term is not valid UTF-8");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static analyzers::Analyzer analyzer;
    static analyzers::Analyzer icu_only(analyzers::AnalyzerOptions{.ascii_fast_path = false});
    if (size == 0)
        return 0;
    const std::string_view lang = languages[data[0] % std::size(languages)];
    const std::string_view text = fuzz::as_text(data + 1, size - 1);
    const std::size_t max_bytes = analyzers::AnalyzerOptions{}.max_term_bytes;

    const auto tokens = analyzer.tokenize(text);
    check_tokens(tokens, text, max_bytes, true);
    check_tokens(analyzer.segment(text), text, max_bytes, false);
    const auto icu_tokens = icu_only.tokenize(text);
    check_tokens(icu_tokens, text, max_bytes, true);
    if (std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; })) {
        fuzz::check(tokens.size() == icu_tokens.size(), "ASCII fast path: another token count");
        for (std::size_t i = 0; i < tokens.size(); ++i)
            fuzz::check(
                tokens[i].term == icu_tokens[i].term && tokens[i].begin == icu_tokens[i].begin &&
                    tokens[i].end == icu_tokens[i].end && tokens[i].kind == icu_tokens[i].kind,
                "ASCII fast path: another token than ICU");
    }
    for (const auto& t : tokens) {
        (void)analyzer.stem(t.term, lang);
        (void)analyzer.is_stopword(t.term, lang);
    }
    for (const auto& bigram : analyzers::cjk_bigrams(tokens))
        fuzz::check(is_valid_utf8(bigram), "a CJK bigram is not valid UTF-8");
    (void)analyzers::cjk_bigrams(text);
    const std::string folded = analyzer.fold(text);
    fuzz::check(is_valid_utf8(folded), "fold() made invalid UTF-8");
    (void)analyzer.stem(text, lang);
    (void)analyzer.has_stemmer(text);
    return 0;
}
