// Report latency on a year of search-term aggregates (bench/README.md, "report_bench").
//
// The aggregates are generated once into $MIXI_REPORT_DB (default
// /tmp/mixi-report-bench-v2/analytics.sqlite): the real queries of MS MARCO (document and passage
// dev topics) and MIRACL Japanese from $MIXI_BENCH_DATA/queries, drawn with a Zipf distribution
// (s = 1.1) for 365 days of about 100,000 searches a day (36 million in all), split over four
// countries, with 3% of searches finding nothing and distinct searchers at 70% of searches.
// Each benchmark then builds one report, as `mixi-search report` does, over the last 30 days
// and over the whole year, and a differentially private trends release (analytics/trends.h) as
// GET /v1/trends makes it, over the last 7 and 30 days (a new release each iteration).
//
// fold/*: SearchLog::fold on a day of 100,000 cells, 95,000 of them below the thresholds (a
// fresh database in a temporary directory each iteration), and a fold with nothing due.
#include "analytics/reports.h"
#include "analytics/search_log.h"
#include "analytics/trends.h"
#include "common/text_lines.h"

#include <benchmark/benchmark.h>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>

namespace {

namespace fs = std::filesystem;
using namespace mixi;

constexpr std::int64_t last_day = 20'000; // 2024-10-04; any fixed day will do
constexpr int days = 365;
constexpr double searches_per_day = 100'000;

fs::path database_dir() {
    const char* env = std::getenv("MIXI_REPORT_DB");
    return env ? fs::path(env) : fs::path("/tmp/mixi-report-bench-v2");
}

/// $MIXI_BENCH_DATA/queries (bench/README.md, "Data"); empty when MIXI_BENCH_DATA is not set.
fs::path queries_dir() {
    const char* env = std::getenv("MIXI_BENCH_DATA");
    return env && *env ? fs::path(env) / "queries" : fs::path();
}

std::vector<std::string> load_queries(const fs::path& root) {
    std::vector<std::string> out;
    if (root.empty())
        return out;
    for (const char* file : {"msmarco/topics.msmarco-doc.dev.txt.gz",
                             "msmarco/topics.msmarco-passage.dev-subset.txt.gz",
                             "ja/topics.miracl-v1.0-ja-dev.tsv.gz"})
        for_each_line(root / file, [&](std::string& line) {
            const auto tab = line.find('\t');
            if (tab != std::string::npos)
                out.push_back(analytics::scrub_query(line.substr(tab + 1)));
        });
    return out;
}

/// Builds the year of aggregates unless it is there already; the searches it holds.
std::int64_t ensure_database() {
    const fs::path dir = database_dir();
    if (fs::exists(dir / "analytics.sqlite")) {
        // Brings an existing database's schema up to date, as a server's start does.
        if (auto log = analytics::SearchLog::open(dir); !log) {
            std::cerr << "report_bench: " << log.error().message << "\n";
            std::exit(1);
        }
        return 0;
    }
    const fs::path root = queries_dir();
    auto queries = load_queries(root);
    std::erase_if(queries, [](const std::string& q) { return q.empty(); });
    if (queries.empty()) {
        std::cerr << "report_bench: no queries under "
                  << (root.empty() ? "$MIXI_BENCH_DATA/queries (MIXI_BENCH_DATA is not set)"
                                   : root.string())
                  << "; bench/README.md (\"Data\") says where to get them\n";
        std::exit(1);
    }
    // Stored through SearchLog::add, as the server stores its flushes: daily and monthly
    // aggregates and the daily volume.
    auto log = analytics::SearchLog::open(dir);
    if (!log) {
        std::cerr << "report_bench: " << log.error().message << "\n";
        std::exit(1);
    }
    std::vector<double> weights(queries.size());
    double sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i)
        sum += weights[i] = 1 / std::pow(static_cast<double>(i + 1), 1.1);
    const char* countries[] = {"JP", "US", "GB", "DE"};
    const double shares[] = {0.5, 0.2, 0.2, 0.1};
    std::mt19937_64 rng(42);
    std::int64_t total = 0;
    for (std::int64_t day = last_day - days + 1; day <= last_day; ++day) {
        analytics::SearchLogBuffer::Batch batch;
        for (std::size_t q = 0; q < queries.size(); ++q) {
            const bool ja = static_cast<unsigned char>(queries[q][0]) >= 0x80;
            for (int c = 0; c < 4; ++c) {
                std::poisson_distribution<std::int64_t> draw(searches_per_day * weights[q] / sum *
                                                             shares[c]);
                const std::int64_t n = draw(rng);
                if (n == 0)
                    continue;
                auto& cell = batch.cells[{day, queries[q], ja ? "ja" : "en", countries[c]}];
                cell.searches += n;
                cell.zero += (q % 33 == 0) ? n : 0;
                cell.distinct = static_cast<std::uint64_t>(std::max<std::int64_t>(
                    1, std::llround(static_cast<double>(cell.searches) * 0.7)));
                cell.bounded = static_cast<std::int64_t>(cell.distinct);
                total += n;
            }
        }
        if (auto ok = log->add(batch); !ok) {
            std::cerr << "report_bench: " << ok.error().message << "\n";
            std::exit(1);
        }
    }
    // The days are over: folded as the server folds them (text only above the thresholds, the
    // monthly aggregates made).
    if (auto ok = log->fold((last_day + 1) * 86400, {}); !ok) {
        std::cerr << "report_bench: " << ok.error().message << "\n";
        std::exit(1);
    }
    return total;
}

/// A fresh store with one day of `cells` cells, one in twenty above the thresholds.
std::optional<analytics::SearchLog> one_day_of_cells(const fs::path& dir, int cells) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto log = analytics::SearchLog::open(dir);
    if (!log)
        return std::nullopt;
    analytics::SearchLogBuffer::Batch batch;
    for (int i = 0; i < cells; ++i) {
        auto& cell = batch.cells[{last_day, "query " + std::to_string(i), "en", "JP"}];
        const bool above = i % 20 == 0;
        cell.searches = above ? 20 : 1 + i % 9;
        cell.distinct = above ? 10 : 1 + static_cast<std::uint64_t>(i % 4);
        cell.bounded = static_cast<std::int64_t>(cell.distinct);
    }
    if (!log->add(batch))
        return std::nullopt;
    return std::move(*log);
}

void fold(benchmark::State& state, bool due) {
    const fs::path dir = fs::temp_directory_path() / "mixi-fold-bench";
    const std::int64_t now = (last_day + 1) * 86400 + 60;
    std::optional<analytics::SearchLog> log;
    if (!due) {
        log = one_day_of_cells(dir, 100'000);
        if (!log || !log->fold(now, {})) {
            state.SkipWithError("cannot build the store");
            return;
        }
    }
    std::int64_t folded = 0;
    for (auto _ : state) {
        if (due) {
            state.PauseTiming();
            log.reset();
            log = one_day_of_cells(dir, 100'000);
            state.ResumeTiming();
            if (!log) {
                state.SkipWithError("cannot build the store");
                return;
            }
        }
        auto out = log->fold(now, {});
        if (!out) {
            state.SkipWithError(out.error().message.c_str());
            return;
        }
        folded = out->folded;
    }
    state.counters["folded"] = static_cast<double>(folded);
    log.reset();
    fs::remove_all(dir);
}

void report(benchmark::State& state, analytics::ReportKind kind, int period) {
    static const std::int64_t generated = ensure_database();
    (void)generated;
    auto db = analytics::Database::open_in(database_dir());
    analytics::ReportRequest r;
    r.kind = kind;
    r.to_day = last_day;
    r.from_day = last_day - period + 1;
    std::size_t terms = 0;
    std::int64_t searches = 0;
    for (auto _ : state) {
        auto out = analytics::build_report(*db, r);
        if (!out) {
            state.SkipWithError(out.error().message.c_str());
            return;
        }
        terms = out->terms.size();
        searches = out->total_searches;
        benchmark::DoNotOptimize(out);
    }
    state.counters["terms"] = static_cast<double>(terms);
    state.counters["searches"] = static_cast<double>(searches);
}

void trends(benchmark::State& state, int period) {
    static const std::int64_t generated = ensure_database();
    (void)generated;
    auto db = analytics::Database::open_in(database_dir());
    analytics::TrendRequest r;
    r.to_day = last_day;
    r.from_day = last_day - period + 1;
    std::size_t terms = 0;
    for (auto _ : state) {
        state.PauseTiming(); // a new release each time, not the stored one
        (void)db->exec("DELETE FROM trend_release_terms; DELETE FROM trend_releases");
        state.ResumeTiming();
        auto out = analytics::release_trends(*db, r, {1.0, 1e-6}, 0);
        if (!out) {
            state.SkipWithError(out.error().message.c_str());
            return;
        }
        terms = out->terms.size();
        benchmark::DoNotOptimize(out);
    }
    state.counters["terms"] = static_cast<double>(terms);
}

void register_all() {
    benchmark::RegisterBenchmark("fold/100k_cells_95k_below",
                                 [](benchmark::State& s) { fold(s, true); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
    benchmark::RegisterBenchmark("fold/nothing_due", [](benchmark::State& s) {
        fold(s, false);
    })->Unit(benchmark::kMicrosecond);
    using K = analytics::ReportKind;
    for (int period : {30, 365})
        for (auto [name, kind] :
             {std::pair{"popular", K::popular}, std::pair{"zero_results", K::zero_results},
              std::pair{"trending", K::trending}, std::pair{"volume", K::volume}})
            benchmark::RegisterBenchmark(
                (std::string("report/") + name + "/" + std::to_string(period) + "d").c_str(),
                [kind = kind, period](benchmark::State& s) { report(s, kind, period); })
                ->Unit(benchmark::kMillisecond)
                ->Iterations(3);
    for (int period : {7, 30})
        benchmark::RegisterBenchmark(("trends/dp/" + std::to_string(period) + "d").c_str(),
                                     [period](benchmark::State& s) { trends(s, period); })
            ->Unit(benchmark::kMillisecond)
            ->Iterations(3);
}

} // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
