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
#include <functional>
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

/// Adds weight * f(views) to the documents in a DocViews list. Used only on the right of
/// OP_AND_MAYBE, so it adds to documents that match and never makes one match.
class ViewsSource : public Xapian::PostingSource {
  public:
    ViewsSource(std::shared_ptr<const DocViews> docs, double weight, double saturation)
        : docs_(std::move(docs)), weight_(weight), saturation_(saturation) {
        double most = 0;
        for (const auto& d : *docs_)
            most = std::max(most, d.second);
        set_maxweight(weight_ * saturate(most, saturation_));
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
    double get_weight() const override {
        return weight_ * saturate((*docs_)[pos_].second, saturation_);
    }
    Xapian::PostingSource* clone() const override {
        return new ViewsSource(docs_, weight_, saturation_);
    }
    std::string get_description() const override { return "ViewsSource"; }

  private:
    std::shared_ptr<const DocViews> docs_;
    double weight_, saturation_;
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
    Xapian::Database spelling;          ///< where spelling suggestions come from (usually db)
    bool separate_spelling = false;     ///< spelling is SearchOptions::spelling_index
    bool partial = false;               ///< a shard is down and left out of db
    std::chrono::steady_clock::time_point retry_at;
    analyzers::Analyzer analyzer;
    ResolvedPopularity popularity;
    std::string index_language; ///< of every document in db, when they share one (else "")
    bool remote = false;        ///< a shard is served by xapian-tcpsrv
    schema::StoredDictionaries dictionaries; ///< of the shards' stored fields
    TermFrequencies term_freqs{db};          ///< of db's revision
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
        if (spec.starts_with("tcp://")) {
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

/// A hit before it is read: its score and document.
struct Ranked {
    double score;
    Xapian::doccount rank; ///< its place in the MSet it came from
    Xapian::Document document;
};

/// The page [first, first + count) of the matches of `enquire` ranked by text score plus
/// boost(document id), exactly: the top k by text are re-ranked, and k grows until no match
/// below the k-th could overtake the page's last (a boost is at most `most`). Returns the
/// estimated number of matches. Match spies count on the first pass only.
Xapian::doccount rerank(Xapian::Enquire& enquire, Xapian::doccount first, Xapian::doccount count,
                        Xapian::doccount check,
                        const std::function<double(const std::string&)>& boost, double most,
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
            all.push_back({m.get_weight() + boost(id), m.get_rank(), {}});
        }
        std::stable_sort(all.begin(), all.end(),
                         [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
        const bool complete = mset.size() < k;
        const bool settled = !complete && all.size() >= want &&
                             all[want - 1].score >= mset[mset.size() - 1].get_weight() + most;
        if (complete || settled || k >= widest) {
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
    const bool moved = std::any_of(s.shards.begin(), s.shards.end(), [](const Shard& shard) {
        return shard.port == 0 && layout::resolve_database(shard.spec) != shard.db_path;
    });
    if (moved || (s.partial && std::chrono::steady_clock::now() >= s.retry_at)) {
        const bool was_partial = s.partial;
        if (auto ok = connect(s); !ok)
            return std::unexpected(ok.error());
        return moved || was_partial != s.partial;
    }
    try {
        bool changed = s.db.reopen();
        if (s.separate_spelling)
            s.spelling.reopen();
        if (changed) {
            s.term_freqs.clear();
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
            constexpr int scan_limit = 2000; // enough for any real prefix; bounded for "a"
            int scanned = 0;
            for (auto t = s.db.allterms_begin(last.term);
                 t != s.db.allterms_end(last.term) && scanned < scan_limit; ++t, ++scanned)
                words.emplace_back(t.get_termfreq(), *t);
            if (words.empty()) {
                const std::string fixed = s.spelling.get_spelling_suggestion(last.term);
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

Expected<SearchResult> Searcher::run(const SearchRequest& request) {
    State& s = *state_;
    const SearchOptions& o = s.options;
    ParseOptions po;
    po.lang = request.lang;
    po.preferred_lang = request.preferred_lang;
    po.match_all = request.match_all;
    po.prefix = request.prefix;
    po.exact_weight = o.exact_weight;
    po.index_language = s.index_language;
    po.term_stats = s.remote ? nullptr : &s.term_freqs;
    po.bigram_weight = o.bigram_weight;
    po.max_query_bytes = o.max_query_bytes;
    auto parsed = parse_query(request.q, s.analyzer, po);
    if (!parsed)
        return std::unexpected(parsed.error());

    // Filters: from the request and from the query syntax; none of them adds to the score.
    std::vector<Xapian::Query> filters;
    // Filter values are matched as the index stores them: folded, languages as primary subtags.
    if (!request.types.empty()) {
        std::vector<std::string> types;
        for (const auto& t : request.types)
            types.push_back(s.analyzer.fold(t));
        filters.push_back(any_of(schema::type, types));
    }
    if (!request.langs.empty()) {
        std::vector<std::string> langs;
        for (const auto& l : request.langs)
            langs.push_back(analyzers::primary_language(l));
        filters.push_back(any_of(schema::lang, langs));
    }
    if (!parsed->filter.empty())
        filters.push_back(parsed->filter);
    std::optional<std::int64_t> from = parsed->from, to = parsed->to;
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
    if (from || to) {
        const double lo = from ? static_cast<double>(*from) : -1e18;
        const double hi = to ? static_cast<double>(*to - 1) : 1e18;
        filters.emplace_back(Xapian::Query::OP_VALUE_RANGE, schema::slot_published,
                             Xapian::sortable_serialise(lo), Xapian::sortable_serialise(hi));
    }
    auto filtered = [&](const Xapian::Query& q) {
        if (filters.empty())
            return q;
        return Xapian::Query(Xapian::Query::OP_FILTER, q,
                             Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end()));
    };

    // Page views add to the text score of matching documents (OP_AND_MAYBE).
    Xapian::Query ranked = parsed->query;
    const RankingOptions& ro = o.ranking;
    const bool region_known = !request.region.empty() && request.region != "ZZ";
    // Over several shards a custom PostingSource cannot run (xapian-tcpsrv knows only Xapian's
    // own), so page views re-rank the text matches here instead (rerank below).
    const bool multi = s.shards.size() > 1;
    const bool by_views = request.popularity && request.sort == Sort::relevance &&
                          (ro.popularity_weight > 0 || (ro.region_weight > 0 && region_known));
    if (by_views && !multi) {
        const ResolvedViews& pop = resolve(s.popularity, s.db, s.db_path, request.popularity);
        std::vector<Xapian::Query> boosts;
        if (ro.popularity_weight > 0 && !pop.global->empty())
            boosts.emplace_back(
                (new ViewsSource(pop.global, ro.popularity_weight, ro.saturation))->release());
        if (ro.region_weight > 0 && region_known)
            if (auto it = pop.by_region.find(request.region); it != pop.by_region.end())
                boosts.emplace_back(
                    (new ViewsSource(it->second, ro.region_weight, ro.saturation))->release());
        if (!boosts.empty())
            ranked =
                Xapian::Query(Xapian::Query::OP_AND_MAYBE, ranked,
                              Xapian::Query(Xapian::Query::OP_OR, boosts.begin(), boosts.end()));
    }
    // Documents in the searcher's language: a fixed weight, for matches only.
    const std::string preferred = analyzers::primary_language(request.preferred_lang);
    if (!preferred.empty() && ro.language_weight > 0 && request.sort == Sort::relevance)
        ranked = Xapian::Query(
            Xapian::Query::OP_AND_MAYBE, ranked,
            Xapian::Query(
                Xapian::Query::OP_FILTER,
                Xapian::Query(
                    (new Xapian::FixedWeightPostingSource(ro.language_weight))->release()),
                Xapian::Query(schema::term(schema::lang, preferred))));

    Xapian::Enquire enquire(s.db);
    enquire.set_query(filtered(ranked));
    enquire.set_weighting_scheme(Xapian::BM25Weight(o.k1, 0, 1, o.b, 0.5));
    if (request.sort == Sort::date)
        enquire.set_sort_by_value_then_relevance(schema::slot_published, true);
    Xapian::ValueCountMatchSpy type_spy(schema::slot_type), lang_spy(schema::slot_lang);
    if (request.facets) {
        enquire.add_matchspy(&type_spy);
        enquire.add_matchspy(&lang_spy);
    }
    const Xapian::doccount first = (request.page - 1) * request.per_page;
    // Facets count every match, so the matcher must look at all of them.
    const Xapian::doccount check = request.facets ? s.db.get_doccount() : 0;
    std::vector<Ranked> page;
    Xapian::doccount estimated = 0;
    if (by_views && multi) {
        auto views = [&](const std::string& id) {
            double boost =
                ro.popularity_weight * saturate(request.popularity->views(id), ro.saturation);
            if (region_known)
                boost +=
                    ro.region_weight *
                    saturate(request.popularity->region_views(id, request.region), ro.saturation);
            return boost;
        };
        const double most = ro.popularity_weight + (region_known ? ro.region_weight : 0);
        estimated = rerank(enquire, first, request.per_page, check, views, most, page);
    } else {
        const Xapian::MSet mset = enquire.get_mset(first, request.per_page, check);
        estimated = mset.get_matches_estimated();
        for (auto m = mset.begin(); m != mset.end(); ++m)
            page.push_back({m.get_weight(), m.get_rank(), m.get_document()});
    }

    SearchResult result;
    result.page = request.page;
    result.per_page = request.per_page;
    result.total = estimated;
    result.query_lang = parsed->lang;
    result.partial = s.partial;
    const SnippetTerms snippet_terms{&parsed->highlight_terms, &parsed->highlight_stems,
                                     parsed->lang};
    for (const Ranked& r : page) {
        Hit hit;
        hit.score = r.score;
        boost::system::error_code ec;
        // The fields are copied out before the next hit: parse into a buffer on the stack (and
        // from there into the heap only when it is full) instead of one allocation per field.
        unsigned char buffer[8192];
        json::monotonic_resource fields(buffer, sizeof buffer);
        const json::value data =
            json::parse(schema::unpack_stored(r.document.get_data(), &s.dictionaries), ec, &fields);
        if (!ec && data.is_object()) {
            const json::object& obj = data.get_object();
            hit.id = string_field(obj, "id");
            hit.url = string_field(obj, "url");
            hit.title = string_field(obj, "title");
            hit.type = string_field(obj, "type");
            hit.lang = string_field(obj, "lang");
            hit.published = string_field(obj, "published");
            if (request.snippets)
                hit.snippet = make_snippet(string_field(obj, "body"), snippet_terms, s.analyzer,
                                           o.snippet_bytes);
        }
        if (request.explain) {
            ScoreParts parts;
            if (request.popularity && request.sort == Sort::relevance) {
                parts.views = request.popularity->views(hit.id);
                parts.popularity = ro.popularity_weight * saturate(parts.views, ro.saturation);
                if (region_known) {
                    parts.region_views = request.popularity->region_views(hit.id, request.region);
                    parts.region = ro.region_weight * saturate(parts.region_views, ro.saturation);
                }
            }
            if (!preferred.empty() && request.sort == Sort::relevance && hit.lang == preferred)
                parts.language = ro.language_weight;
            parts.text = hit.score - parts.popularity - parts.region - parts.language;
            hit.explain = parts;
        }
        result.hits.push_back(std::move(hit));
    }
    result.has_facets = request.facets;
    if (request.facets) {
        for (auto v = type_spy.values_begin(); v != type_spy.values_end(); ++v)
            result.type_facets[*v] = v.get_termfreq();
        for (auto v = lang_spy.values_begin(); v != lang_spy.values_end(); ++v)
            result.lang_facets[*v] = v.get_termfreq();
    }

    // "Did you mean": correct words the index does not have, and offer the correction only
    // when it would find more.
    if (request.spelling && result.total < o.spelling_below) {
        // The words' offsets index the query as parsed, with ill-formed UTF-8 repaired.
        std::string corrected = repair_utf8(request.q);
        bool changed = false;
        for (auto w = parsed->words.rbegin(); w != parsed->words.rend(); ++w) {
            if (!w->correctable || s.db.get_termfreq(w->term) > 0)
                continue;
            const std::string suggestion = s.spelling.get_spelling_suggestion(w->term);
            if (suggestion.empty() || suggestion == w->term)
                continue;
            corrected.replace(w->begin, w->end - w->begin, suggestion);
            changed = true;
        }
        if (changed) {
            auto reparsed = parse_query(corrected, s.analyzer, po);
            if (reparsed) {
                Xapian::Enquire count(s.db);
                count.set_query(filtered(reparsed->query));
                const auto found =
                    count.get_mset(0, 0, s.db.get_doccount()).get_matches_estimated();
                if (found > result.total)
                    result.did_you_mean = corrected;
            }
        }
    }
    return result;
}

} // namespace mixi::query
