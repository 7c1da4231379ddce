// `mixi-search eval --beir DIR`: index a BEIR collection in a temporary directory and measure
// ranking on its test queries.
#include "cli/commands.h"
#include "common/text_lines.h"
#include "indexer/index_writer.h"
#include "query/metrics.h"
#include "query/searcher.h"

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
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
    std::string beir, split, keep;
    unsigned threads = 1;
    query::SearchOptions options;
    indexer::BuildOptions build;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help")(
        "beir", po::value(&beir), "BEIR folder: corpus.jsonl[.gz], queries.jsonl[.gz], qrels/")(
        "split", po::value(&split)->default_value("test"), "qrels split (qrels/SPLIT.tsv)")(
        "threads", po::value(&threads)->default_value(threads),
        "indexing threads")("keep-index", po::value(&keep), "build the index here and keep it")(
        "k1", po::value(&options.k1)->default_value(options.k1),
        "BM25 k1")("b", po::value(&options.b)->default_value(options.b), "BM25 b")(
        "exact-weight", po::value(&options.exact_weight)->default_value(options.exact_weight),
        "weight of the unstemmed word beside its stem")(
        "title-weight", po::value(&build.title_weight)->default_value(build.title_weight),
        "wdf of a title word");
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
    const fs::path queries_file = plain_or_gz(fs::path(beir) / "queries.jsonl");
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
    const std::size_t bad = read_jsonl(corpus, [&](const json::object& o) {
        indexer::Record r;
        r.id = field(o, "_id");
        r.title = field(o, "title");
        r.body = field(o, "text");
        r.lang = "en";
        records.push_back(std::move(r));
    });
    const std::size_t corpus_size = records.size();

    TempDir dir;
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
    auto searcher = query::Searcher::open(dir.path, options);
    if (!searcher) {
        std::cerr << "mixi-search eval: " << searcher.error().message << "\n";
        return exit_error;
    }

    double ndcg = 0, recall = 0, mrr = 0;
    std::size_t n = 0;
    for (const auto& [qid, judged] : qrels) {
        auto q = queries.find(qid);
        if (q == queries.end())
            continue;
        query::SearchRequest req;
        req.q = q->second;
        req.lang = "en";
        req.per_page = 100;
        req.facets = req.spelling = req.snippets = false;
        auto result = searcher->search(req);
        std::vector<std::string> ranked;
        if (result)
            for (const auto& h : result->hits)
                ranked.push_back(h.id);
        ndcg += query::ndcg_at(ranked, judged, 10);
        recall += query::recall_at(ranked, judged, 100);
        mrr += query::mrr_at(ranked, judged, 10);
        ++n;
    }
    if (n == 0) {
        std::cerr << "mixi-search eval: no judged query found in " << queries_file << "\n";
        return exit_error;
    }
    std::cout << "collection:  " << beir << " (" << corpus_size << " documents"
              << (bad ? ", " + std::to_string(bad) + " unreadable lines" : "") << ", " << n << " "
              << split << " queries)\n"
              << "indexing:    " << built->seconds << " s\n"
              << "nDCG@10:     " << ndcg / n << "\n"
              << "Recall@100:  " << recall / n << "\n"
              << "MRR@10:      " << mrr / n << "\n";
    return exit_ok;
}

} // namespace mixi::cli
