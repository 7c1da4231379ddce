#include "query/searcher.h"

#include "analyzers/language.h"
#include "common/dates.h"
#include "common/index_layout.h"
#include "common/schema.h"
#include "common/stored_data.h"
#include "common/utf8.h"
#include "query/snippet.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <functional>
#include <set>
#include <unordered_map>
#include <xapian.h>

namespace mixi::query {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

/// A popularity snapshot this searcher resolved itself (when the snapshot came without a
/// resolution for its database), for one database revision.
struct ResolvedPopularity {
    PopularitySnapshot snapshot;
    Xapian::rev revision = 0;
    ResolvedViews views;
};

/// What page views add to a document's score: weight * f(views) (RankingOptions). The one place
/// this is written: the posting sources that rank one database, the re-ranking over shards and
/// explain all use it.
struct ViewsBoost {
    double weight = 0, saturation = 1;
    double operator()(double views) const { return weight * saturate(views, saturation); }
};

/// Adds boost(views) to the documents in a DocViews list. Used only on the right of
/// OP_AND_MAYBE, so it adds to documents that match and never makes one match.
class ViewsSource : public Xapian::PostingSource {
  public:
    ViewsSource(std::shared_ptr<const DocViews> docs, ViewsBoost boost)
        : docs_(std::move(docs)), boost_(boost) {
        double most = 0;
        for (const auto& d : *docs_)
            most = std::max(most, d.second);
        set_maxweight(boost_(most));
    }

    Xapian::doccount get_termfreq_min() const override { return 0; }
    Xapian::doccount get_termfreq_est() const override {
        return static_cast<Xapian::doccount>(docs_->size());
    }
    Xapian::doccount get_termfreq_max() const override {
        return static_cast<Xapian::doccount>(docs_->size());
    }
    void init(const Xapian::Database&) override { pos_ = -1; }
    void next(double) override { ++pos_; }
    void skip_to(Xapian::docid did, double) override {
        if (pos_ < 0)
            pos_ = 0;
        auto it = std::lower_bound(docs_->begin() + pos_, docs_->end(), did,
                                   [](const auto& d, Xapian::docid id) { return d.first < id; });
        pos_ = it - docs_->begin();
    }
    bool at_end() const override { return pos_ >= static_cast<std::ptrdiff_t>(docs_->size()); }
    Xapian::docid get_docid() const override { return (*docs_)[pos_].first; }
    double get_weight() const override { return boost_((*docs_)[pos_].second); }
    Xapian::PostingSource* clone() const override { return new ViewsSource(docs_, boost_); }
    std::string get_description() const override { return "ViewsSource"; }

  private:
    std::shared_ptr<const DocViews> docs_;
    ViewsBoost boost_;
    std::ptrdiff_t pos_ = -1;
};

/// One shard of a search: a local index directory or a remote database.
struct Shard {
    std::string spec;  ///< as given: a directory, or tcp://host:port
    std::string host;  ///< remote only
    unsigned port = 0; ///< remote only; 0 = local
    fs::path db_path;  ///< local: the version that is open
    bool up = false;
};

} // namespace

struct Searcher::State {
    fs::path dir;
    fs::path db_path; ///< the one local database, when there is one shard (else empty)
    SearchOptions options;
    std::vector<Shard> shards;
    Xapian::Database db;                ///< every shard that is up
    std::vector<Xapian::Database> subs; ///< the same, one by one
    Xapian::Database spelling;          ///< where spelling and synonyms come from (usually db)
    bool separate_spelling = false;     ///< spelling is SearchOptions::spelling_index
    std::vector<Shard> spelling_shards; ///< its shards, when separate
    bool partial = false;               ///< a shard is down and left out of db
    std::chrono::steady_clock::time_point retry_at;
    analyzers::Analyzer analyzer;
    ResolvedPopularity popularity;
    std::string index_language; ///< of every document in db, when they share one (else "")
    bool remote = false;        ///< a shard is served by xapian-tcpsrv
    schema::StoredDictionaries dictionaries;   ///< of the shards' stored fields
    TermFrequencies term_freqs{db};            ///< of db's revision
    PrefixCompletions completions{db};         ///< of db's revision
    SpellingSuggestions suggestions{spelling}; ///< of spelling's revision
};

namespace {

/// The snapshot's documents by Xapian document id in `db`: the snapshot's own resolution when
/// it was made in this database, else this searcher's, redone when the snapshot or the
/// database revision changes.
const ResolvedViews& resolve(ResolvedPopularity& r, const Xapian::Database& db,
                             const fs::path& db_path, const PopularitySnapshot& snapshot) {
    if (const ResolvedViews* shared = snapshot->resolved();
        shared && shared->database == db_path.string())
        return *shared;
    if (r.snapshot != snapshot || r.revision != db.get_revision() ||
        r.views.database != db_path.string())
        r = ResolvedPopularity{snapshot, db.get_revision(),
                               resolve_views(*snapshot, db, db_path.string())};
    return r.views;
}

/// The shards of `specs`: tcp://host:port as it is, a sharded index directory as its shards.
Expected<std::vector<Shard>> expand_shards(const std::vector<std::string>& specs) {
    std::vector<Shard> out;
    for (const std::string& spec : specs) {
        if (is_remote_shard(spec)) {
            const std::string rest = spec.substr(6);
            const auto colon = rest.rfind(':');
            unsigned long port = 0;
            if (colon != std::string::npos && colon > 0 && colon + 1 < rest.size() &&
                rest.find_first_not_of("0123456789", colon + 1) == std::string::npos)
                port = std::stoul(rest.substr(colon + 1, 6));
            if (port == 0 || port > 65535)
                return fail(ErrorCode::invalid_argument,
                            "shard \"" + spec + "\" is not tcp://host:port");
            std::string host = rest.substr(0, colon);
            if (host.starts_with('[') && host.ends_with(']'))
                host = host.substr(1, host.size() - 2);
            out.push_back({spec, host, static_cast<unsigned>(port), {}, false});
        } else if (const unsigned n = layout::shard_count(spec); n > 0) {
            for (unsigned i = 0; i < n; ++i)
                out.push_back({layout::shard_dir(spec, i).string(), "", 0, {}, false});
        } else {
            out.push_back({spec, "", 0, {}, false});
        }
    }
    if (out.empty())
        return fail(ErrorCode::invalid_argument, "no shards to search");
    return out;
}

/// Opens one shard; throws Xapian::Error when it cannot be reached.
Xapian::Database open_shard(Shard& shard, const SearchOptions& o) {
    if (shard.port != 0)
        return Xapian::Remote::open(shard.host, shard.port, o.remote_timeout_ms,
                                    o.remote_connect_timeout_ms);
    shard.db_path = layout::resolve_database(shard.spec);
    if (shard.db_path.empty())
        throw Xapian::DatabaseOpeningError("no index at " + shard.spec);
    return Xapian::Database(shard.db_path.string());
}

std::string_view string_field(const json::object& o, const char* key) {
    if (const json::value* v = o.if_contains(key); v && v->is_string())
        return v->get_string();
    return {};
}

/// What a search adds to the text score of its matches: page views, views from the searcher's
/// region and the searcher's language, as RankingOptions says.
struct Boosts {
    Boosts(const RankingOptions& ro, const SearchRequest& request)
        : popularity{ro.popularity_weight, ro.saturation}, region{ro.region_weight, ro.saturation} {
        if (request.sort != Sort::relevance)
            return;
        views = request.popularity.get();
        if (!request.region.empty() && request.region != "ZZ")
            region_code = request.region;
        by_views =
            views && (ro.popularity_weight > 0 || (ro.region_weight > 0 && !region_code.empty()));
        if (ro.language_weight > 0)
            language = analyzers::primary_language(request.preferred_lang);
        language_weight = ro.language_weight;
    }

    ViewsBoost popularity, region;
    const Popularity* views = nullptr; ///< page views, when they count (relevance order)
    std::string region_code;           ///< the searcher's region; "" when unknown
    bool by_views = false;             ///< views add to the score
    std::string language;              ///< the preferred language (primary subtag), "" none
    double language_weight = 0;

    /// The most that views add to one document.
    double most() const { return popularity.weight + (region_code.empty() ? 0 : region.weight); }
    /// What views add to the score of document `id`, and its views.
    ScoreParts views_parts(std::string_view id) const {
        ScoreParts parts;
        if (!views)
            return parts;
        parts.views = views->views(id);
        parts.popularity = popularity(parts.views);
        if (!region_code.empty()) {
            parts.region_views = views->region_views(id, region_code);
            parts.region = region(parts.region_views);
        }
        return parts;
    }
};

/// A hit before it is read: its score and document, and (when explained) what the score is made
/// of.
struct Ranked {
    double score;
    Xapian::doccount rank; ///< its place in the MSet it came from
    Xapian::docid docid;
    Xapian::Document document;
    ScoreParts parts;
    std::string key; ///< the document's id, when the order needs it for ties
};

/// Proximity re-ranking (SearchOptions::proximity_weight): what each of the query's pairs of
/// adjacent words adds to a page where they also stand next to each other.
class Proximity {
  public:
    Proximity() = default;
    /// The pairs of `parsed`, weighted with the statistics of `db` (`freqs`, when not null,
    /// caches its term frequencies); `remote`: a shard of `db` is served over the network.
    Proximity(const ParsedQuery& parsed, const SearchOptions& o, const Xapian::Database& db,
              TermFrequencies* freqs, bool remote)
        : window_(o.proximity_window), remote_(remote) {
        if (o.proximity_weight <= 0 || window_ == 0 || parsed.adjacent.empty())
            return;
        const double n = db.get_doccount();
        auto index_of = [&](const std::string& term) {
            auto it = std::find(terms_.begin(), terms_.end(), term);
            if (it != terms_.end())
                return static_cast<std::size_t>(it - terms_.begin());
            terms_.push_back(term);
            const double df = freqs ? (*freqs)(term) : db.get_termfreq(term);
            // BM25's idf, kept positive (1 + ...): a word in most pages still adds a little.
            idf_.push_back(std::log(1 + (n - df + 0.5) / (df + 0.5)));
            return terms_.size() - 1;
        };
        for (const auto& [a, b] : parsed.adjacent) {
            const std::size_t i = index_of(a), j = index_of(b);
            pairs_.push_back({i, j, o.proximity_weight * (idf_[i] + idf_[j])});
        }
    }

    bool on() const { return !pairs_.empty(); }
    Xapian::doccount window() const { return on() ? window_ : 0; }

    /// What proximity adds to document `did` of `db`: the weight of each pair whose words stand
    /// next to each other in it, in that order. `has[t]`: whether it holds the t-th word; only
    /// the positions of words of pairs it holds both of are read.
    double operator()(const Xapian::Database& db, Xapian::docid did,
                      const std::vector<bool>& has) const {
        std::vector<std::optional<std::vector<Xapian::termpos>>> positions(terms_.size());
        auto of = [&](std::size_t t) -> const std::vector<Xapian::termpos>& {
            if (!positions[t]) {
                positions[t].emplace();
                for (auto p = db.positionlist_begin(did, terms_[t]);
                     p != db.positionlist_end(did, terms_[t]); ++p)
                    positions[t]->push_back(*p);
            }
            return *positions[t];
        };
        double added = 0;
        for (const Pair& pair : pairs_) {
            if (!has[pair.first] || !has[pair.second])
                continue;
            const auto& a = of(pair.first);
            const auto& b = of(pair.second);
            auto next = b.begin();
            for (const Xapian::termpos p : a) {
                next = std::lower_bound(next, b.end(), p + 1);
                if (next == b.end())
                    break;
                if (*next == p + 1) {
                    added += pair.weight;
                    break;
                }
            }
        }
        return added;
    }

    /// Adds what proximity gives to the first window() of `ranked` (in text order, each with
    /// its key) and sorts those again by score, ties by key.
    void rerank(const Xapian::Database& db, std::vector<Ranked>& ranked) const {
        const std::size_t n = std::min<std::size_t>(window(), ranked.size());
        if (n == 0)
            return;
        std::vector<std::vector<bool>> has(n, std::vector<bool>(terms_.size()));
        if (remote_) {
            // Over remote shards a posting list comes whole over the network: each page's term
            // list instead, one round trip a page, skipping to the words in order.
            std::vector<std::size_t> in_order(terms_.size());
            for (std::size_t t = 0; t < terms_.size(); ++t)
                in_order[t] = t;
            std::sort(in_order.begin(), in_order.end(),
                      [&](std::size_t x, std::size_t y) { return terms_[x] < terms_[y]; });
            for (std::size_t i = 0; i < n; ++i) {
                auto t = db.termlist_begin(ranked[i].docid);
                for (const std::size_t w : in_order) {
                    t.skip_to(terms_[w]);
                    if (t == db.termlist_end(ranked[i].docid))
                        break;
                    has[i][w] = *t == terms_[w];
                }
            }
        } else {
            // Which of the window's pages hold which words: one pass over each word's postings
            // (skipping to those pages) instead of a look-up per page and word.
            std::vector<std::size_t> by_docid(n);
            for (std::size_t i = 0; i < n; ++i)
                by_docid[i] = i;
            std::sort(by_docid.begin(), by_docid.end(), [&](std::size_t x, std::size_t y) {
                return ranked[x].docid < ranked[y].docid;
            });
            for (std::size_t t = 0; t < terms_.size(); ++t) {
                auto p = db.postlist_begin(terms_[t]);
                for (const std::size_t i : by_docid) {
                    if (p == db.postlist_end(terms_[t]))
                        break;
                    p.skip_to(ranked[i].docid);
                    if (p != db.postlist_end(terms_[t]) && *p == ranked[i].docid)
                        has[i][t] = true;
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            ranked[i].parts.proximity = (*this)(db, ranked[i].docid, has[i]);
            ranked[i].score += ranked[i].parts.proximity;
        }
        std::stable_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n),
                         [](const Ranked& a, const Ranked& b) {
                             return a.score != b.score ? a.score > b.score : a.key < b.key;
                         });
    }

  private:
    struct Pair {
        std::size_t first, second; ///< indexes into terms_
        double weight;
    };
    Xapian::doccount window_ = 0;
    bool remote_ = false;
    std::vector<std::string> terms_;
    std::vector<double> idf_;
    std::vector<Pair> pairs_;
};

/// The page [first, first + count) of the matches of `enquire` ranked by text score plus what
/// views add to it (`boost` of the document id), exactly: the top k by text are re-ranked, and k
/// grows until no match below the k-th could overtake the page's last (views add at most
/// `most`). Proximity then re-ranks the first of them (its window). Returns the estimated number of
/// matches. Match spies count on the first pass only.
Xapian::doccount rerank(Xapian::Enquire& enquire, Xapian::doccount first, Xapian::doccount count,
                        Xapian::doccount check,
                        const std::function<ScoreParts(const std::string&)>& boost, double most,
                        const Proximity& proximity, const Xapian::Database& db,
                        std::vector<Ranked>& page) {
    // Ties in text score go by id; the sort key then carries the id (schema::slot_id).
    enquire.set_sort_by_relevance_then_value(schema::slot_id, false);
    const Xapian::doccount want = first + count;
    constexpr Xapian::doccount widest = 100'000;
    for (Xapian::doccount k = std::max<Xapian::doccount>(2 * want, 100);; k *= 4) {
        const Xapian::MSet mset = enquire.get_mset(0, k, check);
        std::vector<Ranked> all;
        all.reserve(mset.size());
        for (auto m = mset.begin(); m != mset.end(); ++m) {
            std::string id = m.get_sort_key();
            if (id.empty()) { // an index from before slot_id
                boost::system::error_code ec;
                const json::value data =
                    json::parse(schema::unpack_stored(m.get_document().get_data()), ec);
                if (!ec && data.is_object())
                    id = string_field(data.get_object(), "id");
            }
            const ScoreParts parts = boost(id);
            all.push_back({m.get_weight() + (parts.popularity + parts.region),
                           m.get_rank(),
                           *m,
                           {},
                           parts,
                           std::move(id)});
        }
        // Ties by id, as one database ranks them.
        std::stable_sort(all.begin(), all.end(), [](const Ranked& a, const Ranked& b) {
            return a.score != b.score ? a.score > b.score : a.key < b.key;
        });
        // Proximity's window is the first matches by text and views, as on one database: it
        // must be settled too.
        const Xapian::doccount exact = std::max(want, proximity.window());
        const bool complete = mset.size() < k;
        const bool settled = !complete && all.size() >= exact &&
                             all[exact - 1].score >= mset[mset.size() - 1].get_weight() + most;
        if (complete || settled || k >= widest) {
            proximity.rerank(db, all);
            for (Xapian::doccount i = first; i < want && i < all.size(); ++i) {
                page.push_back(all[i]);
                page.back().document = mset[all[i].rank].get_document();
            }
            return mset.get_matches_estimated();
        }
        enquire.clear_matchspies();
        check = 0;
    }
}

Xapian::Query any_of(const char* prefix, const std::vector<std::string>& values) {
    std::vector<Xapian::Query> parts;
    for (const auto& v : values)
        parts.emplace_back(schema::term(prefix, v));
    return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

/// The stored-fields dictionaries of the shards in `subs` (indexer/index_writer.cc). A shard
/// whose metadata cannot be read adds none: its hits then show no fields, and the search
/// itself reports what is wrong with it.
schema::StoredDictionaries stored_dictionaries(const std::vector<Xapian::Database>& subs) {
    schema::StoredDictionaries out;
    for (const Xapian::Database& sub : subs) {
        try {
            if (const std::string d = sub.get_metadata(schema::stored_dictionary_key); !d.empty())
                out.add(d);
        } catch (const Xapian::Error&) {
        }
    }
    return out;
}

/// The language every document of `db` is in, or "" when there are several or the index
/// cannot tell (a remote shard that fails here: "" only costs speed, never matches).
std::string sole_language(const Xapian::Database& db) {
    try {
        auto t = db.allterms_begin(schema::lang);
        if (t == db.allterms_end(schema::lang))
            return {};
        const std::string term = *t;
        if (++t != db.allterms_end(schema::lang) || db.get_termfreq(term) != db.get_doccount())
            return {};
        return term.substr(std::string_view(schema::lang).size());
    } catch (const Xapian::Error&) {
        return {};
    }
}

} // namespace

Searcher::Searcher(std::unique_ptr<State> state) : state_(std::move(state)) {}
Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;
Searcher::~Searcher() = default;

/// (Re)opens every shard into s.db; a remote shard that is down is left out when partial
/// results are allowed, and fails the whole otherwise.
Expected<void> Searcher::connect(State& s) {
    Xapian::Database db;
    std::vector<Xapian::Database> subs;
    bool partial = false, remote = false;
    for (Shard& shard : s.shards) {
        remote = remote || shard.port != 0;
        try {
            subs.push_back(open_shard(shard, s.options));
            db.add_database(subs.back());
            shard.up = true;
        } catch (const Xapian::Error& e) {
            shard.up = false;
            if (shard.port == 0 || !s.options.allow_partial)
                return fail(ErrorCode::index_unavailable,
                            "cannot open " + (s.shards.size() > 1 ? "shard " : std::string()) +
                                "index " + shard.spec + ": " + e.get_description());
            partial = true;
        }
    }
    if (subs.empty())
        return fail(ErrorCode::index_unavailable, "no shard can be reached");
    s.index_language = sole_language(db);
    s.remote = remote;
    s.dictionaries = stored_dictionaries(subs);
    s.db = std::move(db);
    s.term_freqs.clear();
    s.completions.clear();
    s.suggestions.clear();
    s.subs = std::move(subs);
    s.partial = partial;
    s.retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    s.db_path = s.shards.size() == 1 ? s.shards[0].db_path : fs::path();
    s.spelling = s.db;
    s.separate_spelling = remote && !s.options.spelling_index.empty();
    if (s.separate_spelling) {
        auto local = expand_shards({s.options.spelling_index.string()});
        if (!local)
            return std::unexpected(local.error());
        Xapian::Database spelling;
        try {
            for (Shard& shard : *local)
                spelling.add_database(open_shard(shard, s.options));
        } catch (const Xapian::Error& e) {
            return fail(ErrorCode::index_unavailable,
                        "cannot open the spelling index: " + e.get_description());
        }
        s.spelling = std::move(spelling);
        s.spelling_shards = std::move(*local);
    }
    return {};
}

Expected<Searcher> Searcher::open(const fs::path& index_dir, SearchOptions options) {
    return open_shards({index_dir.string()}, std::move(options));
}

Expected<Searcher> Searcher::open_shards(const std::vector<std::string>& shards,
                                         SearchOptions options) {
    auto state = std::make_unique<State>();
    auto expanded = expand_shards(shards);
    if (!expanded)
        return std::unexpected(expanded.error());
    state->dir = shards.front();
    state->options = std::move(options);
    state->shards = std::move(*expanded);
    if (auto ok = connect(*state); !ok)
        return std::unexpected(ok.error());
    return Searcher(std::move(state));
}

Expected<bool> Searcher::reopen() {
    State& s = *state_;
    auto moved_on = [](const Shard& shard) {
        return shard.port == 0 && layout::resolve_database(shard.spec) != shard.db_path;
    };
    // A new version of a shard, or of the local copy that spelling and synonyms come from.
    const bool moved = std::any_of(s.shards.begin(), s.shards.end(), moved_on) ||
                       (s.separate_spelling &&
                        std::any_of(s.spelling_shards.begin(), s.spelling_shards.end(), moved_on));
    if (moved || (s.partial && std::chrono::steady_clock::now() >= s.retry_at)) {
        const bool was_partial = s.partial;
        if (auto ok = connect(s); !ok)
            return std::unexpected(ok.error());
        return moved || was_partial != s.partial;
    }
    try {
        bool changed = s.db.reopen();
        if ((s.separate_spelling && s.spelling.reopen()) || changed)
            s.suggestions.clear();
        if (changed) {
            s.term_freqs.clear();
            s.completions.clear();
            s.index_language = sole_language(s.db);
            s.dictionaries = stored_dictionaries(s.subs);
        }
        return changed;
    } catch (const Xapian::NetworkError&) {
        // Connect again: a shard that is down fails it, or is left out when that is allowed.
        if (auto ok = connect(s); !ok)
            return std::unexpected(ok.error());
        return true;
    } catch (const Xapian::Error& e) {
        return fail(ErrorCode::index_unavailable, "cannot reopen index: " + e.get_description());
    }
}

std::optional<std::string> Searcher::id_for_url(std::string_view url) {
    const std::string term = schema::url_term(url);
    try {
        auto p = state_->db.postlist_begin(term);
        if (p == state_->db.postlist_end(term))
            return std::nullopt;
        const Xapian::Document doc = state_->db.get_document(*p);
        auto t = doc.termlist_begin();
        t.skip_to(schema::id);
        if (t != doc.termlist_end() && (*t).starts_with(schema::id))
            return (*t).substr(std::string_view(schema::id).size());
    } catch (const Xapian::Error&) {
    }
    return std::nullopt;
}

bool Searcher::has_document(std::string_view id) {
    try {
        return state_->db.term_exists(schema::term(schema::id, id));
    } catch (const Xapian::Error&) {
        return false;
    }
}

std::uint64_t Searcher::document_count() const {
    return state_->db.get_doccount();
}
std::uint64_t Searcher::revision() const {
    // Xapian gives the revision of one database only: over shards, the sum of theirs, which
    // changes whenever one of them does.
    std::uint64_t sum = 0;
    try {
        for (const Xapian::Database& sub : state_->subs)
            sum += sub.get_revision();
    } catch (const Xapian::Error&) {
    }
    return sum;
}
const fs::path& Searcher::database_path() const {
    return state_->db_path;
}

Expected<SearchResult> Searcher::search(const SearchRequest& request) {
    const SearchOptions& o = state_->options;
    if (request.per_page < 1 || request.per_page > o.max_per_page)
        return fail(ErrorCode::invalid_argument,
                    "per_page must be between 1 and " + std::to_string(o.max_per_page));
    if (request.page < 1 || request.page > o.max_page)
        return fail(ErrorCode::invalid_argument,
                    "page must be between 1 and " + std::to_string(o.max_page));
    // Xapian databases can change under a reader; reopen and try once more.
    for (int attempt = 0;; ++attempt) {
        try {
            return run(request);
        } catch (const Xapian::DatabaseModifiedError& e) {
            if (attempt > 0)
                return fail(ErrorCode::index_unavailable, e.get_description());
            if (auto r = reopen(); !r)
                return std::unexpected(r.error());
        } catch (const Xapian::NetworkError& e) {
            // A remote shard went away (or timed out): without it, when that is allowed.
            if (attempt > 0 || !state_->options.allow_partial)
                return fail(ErrorCode::index_unavailable,
                            "a shard is down: " + e.get_description());
            if (auto r = connect(*state_); !r)
                return std::unexpected(r.error());
        } catch (const Xapian::Error& e) {
            return fail(ErrorCode::index_unavailable, "search failed: " + e.get_description());
        }
    }
}

Expected<SuggestResult> Searcher::suggest(const SuggestRequest& request) {
    State& s = *state_;
    if (request.limit < 1 || request.limit > s.options.max_per_page)
        return fail(ErrorCode::invalid_argument,
                    "limit must be between 1 and " + std::to_string(s.options.max_per_page));
    if (request.q.size() > s.options.max_query_bytes)
        return fail(ErrorCode::invalid_query,
                    "query is longer than " + std::to_string(s.options.max_query_bytes) + " bytes");
    const std::string text = repair_utf8(request.q);
    const auto tokens = s.analyzer.tokenize(text);
    if (tokens.empty())
        return fail(ErrorCode::invalid_query, "query has no words to complete");
    SuggestResult result;
    if (request.popular) {
        // Compared folded, as the log stores them; the typed text must be a real prefix.
        const std::string typed = s.analyzer.fold(text);
        for (const std::string& p : *request.popular)
            if (result.popular.size() < request.limit && p.size() > typed.size() &&
                p.starts_with(typed))
                result.popular.push_back(p);
    }
    const analyzers::Token& last = tokens.back();
    // The completion replaces the last word only when it is still being typed.
    if (last.end == text.size()) {
        const std::string head = text.substr(0, last.begin);
        std::vector<std::pair<Xapian::doccount, std::string>> words;
        try {
            if (PrefixCompletions::cached(last.term)) {
                // A short prefix starts too many words to read on every keystroke.
                words = s.completions(last.term);
            } else {
                constexpr int scan_limit = 2000; // enough for any real prefix of 4+ bytes
                int scanned = 0;
                for (auto t = s.db.allterms_begin(last.term);
                     t != s.db.allterms_end(last.term) && scanned < scan_limit; ++t, ++scanned)
                    words.emplace_back(t.get_termfreq(), *t);
                // A typo in the word being typed: the completions of the prefix one edit away.
                if (const std::string fixed = words.empty() ? typo_prefix(s.db, last.term) : "";
                    !fixed.empty())
                    for (auto t = s.db.allterms_begin(fixed);
                         t != s.db.allterms_end(fixed) && scanned < scan_limit; ++t, ++scanned)
                        words.emplace_back(t.get_termfreq(), *t);
            }
            if (words.empty()) {
                const std::string fixed = s.suggestions(last.term, 2);
                if (!fixed.empty())
                    words.emplace_back(0, fixed);
            }
        } catch (const Xapian::Error& e) {
            return fail(ErrorCode::index_unavailable, "suggest failed: " + e.get_description());
        }
        std::stable_sort(words.begin(), words.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (std::size_t i = 0; i < words.size() && i < request.limit; ++i)
            result.completions.push_back(head + words[i].second);
    }
    SearchRequest titles;
    titles.q = text;
    titles.prefix = true;
    titles.per_page = request.limit;
    titles.lang = request.lang;
    titles.facets = titles.spelling = titles.snippets = false;
    auto found = search(titles);
    if (!found)
        return std::unexpected(found.error());
    result.titles = std::move(found->hits);
    return result;
}

namespace {

/// How the query of `request` is parsed by a searcher with these options and index.
ParseOptions parse_options(const SearchRequest& request, const SearchOptions& o,
                           const std::string& index_language, TermFrequencies* term_stats,
                           const Xapian::Database* typo_terms = nullptr,
                           SpellingSuggestions* typo_spelling = nullptr) {
    ParseOptions po;
    po.lang = request.lang;
    po.preferred_lang = request.preferred_lang;
    po.match_all = request.match_all;
    po.prefix = request.prefix;
    po.exact_weight = o.exact_weight;
    po.adjacent_pairs = o.proximity_weight > 0 && o.proximity_window > 0;
    po.index_language = index_language;
    po.term_stats = term_stats;
    po.bigram_weight = o.bigram_weight;
    if (request.typos && o.typo_weight > 0) {
        po.typo_terms = typo_terms;
        po.typo_spelling = typo_spelling;
        po.typo_weight = o.typo_weight;
        po.typo_rare = o.typo_rare;
        po.typo_ratio = o.typo_ratio;
    }
    po.prefix_postings = o.prefix_postings;
    po.max_query_bytes = o.max_query_bytes;
    return po;
}

/// The published-date range of the request and of the query syntax (the narrower of each
/// bound), as a value range on schema::slot_published; an empty query when there is none.
Expected<Xapian::Query> date_filter(const SearchRequest& request, const ParsedQuery& parsed) {
    std::optional<std::int64_t> from = parsed.from, to = parsed.to;
    if (!request.from.empty()) {
        auto d = parse_date(request.from);
        if (!d)
            return fail(ErrorCode::invalid_argument,
                        "from: \"" + request.from + "\" is not a date");
        from = from ? std::max(*from, *d) : *d;
    }
    if (!request.to.empty()) {
        auto d = parse_date_end(request.to);
        if (!d)
            return fail(ErrorCode::invalid_argument, "to: \"" + request.to + "\" is not a date");
        to = to ? std::min(*to, *d) : *d;
    }
    if (!from && !to)
        return Xapian::Query();
    const double lo = from ? static_cast<double>(*from) : -1e18;
    const double hi = to ? static_cast<double>(*to - 1) : 1e18;
    return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, schema::slot_published,
                         Xapian::sortable_serialise(lo), Xapian::sortable_serialise(hi));
}

/// Every filter of the request and of the query syntax, as one query (empty: none). None of
/// them adds to the score. Fails when a date does not parse.
Expected<Xapian::Query> filter_of(const SearchRequest& request, const ParsedQuery& parsed,
                                  const analyzers::Analyzer& analyzer) {
    std::vector<Xapian::Query> filters;
    // Filter values are matched as the index stores them: folded, languages as primary subtags.
    if (!request.types.empty()) {
        std::vector<std::string> types;
        for (const auto& t : request.types)
            types.push_back(analyzer.fold(t));
        filters.push_back(any_of(schema::type, types));
    }
    if (!request.langs.empty()) {
        std::vector<std::string> langs;
        for (const auto& l : request.langs)
            langs.push_back(analyzers::primary_language(l));
        filters.push_back(any_of(schema::lang, langs));
    }
    if (!parsed.filter.empty())
        filters.push_back(parsed.filter);
    auto dates = date_filter(request, parsed);
    if (!dates)
        return std::unexpected(dates.error());
    if (!dates->empty())
        filters.push_back(*dates);
    if (filters.empty())
        return Xapian::Query();
    return Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end());
}

/// `query` restricted to the documents of `filter` (when there is one).
Xapian::Query filtered(const Xapian::Query& query, const Xapian::Query& filter) {
    if (filter.empty())
        return query;
    return Xapian::Query(Xapian::Query::OP_FILTER, query, filter);
}

/// The query that ranks: `text`, plus on its matches only (OP_AND_MAYBE) what `boosts` add:
/// the views of `views` (when ranking in Xapian; null: re-ranked by rerank) and the searcher's
/// language.
Xapian::Query boosted(const Xapian::Query& text, const Boosts& boosts, const ResolvedViews* views) {
    Xapian::Query ranked = text;
    if (views) {
        std::vector<Xapian::Query> sources;
        if (boosts.popularity.weight > 0 && !views->global->empty())
            sources.emplace_back((new ViewsSource(views->global, boosts.popularity))->release());
        if (boosts.region.weight > 0 && !boosts.region_code.empty())
            if (auto it = views->by_region.find(boosts.region_code); it != views->by_region.end())
                sources.emplace_back((new ViewsSource(it->second, boosts.region))->release());
        if (!sources.empty())
            ranked =
                Xapian::Query(Xapian::Query::OP_AND_MAYBE, ranked,
                              Xapian::Query(Xapian::Query::OP_OR, sources.begin(), sources.end()));
    }
    // Documents in the searcher's language: a fixed weight, for matches only.
    if (!boosts.language.empty())
        ranked = Xapian::Query(
            Xapian::Query::OP_AND_MAYBE, ranked,
            Xapian::Query(
                Xapian::Query::OP_FILTER,
                Xapian::Query(
                    (new Xapian::FixedWeightPostingSource(boosts.language_weight))->release()),
                Xapian::Query(schema::term(schema::lang, boosts.language))));
    return ranked;
}

/// Accepts the words a query can be expanded with: a stem (the form queries match) where the
/// language stems, an unprefixed word where it does not, never one of the query's own.
class ExpansionWords : public Xapian::ExpandDecider {
  public:
    ExpansionWords(const Xapian::Query& query, bool stems) : stems_(stems) {
        for (auto t = query.get_unique_terms_begin(); t != query.get_unique_terms_end(); ++t)
            own_.insert(*t);
    }
    bool operator()(const std::string& term) const override {
        if (term.empty() || own_.contains(term))
            return false;
        if (stems_)
            return term.starts_with(schema::stem) && term.size() > 2;
        // Unprefixed: prefixes are upper-case ASCII; a word of digits says little.
        const unsigned char c = static_cast<unsigned char>(term[0]);
        return !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9');
    }

  private:
    bool stems_;
    std::set<std::string> own_;
};

/// `text` with pseudo-relevance feedback (SearchOptions::prf_docs): the best expansion words
/// of its first matches within `filter` beside it. `text` itself when it finds nothing.
Xapian::Query expanded(const Xapian::Database& db, const Xapian::Query& text,
                       const Xapian::Query& filter, bool stems, const SearchOptions& o) {
    Xapian::Enquire first(db);
    first.set_query(filtered(text, filter));
    first.set_weighting_scheme(Xapian::BM25Weight(o.k1, 0, 1, o.b, 0.5));
    const Xapian::MSet top = first.get_mset(0, o.prf_docs);
    if (top.empty())
        return text;
    Xapian::RSet rset;
    for (auto m = top.begin(); m != top.end(); ++m)
        rset.add_document(*m);
    const ExpansionWords decider(text, stems);
    const Xapian::ESet eset = first.get_eset(o.prf_terms, rset, &decider);
    if (eset.empty())
        return text;
    const double best = eset.begin().get_weight();
    std::vector<Xapian::Query> words;
    for (auto e = eset.begin(); e != eset.end(); ++e)
        words.emplace_back(best > 0 ? e.get_weight() / best : 1.0, Xapian::Query(*e));
    return Xapian::Query(Xapian::Query::OP_OR, text,
                         Xapian::Query(o.prf_weight, Xapian::Query(Xapian::Query::OP_OR,
                                                                   words.begin(), words.end())));
}

/// The id of a document, from its id term ("" when it has none).
std::string document_id(const Xapian::Document& doc) {
    auto t = doc.termlist_begin();
    t.skip_to(schema::id);
    if (t != doc.termlist_end() && (*t).starts_with(schema::id))
        return (*t).substr(std::string_view(schema::id).size());
    return {};
}

/// Fills the parts of the scores of `page`: what `boosts` added to each (the views' parts are
/// already there when rerank added them), and its text score as Xapian gives it for `text`
/// alone, with `weighting`.
void explain(std::vector<Ranked>& page, const Xapian::Database& db, const Xapian::Query& text,
             const Xapian::Weight& weighting, const Boosts& boosts, bool views_added) {
    if (page.empty())
        return;
    const std::string language =
        boosts.language.empty() ? std::string() : schema::term(schema::lang, boosts.language);
    std::vector<Xapian::Query> ids;
    for (Ranked& r : page) {
        const std::string id = document_id(r.document);
        ids.emplace_back(schema::term(schema::id, id));
        if (!views_added) {
            const double proximity = r.parts.proximity;
            r.parts = boosts.views_parts(id);
            r.parts.proximity = proximity;
        }
        if (!language.empty()) {
            auto t = r.document.termlist_begin();
            t.skip_to(language);
            if (t != r.document.termlist_end() && *t == language)
                r.parts.language = boosts.language_weight;
        }
    }
    Xapian::Enquire alone(db);
    alone.set_query(filtered(text, Xapian::Query(Xapian::Query::OP_OR, ids.begin(), ids.end())));
    alone.set_weighting_scheme(weighting);
    // Every document with one of these ids: an id is in one shard, but nothing makes it so.
    const Xapian::MSet mset = alone.get_mset(0, db.get_doccount());
    std::unordered_map<Xapian::docid, double> scores;
    for (auto m = mset.begin(); m != mset.end(); ++m)
        scores.emplace(*m, m.get_weight());
    for (Ranked& r : page)
        if (auto it = scores.find(r.docid); it != scores.end())
            r.parts.text = it->second;
}

/// Counts of values over every match (SearchRequest::facets).
struct FacetSpies {
    Xapian::ValueCountMatchSpy type{schema::slot_type}, lang{schema::slot_lang};
};

/// The facets counted by `spies` (over every match), into `result`.
void count_facets(FacetSpies& spies, SearchResult& result) {
    for (auto v = spies.type.values_begin(); v != spies.type.values_end(); ++v)
        result.type_facets[*v] = v.get_termfreq();
    for (auto v = spies.lang.values_begin(); v != spies.lang.values_end(); ++v)
        result.lang_facets[*v] = v.get_termfreq();
}

/// One page of matches in score order.
struct Page {
    Xapian::doccount estimated = 0; ///< matches in all
    std::vector<Ranked> hits;
};

/// The ranking step: the page of `request` of the matches of `text` within `filter`, ranked by
/// text score (BM25 with `o`) plus what `boosts` add. On one database views add in Xapian
/// (from `views`); over shards (`views` null) rerank adds them. Facets are counted into
/// `spies` (when not null), and each hit carries the parts of its score when explaining.
Page rank(const Xapian::Database& db, const Xapian::Query& text, const Xapian::Query& filter,
          const Boosts& boosts, const ResolvedViews* views, const SearchRequest& request,
          const SearchOptions& o, const Proximity& proximity, FacetSpies* spies) {
    Xapian::Enquire enquire(db);
    enquire.set_query(filtered(boosted(text, boosts, views), filter));
    const Xapian::BM25Weight weighting(o.k1, 0, 1, o.b, 0.5);
    enquire.set_weighting_scheme(weighting);
    if (request.sort == Sort::date)
        enquire.set_sort_by_value_then_relevance(schema::slot_published, true);
    if (spies) {
        enquire.add_matchspy(&spies->type);
        enquire.add_matchspy(&spies->lang);
    }
    const Xapian::doccount first = (request.page - 1) * request.per_page;
    // Facets count every match, so the matcher must look at all of them.
    const Xapian::doccount check = spies ? db.get_doccount() : 0;
    Page page;
    const bool views_here = boosts.by_views && !views;
    if (views_here) {
        auto parts = [&](const std::string& id) { return boosts.views_parts(id); };
        page.estimated = rerank(enquire, first, request.per_page, check, parts, boosts.most(),
                                proximity, db, page.hits);
    } else if (first < proximity.window()) {
        // The window in text order, ties by id (the sort key) as over shards.
        enquire.set_sort_by_relevance_then_value(schema::slot_id, false);
        const Xapian::doccount want = first + request.per_page;
        const Xapian::MSet mset = enquire.get_mset(0, std::max(want, proximity.window()), check);
        page.estimated = mset.get_matches_estimated();
        std::vector<Ranked> all;
        all.reserve(mset.size());
        for (auto m = mset.begin(); m != mset.end(); ++m)
            all.push_back({m.get_weight(), m.get_rank(), *m, {}, {}, m.get_sort_key()});
        proximity.rerank(db, all);
        for (Xapian::doccount i = first; i < want && i < all.size(); ++i) {
            page.hits.push_back(std::move(all[i]));
            page.hits.back().document = mset[page.hits.back().rank].get_document();
        }
    } else {
        const Xapian::MSet mset = enquire.get_mset(first, request.per_page, check);
        page.estimated = mset.get_matches_estimated();
        for (auto m = mset.begin(); m != mset.end(); ++m)
            page.hits.push_back({m.get_weight(), m.get_rank(), *m, m.get_document(), {}, {}});
    }
    if (request.explain)
        explain(page.hits, db, text, weighting, boosts, views_here);
    return page;
}

/// A hit: the stored fields of its document, and a snippet of its body for `terms` (when not
/// null).
Hit read_hit(const Ranked& r, const schema::StoredDictionaries& dictionaries,
             const SnippetTerms* terms, analyzers::Analyzer& analyzer, std::size_t snippet_bytes) {
    Hit hit;
    hit.score = r.score;
    boost::system::error_code ec;
    // The fields are copied out before the next hit: parse into a buffer on the stack (and
    // from there into the heap only when it is full) instead of one allocation per field.
    unsigned char buffer[8192];
    json::monotonic_resource fields(buffer, sizeof buffer);
    const json::value data =
        json::parse(schema::unpack_stored(r.document.get_data(), &dictionaries), ec, &fields);
    if (!ec && data.is_object()) {
        const json::object& obj = data.get_object();
        hit.id = string_field(obj, "id");
        hit.url = string_field(obj, "url");
        hit.title = string_field(obj, "title");
        hit.type = string_field(obj, "type");
        hit.lang = string_field(obj, "lang");
        hit.published = string_field(obj, "published");
        if (terms)
            hit.snippet = make_snippet(string_field(obj, "body"), *terms, analyzer, snippet_bytes);
    }
    return hit;
}

/// "Did you mean": the query with the words the index neither has nor completes corrected,
/// when that finds more than `found` documents within `filter`.
std::optional<std::string> did_you_mean(const std::string& q, const ParsedQuery& parsed,
                                        const ParseOptions& po, analyzers::Analyzer& analyzer,
                                        const Xapian::Database& db, SpellingSuggestions& spelling,
                                        const Xapian::Query& filter, std::uint64_t found) {
    // The words' offsets index the query as parsed, with ill-formed UTF-8 repaired.
    std::string corrected = repair_utf8(q);
    bool changed = false;
    for (auto w = parsed.words.rbegin(); w != parsed.words.rend(); ++w) {
        // A word the index has, or the start of words it has ("pho" of "photo"), is no typo;
        // nor is a word with synonyms.
        if (!w->correctable || parsed.corrected.contains(w->term) ||
            parsed.synonyms.contains(w->term) || db.get_termfreq(w->term) > 0 ||
            db.allterms_begin(w->term) != db.allterms_end(w->term))
            continue;
        const std::string suggestion = spelling(w->term, 2);
        if (suggestion.empty() || suggestion == w->term)
            continue;
        corrected.replace(w->begin, w->end - w->begin, suggestion);
        changed = true;
    }
    if (!changed)
        return std::nullopt;
    auto reparsed = parse_query(corrected, analyzer, po);
    if (!reparsed)
        return std::nullopt;
    Xapian::Enquire count(db);
    count.set_query(filtered(reparsed->query, filter));
    if (count.get_mset(0, 0, db.get_doccount()).get_matches_estimated() <= found)
        return std::nullopt;
    return corrected;
}

} // namespace

Expected<SearchResult> Searcher::run(const SearchRequest& request) {
    State& s = *state_;
    const SearchOptions& o = s.options;
    ParseOptions po = parse_options(request, o, s.index_language,
                                    s.remote ? nullptr : &s.term_freqs, &s.db, &s.suggestions);
    // Synonyms are read where spelling is: remote shards serve neither.
    po.synonyms = &s.spelling;
    po.synonym_weight = o.synonym_weight;
    // Over remote shards each term-list read is a round trip: their servers expand prefixes.
    if (!s.remote)
        po.completions = &s.completions;
    auto parsed = parse_query(request.q, s.analyzer, po);
    if (!parsed)
        return std::unexpected(parsed.error());
    const auto filter = filter_of(request, *parsed, s.analyzer);
    if (!filter)
        return std::unexpected(filter.error());

    // Page views add to the text score of matching documents. Over several shards a custom
    // PostingSource cannot run (xapian-tcpsrv knows only Xapian's own), so they re-rank the
    // text matches here instead (rerank).
    const Boosts boosts(o.ranking, request);
    const ResolvedViews* views = nullptr;
    if (boosts.by_views && s.shards.size() == 1)
        views = &resolve(s.popularity, s.db, s.db_path, request.popularity);
    const Proximity proximity =
        request.sort == Sort::relevance
            ? Proximity(*parsed, o, s.db, s.remote ? nullptr : &s.term_freqs, s.remote)
            : Proximity();
    FacetSpies spies;
    // Pseudo-relevance feedback: a second search with the words of the first's best pages.
    if (o.prf_docs > 0 && request.sort == Sort::relevance && !request.prefix &&
        !parsed->words.empty())
        parsed->query =
            expanded(s.db, parsed->query, *filter, s.analyzer.has_stemmer(parsed->lang), o);
    Page page = rank(s.db, parsed->query, *filter, boosts, views, request, o, proximity,
                     request.facets ? &spies : nullptr);
    // An unspaced CJK query needs all its words; when no page has them all, any of them.
    if (page.hits.empty() && page.estimated == 0 && !parsed->loose.empty())
        page = rank(s.db, parsed->loose, *filter, boosts, views, request, o, proximity,
                    request.facets ? &spies : nullptr);

    SearchResult result;
    result.page = request.page;
    result.per_page = request.per_page;
    result.total = page.estimated;
    result.query_lang = parsed->lang;
    result.corrected = parsed->corrected;
    result.synonyms = parsed->synonyms;
    result.partial = s.partial;
    const SnippetTerms snippet_terms{&parsed->highlight_terms, &parsed->highlight_stems,
                                     parsed->lang};
    for (const Ranked& r : page.hits) {
        Hit hit = read_hit(r, s.dictionaries, request.snippets ? &snippet_terms : nullptr,
                           s.analyzer, o.snippet_bytes);
        if (request.explain)
            hit.explain = r.parts;
        result.hits.push_back(std::move(hit));
    }
    result.has_facets = request.facets;
    if (request.facets)
        count_facets(spies, result);
    // A correction is looked for only when the query finds few documents.
    if (request.spelling && result.total < o.spelling_below)
        result.did_you_mean = did_you_mean(request.q, *parsed, po, s.analyzer, s.db, s.suggestions,
                                           *filter, result.total);
    return result;
}

} // namespace mixi::query
