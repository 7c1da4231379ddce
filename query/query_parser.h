// The syntax a site's users type, turned into a Xapian query with the same analyzers as the
// index: words, "phrases", -exclusion, OR, type:photo, lang:ja, tag:x, author:x, title:x,
// date:2023..2024-06. Input that is not valid syntax (an unclosed quote, a dangling OR) is
// read as plain words.
#pragma once

#include "analyzers/analyzer.h"
#include "common/error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>
#include <xapian.h>

namespace mixi::query {

/// The term frequencies of one revision of an index, each looked up once: a site's searches
/// repeat their words, and each lookup reads a block of the index. Like the Database it reads,
/// it takes no locks: one per thread.
class TermFrequencies {
  public:
    /// `db` must outlive this.
    explicit TermFrequencies(const Xapian::Database& db, std::size_t capacity = 1 << 16)
        : db_(db), capacity_(capacity) {}

    /// The number of documents that hold `term`.
    Xapian::doccount operator()(const std::string& term);

    /// Forgets every frequency: call it when the database is reopened on a new revision.
    void clear() { known_.clear(); }

  private:
    const Xapian::Database& db_;
    std::size_t capacity_;
    std::unordered_map<std::string, Xapian::doccount> known_;
};

/// Spelling suggestions of one revision of an index, each word asked once. A suggestion reads
/// the spelling table's postings of every trigram of the word and measures the distance to each
/// word they share, which costs more than the rest of a typo's handling; a site's typos repeat
/// ("photgraphy" is typed by many). Like TermFrequencies, one per thread.
class SpellingSuggestions {
  public:
    /// `db` must outlive this.
    explicit SpellingSuggestions(const Xapian::Database& db, std::size_t capacity = 1 << 14)
        : db_(db), capacity_(capacity) {}

    /// Database::get_spelling_suggestion(word, max_edits): "" when there is none.
    const std::string& operator()(const std::string& word, unsigned max_edits);

    /// Forgets every suggestion: call it when the database is reopened on a new revision.
    void clear() { known_.clear(); }

    /// Suggestions asked of the database since construction (for tests).
    std::size_t lookups() const { return lookups_; }

  private:
    const Xapian::Database& db_;
    std::size_t capacity_;
    std::unordered_map<std::string, std::string> known_; ///< max_edits digit + word → suggestion
    std::size_t lookups_ = 0;
};

/// The most frequent words of one revision of an index that start with a short prefix, each
/// prefix scanned once. A one-letter prefix starts tens of thousands of words in a large index,
/// and finding its most frequent ones reads every one of them: search-as-you-type would pay
/// that on every keystroke. Longer prefixes start few words and are expanded by Xapian as they
/// come. Like TermFrequencies, one per thread.
class PrefixCompletions {
  public:
    static constexpr std::size_t max_prefix_bytes = 3; ///< longer prefixes are not cached
    static constexpr std::size_t kept = 50;            ///< words kept for each prefix

    /// `db` must outlive this.
    explicit PrefixCompletions(const Xapian::Database& db) : db_(db) {}

    /// Whether `prefix` is short enough to be answered from the cache.
    static bool cached(std::string_view prefix) {
        return !prefix.empty() && prefix.size() <= max_prefix_bytes;
    }

    /// The at most `kept` unprefixed terms that start with `prefix` (cached(prefix) must hold),
    /// most frequent first (ties in term order), with their term frequencies.
    const std::vector<std::pair<Xapian::doccount, std::string>>&
    operator()(const std::string& prefix);

    /// The same for any prefix, read from the index each time (a long prefix starts few words).
    std::vector<std::pair<Xapian::doccount, std::string>> scan(const std::string& prefix) const;

    /// Forgets every prefix: call it when the database is reopened on a new revision.
    void clear() { known_.clear(); }

    /// Prefixes scanned since construction (for tests).
    std::size_t scans() const { return scans_; }

  private:
    const Xapian::Database& db_;
    std::unordered_map<std::string, std::vector<std::pair<Xapian::doccount, std::string>>> known_;
    std::size_t scans_ = 0;
};

struct ParseOptions {
    std::string lang;           ///< language for stemming and stop words; "" = detect
    std::string preferred_lang; ///< the searcher's language, used when the script fits
    bool match_all = false;     ///< words are ANDed instead of ORed
    bool prefix = false;        ///< the last word is incomplete (search-as-you-type)
    double exact_weight = 0.1;  ///< weight of the unstemmed form beside the stem
    /// Collect ParsedQuery::adjacent, the pairs of query words typed next to each other, for
    /// the searcher's proximity re-ranking.
    bool adjacent_pairs = false;
    /// The language of every document of the index, when they all share one. A word of a
    /// query in that language then has its stem wherever its exact form is, so the exact form
    /// is only an extra to the stem's match (OP_AND_MAYBE) rather than a match of its own
    /// (OP_OR): the same matches and the same scores, for less reading.
    std::string index_language;
    /// With index_language: the index's term frequencies. An exact form found in exactly as
    /// many documents as its stem is in every document the stem is in: there is no page with
    /// only a variant for it to rank below, so it is left out, saving its posting list.
    /// Null (a remote shard, where each lookup is a round trip): the exact form is kept.
    TermFrequencies* term_stats = nullptr;
    /// Typo tolerance: a Latin word of 4+ letters that the index lacks, or holds in at most
    /// `typo_rare` documents, also matches the words it has within edit distance 1 (2 from 8
    /// letters; a transposition is one edit) that are in at least `typo_ratio` times as many
    /// documents, scaled by `typo_weight` so exact matches rank first. Candidates are the
    /// word's deletions and transpositions looked up in `typo_terms` (at most two lookups a
    /// letter) and, for a word the index lacks when those found none, the spelling suggestion
    /// of `typo_spelling` (which costs more than all of them; cached per revision). Null
    /// typo_terms: off.
    const Xapian::Database* typo_terms = nullptr;
    SpellingSuggestions* typo_spelling = nullptr;
    double typo_weight = 0.6;
    Xapian::doccount typo_rare = 3;
    Xapian::doccount typo_ratio = 20;
    /// The most frequent completions of short prefixes; null: every prefix is expanded by
    /// Xapian (OP_WILDCARD), which reads every word that starts with it.
    PrefixCompletions* completions = nullptr;
    /// Synonyms: a word of the query also matches the words its entry in this database's
    /// synonym table lists (indexer/synonyms.h; at most `max_synonyms`), scaled by
    /// `synonym_weight` so that the word as typed ranks first. Null or a weight of 0: off.
    const Xapian::Database* synonyms = nullptr;
    double synonym_weight = 0.5;
    unsigned max_synonyms = 20;
    double bigram_weight = 0.5;      ///< weight of CJK bigrams beside the segmented word
    unsigned prefix_expansions = 50; ///< terms a prefix may expand to (most frequent first)
    /// Postings a short prefix's expansion may read: its most frequent words are taken while
    /// their document counts fit (the first always), so "a" over a million posts reads a
    /// bounded share of the index instead of the lists of "a", "and", "are", "as", ... in full.
    Xapian::doccount prefix_postings = 250'000;
    std::size_t max_query_bytes = 2048;
    unsigned max_words = 64;
};

/// A word of the query the user typed, for spelling correction.
struct QueryWord {
    std::string term;      ///< folded
    std::size_t begin = 0; ///< byte range in the query text after repair_utf8 (the text
                           ///< itself when it is valid UTF-8)
    std::size_t end = 0;
    bool correctable = false; ///< a plain word of letters, not in a phrase, not negated
};

struct ParsedQuery {
    Xapian::Query query;  ///< text part (MatchAll when only filters were given)
    Xapian::Query filter; ///< field filters from the syntax; empty Query when none
    /// When `query` needs every word of an unspaced CJK query of 2-4 words ("東京都で写真"):
    /// the same query with any of them, to search when `query` finds nothing. Else empty.
    Xapian::Query loose;
    std::optional<std::int64_t> from, to; ///< date range from the syntax (to is exclusive)
    std::string lang;                     ///< language used
    std::vector<QueryWord> words;
    std::set<std::string> highlight_terms; ///< folded words to mark in snippets
    std::set<std::string> highlight_stems; ///< their stems (in `lang`)
    /// Words typo tolerance also matched with a close word: folded word → the most frequent
    /// of the words it matched.
    std::map<std::string, std::string> corrected;
    /// With ParseOptions::adjacent_pairs: pairs of query words typed next to each other (plain
    /// words, neither a stop word, the word being typed left out), folded exact forms.
    std::vector<std::pair<std::string, std::string>> adjacent;
    /// Words the synonyms expanded: folded word → the synonyms it also matched.
    std::map<std::string, std::vector<std::string>> synonyms;
};

/// The edit distance of two words in code points, a transposition of neighbours counting as
/// one edit (optimal string alignment); `limit` + 1 once it is known to be above `limit`.
unsigned edit_distance(std::string_view a, std::string_view b, unsigned limit);

/// For a word still being typed: a Latin prefix of 4+ letters that starts no word of `db`
/// ("phtogr") → the prefix one edit away that starts some ("photogr"), trying transpositions,
/// deletions, insertions and substitutions of a–z in that order (a few hundred term-list seeks
/// at most); "" when there is none or the prefix starts words already.
std::string typo_prefix(const Xapian::Database& db, const std::string& prefix);

/// Parses `text`. Fails with invalid_query for empty or over-long input.
Expected<ParsedQuery> parse_query(std::string_view text, analyzers::Analyzer& analyzer,
                                  const ParseOptions& options);

} // namespace mixi::query
