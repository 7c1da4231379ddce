#include "query/query_parser.h"

#include "analyzers/language.h"
#include "common/dates.h"
#include "common/schema.h"
#include "common/utf8.h"

#include <algorithm>
#include <xapian.h>

namespace mixi::query {

namespace {

using analyzers::Token;
using analyzers::TokenKind;

enum class UnitKind { word, phrase, field, op_or };

/// One piece of the query syntax, before analysis.
struct Unit {
    UnitKind kind = UnitKind::word;
    std::string text;  ///< word, phrase content or field value
    std::string field; ///< for fields
    bool negated = false;
    std::size_t begin = 0, end = 0;
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_field(std::string_view name) {
    return name == "type" || name == "lang" || name == "tag" || name == "author" ||
           name == "title" || name == "date" || name == "published";
}

/// Splits the query into units; nothing when the syntax is broken (the caller then reads
/// plain words).
std::optional<std::vector<Unit>> split_syntax(std::string_view s) {
    std::vector<Unit> units;
    std::size_t i = 0;
    while (i < s.size()) {
        if (is_space(s[i])) {
            ++i;
            continue;
        }
        Unit u;
        u.begin = i;
        if (s[i] == '-' && i + 1 < s.size() && !is_space(s[i + 1]) && s[i + 1] != '-') {
            u.negated = true;
            ++i;
        }
        if (s[i] == '"') {
            const std::size_t close = s.find('"', i + 1);
            if (close == std::string_view::npos)
                return std::nullopt;
            u.kind = UnitKind::phrase;
            u.text = s.substr(i + 1, close - i - 1);
            i = close + 1;
        } else {
            std::size_t end = i;
            while (end < s.size() && !is_space(s[end]) && s[end] != '"')
                ++end;
            u.text = s.substr(i, end - i);
            i = end;
            const std::size_t colon = u.text.find(':');
            if (!u.negated && u.text == "OR") {
                u.kind = UnitKind::op_or;
            } else if (colon != std::string::npos && is_field(u.text.substr(0, colon))) {
                u.field = u.text.substr(0, colon);
                u.text = u.text.substr(colon + 1);
                // A quoted value: tag:"new york".
                if (u.text.empty() && i < s.size() && s[i] == '"') {
                    const std::size_t close = s.find('"', i + 1);
                    if (close == std::string_view::npos)
                        return std::nullopt;
                    u.text = s.substr(i + 1, close - i - 1);
                    i = close + 1;
                }
                if (u.text.empty())
                    return std::nullopt;
                u.kind = UnitKind::field;
            }
        }
        u.end = i;
        units.push_back(std::move(u));
    }
    // OR needs a word on each side.
    for (std::size_t k = 0; k < units.size(); ++k) {
        if (units[k].kind != UnitKind::op_or)
            continue;
        if (k == 0 || k + 1 == units.size() || units[k - 1].kind == UnitKind::op_or ||
            units[k + 1].kind == UnitKind::op_or)
            return std::nullopt;
    }
    return units;
}

/// Plain words: every syntax character is read as a separator.
std::vector<Unit> plain_words(std::string_view s) {
    std::vector<Unit> units;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (is_space(s[i]) || s[i] == '"'))
            ++i;
        std::size_t end = i;
        while (end < s.size() && !is_space(s[end]) && s[end] != '"')
            ++end;
        if (end > i)
            units.push_back(
                Unit{UnitKind::word, std::string(s.substr(i, end - i)), "", false, i, end});
        i = end;
    }
    return units;
}

/// The code points of a UTF-8 word.
std::u32string code_points(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        i += decode_utf8(s, i, cp);
        out.push_back(cp);
    }
    return out;
}

std::string to_utf8(const std::u32string& cps) {
    std::string out;
    for (char32_t c : cps) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (c < 0x800) {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += static_cast<char>(0xE0 | (c >> 12));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (c >> 18));
            out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

/// Letters of the Latin script (Basic Latin, Latin-1, Extended-A/B, Extended Additional).
bool latin_letters(const std::u32string& w) {
    for (char32_t c : w) {
        const bool ascii = (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
        const bool extended =
            (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x1E00 && c <= 0x1EFF);
        if (!ascii && !extended)
            return false;
    }
    return true;
}

unsigned osa_distance(const std::u32string& a, const std::u32string& b, unsigned limit) {
    const std::size_t n = a.size(), m = b.size();
    if ((n > m ? n - m : m - n) > limit)
        return limit + 1;
    std::vector<std::vector<unsigned>> d(n + 1, std::vector<unsigned>(m + 1));
    for (std::size_t i = 0; i <= n; ++i)
        d[i][0] = static_cast<unsigned>(i);
    for (std::size_t j = 0; j <= m; ++j)
        d[0][j] = static_cast<unsigned>(j);
    for (std::size_t i = 1; i <= n; ++i)
        for (std::size_t j = 1; j <= m; ++j) {
            const unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return std::min(d[n][m], limit + 1);
}

class Builder {
  public:
    Builder(analyzers::Analyzer& analyzer, const ParseOptions& options, ParsedQuery& out)
        : analyzer_(analyzer), options_(options), out_(out) {}

    /// The words that complete `prefix`, as one synonym: its most frequent words (short
    /// prefixes from the cache) within a budget of postings, or without a local index
    /// (remote shards) Xapian's wildcard over the most frequent.
    Xapian::Query completions(const std::string& prefix) const {
        if (!options_.completions)
            return Xapian::Query(Xapian::Query::OP_WILDCARD, prefix, options_.prefix_expansions,
                                 Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
        std::vector<std::pair<Xapian::doccount, std::string>> scanned;
        const auto& words = PrefixCompletions::cached(prefix)
                                ? (*options_.completions)(prefix)
                                : (scanned = options_.completions->scan(prefix));
        std::vector<Xapian::Query> parts;
        Xapian::doccount postings = 0;
        for (std::size_t i = 0; i < words.size() && parts.size() < options_.prefix_expansions;
             ++i) {
            if (!parts.empty() && postings + words[i].first > options_.prefix_postings)
                continue; // a rarer word may still fit
            postings += words[i].first;
            parts.emplace_back(words[i].second);
        }
        return Xapian::Query(Xapian::Query::OP_SYNONYM, parts.begin(), parts.end());
    }

    /// The query for one analysed word: its stem and exact form, or for CJK the word and its
    /// bigrams (which match text that was segmented differently).
    Xapian::Query word_query(const Token& t, bool as_prefix, bool typos = false) {
        Xapian::Query q = word_forms(t);
        out_.highlight_terms.insert(t.term);
        // A word the synonyms know is meant as typed: no typo of another.
        if (!with_synonyms(t, q) && typos)
            q = with_typos(t, q);
        if (!as_prefix)
            return q;
        q = Xapian::Query(Xapian::Query::OP_OR, q, completions(t.term));
        // A typo in the word being typed: the completions of the prefix one edit away.
        if (options_.typo_terms && t.kind == TokenKind::word)
            if (const std::string fixed = typo_prefix(*options_.typo_terms, t.term); !fixed.empty())
                q = Xapian::Query(Xapian::Query::OP_OR, q,
                                  Xapian::Query(options_.typo_weight, completions(fixed)));
        return q;
    }

    /// The number of documents that hold `term`.
    Xapian::doccount frequency(const std::string& term) const {
        return options_.term_stats ? (*options_.term_stats)(term)
                                   : options_.typo_terms->get_termfreq(term);
    }

    /// Words of the index a typo of `word` may have meant, most frequent first (at most 3).
    std::vector<std::string> typo_candidates(const std::string& word) const {
        const std::u32string cps = code_points(word);
        if (cps.size() < 4 || cps.size() > 40 || !latin_letters(cps))
            return {};
        const Xapian::doccount own = frequency(word);
        if (own > options_.typo_rare)
            return {};
        // The start of words the index has ("photog" of "photography") is no typo either.
        if (own == 0) {
            auto starts = options_.typo_terms->allterms_begin(word);
            if (starts != options_.typo_terms->allterms_end(word))
                return {};
        }
        const unsigned max_edits = cps.size() >= 8 ? 2 : 1;
        const Xapian::doccount needed = std::max<Xapian::doccount>(1, own * options_.typo_ratio);
        std::vector<std::pair<Xapian::doccount, std::string>> found;
        auto consider = [&](const std::string& c) {
            if (c.empty() || c == word)
                return;
            for (const auto& f : found)
                if (f.second == c)
                    return;
            if (osa_distance(cps, code_points(c), max_edits) > max_edits)
                return;
            if (const Xapian::doccount f = frequency(c); f >= needed)
                found.emplace_back(f, c);
        };
        // Deletions and transpositions of neighbours: one lookup each.
        for (std::size_t i = 0; i < cps.size(); ++i) {
            std::u32string v = cps;
            v.erase(i, 1);
            consider(to_utf8(v));
            if (i + 1 < cps.size() && cps[i] != cps[i + 1]) {
                v = cps;
                std::swap(v[i], v[i + 1]);
                consider(to_utf8(v));
            }
        }
        // The spelling suggestion (substitutions, insertions, two edits) costs more than all
        // those lookups: asked only for a word the index lacks that they did not explain.
        if (found.empty() && own == 0 && options_.typo_spelling)
            consider((*options_.typo_spelling)(word, max_edits));
        std::sort(found.begin(), found.end(),
                  [](const auto& a, const auto& b) { return a.first > b.first; });
        std::vector<std::string> out;
        for (std::size_t k = 0; k < found.size() && k < 3; ++k)
            out.push_back(found[k].second);
        return out;
    }

    /// `q`, the query of the word `t`, or its close words at a lower weight.
    Xapian::Query with_typos(const Token& t, const Xapian::Query& q) {
        const auto candidates = typo_candidates(t.term);
        if (candidates.empty())
            return q;
        std::vector<Xapian::Query> alternatives;
        for (const auto& c : candidates) {
            Token ct = t;
            ct.term = c;
            alternatives.push_back(word_forms(ct));
            out_.highlight_terms.insert(c);
        }
        out_.corrected[t.term] = candidates.front();
        return Xapian::Query(Xapian::Query::OP_OR, q,
                             Xapian::Query(options_.typo_weight,
                                           Xapian::Query(Xapian::Query::OP_OR, alternatives.begin(),
                                                         alternatives.end())));
    }

    /// Makes `q`, the query of the word `t`, also match its synonyms at a lower weight; false
    /// when it has none.
    bool with_synonyms(const Token& t, Xapian::Query& q) {
        if (!options_.synonyms || options_.synonym_weight <= 0)
            return false;
        const Xapian::Database& db = *options_.synonyms;
        std::vector<Xapian::Query> alternatives;
        std::vector<std::string> words;
        for (auto s = db.synonyms_begin(t.term);
             s != db.synonyms_end(t.term) && words.size() < options_.max_synonyms; ++s) {
            Token st = t;
            st.term = *s;
            // Stored as the analyzer folds a query word: its kind is that of its one token.
            if (const auto tokens = analyzer_.tokenize(st.term); tokens.size() == 1)
                st.kind = tokens[0].kind;
            alternatives.push_back(word_forms(st));
            out_.highlight_terms.insert(st.term);
            words.push_back(std::move(st.term));
        }
        if (alternatives.empty())
            return false;
        out_.synonyms[t.term] = std::move(words);
        q = Xapian::Query(Xapian::Query::OP_OR, q,
                          Xapian::Query(options_.synonym_weight,
                                        Xapian::Query(Xapian::Query::OP_OR, alternatives.begin(),
                                                      alternatives.end())));
        return true;
    }

    /// The forms of one analysed word: its stem and exact form, or for CJK the word and its
    /// bigrams.
    Xapian::Query word_forms(const Token& t) {
        Xapian::Query q;
        if (t.kind == TokenKind::cjk) {
            q = Xapian::Query(t.term);
            const auto grams = analyzers::cjk_bigrams(t.term);
            if (!grams.empty()) {
                std::vector<Xapian::Query> parts;
                for (const auto& g : grams)
                    parts.emplace_back(schema::term(schema::bigram, g));
                q = Xapian::Query(Xapian::Query::OP_OR, q,
                                  Xapian::Query(options_.bigram_weight,
                                                Xapian::Query(Xapian::Query::OP_AND, parts.begin(),
                                                              parts.end())));
            }
        } else if (t.kind == TokenKind::word && analyzer_.has_stemmer(out_.lang)) {
            const std::string stem = analyzer_.stem(t.term, out_.lang);
            out_.highlight_stems.insert(stem);
            const std::string stem_term = schema::term(schema::stem, stem);
            q = Xapian::Query(stem_term);
            // The exact form ranks a word above its variants; it also makes the query about
            // 30% slower (bench/RESULTS.md), so 0 leaves it out. Where every document is in the
            // query's language, the exact form can only match beside the stem.
            const bool beside_stem =
                !options_.index_language.empty() && out_.lang == options_.index_language;
            const auto op = beside_stem ? Xapian::Query::OP_AND_MAYBE : Xapian::Query::OP_OR;
            if (options_.exact_weight > 0 &&
                !(beside_stem && options_.term_stats && in_every_match(t.term, stem_term)))
                q = Xapian::Query(op, q,
                                  Xapian::Query(options_.exact_weight, Xapian::Query(t.term)));
        } else {
            q = Xapian::Query(t.term);
        }
        return q;
    }

    /// Whether the word `exact` is in every document that holds its stem: the same term
    /// frequency, since the index lists a word's stem wherever the word is.
    bool in_every_match(const std::string& exact, const std::string& stem_term) const {
        return (*options_.term_stats)(exact) == (*options_.term_stats)(stem_term);
    }

    /// Every form of a word, for exclusion.
    Xapian::Query any_form(const Token& t) {
        if (t.kind == TokenKind::word && analyzer_.has_stemmer(out_.lang))
            return Xapian::Query(
                Xapian::Query::OP_OR, Xapian::Query(t.term),
                Xapian::Query(schema::term(schema::stem, analyzer_.stem(t.term, out_.lang))));
        return Xapian::Query(t.term);
    }

    Xapian::Query phrase(const std::vector<Token>& tokens) {
        std::vector<Xapian::Query> terms;
        for (const Token& t : tokens) {
            terms.emplace_back(t.term);
            out_.highlight_terms.insert(t.term);
        }
        if (terms.size() == 1)
            return terms[0];
        return Xapian::Query(Xapian::Query::OP_PHRASE, terms.begin(), terms.end(), terms.size());
    }

    /// The positive clauses of one word unit (several when it holds several words, as an
    /// unspaced Japanese sentence does).
    std::vector<Xapian::Query> word_clauses(const Unit& u, bool last_is_prefix) {
        std::vector<Token> tokens = analyzer_.tokenize(u.text);
        std::vector<Xapian::Query> out;
        std::vector<const Token*> kept;
        for (const Token& t : tokens)
            if (keep_stopwords_ || !analyzer_.is_stopword(t.term, out_.lang))
                kept.push_back(&t);
        for (std::size_t k = 0; k < kept.size() && words_ < options_.max_words; ++k, ++words_) {
            const Token& t = *kept[k];
            const bool prefix = last_is_prefix && k + 1 == kept.size() && t.end == u.text.size();
            const bool typos = options_.typo_terms && t.kind == TokenKind::word && !prefix;
            out.push_back(word_query(t, prefix, typos));
            QueryWord w;
            w.term = t.term;
            w.begin = u.begin + t.begin;
            w.end = u.begin + t.end;
            w.correctable =
                t.kind == TokenKind::word && !u.negated && !prefix && tokens.size() == 1;
            out_.words.push_back(std::move(w));
        }
        // An unspaced CJK query of a few words ("東京都で写真"): the user typed one phrase.
        cjk_sentence_ = out.size() >= 2 && out.size() <= 4 &&
                        std::all_of(kept.begin(), kept.end(),
                                    [](const Token* t) { return t->kind == TokenKind::cjk; });
        return out;
    }

    Expected<void> add_field(const Unit& u) {
        std::string value = analyzer_.fold(u.text);
        Xapian::Query q;
        if (u.field == "type") {
            q = Xapian::Query(schema::term(schema::type, value));
        } else if (u.field == "lang") {
            q = Xapian::Query(schema::term(schema::lang, analyzers::primary_language(value)));
        } else if (u.field == "tag") {
            q = Xapian::Query(schema::term(schema::tag, value));
        } else if (u.field == "author") {
            q = Xapian::Query(schema::term(schema::author, value));
        } else if (u.field == "title") {
            std::vector<Xapian::Query> parts;
            for (const Token& t : analyzer_.tokenize(u.text)) {
                parts.emplace_back(schema::term(schema::title, t.term));
                out_.highlight_terms.insert(t.term);
            }
            if (parts.empty())
                return {};
            q = Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());
            positives_.push_back(q);
            return {};
        } else { // date / published: FROM..TO, either side optional, or one period
            const std::size_t dots = value.find("..");
            const std::string lo = dots == std::string::npos ? value : value.substr(0, dots);
            const std::string hi = dots == std::string::npos ? value : value.substr(dots + 2);
            if (!lo.empty()) {
                auto from = parse_date(lo);
                if (!from)
                    return fail(ErrorCode::invalid_query,
                                "\"" + lo + "\" is not a date (YYYY, YYYY-MM or YYYY-MM-DD)");
                out_.from = out_.from ? std::max(*out_.from, *from) : *from;
            }
            if (!hi.empty()) {
                auto to = parse_date_end(hi);
                if (!to)
                    return fail(ErrorCode::invalid_query,
                                "\"" + hi + "\" is not a date (YYYY, YYYY-MM or YYYY-MM-DD)");
                out_.to = out_.to ? std::min(*out_.to, *to) : *to;
            }
            return {};
        }
        if (u.negated)
            negatives_.push_back(q);
        else
            filters_[u.field].push_back(q);
        return {};
    }

    /// Pairs of query words typed next to each other (neither a stop word, the word being
    /// typed left out): a page where they also stand together ranks above one that has them far
    /// apart ("package management" against "power management ... package").
    std::vector<std::pair<std::string, std::string>> adjacent(const std::vector<Unit>& units,
                                                              bool last_is_prefix) const {
        std::vector<std::pair<std::string, std::string>> pairs;
        std::string previous; // the last word of the run of plain words, "" after anything else
        for (std::size_t k = 0; k < units.size(); ++k) {
            const Unit& u = units[k];
            if (u.kind != UnitKind::word || u.negated ||
                (last_is_prefix && k + 1 == units.size())) {
                previous.clear();
                continue;
            }
            for (const Token& t : analyzer_.tokenize(u.text)) {
                if (t.kind != TokenKind::word || analyzer_.is_stopword(t.term, out_.lang)) {
                    previous.clear();
                    continue;
                }
                if (!previous.empty() && previous != t.term &&
                    std::find(pairs.begin(), pairs.end(), std::pair(previous, t.term)) ==
                        pairs.end())
                    pairs.emplace_back(previous, t.term);
                previous = t.term;
            }
        }
        return pairs;
    }

    Expected<void> build(const std::vector<Unit>& units, bool last_is_prefix) {
        // Stop words are dropped from the query's words unless they are all it has ("the
        // who", "to be or not to be"); phrases always keep them.
        keep_stopwords_ = true;
        for (const Unit& u : units) {
            if (u.kind != UnitKind::word || u.negated)
                continue;
            for (const Token& t : analyzer_.tokenize(u.text))
                if (!analyzer_.is_stopword(t.term, out_.lang))
                    keep_stopwords_ = false;
        }
        // Groups of positive clauses; `a OR b` joins its neighbours into one group. A group
        // from one unspaced CJK unit of 2-4 words needs all of them (`strict`): a page sharing
        // one kanji bigram with it is no answer while pages with every word exist.
        std::vector<std::vector<Xapian::Query>> groups;
        std::vector<bool> strict;
        bool join_next = false;
        for (std::size_t k = 0; k < units.size(); ++k) {
            const Unit& u = units[k];
            const bool is_last = k + 1 == units.size();
            if (u.kind == UnitKind::op_or) {
                join_next = true;
                continue;
            }
            if (u.kind == UnitKind::field) {
                if (auto added = add_field(u); !added)
                    return added;
                continue;
            }
            std::vector<Xapian::Query> clauses;
            if (u.kind == UnitKind::phrase) {
                auto tokens = analyzer_.tokenize(u.text);
                if (tokens.empty())
                    continue;
                if (u.negated)
                    negatives_.push_back(phrase(tokens));
                else
                    clauses.push_back(phrase(tokens));
            } else if (u.negated) {
                for (const Token& t : analyzer_.tokenize(u.text))
                    negatives_.push_back(any_form(t));
                continue;
            } else {
                clauses = word_clauses(u, last_is_prefix && is_last);
            }
            if (clauses.empty())
                continue;
            const bool sentence = u.kind == UnitKind::word && cjk_sentence_;
            cjk_sentence_ = false;
            if (join_next && !groups.empty()) {
                groups.back().insert(groups.back().end(), clauses.begin(), clauses.end());
                strict.back() = false;
            } else if (clauses.size() > 1 && !options_.match_all) {
                groups.push_back(std::move(clauses));
                strict.push_back(sentence);
            } else {
                for (auto& c : clauses) {
                    groups.push_back({std::move(c)});
                    strict.push_back(false);
                }
            }
            join_next = false;
        }
        if (groups.empty() && positives_.empty() && negatives_.empty() && filters_.empty() &&
            !out_.from && !out_.to)
            return fail(ErrorCode::invalid_query, "query has no words to search for");
        // The query with strict groups as written (AND), and `loose` with every group ORed.
        auto combine = [&](bool as_written) {
            std::vector<Xapian::Query> group_queries;
            for (std::size_t k = 0; k < groups.size(); ++k)
                group_queries.emplace_back(as_written && strict[k] ? Xapian::Query::OP_AND
                                                                   : Xapian::Query::OP_OR,
                                           groups[k].begin(), groups[k].end());
            group_queries.insert(group_queries.end(), positives_.begin(), positives_.end());
            const auto op = options_.match_all ? Xapian::Query::OP_AND : Xapian::Query::OP_OR;
            Xapian::Query q = group_queries.empty()
                                  ? Xapian::Query::MatchAll
                                  : Xapian::Query(op, group_queries.begin(), group_queries.end());
            if (!negatives_.empty())
                q = Xapian::Query(
                    Xapian::Query::OP_AND_NOT, q,
                    Xapian::Query(Xapian::Query::OP_OR, negatives_.begin(), negatives_.end()));
            return q;
        };
        Xapian::Query q = combine(true);
        if (std::find(strict.begin(), strict.end(), true) != strict.end())
            out_.loose = combine(false);
        if (options_.adjacent_pairs)
            out_.adjacent = adjacent(units, last_is_prefix);
        out_.query = q;
        // Values of one field are alternatives; different fields must all hold.
        std::vector<Xapian::Query> fields;
        for (auto& [name, alternatives] : filters_)
            fields.emplace_back(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
        if (!fields.empty())
            out_.filter = Xapian::Query(Xapian::Query::OP_AND, fields.begin(), fields.end());
        return {};
    }

  private:
    analyzers::Analyzer& analyzer_;
    const ParseOptions& options_;
    ParsedQuery& out_;
    std::vector<Xapian::Query> positives_, negatives_;
    std::map<std::string, std::vector<Xapian::Query>> filters_;
    unsigned words_ = 0;
    bool keep_stopwords_ = false;
    bool cjk_sentence_ = false; ///< the last word_clauses were an unspaced CJK sentence
};

} // namespace

Xapian::doccount TermFrequencies::operator()(const std::string& term) {
    if (auto it = known_.find(term); it != known_.end())
        return it->second;
    // A bound on memory: past it, start again (the frequent words come back first).
    if (known_.size() >= capacity_)
        known_.clear();
    return known_[term] = db_.get_termfreq(term);
}

const std::string& SpellingSuggestions::operator()(const std::string& word, unsigned max_edits) {
    std::string key = std::to_string(max_edits) + word;
    if (auto it = known_.find(key); it != known_.end())
        return it->second;
    if (known_.size() >= capacity_)
        known_.clear();
    ++lookups_;
    std::string suggestion = db_.get_spelling_suggestion(word, max_edits);
    return known_.emplace(std::move(key), std::move(suggestion)).first->second;
}

std::string typo_prefix(const Xapian::Database& db, const std::string& prefix) {
    const std::u32string cps = code_points(prefix);
    if (cps.size() < 4 || cps.size() > 24 || !latin_letters(cps) ||
        db.allterms_begin(prefix) != db.allterms_end(prefix))
        return {};
    auto starts_words = [&](const std::u32string& v) {
        const std::string p = to_utf8(v);
        return db.allterms_begin(p) != db.allterms_end(p) ? p : std::string();
    };
    const std::size_t n = cps.size();
    for (std::size_t i = 0; i + 1 < n; ++i) {
        if (cps[i] == cps[i + 1])
            continue;
        std::u32string v = cps;
        std::swap(v[i], v[i + 1]);
        if (auto p = starts_words(v); !p.empty())
            return p;
    }
    // Deleting the last letter only shortens the prefix: it would complete to anything.
    for (std::size_t i = 0; i + 1 < n; ++i) {
        std::u32string v = cps;
        v.erase(i, 1);
        if (auto p = starts_words(v); !p.empty())
            return p;
    }
    std::u32string letters = U"abcdefghijklmnopqrstuvwxyz";
    for (char32_t c : cps)
        if (letters.find(c) == std::u32string::npos)
            letters.push_back(c);
    for (std::size_t i = 1; i < n; ++i)
        for (char32_t c : letters) {
            std::u32string v = cps;
            v.insert(v.begin() + static_cast<std::ptrdiff_t>(i), c);
            if (auto p = starts_words(v); !p.empty())
                return p;
        }
    for (std::size_t i = 1; i < n; ++i)
        for (char32_t c : letters) {
            if (c == cps[i])
                continue;
            std::u32string v = cps;
            v[i] = c;
            if (auto p = starts_words(v); !p.empty())
                return p;
        }
    return {};
}

unsigned edit_distance(std::string_view a, std::string_view b, unsigned limit) {
    return osa_distance(code_points(a), code_points(b), limit);
}

const std::vector<std::pair<Xapian::doccount, std::string>>&
PrefixCompletions::operator()(const std::string& prefix) {
    if (auto it = known_.find(prefix); it != known_.end())
        return it->second;
    ++scans_;
    return known_[prefix] = scan(prefix);
}

std::vector<std::pair<Xapian::doccount, std::string>>
PrefixCompletions::scan(const std::string& prefix) const {
    std::vector<std::pair<Xapian::doccount, std::string>> top;
    // A min-heap of the `kept` most frequent so far: one pass, `kept` words in memory.
    auto more = [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
    for (auto t = db_.allterms_begin(prefix); t != db_.allterms_end(prefix); ++t) {
        const Xapian::doccount f = t.get_termfreq();
        if (top.size() == kept &&
            !more(std::pair(f, std::string_view(*t)),
                  std::pair(top.front().first, std::string_view(top.front().second))))
            continue;
        top.emplace_back(f, *t);
        std::push_heap(top.begin(), top.end(), more);
        if (top.size() > kept) {
            std::pop_heap(top.begin(), top.end(), more);
            top.pop_back();
        }
    }
    std::sort_heap(top.begin(), top.end(), more);
    return top;
}

Expected<ParsedQuery> parse_query(std::string_view raw, analyzers::Analyzer& analyzer,
                                  const ParseOptions& options) {
    if (raw.size() > options.max_query_bytes)
        return fail(ErrorCode::invalid_query,
                    "query is longer than " + std::to_string(options.max_query_bytes) + " bytes");
    const std::string text = repair_utf8(raw);
    if (text.find_first_not_of(" \t\r\n\f") == std::string::npos)
        return fail(ErrorCode::invalid_query, "query is empty");
    ParsedQuery out;
    out.lang = options.lang.empty() ? analyzers::query_language(text, options.preferred_lang)
                                    : options.lang;
    const bool prefix = options.prefix && !is_space(text.back());
    // Broken syntax (an unclosed quote, a dangling OR) is read as plain words.
    const auto units = split_syntax(text);
    if (auto built =
            Builder(analyzer, options, out).build(units ? *units : plain_words(text), prefix);
        !built)
        return std::unexpected(built.error());
    return out;
}

} // namespace mixi::query
