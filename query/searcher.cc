#include "query/searcher.h"

#include "analyzers/language.h"
#include "common/dates.h"
#include "common/index_layout.h"
#include "common/schema.h"
#include "common/utf8.h"
#include "query/snippet.h"

#include <algorithm>
#include <boost/json.hpp>
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

} // namespace

struct Searcher::State {
    fs::path dir;
    fs::path db_path;
    SearchOptions options;
    Xapian::Database db;
    analyzers::Analyzer analyzer;
    ResolvedPopularity popularity;
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
                               snapshot->resolve(db, db_path.string())};
    return r.views;
}

Expected<Xapian::Database> open_database(const fs::path& dir, fs::path& db_path) {
    db_path = layout::resolve_database(dir);
    if (db_path.empty())
        return fail(ErrorCode::index_unavailable, "no index at " + dir.string());
    try {
        return Xapian::Database(db_path.string());
    } catch (const Xapian::Error& e) {
        return fail(ErrorCode::index_unavailable,
                    "cannot open index " + db_path.string() + ": " + e.get_description());
    }
}

std::string string_field(const json::object& o, const char* key) {
    if (const json::value* v = o.if_contains(key); v && v->is_string())
        return std::string(v->get_string());
    return "";
}

Xapian::Query any_of(const char* prefix, const std::vector<std::string>& values) {
    std::vector<Xapian::Query> parts;
    for (const auto& v : values)
        parts.emplace_back(schema::term(prefix, v));
    return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

} // namespace

Searcher::Searcher(std::unique_ptr<State> state) : state_(std::move(state)) {}
Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;
Searcher::~Searcher() = default;

Expected<Searcher> Searcher::open(const fs::path& index_dir, SearchOptions options) {
    auto state = std::make_unique<State>();
    state->dir = index_dir;
    state->options = options;
    auto db = open_database(index_dir, state->db_path);
    if (!db)
        return std::unexpected(db.error());
    state->db = std::move(*db);
    return Searcher(std::move(state));
}

Expected<bool> Searcher::reopen() {
    try {
        if (layout::resolve_database(state_->dir) != state_->db_path) {
            fs::path path;
            auto db = open_database(state_->dir, path);
            if (!db)
                return std::unexpected(db.error());
            state_->db = std::move(*db);
            state_->db_path = path;
            return true;
        }
        return state_->db.reopen();
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
    return state_->db.get_revision();
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
                const std::string fixed = s.db.get_spelling_suggestion(last.term);
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
    if (request.popularity && request.sort == Sort::relevance) {
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
    const Xapian::MSet mset = enquire.get_mset(first, request.per_page, check);

    SearchResult result;
    result.page = request.page;
    result.per_page = request.per_page;
    result.total = mset.get_matches_estimated();
    result.query_lang = parsed->lang;
    const SnippetTerms snippet_terms{&parsed->highlight_terms, &parsed->highlight_stems,
                                     parsed->lang};
    for (auto m = mset.begin(); m != mset.end(); ++m) {
        Hit hit;
        hit.score = m.get_weight();
        boost::system::error_code ec;
        const json::value data = json::parse(m.get_document().get_data(), ec);
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
        std::string corrected = request.q;
        bool changed = false;
        for (auto w = parsed->words.rbegin(); w != parsed->words.rend(); ++w) {
            if (!w->correctable || s.db.get_termfreq(w->term) > 0)
                continue;
            const std::string suggestion = s.db.get_spelling_suggestion(w->term);
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
