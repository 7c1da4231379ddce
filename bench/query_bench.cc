// Query latency on BEIR SciFact (5,183 abstracts, the 300 test queries), our Searcher side by
// side with bare Xapian on the same database.
//
//   mixi/snippets        Searcher::search, top 10, snippets on, facets off (spelling on, as the
//                        SearchRequest default)
//   mixi/facets          the same with facets on (the matcher must then visit every match)
//   mixi/snippets_nospell  snippets on, facets and spelling off
//   mixi/core            snippets, facets and spelling off: parse + match + stored data only
//   mixi/suggest         Searcher::suggest of the query's longest word less its last two letters
//                        (as-you-type: completions and titles; typo tolerance on)
//   mixi/snippets_notypos  mixi/snippets with typo tolerance off (SearchRequest::typos; on in
//                        every other mixi/ benchmark, as the default)
//   mixi/snippets_noproximity  mixi/snippets with proximity off (SearchOptions::
//                        proximity_weight 0; on in every other mixi/ benchmark, as the default)
//   mixi/snippets_plain  mixi/snippets with both typo tolerance and proximity off
//   synonyms/none        mixi/snippets on a copy of the index without synonyms, beside:
//   synonyms/unrelated_1000  the same copy with 1,000 groups of 3 words no query has
//   synonyms/every_word  the same copy where every word of every query has one synonym, a
//                        word of the index near it in term order (so it has postings to read)
//   xapian/bare          Xapian::QueryParser (english, STEM_SOME, default OR) + Enquire with
//                        BM25Weight (same k1, b), top 10, reading each hit's document data
//   xapian/bare_stop     the same with a SimpleStopper holding our English stop words (our
//                        parser drops stop words, a bare QueryParser does not)
//   snippet/mixi         make_snippet alone (240 bytes, as the server makes them) on the body of
//                        each of bare Xapian's top 10 for every query: time per snippet
//   snippet/xapian       Xapian::MSet::snippet (the reference: english stemmer, 240 bytes,
//                        SNIPPET_EXHAUSTIVE) on the same bodies with the same MSets
//   snippet/site_cjk     make_snippet (240 bytes) of the visible text of every Japanese and
//                        Chinese page in the repository's data/site for each of a few Japanese
//                        queries (no SciFact needed): time per snippet
//
// Every benchmark runs each query REPS times (env MIXI_BENCH_REPS, default 5) after one
// untimed warm-up pass; Google Benchmark's time is the mean per query. Each query is also timed
// on its own: the median of its REPS runs is its latency, and p50 / p99 / max over the 300
// queries are set as counters and printed in a table at the end. MIXI_BENCH_WARMUP=0 skips the
// warm-up: with MIXI_BENCH_REPS=1 each query is then searched once by a new searcher, whose
// caches (term frequencies, spelling suggestions, prefixes) hold only what earlier queries put
// there, as for a site's first searches after a reindex.
//
// Env: MIXI_SCIFACT (default $MIXI_BENCH_DATA/beir/scifact), MIXI_BENCH_INDEX (default
// /tmp/mixi-bench-scifact; built with mixi::indexer::build_index when it has no index; delete
// it to rebuild after changing the indexer), MIXI_BENCH_REPS, MIXI_BENCH_QUERIES (a JSONL file
// of _id and text, e.g. bench/typo_queries.py's typo'd copy: the test queries' texts by id).
#include "bench/scifact.h"
#include "common/index_layout.h"
#include "common/stored_data.h"
#include "common/text_lines.h"
#include "indexer/index_writer.h"
#include "indexer/sources.h"
#include "indexer/synonyms.h"
#include "query/query_parser.h"
#include "query/searcher.h"
#include "query/snippet.h"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <xapian.h>

#ifndef MIXI_SOURCE_DIR
#error "MIXI_SOURCE_DIR must be defined (the repository root)"
#endif

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

using mixi::bench::Query;

struct Env {
    std::string error; ///< set when the benchmarks cannot run
    fs::path index_dir, db_path;
    std::vector<Query> queries;
    std::uint64_t documents = 0;
    double build_seconds = -1; ///< -1 when the index was already there
};

Env load_env() {
    Env env;
    const fs::path beir = mixi::bench::scifact_dir();
    env.index_dir = env_or("MIXI_BENCH_INDEX", "/tmp/mixi-bench-scifact");
    const fs::path corpus = mixi::plain_or_gz(beir / "corpus.jsonl");
    const fs::path queries = mixi::plain_or_gz(beir / "queries.jsonl");
    const fs::path qrels = beir / "qrels" / "test.tsv";
    if (beir.empty()) {
        env.error = std::string("SciFact not found: ") + mixi::bench::data_hint;
        return env;
    }
    if (corpus.empty() || queries.empty() || !fs::exists(qrels)) {
        env.error = "SciFact not found at " + beir.string() +
                    " (needs corpus.jsonl[.gz], queries.jsonl[.gz], qrels/test.tsv; " +
                    mixi::bench::data_hint + ")";
        return env;
    }

    env.queries = mixi::bench::scifact_test_queries(beir);
    if (env.queries.empty()) {
        env.error = "no test queries read from " + queries.string();
        return env;
    }
    if (const std::string other = env_or("MIXI_BENCH_QUERIES", ""); !other.empty()) {
        std::map<std::string, std::string> texts;
        mixi::for_each_line(other, [&](const std::string& line) {
            boost::system::error_code ec;
            const json::value v = json::parse(line, ec);
            if (!ec && v.is_object())
                texts[mixi::bench::json_text(v.get_object(), "_id")] =
                    mixi::bench::json_text(v.get_object(), "text");
        });
        for (Query& q : env.queries)
            if (auto it = texts.find(q.id); it != texts.end())
                q.text = it->second;
    }

    // Build the index unless a usable one is there.
    bool have_index = false;
    if (auto s = mixi::query::Searcher::open(env.index_dir); s && s->document_count() > 0)
        have_index = true;
    if (!have_index) {
        auto records = mixi::bench::scifact_records(beir);
        std::fprintf(stderr, "query_bench: indexing %zu SciFact documents into %s ...\n",
                     records.size(), env.index_dir.c_str());
        std::vector<std::unique_ptr<mixi::indexer::Source>> sources;
        sources.push_back(std::make_unique<mixi::indexer::RecordsSource>(std::move(records)));
        mixi::indexer::IndexOptions options;
        options.threads = 2;
        auto built = mixi::indexer::build_index(env.index_dir, std::move(sources), options);
        if (!built) {
            env.error = "indexing failed: " + built.error().message;
            return env;
        }
        env.build_seconds = built->seconds;
        std::fprintf(stderr, "query_bench: indexed %llu documents in %.2f s\n",
                     static_cast<unsigned long long>(built->documents), built->seconds);
    }
    env.db_path = mixi::layout::resolve_database(env.index_dir);
    if (env.db_path.empty()) {
        env.error = "no database in " + env.index_dir.string();
        return env;
    }
    try {
        env.documents = Xapian::Database(env.db_path.string()).get_doccount();
    } catch (const Xapian::Error& e) {
        env.error = "cannot open " + env.db_path.string() + ": " + e.get_description();
    }
    return env;
}

const Env& env() {
    static const Env e = load_env();
    return e;
}

unsigned reps() {
    const int n = std::atoi(env_or("MIXI_BENCH_REPS", "5").c_str());
    return n > 0 ? static_cast<unsigned>(n) : 5;
}

// ---------------------------------------------------------------------------------- runners

/// Runs one query; returns the number of hits (so the work cannot be optimised away).
using Runner = std::function<std::size_t(const std::string&)>;

Runner mixi_runner(const Env& e, bool snippets, bool facets, bool spelling, std::string& error,
                   bool typos = true, bool proximity = true, const fs::path& index = {}) {
    mixi::query::SearchOptions options;
    if (!proximity)
        options.proximity_weight = 0;
    auto opened = mixi::query::Searcher::open(index.empty() ? e.index_dir : index, options);
    if (!opened) {
        error = opened.error().message;
        return {};
    }
    auto searcher = std::make_shared<mixi::query::Searcher>(std::move(*opened));
    return [searcher, snippets, facets, spelling, typos](const std::string& q) -> std::size_t {
        mixi::query::SearchRequest req;
        req.q = q;
        req.per_page = 10;
        req.lang = "en";
        req.snippets = snippets;
        req.facets = facets;
        req.spelling = spelling;
        req.typos = typos;
        auto r = searcher->search(req);
        if (!r)
            return 0;
        std::size_t n = r->hits.size();
        for (const auto& h : r->hits)
            n += h.snippet.size() > 0;
        return n;
    };
}

/// Which synonyms a copy of the benchmark index gets.
enum class SynonymSet { none, unrelated, every_word };

/// The synonym set `which` for the queries of `e`: 1,000 groups of words no query has, or one
/// synonym for every word of every query (the unprefixed term of the index 7 places after it in
/// term order, so that it has postings).
mixi::indexer::SynonymSet synonym_set(const Env& e, SynonymSet which) {
    mixi::indexer::SynonymSet set;
    if (which == SynonymSet::unrelated) {
        for (int i = 0; i < 1000; ++i) {
            const std::string n = std::to_string(i);
            const std::vector<std::string> group = {"zqxa" + n, "zqxb" + n, "zqxc" + n};
            for (const auto& a : group)
                for (const auto& b : group)
                    if (a != b)
                        set[a].insert(b);
        }
        return set;
    }
    if (which == SynonymSet::none)
        return set;
    Xapian::Database db(e.db_path.string());
    std::vector<std::string> words;
    for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
        const std::string term = *t;
        if (!term.empty() && std::islower(static_cast<unsigned char>(term[0])))
            words.push_back(term);
    }
    mixi::analyzers::Analyzer analyzer;
    for (const Query& q : e.queries)
        for (const auto& token : analyzer.tokenize(q.text)) {
            const auto at = std::lower_bound(words.begin(), words.end(), token.term);
            const std::size_t i = static_cast<std::size_t>(at - words.begin());
            set[token.term].insert(words[(i + 7) % words.size()]);
        }
    return set;
}

/// A copy of the benchmark index with the synonyms `which`, made once per run.
fs::path synonym_index(const Env& e, SynonymSet which, std::string& error) {
    const char* names[] = {"none", "unrelated", "every"};
    const fs::path dir = e.index_dir.string() + "-synonyms-" + names[static_cast<int>(which)];
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    fs::copy(e.db_path, dir / "db", fs::copy_options::recursive, ec);
    if (ec) {
        error = "cannot copy " + e.db_path.string() + ": " + ec.message();
        return {};
    }
    try {
        Xapian::WritableDatabase db((dir / "db").string(), Xapian::DB_OPEN);
        mixi::indexer::write_synonyms(db, synonym_set(e, which));
        db.commit();
    } catch (const Xapian::Error& x) {
        error = x.get_description();
        return {};
    }
    return dir / "db";
}

/// As-you-type: Searcher::suggest (completions and the titles of a prefix search) of the
/// query's longest word without its last two letters: a word being typed, which holds the
/// slip of a typo'd query (MIXI_BENCH_QUERIES) wherever the slip is not in those two letters.
Runner suggest_runner(const Env& e, std::string& error) {
    auto opened = mixi::query::Searcher::open(e.index_dir);
    if (!opened) {
        error = opened.error().message;
        return {};
    }
    auto searcher = std::make_shared<mixi::query::Searcher>(std::move(*opened));
    return [searcher](const std::string& q) -> std::size_t {
        std::string longest, word;
        for (char c : q + " ") {
            if (std::isalpha(static_cast<unsigned char>(c))) {
                word += c;
            } else {
                if (word.size() > longest.size())
                    longest = word;
                word.clear();
            }
        }
        mixi::query::SuggestRequest req;
        req.q = longest.size() > 5 ? longest.substr(0, longest.size() - 2) : longest;
        req.limit = 5;
        req.lang = "en";
        auto r = searcher->suggest(req);
        return r ? r->completions.size() + r->titles.size() : 0;
    };
}

std::vector<std::string> english_stopwords() {
    std::vector<std::string> out;
    std::ifstream in(fs::path(MIXI_SOURCE_DIR) / "analyzers/stopwords/en.txt");
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (!line.empty() && line[0] != '#')
            out.push_back(line);
    }
    return out;
}

/// Xapian's own QueryParser as the bare benchmarks use it: english, STEM_SOME, default OR.
Xapian::QueryParser bare_parser(const Xapian::Database& db) {
    Xapian::QueryParser qp;
    qp.set_database(db);
    qp.set_stemmer(Xapian::Stem("english"));
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_default_op(Xapian::Query::OP_OR);
    return qp;
}

struct Bare {
    Xapian::Database db;
    Xapian::QueryParser qp;
    Xapian::SimpleStopper stopper;
    std::size_t parse_errors = 0;
};

Runner bare_runner(const Env& e, bool stop, std::string& error) {
    auto b = std::make_shared<Bare>();
    try {
        b->db = Xapian::Database(e.db_path.string());
    } catch (const Xapian::Error& x) {
        error = x.get_description();
        return {};
    }
    b->qp = bare_parser(b->db);
    if (stop) {
        for (const auto& w : english_stopwords())
            b->stopper.add(w);
        b->qp.set_stopper(&b->stopper);
    }
    return [b](const std::string& q) -> std::size_t {
        Xapian::Query query;
        try {
            query = b->qp.parse_query(q);
        } catch (const Xapian::QueryParserError&) {
            ++b->parse_errors;
            query = b->qp.parse_query(q, 0);
        }
        Xapian::Enquire enquire(b->db);
        enquire.set_query(query);
        enquire.set_weighting_scheme(Xapian::BM25Weight(0.9, 0, 1, 0.4, 0.5));
        const Xapian::MSet mset = enquire.get_mset(0, 10);
        std::size_t n = 0;
        for (auto m = mset.begin(); m != mset.end(); ++m)
            n += !m.get_document().get_data().empty();
        return n;
    };
}

// ------------------------------------------------------------------------------- benchmark

struct Summary {
    std::string name;
    double mean_us = 0, p50_us = 0, p99_us = 0, max_us = 0, hits = 0;
};
std::vector<Summary> summaries;

double percentile(std::vector<double> v, double p) { // nearest rank
    std::sort(v.begin(), v.end());
    const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size()));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void run_latency(benchmark::State& state, const std::string& name,
                 const std::function<Runner(const Env&, std::string&)>& make) {
    const Env& e = env();
    if (!e.error.empty()) {
        state.SkipWithError(e.error.c_str());
        return;
    }
    std::string error;
    Runner run = make(e, error);
    if (!run) {
        state.SkipWithError(error.c_str());
        return;
    }
    const std::size_t n = e.queries.size();
    std::size_t hits = 0;
    if (env_or("MIXI_BENCH_WARMUP", "1") != "0")
        for (const Query& q : e.queries) // warm-up: page cache, lazily opened tables, stemmers
            hits += run(q.text);

    std::vector<std::vector<double>> times(n);
    std::size_t i = 0;
    hits = 0;
    for (auto _ : state) {
        const Query& q = e.queries[i % n];
        const auto t0 = Clock::now();
        hits += run(q.text);
        const auto t1 = Clock::now();
        times[i % n].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        ++i;
    }

    std::vector<double> per_query; // median of each query's runs
    double total = 0;
    std::size_t count = 0;
    for (auto& t : times) {
        if (t.empty())
            continue;
        for (double x : t)
            total += x;
        count += t.size();
        per_query.push_back(percentile(t, 50));
    }
    if (per_query.empty())
        return;
    Summary s;
    s.name = name;
    s.mean_us = total / static_cast<double>(count);
    s.p50_us = percentile(per_query, 50);
    s.p99_us = percentile(per_query, 99);
    s.max_us = *std::max_element(per_query.begin(), per_query.end());
    s.hits = static_cast<double>(hits) / static_cast<double>(i);
    state.counters["queries"] = static_cast<double>(per_query.size());
    state.counters["mean_us"] = s.mean_us;
    state.counters["p50_us"] = s.p50_us;
    state.counters["p99_us"] = s.p99_us;
    state.counters["max_us"] = s.max_us;
    state.counters["qps"] = benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
    std::erase_if(summaries, [&](const Summary& x) { return x.name == name; });
    summaries.push_back(s);
}

// ---------------------------------------------------------------------------- snippets

/// Every query with bare Xapian's top 10 and their bodies, and our parse of the query (for
/// the words to mark): the input of both snippet benchmarks.
struct SnippetCase {
    Xapian::MSet mset;
    std::vector<std::string> bodies;
    mixi::query::ParsedQuery parsed;
};

std::vector<SnippetCase> snippet_cases(const Env& e, mixi::analyzers::Analyzer& analyzer,
                                       std::string& error) {
    std::vector<SnippetCase> cases;
    try {
        Xapian::Database db(e.db_path.string());
        Xapian::QueryParser qp = bare_parser(db);
        mixi::schema::StoredDictionaries dictionaries;
        dictionaries.add(db.get_metadata(mixi::schema::stored_dictionary_key));
        mixi::query::ParseOptions po;
        po.lang = "en";
        for (const Query& q : e.queries) {
            auto parsed = mixi::query::parse_query(q.text, analyzer, po);
            if (!parsed)
                continue;
            SnippetCase c;
            c.parsed = std::move(*parsed);
            Xapian::Enquire enquire(db);
            enquire.set_query(qp.parse_query(q.text, 0));
            c.mset = enquire.get_mset(0, 10);
            for (auto m = c.mset.begin(); m != c.mset.end(); ++m) {
                boost::system::error_code ec;
                const json::value v = json::parse(
                    mixi::schema::unpack_stored(m.get_document().get_data(), &dictionaries), ec);
                if (!ec && v.is_object())
                    c.bodies.push_back(mixi::bench::json_text(v.get_object(), "body"));
            }
            cases.push_back(std::move(c));
        }
    } catch (const Xapian::Error& x) {
        error = x.get_description();
    }
    return cases;
}

void run_snippets(benchmark::State& state, bool reference) {
    const Env& e = env();
    if (!e.error.empty()) {
        state.SkipWithError(e.error.c_str());
        return;
    }
    mixi::analyzers::Analyzer analyzer;
    std::string error;
    const std::vector<SnippetCase> cases = snippet_cases(e, analyzer, error);
    if (!error.empty() || cases.empty()) {
        state.SkipWithError(error.empty() ? "no snippet cases" : error.c_str());
        return;
    }
    const Xapian::Stem english("english");
    std::size_t snippets = 0, bytes = 0, body_bytes = 0;
    for (auto _ : state) {
        for (const SnippetCase& c : cases) {
            const mixi::query::SnippetTerms terms{&c.parsed.highlight_terms,
                                                  &c.parsed.highlight_stems, c.parsed.lang};
            for (const std::string& body : c.bodies) {
                const std::string out =
                    reference ? c.mset.snippet(body, 240, english, Xapian::MSet::SNIPPET_EXHAUSTIVE,
                                               "<mark>", "</mark>", "…")
                              : mixi::query::make_snippet(body, terms, analyzer, 240);
                bytes += out.size();
                body_bytes += body.size();
                ++snippets;
            }
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(snippets));
    state.SetBytesProcessed(static_cast<std::int64_t>(body_bytes)); // of text scanned
    state.counters["us_per_snippet"] = benchmark::Counter(
        static_cast<double>(snippets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
        benchmark::Counter::kIs1000);
    state.counters["out_bytes"] = static_cast<double>(bytes) / static_cast<double>(snippets);
}

/// The visible text of the Japanese and Chinese pages bundled in data/site, and the parses of
/// a few Japanese queries about their subjects: words that are on many pages, on few, on none,
/// and one with an English word.
void run_site_snippets(benchmark::State& state) {
    std::vector<std::string> texts;
    for (const char* lang : {"ja", "zh-cn"}) {
        const fs::path dir = fs::path(MIXI_SOURCE_DIR) / "data/site" / lang;
        if (!fs::is_directory(dir))
            continue;
        std::vector<fs::path> files;
        for (const auto& entry : fs::recursive_directory_iterator(dir))
            if (entry.path().extension() == ".html")
                files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& file : files) {
            std::ifstream in(file, std::ios::binary);
            std::stringstream html;
            html << in.rdbuf();
            texts.push_back(mixi::indexer::parse_html(html.str()).text);
        }
    }
    if (texts.empty()) {
        state.SkipWithError("no pages in data/site/ja or data/site/zh-cn");
        return;
    }
    mixi::analyzers::Analyzer analyzer;
    std::vector<mixi::query::ParsedQuery> queries;
    for (const char* q : {"パッケージ", "インストール", "設定ファイル", "カーネル", "ネットワーク",
                          "セキュリティ更新", "依存関係", "富士山", "apt パッケージ", "仮想化"}) {
        mixi::query::ParseOptions po;
        po.lang = "ja";
        if (auto parsed = mixi::query::parse_query(q, analyzer, po))
            queries.push_back(std::move(*parsed));
    }
    std::size_t snippets = 0, bytes = 0, body_bytes = 0;
    for (auto _ : state) {
        for (const mixi::query::ParsedQuery& q : queries) {
            const mixi::query::SnippetTerms terms{&q.highlight_terms, &q.highlight_stems, q.lang};
            for (const std::string& text : texts) {
                bytes += mixi::query::make_snippet(text, terms, analyzer, 240).size();
                body_bytes += text.size();
                ++snippets;
            }
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(snippets));
    state.SetBytesProcessed(static_cast<std::int64_t>(body_bytes));
    state.counters["us_per_snippet"] = benchmark::Counter(
        static_cast<double>(snippets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
        benchmark::Counter::kIs1000);
    state.counters["out_bytes"] = static_cast<double>(bytes) / static_cast<double>(snippets);
}

void register_all() {
    const Env& e = env();
    const auto iterations =
        static_cast<benchmark::IterationCount>(std::max<std::size_t>(1, e.queries.size()) * reps());
    auto add = [&](const std::string& name, std::function<Runner(const Env&, std::string&)> make) {
        benchmark::RegisterBenchmark(
            name.c_str(), [name, make](benchmark::State& st) { run_latency(st, name, make); })
            ->Iterations(iterations)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    };
    add("mixi/snippets", [](const Env& e, std::string& err) {
        return mixi_runner(e, /*snippets*/ true, /*facets*/ false, /*spelling*/ true, err);
    });
    add("xapian/bare", [](const Env& e, std::string& err) { return bare_runner(e, false, err); });
    add("mixi/facets",
        [](const Env& e, std::string& err) { return mixi_runner(e, true, true, true, err); });
    add("mixi/snippets_nospell",
        [](const Env& e, std::string& err) { return mixi_runner(e, true, false, false, err); });
    add("mixi/core",
        [](const Env& e, std::string& err) { return mixi_runner(e, false, false, false, err); });
    add("mixi/snippets_notypos", [](const Env& e, std::string& err) {
        return mixi_runner(e, true, false, true, err, /*typos*/ false);
    });
    add("mixi/snippets_noproximity", [](const Env& e, std::string& err) {
        return mixi_runner(e, true, false, true, err, /*typos*/ true, /*proximity*/ false);
    });
    add("mixi/snippets_plain", [](const Env& e, std::string& err) {
        return mixi_runner(e, true, false, true, err, /*typos*/ false, /*proximity*/ false);
    });
    add("mixi/suggest", [](const Env& e, std::string& err) { return suggest_runner(e, err); });
    for (const auto& [name, which] : {std::pair{"synonyms/none", SynonymSet::none},
                                      {"synonyms/unrelated_1000", SynonymSet::unrelated},
                                      {"synonyms/every_word", SynonymSet::every_word}})
        add(name, [which](const Env& e, std::string& err) -> Runner {
            const fs::path index = synonym_index(e, which, err);
            if (index.empty())
                return {};
            return mixi_runner(e, true, false, true, err, true, true, index);
        });
    add("xapian/bare_stop",
        [](const Env& e, std::string& err) { return bare_runner(e, true, err); });
    benchmark::RegisterBenchmark("snippet/mixi", [](benchmark::State& st) {
        run_snippets(st, false);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("snippet/xapian", [](benchmark::State& st) {
        run_snippets(st, true);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("snippet/site_cjk", run_site_snippets)
        ->Unit(benchmark::kMillisecond);
}

void print_summary() {
    if (summaries.empty())
        return;
    const Env& e = env();
    double bare = 0;
    for (const auto& s : summaries)
        if (s.name == "xapian/bare")
            bare = s.p50_us;
    std::printf("\nSciFact: %zu test queries, %llu documents, database %s, %u runs per query\n",
                e.queries.size(), static_cast<unsigned long long>(e.documents), e.db_path.c_str(),
                reps());
    std::printf("%-24s %10s %10s %10s %10s %12s\n", "latency (us)", "mean", "p50", "p99", "max",
                "p50/bare");
    for (const auto& s : summaries) {
        std::printf("%-24s %10.1f %10.1f %10.1f %10.1f", s.name.c_str(), s.mean_us, s.p50_us,
                    s.p99_us, s.max_us);
        if (bare > 0)
            std::printf(" %11.2fx", s.p50_us / bare);
        std::printf("\n");
    }
}

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    print_summary();
    return 0;
}
