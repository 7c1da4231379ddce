#include "query/snippet.h"

#include "common/utf8.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mixi::query {

using analyzers::Token;
using analyzers::TokenKind;

namespace {

/// Appends `s` to `out` with & < > " ' escaped, copying the runs between them whole.
void append_escaped(std::string& out, std::string_view s) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        std::string_view entity;
        switch (s[i]) {
        case '&':
            entity = "&amp;";
            break;
        case '<':
            entity = "&lt;";
            break;
        case '>':
            entity = "&gt;";
            break;
        case '"':
            entity = "&quot;";
            break;
        case '\'':
            entity = "&#39;";
            break;
        default:
            continue;
        }
        out.append(s.substr(run, i - run));
        out.append(entity);
        run = i + 1;
    }
    out.append(s.substr(run));
}

/// Appends text of the page, escaped, with ill-formed UTF-8 repaired.
void append_text(std::string& out, std::string_view s) {
    if (is_valid_utf8(s))
        append_escaped(out, s);
    else
        append_escaped(out, repair_utf8(s));
}

/// Finds which query word a text token matches. Most words of a text match nothing; they are
/// told apart by their first bytes before any lookup or stemming.
class Matcher {
  public:
    Matcher(const SnippetTerms& q, analyzers::Analyzer& analyzer) : q_(q), analyzer_(analyzer) {
        for (const auto* set : {q.terms, q.stems})
            for (const std::string& w : *set) {
                const std::uint32_t key = head(w);
                heads_.push_back(key);
                filter_[bucket(key) / 64] |= std::uint64_t{1} << (bucket(key) % 64);
                if (!w.empty() && static_cast<unsigned char>(w[0]) < 0x80)
                    first_bytes_.push_back(static_cast<unsigned char>(w[0]) | 0x20);
                add_cjk_keys(w, set == q.terms);
            }
        std::sort(heads_.begin(), heads_.end());
        std::sort(first_bytes_.begin(), first_bytes_.end());
        first_bytes_.erase(std::unique(first_bytes_.begin(), first_bytes_.end()),
                           first_bytes_.end());
        std::sort(cjk_firsts_.begin(), cjk_firsts_.end());
        std::sort(cjk_pairs_.begin(), cjk_pairs_.end());
    }

    /// Where a word that operator() may accept can be, in order: at the first byte of each run
    /// of non-ASCII bytes that may hold part of such a word (a word with such bytes may fold to
    /// anything; its whole stretch between spaces is looked at; see may_match_in_run), and at
    /// each word start whose ASCII bytes, lower-cased, start a query word. Looked at 16 bytes
    /// at a time.
    std::vector<std::size_t> candidates(std::string_view text) const {
        std::vector<std::size_t> out;
        unsigned previous_word = 0; // whether the byte before the block joins a word
        unsigned previous_high = 0; // whether it is non-ASCII
        for (std::size_t i = 0; i < text.size(); i += 16) {
            unsigned char tail[16] = {}; // NUL starts and joins nothing
            const bool whole = i + 16 <= text.size();
            if (!whole)
                std::memcpy(tail, text.data() + i, text.size() - i);
            const Masks m =
                masks(whole ? reinterpret_cast<const unsigned char*>(text.data() + i) : tail);
            // A letter, digit or "_" always joins the next byte into its word.
            const unsigned starts = m.first & ~(m.word << 1 | previous_word);
            const unsigned high_runs = m.high & ~(m.high << 1 | previous_high);
            // The padding of the last block is no text, even where it looks like a query
            // word's first byte (NUL | 0x20 is a space, which folding can put first: NFKC
            // turns U+309C into a space and U+309A).
            const unsigned in_text = whole ? 0xffff : (1u << (text.size() - i)) - 1;
            for (unsigned bits = (starts | high_runs) & in_text; bits; bits &= bits - 1) {
                const std::size_t p = i + static_cast<std::size_t>(std::countr_zero(bits));
                if (high_runs >> (p - i) & 1 ? may_match_in_run(text, p) : ascii_head_at(text, p))
                    out.push_back(p);
            }
            previous_word = m.word >> 15 & 1;
            previous_high = m.high >> 15 & 1;
        }
        return out;
    }

    /// `t` comes from Analyzer::segment: only CJK words are folded; `raw` is its text.
    const std::string* operator()(Token& t, std::string_view raw) const {
        if (t.kind == TokenKind::cjk) {
            if (auto it = q_.terms->find(t.term); it != q_.terms->end())
                return &*it;
            // CJK words also match inside each other: the text may be segmented differently.
            if (t.term.size() > 3) // more than one character
                for (const std::string& term : *q_.terms)
                    if (term.size() > 3 && (term.find(t.term) != std::string::npos ||
                                            t.term.find(term) != std::string::npos))
                        return &term;
            return nullptr;
        }
        // The common case: an ASCII word whose first bytes, lower-cased, start no query word
        // is rejected with one integer compare per query word, without folding it.
        if (ascii_head(raw) && !has_head(head(raw)))
            return nullptr;
        t.term = analyzer_.fold(raw);
        if (!has_head(head(t.term)))
            return nullptr;
        if (auto it = q_.terms->find(t.term); it != q_.terms->end())
            return &*it;
        if (t.kind == TokenKind::word && !q_.stems->empty()) {
            const std::string stem = analyzer_.stem(t.term, q_.lang);
            if (auto it = q_.stems->find(stem); it != q_.stems->end())
                return &*it;
        }
        return nullptr;
    }

  private:
    /// How a character of a run of non-ASCII bytes takes part in words (may_match_in_run).
    enum class CjkClass {
        other, ///< anything else: the run is segmented, as any word may hold it
        word,  ///< Han, kana: folds to itself, and only into words of the same kind
        mark,  ///< punctuation (and the no-break space) that is in no word
        mid,   ///< full-width punctuation that joins two ASCII letters or digits into one word
    };
    static CjkClass cjk_class(char32_t c) {
        if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || // Han
            (c >= 0x3041 && c <= 0x3096) || c == 0x309D || c == 0x309E ||   // hiragana
            (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x30FE))   // katakana
            return CjkClass::word;
        if ((c >= 0x3001 && c <= 0x3002) || (c >= 0x3008 && c <= 0x3011) ||
            (c >= 0x3014 && c <= 0x301C) || c == 0x30FB || c == 0xFF01 || c == 0xFF08 ||
            c == 0xFF09 || c == 0xFF1F || c == 0x00A0 || c == 0x2014 || c == 0x2026 ||
            c == 0x201C || c == 0x201D || c == 0x2192)
            return CjkClass::mark;
        if (c == 0xFF0C || c == 0xFF1A || c == 0xFF1B)
            return CjkClass::mid;
        return CjkClass::other;
    }

    /// Records the characters of query word `w` that a run of CJK text must hold for one of
    /// its words to match `w`: the first character (a word matches by equality, by holding
    /// `w`, or for words that are not CJK by sharing its head), and for a term of more than one
    /// character each pair of adjacent characters (a CJK word of two characters or more also
    /// matches when `w` holds it). A query word that is not well-formed UTF-8 turns the filter
    /// off.
    void add_cjk_keys(std::string_view w, bool term) {
        if (!is_valid_utf8(w)) {
            every_run_ = true;
            return;
        }
        std::size_t i = 0;
        char32_t previous = 0;
        for (std::size_t n = 0; i < w.size(); ++n) {
            const char32_t c = decode(w, i);
            if (n == 0)
                cjk_firsts_.push_back(c);
            else if (term && w.size() > 3)
                cjk_pairs_.push_back(pair(previous, c));
            previous = c;
        }
    }
    static std::uint64_t pair(char32_t a, char32_t b) { return std::uint64_t{a} << 32 | b; }

    /// The code point at `i`, which it moves past; U+FFFD for an ill-formed sequence.
    static char32_t decode(std::string_view s, std::size_t& i) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        char32_t c = 0;
        if (b0 < 0x80) {
            ++i;
            return b0;
        } else if (b0 >= 0xC2 && b0 <= 0xDF) {
            n = 1;
            c = b0 & 0x1F;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            n = 2;
            c = b0 & 0x0F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            n = 3;
            c = b0 & 0x07;
        } else {
            ++i;
            return 0xFFFD;
        }
        if (s.size() - i <= n) {
            ++i;
            return 0xFFFD;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) {
                ++i;
                return 0xFFFD;
            }
            c = c << 6 | (b & 0x3F);
        }
        i += n + 1;
        // Overlong forms, surrogates and code points past U+10FFFF are no characters.
        if ((n == 2 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
            (n == 3 && (c < 0x10000 || c > 0x10FFFF)))
            return 0xFFFD;
        return c;
    }

    static bool ascii_alnum(char c) {
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    }

    /// Whether the run of non-ASCII bytes at `p` may hold part of a word operator() accepts
    /// that starts no ASCII candidate of candidates(); it must never say no to a run that
    /// holds such a word. A run is looked at only when it holds nothing but Han, kana and a
    /// few punctuation marks, and is not joined to the text around it by "_" or by full-width
    /// punctuation between ASCII letters or digits. Then:
    ///  - every word of its stretch folds character by character, each of these characters to
    ///    itself (they have a normalization boundary before them), and word break never puts
    ///    one of them in a word with an ASCII character (Han and kana break from ASCII letters
    ///    and digits; only "_" joins katakana to them), so a CJK word of the run is a piece of
    ///    the run's text, less at most a final U+30FC;
    ///  - a CJK word matches a query term when it equals it or holds it (then it holds the
    ///    term's first character), or, both longer than one character, when the term holds it
    ///    (then its first two characters are two adjacent characters of the term);
    ///  - any other word that starts in the run matches only with the head (first three bytes,
    ///    one character here) of a query word;
    ///  - words that start with ASCII bytes are candidates of their own.
    bool may_match_in_run(std::string_view text, std::size_t p) const {
        if (every_run_ || (p > 0 && text[p - 1] == '_'))
            return true;
        std::size_t i = p;
        char32_t previous = 0;
        for (bool first = true; i < text.size() && static_cast<unsigned char>(text[i]) >= 0x80;
             first = false) {
            const char32_t c = decode(text, i);
            switch (cjk_class(c)) {
            case CjkClass::other:
                return true;
            case CjkClass::mid:
                if (first && p > 0 && ascii_alnum(text[p - 1]))
                    return true;
                break;
            case CjkClass::mark:
                break;
            case CjkClass::word:
                if (std::binary_search(cjk_firsts_.begin(), cjk_firsts_.end(), c) ||
                    (!first &&
                     std::binary_search(cjk_pairs_.begin(), cjk_pairs_.end(), pair(previous, c))))
                    return true;
                break;
            }
            previous = c;
        }
        return i < text.size() && text[i] == '_';
    }

    /// One bit per byte of a block: bytes that always join a word (ASCII letters, digits,
    /// "_"), bytes that start a query word (lower-cased), and non-ASCII bytes.
    struct Masks {
        unsigned word = 0, first = 0, high = 0;
    };
    Masks masks(const unsigned char* block) const {
        Masks m;
#if defined(__SSE2__)
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
        const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
        // Signed compares: a non-ASCII byte is negative and in no range.
        auto in = [](__m128i x, char lo, char hi) {
            return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(lo - 1))),
                                 _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(hi + 1))));
        };
        const __m128i word = _mm_or_si128(_mm_or_si128(in(lower, 'a', 'z'), in(v, '0', '9')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
        __m128i first = _mm_setzero_si128();
        for (const unsigned char c : first_bytes_)
            first = _mm_or_si128(first, _mm_cmpeq_epi8(lower, _mm_set1_epi8(static_cast<char>(c))));
        m.word = static_cast<unsigned>(_mm_movemask_epi8(word));
        m.first = static_cast<unsigned>(_mm_movemask_epi8(first));
        m.high = static_cast<unsigned>(_mm_movemask_epi8(v));
#else
        for (unsigned k = 0; k < 16; ++k) {
            const unsigned char c = block[k];
            const unsigned char lower = c | 0x20;
            if ((lower >= 'a' && lower <= 'z') || (c >= '0' && c <= '9') || c == '_')
                m.word |= 1u << k;
            if (std::find(first_bytes_.begin(), first_bytes_.end(), lower) != first_bytes_.end())
                m.first |= 1u << k;
            if (c >= 0x80)
                m.high |= 1u << k;
        }
#endif
        return m;
    }

    /// Whether an ASCII word starting at `p` may have the head of a query word: the head
    /// holds the word's length up to 3, so each is tried.
    bool ascii_head_at(std::string_view text, std::size_t p) const {
        const std::size_t n = std::min<std::size_t>(3, text.size() - p);
        const std::uint32_t bytes = head(text.substr(p, n)) & 0xffffff;
        for (std::uint32_t k = 1; k <= n; ++k) {
            const std::uint32_t first_k = 0xffffffu << (8 * (3 - k)) & 0xffffffu; // k bytes
            if (has_head(k << 24 | (bytes & first_k)))
                return true;
        }
        return false;
    }

    // Most words are rejected by a bit of the filter, the rest by a search of the sorted heads.
    bool has_head(std::uint32_t key) const {
        const std::uint32_t b = bucket(key);
        return (filter_[b / 64] >> (b % 64) & 1) &&
               std::binary_search(heads_.begin(), heads_.end(), key);
    }
    static std::uint32_t bucket(std::uint32_t key) {
        return (key * 2654435761u) >> 20;
    }
    static bool ascii_head(std::string_view w) {
        for (std::size_t i = 0; i < 3 && i < w.size(); ++i)
            if (static_cast<unsigned char>(w[i]) >= 0x80)
                return false;
        return true;
    }
    // A word and its stem share their first bytes (Snowball stems only change endings); the
    // first three bytes, ASCII lower-cased (folding does that to an ASCII word), and the length
    // class are packed into one integer.
    static std::uint32_t head(std::string_view w) {
        std::uint32_t key = static_cast<std::uint32_t>(std::min<std::size_t>(w.size(), 3)) << 24;
        for (std::size_t i = 0; i < 3 && i < w.size(); ++i) {
            unsigned char c = static_cast<unsigned char>(w[i]);
            if (c >= 'A' && c <= 'Z')
                c = static_cast<unsigned char>(c - 'A' + 'a');
            key |= static_cast<std::uint32_t>(c) << (16 - 8 * i);
        }
        return key;
    }

    const SnippetTerms& q_;
    analyzers::Analyzer& analyzer_;
    std::vector<std::uint32_t> heads_;       ///< sorted
    std::array<std::uint64_t, 64> filter_{}; ///< 4,096 bits: bucket(head) of each query word
    std::vector<unsigned char> first_bytes_; ///< of the query words' ASCII heads, | 0x20
    std::vector<char32_t> cjk_firsts_;       ///< first characters of the query words, sorted
    std::vector<std::uint64_t> cjk_pairs_;   ///< adjacent characters of the terms, sorted
    bool every_run_ = false;                 ///< a query word is ill-formed: no filter
};

/// The words of a text, segmented a stretch between white space at a time, only where they are
/// looked at: a snippet needs the words that may match and those at its two ends, not all.
class Words {
  public:
    Words(std::string_view text, analyzers::Analyzer& analyzer)
        : text_(text), analyzer_(analyzer) {}

    /// The stretch of non-space bytes around `p` (empty when `p` is white space).
    std::pair<std::size_t, std::size_t> stretch(std::size_t p) const {
        std::size_t a = p, b = p;
        while (a > 0 && !analyzers::is_word_break_space(text_[a - 1]))
            --a;
        while (b < text_.size() && !analyzers::is_word_break_space(text_[b]))
            ++b;
        return {a, b};
    }

    /// The words of the stretch [a, b), with offsets into the text. The last stretch is kept:
    /// both ends of a window often fall in one long stretch (CJK text has no spaces).
    std::vector<Token>& of(std::size_t a, std::size_t b) {
        if (a != a_ || b != b_) {
            words_ = analyzer_.segment(text_.substr(a, b - a));
            for (Token& t : words_) {
                t.begin += static_cast<std::uint32_t>(a);
                t.end += static_cast<std::uint32_t>(a);
            }
            a_ = a;
            b_ = b;
        }
        return words_;
    }

    /// Where the first word that starts at or after `p` starts.
    std::optional<std::size_t> first_begin_from(std::size_t p) {
        for (std::size_t a = stretch(p).first; a < text_.size();) {
            const std::size_t b = stretch(a).second;
            for (const Token& t : of(a, b))
                if (t.begin >= p)
                    return t.begin;
            for (a = b; a < text_.size() && analyzers::is_word_break_space(text_[a]);)
                ++a;
        }
        return std::nullopt;
    }

    /// Where the last word that ends at or before `p` ends.
    std::optional<std::size_t> last_end_until(std::size_t p) {
        for (std::size_t b = stretch(p).second; b > 0;) {
            while (b > 0 && analyzers::is_word_break_space(text_[b - 1]))
                --b;
            if (b == 0)
                break;
            const std::size_t a = stretch(b - 1).first;
            const auto& words = of(a, b);
            for (auto t = words.rbegin(); t != words.rend(); ++t)
                if (t->end <= p)
                    return t->end;
            b = a;
        }
        return std::nullopt;
    }

  private:
    std::string_view text_;
    analyzers::Analyzer& analyzer_;
    std::size_t a_ = 0, b_ = 0; ///< the stretch words_ holds
    std::vector<Token> words_;
};

/// A word of the text that matches a query word.
struct Hit {
    std::size_t begin, end; ///< in the text
    const std::string* word;
};

/// The words of `text` that match, in order, found by segmenting only the stretches where one
/// may start. They are segmented in one call, joined by spaces: no word-break rule joins across
/// white space, so each segments as it would alone.
std::vector<Hit> matching_words(std::string_view text, const Matcher& match, const Words& words,
                                analyzers::Analyzer& analyzer) {
    struct Stretch {
        std::size_t begin, end, joined; ///< in text; where it starts in `joined`
    };
    std::vector<Stretch> stretches;
    std::string joined;
    for (const std::size_t p : match.candidates(text)) {
        if (!stretches.empty() && p < stretches.back().end)
            continue;
        const auto [a, b] = words.stretch(p);
        stretches.push_back({a, b, joined.size()});
        joined.append(text.substr(a, b - a));
        joined += ' ';
    }
    std::vector<Hit> hits;
    auto stretch = stretches.begin();
    for (Token& t : analyzer.segment(joined)) {
        while (t.begin >= stretch->joined + (stretch->end - stretch->begin))
            ++stretch;
        const std::size_t begin = stretch->begin + (t.begin - stretch->joined);
        const std::size_t end = begin + (t.end - t.begin);
        if (const std::string* w = match(t, text.substr(begin, end - begin)))
            hits.push_back({begin, end, w});
    }
    return hits;
}

} // namespace

std::string make_snippet(std::string_view raw, const SnippetTerms& query,
                         analyzers::Analyzer& analyzer, std::size_t max_bytes) {
    // Scanning the first part of a long page is enough to find a good passage quickly.
    const std::string_view text = utf8_prefix(raw, 32 * 1024);
    const Matcher match(query, analyzer);
    Words words(text, analyzer);
    const std::vector<Hit> hits = matching_words(text, match, words, analyzer);

    // The window of hits spanning at most max_bytes with the most distinct words, then the
    // most hits.
    std::size_t best_first = 0, best_last = 0, best_distinct = 0, best_count = 0;
    // How often each query word is in the window; a query has few words, so a list will do.
    std::vector<std::pair<const std::string*, int>> in_window;
    auto count_of = [&](const std::string* word) -> int& {
        for (auto& [w, n] : in_window)
            if (w == word)
                return n;
        return in_window.emplace_back(word, 0).second;
    };
    for (std::size_t lo = 0, hi = 0; hi < hits.size(); ++hi) {
        ++count_of(hits[hi].word);
        while (lo < hi && hits[hi].end - hits[lo].begin > max_bytes) {
            if (--count_of(hits[lo].word) == 0)
                std::erase_if(in_window, [&](const auto& e) { return e.first == hits[lo].word; });
            ++lo;
        }
        const std::size_t count = hi - lo + 1;
        if (in_window.size() > best_distinct ||
            (in_window.size() == best_distinct && count > best_count)) {
            best_distinct = in_window.size();
            best_count = count;
            best_first = lo;
            best_last = hi;
        }
    }

    // Centre the window on its hits, then widen it to word boundaries.
    std::size_t begin = 0, end = utf8_prefix(text, max_bytes).size();
    if (!hits.empty()) {
        const std::size_t a = hits[best_first].begin;
        const std::size_t b = hits[best_last].end;
        const std::size_t slack = max_bytes > b - a ? (max_bytes - (b - a)) / 2 : 0;
        begin = a > slack ? a - slack : 0;
        end = std::min(text.size(), std::max(b, begin + max_bytes));
    }
    // Snap to word starts/ends so no word (or UTF-8 sequence) is cut.
    const std::optional<std::size_t> first_begin =
        begin > 0 ? words.first_begin_from(begin) : std::nullopt;
    const std::optional<std::size_t> last_end =
        end < text.size() ? words.last_end_until(end) : std::nullopt;
    begin = first_begin.value_or(begin);
    end = std::max(begin, last_end.value_or(end));

    std::string out;
    if (begin > 0)
        out += "…";
    std::size_t pos = begin;
    std::size_t h = 0;
    while (h < hits.size() && hits[h].begin < begin)
        ++h;
    for (; h < hits.size() && hits[h].end <= end; ++h) {
        append_text(out, text.substr(pos, hits[h].begin - pos));
        out += "<mark>";
        append_text(out, text.substr(hits[h].begin, hits[h].end - hits[h].begin));
        out += "</mark>";
        pos = hits[h].end;
    }
    append_text(out, text.substr(pos, end - pos));
    if (end < raw.size())
        out += "…";
    return out;
}

} // namespace mixi::query
