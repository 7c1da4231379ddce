#include "analyzers/analyzer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>
#include <unordered_map>
#include <unordered_set>

namespace mixi::analyzers {

const std::map<std::string, std::string>& embedded_stopwords(); // generated

namespace {

using StopSets = std::unordered_map<std::string, std::unordered_set<std::string>>;

// Parsed once, then shared read-only by every thread.
const StopSets& stop_sets() {
    static const StopSets sets = [] {
        StopSets out;
        for (const auto& [lang, text] : embedded_stopwords()) {
            auto& set = out[lang];
            std::size_t pos = 0;
            while (pos < text.size()) {
                std::size_t eol = text.find('\n', pos);
                if (eol == std::string::npos)
                    eol = text.size();
                std::string line = text.substr(pos, eol - pos);
                pos = eol + 1;
                while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
                    line.pop_back();
                if (!line.empty() && line[0] != '#')
                    set.insert(std::move(line));
            }
        }
        return out;
    }();
    return sets;
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

// Katakana loanwords are written with and without a final long-vowel mark (ユーザー / ユーザ,
// コンピューター / コンピュータ); Japanese search engines treat both as one word. Words of
// three characters or fewer keep it (ルー, ソー).
void strip_prolonged_sound_mark(std::string& term) {
    static constexpr std::string_view mark = "\xE3\x83\xBC"; // U+30FC
    if (term.size() >= 4 * 3 && term.ends_with(mark))
        term.resize(term.size() - mark.size());
}

} // namespace

struct Analyzer::Icu {
    std::unique_ptr<icu::BreakIterator> words;
    const icu::Normalizer2* nfkc_cf = nullptr;
};

Analyzer::Analyzer(AnalyzerOptions options) : options_(options), icu_(std::make_unique<Icu>()) {
    UErrorCode status = U_ZERO_ERROR;
    icu_->words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !icu_->words)
        throw std::runtime_error("ICU word break iterator unavailable: " +
                                 std::string(u_errorName(status)));
    icu_->nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status))
        throw std::runtime_error("ICU NFKC_Casefold unavailable: " +
                                 std::string(u_errorName(status)));
}

Analyzer::~Analyzer() = default;
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;

std::string Analyzer::fold(std::string_view text) const {
    std::string out;
    if (is_ascii(text)) {
        // NFKC case folding of ASCII is plain lower-casing; skip ICU on the common path.
        out.assign(text);
        for (char& c : out)
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
        return out;
    }
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString src = icu::UnicodeString::fromUTF8(
        icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
    const icu::UnicodeString folded = icu_->nfkc_cf->normalize(src, status);
    if (U_FAILURE(status))
        return out;
    folded.toUTF8String(out);
    return out;
}

namespace {

// Word-break classes of ASCII characters (UAX #29 as ICU's root rules have them: the colon is
// not MidLetter there), as bits: a byte may be in several of the masks below.
enum : std::uint8_t {
    letter = 1,
    digit = 2,
    extend_num_let = 4, ///< "_"
    mid_letter = 8,     ///< joins letter to letter: MidNumLet "." and Single_Quote "'"
    mid_digit = 16,     ///< joins digit to digit: MidNum "," ";", MidNumLet, Single_Quote
};

constexpr std::uint8_t word_break_bits(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return letter;
    if (c >= '0' && c <= '9')
        return digit;
    switch (c) {
    case '_':
        return extend_num_let;
    case '.':
    case '\'':
        return mid_letter | mid_digit;
    case ',':
    case ';':
        return mid_digit;
    default:
        return 0;
    }
}

constexpr auto word_break_table = [] {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[static_cast<std::size_t>(c)] = word_break_bits(static_cast<unsigned char>(c));
    return t;
}();

/// One bit per byte of a 64-byte block: which bytes have each class.
struct BlockMasks {
    std::uint64_t letters = 0, digits = 0, extend = 0, mid_letters = 0, mid_digits = 0;
};

BlockMasks block_masks_scalar(const char* p, std::size_t count) {
    BlockMasks m;
    for (std::size_t k = 0; k < count; ++k) { // no branch on the bytes: no mispredictions
        const std::uint64_t t = word_break_table[static_cast<unsigned char>(p[k])];
        m.letters |= (t & 1) << k;
        m.digits |= (t >> 1 & 1) << k;
        m.extend |= (t >> 2 & 1) << k;
        m.mid_letters |= (t >> 3 & 1) << k;
        m.mid_digits |= (t >> 4 & 1) << k;
    }
    return m;
}

BlockMasks block_masks(const char* p, std::size_t count) {
#if defined(__SSE2__)
    // 16 bytes a compare (every byte here is ASCII, so signed compares are right).
    if (count == 64) {
        BlockMasks m;
        auto bits = [](__m128i v) {
            return static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(v)));
        };
        auto eq = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
        auto in = [](__m128i v, char lo, char hi) {
            return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                                 _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
        };
        for (int k = 0; k < 4; ++k) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
            const __m128i mid = _mm_or_si128(eq(v, '.'), eq(v, '\''));
            const int shift = 16 * k;
            m.letters |= bits(in(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z')) << shift;
            m.digits |= bits(in(v, '0', '9')) << shift;
            m.extend |= bits(eq(v, '_')) << shift;
            m.mid_letters |= bits(mid) << shift;
            m.mid_digits |= bits(_mm_or_si128(mid, _mm_or_si128(eq(v, ','), eq(v, ';')))) << shift;
        }
        return m;
    }
#endif
    return block_masks_scalar(p, count);
}

} // namespace

// Words are the runs of word bytes: letters, digits, "_", and a middle character with a letter
// on both sides (WB6/7) or a digit on both sides (WB11/12). Found 64 bytes at a time with bit
// masks rather than a branch per byte, which mispredicted at every word's start and end.
void Analyzer::tokenize_ascii(std::string_view text, std::uint32_t base, bool fold_words,
                              std::vector<Token>& tokens) const {
    const std::size_t n = text.size();
    const std::size_t blocks = (n + 63) / 64;
    auto block = [&](std::size_t b) {
        return b < blocks ? block_masks(text.data() + 64 * b, std::min<std::size_t>(64, n - 64 * b))
                          : BlockMasks{};
    };
    auto word_mask = [](const BlockMasks& prev, const BlockMasks& m, const BlockMasks& next) {
        const std::uint64_t letter_before = m.letters << 1 | prev.letters >> 63;
        const std::uint64_t letter_after = m.letters >> 1 | next.letters << 63;
        const std::uint64_t digit_before = m.digits << 1 | prev.digits >> 63;
        const std::uint64_t digit_after = m.digits >> 1 | next.digits << 63;
        return m.letters | m.digits | m.extend | (m.mid_letters & letter_before & letter_after) |
               (m.mid_digits & digit_before & digit_after);
    };
    auto emit = [&](std::size_t begin, std::size_t end) {
        const std::size_t length = end - begin;
        const std::uint8_t last = word_break_table[static_cast<unsigned char>(text[end - 1])];
        // ICU reports the status of the last rule that joined the word: a word ending in a
        // digit, or in one underscore after a digit, is a number; a lone "_" is no word.
        if (length == 1 && last == extend_num_let)
            return;
        if (length > options_.max_term_bytes) // ASCII folds to the same length
            return;
        const bool number =
            last == digit || (last == extend_num_let && length >= 2 &&
                              word_break_table[static_cast<unsigned char>(text[end - 2])] == digit);
        Token& token = tokens.emplace_back(); // in place: moving a Token costs a memcpy
        if (fold_words)
            token.term = fold(text.substr(begin, length));
        token.begin = base + static_cast<std::uint32_t>(begin);
        token.end = base + static_cast<std::uint32_t>(end);
        token.kind = number ? TokenKind::number : TokenKind::word;
    };
    // The masks of blocks b - 1, b, b + 1 and b + 2 roll along; a word may cross blocks.
    BlockMasks m0, m1 = block(0), m2 = block(1);
    std::uint64_t w1 = word_mask(m0, m1, m2); // word bytes of block b
    std::uint64_t carry = 0;                  // whether the byte before block b is one
    std::size_t begin = 0;
    for (std::size_t b = 0; b < blocks; ++b) {
        const BlockMasks m3 = block(b + 2);
        const std::uint64_t w2 = word_mask(m1, m2, m3);
        const std::uint64_t starts = w1 & ~(w1 << 1 | carry);
        const std::uint64_t ends = w1 & ~(w1 >> 1 | (w2 & 1) << 63); // a word's last byte
        for (std::uint64_t bits = starts | ends; bits; bits &= bits - 1) {
            const int k = std::countr_zero(bits);
            if (starts >> k & 1)
                begin = 64 * b + static_cast<std::size_t>(k);
            if (ends >> k & 1)
                emit(begin, 64 * b + static_cast<std::size_t>(k) + 1);
        }
        carry = w1 >> 63;
        m0 = m1;
        m1 = m2;
        m2 = m3;
        w1 = w2;
    }
}

std::vector<Token> Analyzer::tokenize(std::string_view text) {
    return split(text, true);
}

std::vector<Token> Analyzer::segment(std::string_view text) {
    return split(text, false);
}

std::vector<Token> Analyzer::split(std::string_view text, bool fold_words) {
    std::vector<Token> tokens;
    tokens.reserve(text.size() / 6);
    if (!options_.ascii_fast_path) {
        tokenize_icu(text, 0, fold_words, tokens);
        return tokens;
    }
    // Most text is plain ASCII: one pass of the fast path.
    std::uint64_t bits = 0; // eight bytes at a time
    std::size_t k = 0;
    for (; k + 8 <= text.size(); k += 8) {
        std::uint64_t word;
        std::memcpy(&word, text.data() + k, 8);
        bits |= word;
    }
    for (; k < text.size(); ++k)
        bits |= static_cast<unsigned char>(text[k]);
    if ((bits & 0x8080808080808080ull) == 0 && text.find('@') == std::string_view::npos) {
        tokenize_ascii(text, 0, fold_words, tokens);
        return tokens;
    }
    // No word-break rule joins across white space, so the text is cut there into regions:
    // stretches of pure ASCII take the fast path, the others ICU. ICU keeps e-mail addresses
    // whole ("lists@debian.org"), a rule the fast path does not have, so "@" goes to ICU too.
    std::size_t region = 0;
    bool region_ascii = true;
    auto flush = [&](std::size_t end) {
        if (end <= region)
            return;
        const auto base = static_cast<std::uint32_t>(region);
        if (region_ascii)
            tokenize_ascii(text.substr(region, end - region), base, fold_words, tokens);
        else
            tokenize_icu(text.substr(region, end - region), base, fold_words, tokens);
        region = end;
    };
    for (std::size_t i = 0; i < text.size();) {
        std::size_t start = i;
        while (start < text.size() && is_word_break_space(text[start]))
            ++start;
        std::size_t end = start;
        bool ascii = true;
        for (; end < text.size() && !is_word_break_space(text[end]); ++end)
            ascii = ascii && (text[end] & 0x80) == 0 && text[end] != '@';
        if (end == start)
            break;
        if (ascii != region_ascii) {
            flush(start);
            region_ascii = ascii;
        }
        i = end;
    }
    flush(text.size());
    return tokens;
}

void Analyzer::tokenize_icu(std::string_view text, std::uint32_t base, bool fold_words,
                            std::vector<Token>& tokens) {
    UErrorCode status = U_ZERO_ERROR;
    // UText reads the UTF-8 in place; boundaries come back as byte offsets into `text`, and
    // ill-formed bytes read as U+FFFD, which is never part of a word.
    UText* ut = utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &status);
    if (U_FAILURE(status))
        return;
    icu::BreakIterator& bi = *icu_->words;
    bi.setText(ut, status);
    if (U_FAILURE(status)) {
        utext_close(ut);
        return;
    }
    int32_t begin = bi.first();
    for (int32_t end = bi.next(); end != icu::BreakIterator::DONE; begin = end, end = bi.next()) {
        const int32_t rule = bi.getRuleStatus();
        if (rule < UBRK_WORD_NUMBER)
            continue; // spaces and punctuation
        const std::string_view raw = text.substr(begin, end - begin);
        const bool cjk = rule >= UBRK_WORD_KANA && rule < UBRK_WORD_IDEO_LIMIT;
        Token token;
        if (fold_words || cjk) {
            token.term = fold(raw);
            if (token.term.empty() || token.term.size() > options_.max_term_bytes)
                continue;
        } else if (raw.size() > options_.max_term_bytes) {
            continue;
        }
        token.begin = base + static_cast<std::uint32_t>(begin);
        token.end = base + static_cast<std::uint32_t>(end);
        if (cjk)
            token.kind = TokenKind::cjk;
        else if (rule < UBRK_WORD_NUMBER_LIMIT)
            token.kind = TokenKind::number;
        if (token.kind == TokenKind::cjk)
            strip_prolonged_sound_mark(token.term);
        if (token.kind == TokenKind::cjk && !tokens.empty()) {
            const Token& prev = tokens.back();
            token.joins_previous = prev.kind == TokenKind::cjk && prev.end == token.begin;
        }
        tokens.push_back(std::move(token));
    }
    utext_close(ut);
}

Analyzer::CachedStemmer& Analyzer::stemmer_for(std::string_view lang) {
    auto it = stemmers_.find(lang);
    if (it == stemmers_.end()) {
        Xapian::Stem stemmer; // the "none" stemmer: returns words unchanged
        // Xapian knows languages by ISO 639 code; CJK languages have no stemmer.
        if (!lang.empty() && lang != "ja" && lang != "zh" && lang != "ko" && lang != "th") {
            try {
                stemmer = Xapian::Stem(std::string(lang));
            } catch (const Xapian::Error&) {
            }
        }
        it = stemmers_.emplace(std::string(lang), CachedStemmer{stemmer, {}}).first;
    }
    return it->second;
}

bool Analyzer::has_stemmer(std::string_view lang) {
    return !stemmer_for(lang).stemmer.is_none();
}

std::string Analyzer::stem(std::string_view term, std::string_view lang) {
    CachedStemmer& s = stemmer_for(lang);
    if (term.empty() || s.stemmer.is_none())
        return std::string(term);
    if (auto hit = s.cache.find(term); hit != s.cache.end())
        return hit->second;
    if (s.cache.size() > 200'000) // bounded: a long run over a huge vocabulary starts afresh
        s.cache.clear();
    std::string key(term);
    std::string stemmed = s.stemmer(key);
    s.cache.emplace(std::move(key), stemmed);
    return stemmed;
}

bool Analyzer::is_stopword(std::string_view term, std::string_view lang) const {
    const StopSets& sets = stop_sets();
    auto it = sets.find(std::string(lang));
    if (it == sets.end())
        it = sets.find("en");
    return it != sets.end() && it->second.contains(std::string(term));
}

std::vector<std::string> cjk_bigrams(std::string_view text) {
    std::vector<std::string> out;
    std::vector<std::size_t> starts; // byte offset of each character
    for (std::size_t i = 0; i < text.size();) {
        starts.push_back(i);
        UChar32 c;
        int32_t j = static_cast<int32_t>(i);
        U8_NEXT(text.data(), j, static_cast<int32_t>(text.size()), c);
        i = static_cast<std::size_t>(j);
    }
    starts.push_back(text.size());
    for (std::size_t k = 0; k + 2 < starts.size(); ++k)
        out.emplace_back(text.substr(starts[k], starts[k + 2] - starts[k]));
    return out;
}

std::vector<std::string> cjk_bigrams(const std::vector<Token>& tokens) {
    std::vector<std::string> out;
    std::string run;
    auto flush = [&] {
        auto grams = cjk_bigrams(run);
        out.insert(out.end(), std::make_move_iterator(grams.begin()),
                   std::make_move_iterator(grams.end()));
        run.clear();
    };
    for (const Token& t : tokens) {
        if (t.kind != TokenKind::cjk) {
            flush();
            continue;
        }
        if (!t.joins_previous)
            flush();
        run += t.term;
    }
    flush();
    return out;
}

} // namespace mixi::analyzers
