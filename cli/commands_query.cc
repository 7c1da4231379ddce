// `mixi-search query`
#include "analytics/views.h"
#include "cli/commands.h"
#include "cli/config_options.h"
#include "query/result_json.h"
#include "query/searcher.h"
#include "server/options.h"

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

namespace {

std::string shorten(const std::string& s, std::size_t n) {
    if (s.size() <= n)
        return s;
    std::size_t end = n;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
        --end;
    return s.substr(0, end) + "…";
}

void print_table(const query::SearchResult& r, bool explain) {
    std::cout << r.total << " matches (page " << r.page << ")\n";
    if (r.did_you_mean)
        std::cout << "did you mean: " << *r.did_you_mean << "\n";
    for (const auto& [word, expanded] : r.synonyms) {
        std::cout << "synonyms: " << word << " →";
        for (std::size_t i = 0; i < expanded.size(); ++i)
            std::cout << (i ? ", " : " ") << expanded[i];
        std::cout << "\n";
    }
    int rank = static_cast<int>((r.page - 1) * r.per_page);
    for (const auto& h : r.hits) {
        std::cout << std::setw(3) << ++rank << "  " << std::fixed << std::setprecision(3)
                  << std::setw(7) << h.score << "  " << std::setw(7) << std::left << h.type << " "
                  << std::setw(3) << h.lang << std::right << " " << h.id << "  "
                  << shorten(h.title, 60) << "\n";
        if (explain && h.explain)
            std::cout << "     = text " << h.explain->text << " + proximity "
                      << h.explain->proximity << " + popularity " << h.explain->popularity << " ("
                      << h.explain->views << " views) + region " << h.explain->region << " ("
                      << h.explain->region_views << " views) + language " << h.explain->language
                      << "\n";
    }
    auto facet = [](const char* name, const std::map<std::string, std::uint64_t>& f) {
        if (f.empty())
            return;
        std::cout << name << ":";
        for (const auto& [k, v] : f)
            std::cout << " " << k << "=" << v;
        std::cout << "\n";
    };
    facet("type", r.type_facets);
    facet("lang", r.lang_facets);
}

} // namespace

int run_query(const Args& args) {
    std::string format, sort;
    std::vector<std::string> words;
    query::SearchRequest req;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("index", po::value<std::string>(), "index directory (server.index)")(
        "page", po::value(&req.page)->default_value(1), "page (from 1)")(
        "per-page", po::value(&req.per_page)->default_value(10), "hits per page (1-100)")(
        "type", po::value(&req.types)->composing(), "only this type (repeatable)")(
        "lang", po::value(&req.langs)->composing(), "only this language (repeatable)")(
        "from", po::value(&req.from), "published on or after (YYYY[-MM[-DD]])")(
        "to", po::value(&req.to), "published on or before (YYYY[-MM[-DD]])")(
        "sort", po::value(&sort)->default_value("relevance"), "relevance or date")(
        "prefix", po::bool_switch(&req.prefix), "the last word is a prefix (as you type)")(
        "all", po::bool_switch(&req.match_all), "every word must match")(
        "user-lang", po::value(&req.lang), "the searcher's language (default: detect)")(
        "format", po::value(&format)->default_value("json"),
        "json or table")("k1", po::value<std::string>(),
                         "BM25 k1 (search.k1)")("b", po::value<std::string>(), "BM25 b (search.b)")(
        "shard", po::value<std::vector<std::string>>()->composing(),
        "search these shards as one instead of --index: an index directory or tcp://host:port "
        "served by xapian-tcpsrv (repeatable; shards.list)")(
        "allow-partial", po::bool_switch(),
        "with --shard: when a remote shard is down, answer from the others (\"partial\": true; "
        "shards.allow_partial)")(
        "spelling-index", po::value<std::string>(),
        "with remote shards: a local copy of the index for spelling suggestions and synonyms "
        "(shards.spelling_index)")(
        "data", po::value<std::string>(),
        "data directory whose page views rank the results (none there: text only; "
        "server.data_dir)")("country", po::value(&req.region),
                            "rank as for a searcher in this region (JP)")(
        "explain", po::bool_switch(&req.explain), "show what each score is made of")(
        "popularity-weight", po::value<std::string>(), "ranking.popularity_weight")(
        "region-weight", po::value<std::string>(), "ranking.region_weight")(
        "saturation", po::value<std::string>(),
        "views at which popularity gives half its weight (ranking.saturation)")(
        "half-life", po::value<std::string>(), "days (ranking.half_life_days)");
    po::options_description all;
    all.add(opts).add_options()("q", po::value(&words)->composing());
    po::positional_options_description positional;
    positional.add("q", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search query: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help")) {
        std::cout << "usage: mixi-search query [--index DIR] [options] QUERY...\n\n" << opts;
        return exit_ok;
    }
    if (sort != "relevance" && sort != "date") {
        std::cerr << "mixi-search query: --sort must be relevance or date\n";
        return exit_usage;
    }
    if (format != "json" && format != "table") {
        std::cerr << "mixi-search query: --format must be json or table\n";
        return exit_usage;
    }
    // Ranking, limits, index and shards as the server has them; the flags override.
    auto config = load_config("query", config_options, vm,
                              {{"index", "server.index"},
                               {"k1", "search.k1"},
                               {"b", "search.b"},
                               {"shard", "shards.list"},
                               {"allow-partial", "shards.allow_partial"},
                               {"spelling-index", "shards.spelling_index"},
                               {"data", "server.data_dir"},
                               {"popularity-weight", "ranking.popularity_weight"},
                               {"region-weight", "ranking.region_weight"},
                               {"saturation", "ranking.saturation"},
                               {"half-life", "ranking.half_life_days"}});
    if (!config)
        return exit_usage;
    const query::SearchOptions options = server::search_options(*config);
    req.sort = sort == "date" ? query::Sort::date : query::Sort::relevance;
    req.facets = true;
    for (const auto& w : words)
        req.q += (req.q.empty() ? "" : " ") + w;
    if (const auto where = server::analytics_store(*config); !where.missing()) {
        auto store = analytics::ViewStore::open(where);
        auto snapshot = store ? store->popularity(analytics::day_of(std::time(nullptr)),
                                                  {config->half_life_days})
                              : std::unexpected(store.error());
        if (!snapshot) {
            std::cerr << "mixi-search: " << snapshot.error().message << "\n";
            return exit_error;
        }
        req.popularity = *snapshot;
    }
    auto searcher = config->shards.empty() ? query::Searcher::open(config->index, options)
                                           : query::Searcher::open_shards(config->shards, options);
    if (!searcher) {
        std::cerr << "mixi-search: " << searcher.error().message << "\n";
        return exit_error;
    }
    auto result = searcher->search(req);
    if (!result) {
        std::cerr << "mixi-search: " << result.error().message << "\n";
        return result.error().code == ErrorCode::invalid_query ||
                       result.error().code == ErrorCode::invalid_argument
                   ? exit_usage
                   : exit_error;
    }
    if (format == "table")
        print_table(*result, req.explain);
    else
        std::cout << boost::json::serialize(query::to_json(*result)) << "\n";
    return exit_ok;
}

} // namespace mixi::cli
