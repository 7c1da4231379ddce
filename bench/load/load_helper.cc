// Helper for bench/load.sh. Two jobs:
//
//   load_helper queries --scifact DIR --msmarco FILE --msmarco-count N --raw OUT --paths OUT
//       Writes the query list: the SciFact test queries (ids in qrels/test.tsv, in the order of
//       queries.jsonl) and then the first N queries of an MS MARCO topics file (qid<TAB>query,
//       plain or gzip). OUT of --raw gets one query per line as text; OUT of --paths gets one
//       request target per line, "/v1/search?q=<URL-encoded query>", for the wrk Lua script.
//
//   load_helper rate --index DIR --queries RAW [--seconds S] [--mode bare|mixi]
//                    [--facets 0|1] [--spelling 0|1] [--snippets 0|1]
//       Runs the queries of RAW round-robin in this process, on one thread, for S seconds
//       (default 5) after one untimed warm-up pass, and prints one line:
//         RESULT mode=bare queries=600 runs=N seconds=S qps=X p50_us=Y p99_us=Z mean_us=W cpu_us=C
//       (cpu_us: CPU time of the process per query, which other load on the machine disturbs
//       less than wall time)
//       bare: Xapian::QueryParser (english stemmer, STEM_SOME, default OR) + Enquire with
//             BM25Weight(k1, 0, 1, b, 0.5) where k1 and b are mixi::query::SearchOptions'
//             defaults (the server's defaults too), top 10, reading each hit's document data.
//             The same as query_bench's xapian/bare, with the server's k1 and b.
//       mixi: Searcher::search with the SearchRequest that GET /v1/search?q=... builds (only q
//             set; the other fields keep SearchRequest's defaults, language detected) and the
//             JSON serialisation of the result: the library part of one HTTP search, without
//             HTTP. Keep it in step with get_search in server/handlers.cc.
//             --facets 0|1, --spelling 0|1, --snippets 0|1 override SearchRequest's defaults
//             (to see what each part costs).
#include "common/index_layout.h"
#include "common/text_lines.h"
#include "query/result_json.h"
#include "query/searcher.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <xapian.h>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "load_helper: %s\n", message.c_str());
    std::exit(1);
}

/// Control characters become spaces; leading and trailing spaces go.
std::string clean(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
    const auto b = s.find_first_not_of(' ');
    if (b == std::string::npos)
        return {};
    return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

/// Percent-encodes everything but unreserved characters (Boost.URL).
inline std::string url_encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars);
}

std::map<std::string, std::string> parse_flags(int argc, char** argv, int first) {
    std::map<std::string, std::string> flags;
    for (int i = first; i < argc; ++i) {
        std::string key = argv[i];
        if (!key.starts_with("--") || i + 1 >= argc)
            die("expected --flag VALUE, got \"" + key + "\"");
        flags[key.substr(2)] = argv[++i];
    }
    return flags;
}

std::string need(const std::map<std::string, std::string>& flags, const std::string& key) {
    auto it = flags.find(key);
    if (it == flags.end() || it->second.empty())
        die("--" + key + " is required");
    return it->second;
}

int write_queries(const std::map<std::string, std::string>& flags) {
    const fs::path scifact = need(flags, "scifact");
    const fs::path msmarco = flags.contains("msmarco") ? flags.at("msmarco") : "";
    const long msmarco_count =
        flags.contains("msmarco-count") ? std::atol(flags.at("msmarco-count").c_str()) : 0;
    const fs::path queries = mixi::plain_or_gz(scifact / "queries.jsonl");
    const fs::path qrels = scifact / "qrels" / "test.tsv";
    if (queries.empty() || !fs::exists(qrels))
        die("SciFact queries.jsonl[.gz] or qrels/test.tsv not found in " + scifact.string());

    std::set<std::string> test_ids;
    mixi::for_each_line(qrels, [&](const std::string& line) {
        std::istringstream in(line);
        std::string qid;
        if (in >> qid && qid != "query-id")
            test_ids.insert(qid);
    });
    std::vector<std::string> list;
    std::size_t scifact_count = 0;
    mixi::for_each_line(queries, [&](const std::string& line) {
        boost::system::error_code ec;
        json::value v = json::parse(line, ec);
        if (ec || !v.is_object())
            return;
        const json::object& o = v.get_object();
        const json::value* id = o.if_contains("_id");
        const json::value* text = o.if_contains("text");
        if (!id || !id->is_string() || !text || !text->is_string())
            return;
        if (!test_ids.contains(std::string(id->get_string())))
            return;
        std::string q = clean(std::string(text->get_string()));
        if (!q.empty()) {
            list.push_back(std::move(q));
            ++scifact_count;
        }
    });
    std::size_t msmarco_taken = 0;
    if (!msmarco.empty() && msmarco_count > 0) {
        if (!mixi::for_each_line(msmarco, [&](const std::string& line) {
                if (msmarco_taken >= static_cast<std::size_t>(msmarco_count))
                    return;
                const auto tab = line.find('\t');
                std::string q = clean(tab == std::string::npos ? line : line.substr(tab + 1));
                if (!q.empty()) {
                    list.push_back(std::move(q));
                    ++msmarco_taken;
                }
            }))
            die("cannot read " + msmarco.string());
    }
    if (scifact_count == 0)
        die("no SciFact test queries read from " + queries.string());

    std::ofstream raw(need(flags, "raw")), paths(need(flags, "paths"));
    for (const auto& q : list) {
        raw << q << '\n';
        paths << "/v1/search?q=" << url_encode(q) << '\n';
    }
    if (!raw || !paths)
        die("cannot write the query files");
    std::printf("queries: %zu SciFact test + %zu MS MARCO = %zu\n", scifact_count, msmarco_taken,
                list.size());
    return 0;
}

/// CPU time of this process (user + system), in seconds.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double percentile(std::vector<double> v, double p) { // nearest rank
    std::sort(v.begin(), v.end());
    const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size()));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

int measure_rate(const std::map<std::string, std::string>& flags) {
    const fs::path index = need(flags, "index");
    const double seconds = flags.contains("seconds") ? std::atof(flags.at("seconds").c_str()) : 5.0;
    const std::string mode = flags.contains("mode") ? flags.at("mode") : "bare";
    std::vector<std::string> queries;
    mixi::for_each_line(need(flags, "queries"), [&](const std::string& line) {
        if (!line.empty())
            queries.push_back(line);
    });
    if (queries.empty())
        die("no queries in " + need(flags, "queries"));

    std::function<std::size_t(const std::string&)> run;
    if (mode == "bare") {
        const fs::path db_path = mixi::layout::resolve_database(index);
        if (db_path.empty())
            die("no database in " + index.string());
        const mixi::query::SearchOptions options; // the server's default k1 and b
        struct Bare {
            Xapian::Database db;
            Xapian::QueryParser qp;
        };
        auto b = std::make_shared<Bare>();
        try {
            b->db = Xapian::Database(db_path.string());
        } catch (const Xapian::Error& e) {
            die(e.get_description());
        }
        b->qp.set_database(b->db);
        b->qp.set_stemmer(Xapian::Stem("english"));
        b->qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        b->qp.set_default_op(Xapian::Query::OP_OR);
        run = [b, k1 = options.k1, bb = options.b](const std::string& q) -> std::size_t {
            Xapian::Query query;
            try {
                query = b->qp.parse_query(q);
            } catch (const Xapian::QueryParserError&) {
                query = b->qp.parse_query(q, 0);
            }
            Xapian::Enquire enquire(b->db);
            enquire.set_query(query);
            enquire.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 1, bb, 0.5));
            const Xapian::MSet mset = enquire.get_mset(0, 10);
            std::size_t n = 0;
            for (auto m = mset.begin(); m != mset.end(); ++m)
                n += !m.get_document().get_data().empty();
            return n;
        };
    } else if (mode == "mixi") {
        auto opened = mixi::query::Searcher::open(index);
        if (!opened)
            die(opened.error().message);
        auto searcher = std::make_shared<mixi::query::Searcher>(std::move(*opened));
        // Unset flags keep SearchRequest's defaults, which is what GET /v1/search?q= uses.
        auto flag = [&](const char* name) -> std::optional<bool> {
            if (!flags.contains(name))
                return std::nullopt;
            return flags.at(name) != "0";
        };
        const auto facets = flag("facets"), spelling = flag("spelling"),
                   snippets = flag("snippets");
        run = [searcher, facets, spelling, snippets](const std::string& q) -> std::size_t {
            mixi::query::SearchRequest req; // as get_search builds it from ?q= alone
            req.q = q;
            req.facets = facets.value_or(req.facets);
            req.spelling = spelling.value_or(req.spelling);
            req.snippets = snippets.value_or(req.snippets);
            auto r = searcher->search(req);
            if (!r)
                return 0;
            return json::serialize(mixi::query::to_json(*r)).size();
        };
    } else {
        die("--mode must be bare or mixi");
    }

    std::size_t sink = 0;
    for (const auto& q : queries) // warm-up: page cache, lazily opened tables, stemmers
        sink += run(q);

    std::vector<double> times;
    times.reserve(1 << 16);
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    const auto stop = start + std::chrono::duration<double>(seconds);
    auto t0 = start;
    for (std::size_t i = 0; t0 < stop; ++i) {
        sink += run(queries[i % queries.size()]);
        const auto t1 = Clock::now();
        times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        t0 = t1;
    }
    const double elapsed = std::chrono::duration<double>(t0 - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    double total = 0;
    for (double t : times)
        total += t;
    std::printf("RESULT mode=%s queries=%zu runs=%zu seconds=%.3f qps=%.1f p50_us=%.1f "
                "p99_us=%.1f mean_us=%.1f cpu_us=%.1f sink=%zu\n",
                mode.c_str(), queries.size(), times.size(), elapsed,
                static_cast<double>(times.size()) / elapsed, percentile(times, 50),
                percentile(times, 99), total / static_cast<double>(times.size()),
                cpu * 1e6 / static_cast<double>(times.size()), sink);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2)
        die("usage: load_helper queries|rate --flag VALUE ... (see bench/load/load_helper.cc)");
    const std::string cmd = argv[1];
    const auto flags = parse_flags(argc, argv, 2);
    if (cmd == "queries")
        return write_queries(flags);
    if (cmd == "rate")
        return measure_rate(flags);
    die("unknown command \"" + cmd + "\"");
}
