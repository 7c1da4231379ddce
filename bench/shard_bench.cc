// Shards on BEIR SciFact (5,183 abstracts, the 300 test queries), in one run:
//
//   build/shards:N       index build of the whole corpus into N shards (1 = no shards), two
//                        analysis threads (both cores); one build each
//   search/local:N       Searcher over N local shards: the 300 queries, top 10 with snippets,
//                        facets off; time per query
//   search/remote:2      the same over 2 shards served by xapian-tcpsrv on loopback (started
//                        here, one process per shard)
//   views/local:1, views/local:2, views/remote:2
//                        the same ranked by page views too (random heavy-tailed views of a
//                        third of the documents): one index uses its PostingSource, shards
//                        re-rank
//
// ->Threads(2) runs two searchers at once (one per thread), for throughput on both cores.
// Env: MIXI_SCIFACT or MIXI_BENCH_DATA (bench/scifact.h), MIXI_SHARD_BENCH_DIR (default
// /tmp/mixi-shard-bench; rebuilt each run).
#include "bench/scifact.h"
#include "common/index_layout.h"
#include "indexer/index_writer.h"
#include "indexer/sources.h"
#include "query/searcher.h"

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fcntl.h>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace mixi;

fs::path work_dir() {
    const char* v = std::getenv("MIXI_SHARD_BENCH_DIR");
    return v && *v ? v : "/tmp/mixi-shard-bench";
}

const std::vector<bench::Query>& queries() {
    static const auto q = bench::scifact_test_queries(bench::scifact_dir());
    return q;
}

fs::path index_of(int shards) {
    return work_dir() / ("shards-" + std::to_string(shards));
}

std::vector<pid_t> servers;
std::vector<std::string> remote_specs;

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

/// xapian-tcpsrv for each shard of the 2-shard index.
void start_remotes() {
    for (int i = 0; i < 2; ++i) {
        const std::string port = std::to_string(free_port());
        const std::string db = (layout::shard_dir(index_of(2), i) / "current").string();
        std::vector<std::string> args = {
            "xapian-tcpsrv", "--interface", "127.0.0.1", "--port", port, "--quiet", db};
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        pid_t pid = -1;
        if (posix_spawnp(&pid, "xapian-tcpsrv", nullptr, &attr, argv.data(), environ) == 0)
            servers.push_back(pid);
        posix_spawnattr_destroy(&attr);
        remote_specs.push_back("tcp://127.0.0.1:" + port);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

void stop_remotes() {
    for (pid_t pid : servers) {
        ::kill(-pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
    }
}

/// Random heavy-tailed views of a third of the documents (the same for every benchmark).
PopularitySnapshot views() {
    static const PopularitySnapshot snapshot = [] {
        auto records = bench::scifact_records(bench::scifact_dir());
        std::mt19937_64 rng(7);
        auto popularity = std::make_shared<Popularity>();
        for (std::size_t i = 0; i < records.size(); i += 3) {
            const double u = std::uniform_real_distribution<double>(1e-6, 1.0)(rng);
            popularity->add(records[i].id, "ZZ", 5 * std::pow(u, -1.2)); // Pareto tail
        }
        return PopularitySnapshot(std::move(popularity));
    }();
    return snapshot;
}

void build(benchmark::State& state) {
    const int shards = static_cast<int>(state.range(0));
    auto records = bench::scifact_records(bench::scifact_dir());
    if (records.empty()) {
        state.SkipWithError("SciFact not found (set MIXI_BENCH_DATA or MIXI_SCIFACT)");
        return;
    }
    for (auto _ : state) {
        std::error_code ec;
        fs::remove_all(index_of(shards), ec);
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(std::make_unique<indexer::RecordsSource>(records));
        indexer::IndexOptions options;
        options.threads = 2;
        options.shards = shards > 1 ? static_cast<unsigned>(shards) : 0;
        auto built = indexer::build_index(index_of(shards), std::move(sources), options);
        if (!built) {
            state.SkipWithError(built.error().message.c_str());
            return;
        }
    }
    state.counters["docs"] = static_cast<double>(records.size());
}

void search(benchmark::State& state, bool remote, bool ranked) {
    const int shards = static_cast<int>(state.range(0));
    static std::once_flag started;
    if (remote)
        std::call_once(started, start_remotes);
    auto searcher = remote ? query::Searcher::open_shards(remote_specs)
                           : query::Searcher::open(index_of(shards));
    if (!searcher) {
        state.SkipWithError(searcher.error().message.c_str());
        return;
    }
    const auto& qs = queries();
    std::size_t i = 0;
    std::uint64_t hits = 0;
    for (auto _ : state) {
        query::SearchRequest r;
        r.q = qs[i++ % qs.size()].text;
        if (ranked)
            r.popularity = views();
        auto result = searcher->search(r);
        if (!result) {
            state.SkipWithError(result.error().message.c_str());
            return;
        }
        hits += result->hits.size();
    }
    state.counters["queries/s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["hits/query"] =
        static_cast<double>(hits) / std::max<double>(1, state.iterations());
}

} // namespace

int main(int argc, char** argv) {
    if (queries().empty()) {
        std::fprintf(stderr, "shard_bench: SciFact not found: %s\n", bench::data_hint);
        return 1;
    }
    std::filesystem::create_directories(work_dir());
    for (int n : {1, 2, 4})
        benchmark::RegisterBenchmark(("build/shards:" + std::to_string(n)).c_str(), build)
            ->Arg(n)
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    for (bool ranked : {false, true}) {
        const std::string kind = ranked ? "views" : "search";
        for (int n : ranked ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 4})
            benchmark::RegisterBenchmark(
                (kind + "/local:" + std::to_string(n)).c_str(),
                [ranked](benchmark::State& s) { search(s, false, ranked); })
                ->Arg(n)
                ->Unit(benchmark::kMicrosecond)
                ->MinTime(2)
                ->UseRealTime()
                ->Threads(1)
                ->Threads(2);
        benchmark::RegisterBenchmark((kind + "/remote:2").c_str(),
                                     [ranked](benchmark::State& s) { search(s, true, ranked); })
            ->Arg(2)
            ->Unit(benchmark::kMicrosecond)
            ->MinTime(2)
            ->UseRealTime()
            ->Threads(1)
            ->Threads(2);
    }
    benchmark::Initialize(&argc, argv);
    // The builds run first (registration order); the remote shards serve the 2-shard index
    // from the first remote benchmark on.
    benchmark::RunSpecifiedBenchmarks();
    stop_remotes();
    benchmark::Shutdown();
    return 0;
}
