// Searching one index: a request struct in, hits, facets and a spelling suggestion out.
#pragma once

#include "analyzers/analyzer.h"
#include "common/error.h"
#include "query/popularity.h"
#include "query/query_parser.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mixi::query {

/// Ranking and limits; plain values, filled from configuration by the caller.
struct SearchOptions {
    double k1 = 1.2;           ///< BM25 term frequency saturation
    double b = 0.75;           ///< BM25 length normalisation
    double exact_weight = 0.1; ///< see ParseOptions
    /// Proximity: a query's pairs of words typed next to each other (ParseOptions::
    /// adjacent_pairs) that also stand next to each other in a page add proximity_weight ·
    /// (idf(a) + idf(b)) each to its score, for the first proximity_window matches in text
    /// order, which are then sorted again (ties by id). Computed from the positions of those
    /// pages alone and the statistics of the whole index, so it is the same over any number of
    /// shards. 0 (either): off.
    /// 0.03 and 10: chosen on SciFact's train split within the cost budget (bench/RESULTS.md).
    double proximity_weight = 0.03;
    unsigned proximity_window = 10;
    /// Pseudo-relevance feedback: the query is searched once, the `prf_terms` best expansion
    /// words of its first `prf_docs` matches (Xapian's ESet: the words those pages share that
    /// the rest of the index has rarely) are added beside it at `prf_weight` (each scaled by
    /// its expansion weight over the best one's), and the expanded query ranks. 0 docs: off.
    /// Off: on SciFact's train split it lowers P@1 and nDCG@3 (bench/RESULTS.md).
    unsigned prf_docs = 0;
    unsigned prf_terms = 10;
    double prf_weight = 0.1;
    double bigram_weight = 0.5; ///< see ParseOptions
    /// See ParseOptions: weight of a typo's close words (0: typo tolerance off), how rare a word
    /// the index has may be to count as a typo, and how many times as frequent its close words
    /// must be.
    double typo_weight = 0.6;
    Xapian::doccount typo_rare = 3;
    Xapian::doccount typo_ratio = 20;
    /// See ParseOptions: postings a short prefix's expansion may read (search-as-you-type).
    Xapian::doccount prefix_postings = 250'000;
    /// See ParseOptions: weight of a word's synonyms, read from the index's synonym table (with
    /// remote shards, from `spelling_index`); 0: synonyms off.
    double synonym_weight = 0.5;
    unsigned max_per_page = 100;
    unsigned max_page = 1000;
    std::size_t snippet_bytes = 240;
    std::size_t max_query_bytes = 2048;
    /// "Did you mean" is looked for only when a query finds fewer documents than this: a query
    /// with many answers needs no correction, and looking costs more than the search.
    std::uint64_t spelling_below = 10;
    RankingOptions ranking; ///< how page views add to the score
    /// Remote shards (tcp://host:port, served by xapian-tcpsrv): the longest any one operation
    /// or a connection may take before the search fails with index_unavailable.
    unsigned remote_timeout_ms = 2000, remote_connect_timeout_ms = 1000;
    /// When a remote shard is down, search the others and mark the result partial instead of
    /// failing; the shard is tried again at most once a second.
    bool allow_partial = false;
    /// Where spelling suggestions and synonyms come from when shards are remote (xapian-tcpsrv
    /// serves neither): a local copy of the shards' index directories. Empty: none.
    std::filesystem::path spelling_index;
};

enum class Sort { relevance, date };

struct SearchRequest {
    std::string q;
    unsigned page = 1; ///< 1-based
    unsigned per_page = 10;
    std::vector<std::string> types; ///< any of these (as type: in the query)
    std::vector<std::string> langs; ///< any of these
    std::string from, to;           ///< published date range, inclusive ("2024", "2024-05-01")
    Sort sort = Sort::relevance;
    bool prefix = false;    ///< the last word is still being typed
    bool match_all = false; ///< every word must match
    std::string lang;       ///< the query's language; "" = detect from the query
    /// The searcher's language (a BCP 47 tag): analyses the query when its script fits, and
    /// ranks documents in that language higher (RankingOptions::language_weight).
    std::string preferred_lang;
    bool facets = false;  ///< count types and languages over all matches (costs a full pass)
    bool spelling = true; ///< offer a correction when the query finds few documents
    /// A word the index lacks (or holds far more rarely than a close word) also matches its
    /// close words (ParseOptions); false searches the exact words only.
    bool typos = true;
    bool snippets = true;
    /// Page views to rank by (none: text relevance only), and the searcher's region in them
    /// ("" or "ZZ": unknown, no region term).
    PopularitySnapshot popularity;
    std::string region;
    bool explain = false; ///< fill Hit::explain
};

struct Hit {
    std::string id, url, title, snippet, type, lang, published;
    double score = 0;
    std::optional<ScoreParts> explain; ///< what the score is made of, when asked
};

struct SearchResult {
    std::uint64_t total = 0; ///< estimated number of matches
    unsigned page = 1, per_page = 10;
    std::vector<Hit> hits;
    bool has_facets = false; ///< facets were asked for (and counted over all matches)
    std::map<std::string, std::uint64_t> type_facets, lang_facets;
    std::optional<std::string> did_you_mean; ///< a corrected query that finds more
    /// Words of the query that typo tolerance also matched with a close word: word → the
    /// close word (folded). did_you_mean never corrects these.
    std::map<std::string, std::string> corrected;
    /// Words of the query that synonyms expanded: word (folded) → the synonyms it also matched.
    std::map<std::string, std::vector<std::string>> synonyms;
    std::string query_lang; ///< the language the query was analysed in
    bool partial = false;   ///< a shard was down: these are the results of the others
};

struct SuggestRequest {
    std::string q;      ///< what has been typed so far; the last word may be incomplete
    unsigned limit = 8; ///< at most this many completions and titles
    std::string lang;   ///< the searcher's language; "" = detect
    /// Popular searches (folded, most searched first) that passed the reports' thresholds;
    /// those that start with what was typed come back in SuggestResult::popular.
    std::shared_ptr<const std::vector<std::string>> popular;
};

struct SuggestResult {
    std::vector<std::string> completions; ///< the query with its last word completed
    std::vector<Hit> titles;              ///< documents whose words start that way (no snippets)
    std::vector<std::string> popular;     ///< popular searches that start with what was typed
};

/// Whether a shard as Searcher::open_shards takes it is remote ("tcp://host:port", served by
/// xapian-tcpsrv) rather than a local index directory.
inline bool is_remote_shard(std::string_view spec) {
    return spec.starts_with("tcp://");
}

/// One reader of an index directory. Holds a Xapian::Database and an Analyzer, neither of
/// which takes locks: use one Searcher per thread.
class Searcher {
  public:
    /// Opens the `current` version of `index_dir` (or a plain Xapian database), or of each of
    /// its shards when it is a sharded index.
    static Expected<Searcher> open(const std::filesystem::path& index_dir,
                                   SearchOptions options = {});
    /// Searches several shards as one: each is a local index directory (as above) or
    /// "tcp://host:port" served by xapian-tcpsrv. Scores are those of one index holding every
    /// document: Xapian combines the shards' statistics.
    static Expected<Searcher> open_shards(const std::vector<std::string>& shards,
                                          SearchOptions options = {});

    Searcher(Searcher&&) noexcept;
    Searcher& operator=(Searcher&&) noexcept;
    ~Searcher();

    Expected<SearchResult> search(const SearchRequest& request);

    /// Completions for a prefix, from the words of the index (most frequent first) and, when
    /// none start that way, from the spelling data; and the titles of the best matches.
    Expected<SuggestResult> suggest(const SuggestRequest& request);

    /// The id of the document with this URL, if one is indexed.
    std::optional<std::string> id_for_url(std::string_view url);
    /// Whether a document with this id is indexed.
    bool has_document(std::string_view id);

    /// Picks up a new revision or a new `current` version; true when something changed.
    Expected<bool> reopen();

    std::uint64_t document_count() const;
    std::uint64_t revision() const;
    const std::filesystem::path& database_path() const;

  private:
    struct State;
    explicit Searcher(std::unique_ptr<State> state);
    /// (Re)opens every shard into one database.
    static Expected<void> connect(State& s);
    Expected<SearchResult> run(const SearchRequest& request);
    std::unique_ptr<State> state_;
};

} // namespace mixi::query
