// `mixi-search eval --beir DIR`: index a BEIR collection in a temporary directory and measure
// ranking on its test queries.
#include "cli/commands.h"
#include "common/text_lines.h"
#include "indexer/index_writer.h"
#include "query/metrics.h"
#include "query/searcher.h"

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <random>
#include <sstream>
#include <unistd.h>

namespace mixi::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string field(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    if (!v)
        return "";
    if (v->is_string())
        return std::string(v->get_string());
    return json::serialize(*v);
}

/// Reads a BEIR jsonl file ({"_id", ...}); counts lines it cannot parse.
std::size_t read_jsonl(const fs::path& path, const std::function<void(const json::object&)>& f) {
    std::size_t bad = 0;
    for_each_line(path, [&](std::string& line) {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        if (ec || !v.is_object())
            ++bad;
        else
            f(v.get_object());
    });
    return bad;
}

/// The CPU time this thread has used, in milliseconds: a cost that other processes on the
/// machine do not inflate the way they do wall time.
double thread_cpu_ms() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

struct TempDir {
    fs::path path;
    bool keep = false;
    ~TempDir() {
        std::error_code ec;
        if (!keep && !path.empty())
            fs::remove_all(path, ec);
    }
};

} // namespace

int run_eval(const Args& args) {
    std::string beir, split, keep, reuse, queries_path;
    unsigned threads = 1, passes = 1;
    bool typos = true;
    long long random_views = -1;
    query::SearchOptions options;
    indexer::BuildOptions build;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help")(
        "beir", po::value(&beir), "BEIR folder: corpus.jsonl[.gz], queries.jsonl[.gz], qrels/")(
        "split", po::value(&split)->default_value("test"), "qrels split (qrels/SPLIT.tsv)")(
        "queries", po::value(&queries_path),
        "queries from this JSONL file (_id, text) instead of the folder's (e.g. a typo'd copy "
        "written by bench/typo_queries.py)")("typos", po::value(&typos)->default_value(typos),
                                             "typo tolerance (1) or the exact words only (0)")(
        "threads", po::value(&threads)->default_value(threads),
        "indexing threads")("keep-index", po::value(&keep), "build the index here and keep it")(
        "index", po::value(&reuse),
        "search this index (built by --keep-index with the same collection) instead of building "
        "one")("passes", po::value(&passes)->default_value(passes),
               "run the queries this many times (the cost per search is of all of them)")(
        "k1", po::value(&options.k1)->default_value(options.k1),
        "BM25 k1")("b", po::value(&options.b)->default_value(options.b), "BM25 b")(
        "exact-weight", po::value(&options.exact_weight)->default_value(options.exact_weight),
        "weight of the unstemmed word beside its stem")(
        "proximity-weight",
        po::value(&options.proximity_weight)->default_value(options.proximity_weight),
        "weight of two query words found next to each other")(
        "proximity-window",
        po::value(&options.proximity_window)->default_value(options.proximity_window),
        "matches in text order that proximity re-ranks")(
        "prf-docs", po::value(&options.prf_docs)->default_value(options.prf_docs),
        "pseudo-relevance feedback from this many first matches (0: off)")(
        "prf-terms", po::value(&options.prf_terms)->default_value(options.prf_terms),
        "expansion words added")("prf-weight",
                                 po::value(&options.prf_weight)->default_value(options.prf_weight),
                                 "weight of the expansion words")(
        "title-weight", po::value(&build.title_weight)->default_value(build.title_weight),
        "wdf of a title word")(
        "random-views", po::value(&random_views),
        "also rank with random page views (heavy-tailed, from this seed) and compare")(
        "popularity-weight", po::value(&options.ranking.popularity_weight)
                                 ->default_value(options.ranking.popularity_weight))(
        "region-weight",
        po::value(&options.ranking.region_weight)->default_value(options.ranking.region_weight))(
        "saturation",
        po::value(&options.ranking.saturation)->default_value(options.ranking.saturation));
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search eval: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help") || beir.empty()) {
        std::cout << "usage: mixi-search eval --beir DIR [options]\n\n" << opts;
        return beir.empty() && !vm.count("help") ? exit_usage : exit_ok;
    }
    const fs::path corpus = plain_or_gz(fs::path(beir) / "corpus.jsonl");
    const fs::path queries_file = queries_path.empty()
                                      ? plain_or_gz(fs::path(beir) / "queries.jsonl")
                                      : fs::path(queries_path);
    const fs::path qrels_file = fs::path(beir) / "qrels" / (split + ".tsv");
    if (corpus.empty() || queries_file.empty() || !fs::exists(qrels_file)) {
        std::cerr << "mixi-search eval: " << beir
                  << " needs corpus.jsonl[.gz], queries.jsonl[.gz] and qrels/" << split << ".tsv\n";
        return exit_error;
    }

    // Judgments: query-id <TAB> corpus-id <TAB> score, with a header line.
    std::map<std::string, query::Judgments> qrels;
    for_each_line(qrels_file, [&](std::string& line) {
        std::istringstream in(line);
        std::string qid, docid;
        int score = 0;
        if (in >> qid >> docid >> score)
            qrels[qid][docid] = score;
    });
    std::map<std::string, std::string> queries;
    read_jsonl(queries_file, [&](const json::object& o) {
        const std::string id = field(o, "_id");
        if (qrels.contains(id))
            queries[id] = field(o, "text");
    });

    std::vector<indexer::Record> records;
    std::vector<std::string> ids;
    const std::size_t bad = read_jsonl(corpus, [&](const json::object& o) {
        indexer::Record r;
        r.id = field(o, "_id");
        r.title = field(o, "title");
        r.body = field(o, "text");
        r.lang = "en";
        r.visibility = "public"; // a public test collection
        ids.push_back(r.id);
        records.push_back(std::move(r));
    });
    const std::size_t corpus_size = records.size();

    TempDir dir;
    double indexing_seconds = 0;
    if (!reuse.empty()) {
        dir.path = reuse;
        dir.keep = true;
    } else {
        if (!keep.empty()) {
            dir.path = keep;
            dir.keep = true;
        } else {
            char tmpl[] = "/tmp/mixi-eval-XXXXXX";
            if (!::mkdtemp(tmpl)) {
                std::cerr << "mixi-search eval: cannot create a temporary directory\n";
                return exit_error;
            }
            dir.path = tmpl;
        }
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
        indexer::IndexOptions index_options;
        index_options.threads = threads;
        index_options.build = build;
        auto built = indexer::build_index(dir.path, std::move(sources), index_options);
        if (!built) {
            std::cerr << "mixi-search eval: " << built.error().message << "\n";
            return exit_error;
        }
        indexing_seconds = built->seconds;
    }
    auto searcher = query::Searcher::open(dir.path, options);
    if (!searcher) {
        std::cerr << "mixi-search eval: " << searcher.error().message << "\n";
        return exit_error;
    }

    struct Scores {
        double ndcg = 0, recall = 0, mrr = 0, p1 = 0, ndcg3 = 0;
        std::size_t n = 0;
        double ms_per_search = 0;     ///< wall time of searching alone, per search
        double cpu_ms_per_search = 0; ///< CPU time of this thread searching, per search
    };
    auto evaluate = [&](const PopularitySnapshot& popularity) {
        Scores s;
        std::chrono::steady_clock::duration searching{};
        double cpu_ms = 0;
        std::size_t searches = 0;
        for (const auto& [qid, judged] : qrels) {
            auto q = queries.find(qid);
            if (q == queries.end())
                continue;
            query::SearchRequest req;
            req.q = q->second;
            req.lang = "en";
            req.per_page = 100;
            req.facets = req.spelling = req.snippets = false;
            req.typos = typos;
            req.popularity = popularity;
            req.region = "JP";
            const auto start = std::chrono::steady_clock::now();
            const double cpu_start = thread_cpu_ms();
            auto result = searcher->search(req);
            for (unsigned pass = 1; pass < passes; ++pass)
                result = searcher->search(req);
            cpu_ms += thread_cpu_ms() - cpu_start;
            searching += std::chrono::steady_clock::now() - start;
            searches += std::max(passes, 1u);
            std::vector<std::string> ranked;
            if (result)
                for (const auto& h : result->hits)
                    ranked.push_back(h.id);
            s.ndcg += query::ndcg_at(ranked, judged, 10);
            s.recall += query::recall_at(ranked, judged, 100);
            s.mrr += query::mrr_at(ranked, judged, 10);
            s.ndcg3 += query::ndcg_at(ranked, judged, 3);
            if (!ranked.empty()) {
                auto j = judged.find(ranked.front());
                s.p1 += j != judged.end() && j->second > 0;
            }
            ++s.n;
        }
        if (s.n) {
            s.ndcg /= s.n;
            s.recall /= s.n;
            s.mrr /= s.n;
            s.ndcg3 /= s.n;
            s.p1 /= s.n;
        }
        if (searches) {
            s.ms_per_search =
                std::chrono::duration<double, std::milli>(searching).count() / searches;
            s.cpu_ms_per_search = cpu_ms / searches;
        }
        return s;
    };
    const Scores text = evaluate(nullptr);
    const std::size_t n = text.n;
    const double ndcg = text.ndcg, recall = text.recall, mrr = text.mrr;
    std::cout << "collection:  " << beir << " (" << corpus_size << " documents"
              << (bad ? ", " + std::to_string(bad) + " unreadable lines" : "") << ", " << n << " "
              << split << " queries)\n"
              << "indexing:    "
              << (reuse.empty() ? std::to_string(indexing_seconds) + " s" : "reused " + reuse)
              << "\n"
              << "nDCG@10:     " << ndcg << "\n"
              << "Recall@100:  " << recall << "\n"
              << "MRR@10:      " << mrr << "\n"
              << "P@1:         " << text.p1 << "\n"
              << "nDCG@3:      " << text.ndcg3 << "\n"
              << "per search:  " << text.ms_per_search << " ms, CPU " << text.cpu_ms_per_search
              << " ms (" << passes << " pass" << (passes == 1 ? "" : "es")
              << ", 100 hits, no snippets)\n";
    if (random_views >= 0) {
        // Views unrelated to relevance: a Pareto tail (most documents a few views, a few very
        // many) spread over five regions. Relevance should barely move.
        std::mt19937_64 rng(static_cast<std::uint64_t>(random_views));
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const char* regions[] = {"JP", "US", "GB", "DE", "ZZ"};
        auto popularity = std::make_shared<Popularity>();
        for (const auto& id : ids) {
            const double views = std::floor(std::pow(1 - unit(rng), -1 / 1.1)) - 1;
            if (views > 0)
                popularity->add(id, regions[rng() % 5], views);
        }
        const Scores with = evaluate(popularity);
        const auto& r = options.ranking;
        std::cout << "with random views (seed " << random_views << "; popularity_weight "
                  << r.popularity_weight << ", region_weight " << r.region_weight << ", saturation "
                  << r.saturation << ", searcher in JP):\n"
                  << "nDCG@10:     " << with.ndcg << " (" << std::showpos
                  << 100 * (with.ndcg - ndcg) / ndcg << "%)\n"
                  << std::noshowpos << "Recall@100:  " << with.recall << "\n"
                  << "MRR@10:      " << with.mrr << "\n";
    }
    return exit_ok;
}

} // namespace mixi::cli
