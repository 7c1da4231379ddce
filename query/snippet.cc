#include "query/snippet.h"

#include "common/utf8.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

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
            }
        std::sort(heads_.begin(), heads_.end());
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
    // Most words are rejected by a bit of the filter, the rest by a search of the sorted heads.
    bool has_head(std::uint32_t key) const {
        const std::uint32_t b = bucket(key);
        return (filter_[b / 64] >> (b % 64) & 1) &&
               std::binary_search(heads_.begin(), heads_.end(), key);
    }
    static std::uint32_t bucket(std::uint32_t key) { return (key * 2654435761u) >> 20; }
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
};

} // namespace

std::string make_snippet(std::string_view raw, const SnippetTerms& query,
                         analyzers::Analyzer& analyzer, std::size_t max_bytes) {
    // Scanning the first part of a long page is enough to find a good passage quickly.
    const std::string_view text = utf8_prefix(raw, 32 * 1024);
    std::vector<Token> tokens = analyzer.segment(text);
    struct Hit {
        std::size_t token;
        const std::string* word;
    };
    std::vector<Hit> hits;
    const Matcher match(query, analyzer);
    for (std::size_t i = 0; i < tokens.size(); ++i)
        if (const std::string* w =
                match(tokens[i], text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin)))
            hits.push_back({i, w});

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
        while (lo < hi && tokens[hits[hi].token].end - tokens[hits[lo].token].begin > max_bytes) {
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
        const std::size_t a = tokens[hits[best_first].token].begin;
        const std::size_t b = tokens[hits[best_last].token].end;
        const std::size_t slack = max_bytes > b - a ? (max_bytes - (b - a)) / 2 : 0;
        begin = a > slack ? a - slack : 0;
        end = std::min(text.size(), std::max(b, begin + max_bytes));
    }
    // Snap to token starts/ends so no word (or UTF-8 sequence) is cut.
    auto first_tok =
        std::lower_bound(tokens.begin(), tokens.end(), begin,
                         [](const Token& t, std::size_t pos) { return t.begin < pos; });
    if (begin > 0 && first_tok != tokens.end())
        begin = first_tok->begin;
    auto last_tok = std::upper_bound(tokens.begin(), tokens.end(), end,
                                     [](std::size_t pos, const Token& t) { return pos < t.end; });
    if (end < text.size() && last_tok != tokens.begin())
        end = std::prev(last_tok)->end;
    if (end < begin)
        end = begin;

    std::string out;
    if (begin > 0)
        out += "…";
    std::size_t pos = begin;
    std::size_t h = 0;
    while (h < hits.size() && tokens[hits[h].token].begin < begin)
        ++h;
    for (; h < hits.size() && tokens[hits[h].token].end <= end; ++h) {
        const Token& t = tokens[hits[h].token];
        append_text(out, text.substr(pos, t.begin - pos));
        out += "<mark>";
        append_text(out, text.substr(t.begin, t.end - t.begin));
        out += "</mark>";
        pos = t.end;
    }
    append_text(out, text.substr(pos, end - pos));
    if (end < raw.size())
        out += "…";
    return out;
}

} // namespace mixi::query
