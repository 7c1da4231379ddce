// In-process latency of bench/scale.sh's query mix (bench/gen/queries.py): each line is
// CLASS<TAB>ROUTE<TAB>PARAMS and runs as the server runs /v1/ROUTE?PARAMS, without HTTP.
//
//   scale_query --index DIR --queries FILE [--reps N] [--mode mixi|wildcard]
//
// mixi: Searcher::search (route search: q, type, lang, facets, prefix) or Searcher::suggest
// (route suggest: q, limit 8). One pass over the list is the cold pass (new words, prefixes
// not seen yet), then N more passes (default 3). Prints one line per class with the cold and
// warm p50, p99 and max in milliseconds, then the whole mix (every class but the prefixes) and
// the process's peak RSS.
// wildcard: the prefix classes only, as Xapian expands a prefix by itself (OP_WILDCARD, the 50
// most frequent words, WILDCARD_LIMIT_MOST_FREQUENT) and matches it (top 8), on every
// keystroke: the cost the prefix cache avoids.
#include "query/searcher.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>
#include <xapian.h>

namespace {

struct Line {
    std::string cls, route;
    std::map<std::string, std::vector<std::string>> params;
};

std::string decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

std::vector<Line> read_queries(const std::string& path) {
    std::ifstream in(path);
    std::vector<Line> out;
    for (std::string text; std::getline(in, text);) {
        const auto t1 = text.find('\t'), t2 = text.find('\t', t1 + 1);
        if (t1 == std::string::npos || t2 == std::string::npos)
            continue;
        Line l{text.substr(0, t1), text.substr(t1 + 1, t2 - t1 - 1), {}};
        const std::string p = text.substr(t2 + 1);
        for (std::size_t b = 0; b < p.size();) {
            auto e = p.find('&', b);
            if (e == std::string::npos)
                e = p.size();
            const std::string kv = p.substr(b, e - b);
            const auto eq = kv.find('=');
            l.params[kv.substr(0, eq)].push_back(decode(kv.substr(eq + 1)));
            b = e + 1;
        }
        out.push_back(std::move(l));
    }
    return out;
}

double pct(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5))];
}

long peak_rss_kb() {
    std::ifstream in("/proc/self/status");
    for (std::string l; std::getline(in, l);)
        if (l.starts_with("VmHWM:"))
            return std::stol(l.substr(6));
    return 0;
}

[[noreturn]] void die(const std::string& m) {
    std::cerr << "scale_query: " << m << "\n";
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string index, queries, mode = "mixi";
    int reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--index")
            index = argv[i + 1];
        else if (a == "--queries")
            queries = argv[i + 1];
        else if (a == "--reps")
            reps = std::stoi(argv[i + 1]);
        else if (a == "--mode")
            mode = argv[i + 1];
        else
            die("unknown option " + a);
    }
    if (index.empty() || queries.empty())
        die("usage: scale_query --index DIR --queries FILE [--reps N] [--mode mixi|wildcard]");
    const auto lines = read_queries(queries);
    auto opened = mixi::query::Searcher::open(index);
    if (!opened)
        die(opened.error().message);
    mixi::query::Searcher searcher = std::move(*opened);
    Xapian::Database db; // wildcard mode: the one database of the index
    if (mode == "wildcard") {
        if (searcher.database_path().empty())
            die("wildcard mode needs an index of one shard");
        db = Xapian::Database(searcher.database_path().string());
    }

    // CPU time of this thread: the steadier measure on a machine shared with other work.
    auto thread_cpu_ms = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    };
    double cpu_ms = 0;
    auto run = [&](const Line& l) {
        const double c0 = thread_cpu_ms();
        const auto get = [&](const char* k) {
            auto it = l.params.find(k);
            return it == l.params.end() ? std::string() : it->second.front();
        };
        const auto t0 = std::chrono::steady_clock::now();
        if (mode == "wildcard") {
            Xapian::Enquire enquire(db);
            enquire.set_query(Xapian::Query(Xapian::Query::OP_WILDCARD, get("q"), 50,
                                            Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT));
            enquire.get_mset(0, 8);
        } else if (l.route == "suggest") {
            mixi::query::SuggestRequest r;
            r.q = get("q");
            if (auto s = searcher.suggest(r);
                !s && s.error().code != mixi::ErrorCode::invalid_query)
                die(r.q + ": " + s.error().message);
        } else {
            mixi::query::SearchRequest r;
            r.q = get("q");
            r.prefix = get("prefix") == "1";
            r.facets = get("facets") == "1";
            if (auto it = l.params.find("type"); it != l.params.end())
                r.types = it->second;
            if (auto it = l.params.find("lang"); it != l.params.end())
                r.langs = it->second;
            if (auto s = searcher.search(r); !s && s.error().code != mixi::ErrorCode::invalid_query)
                die(r.q + ": " + s.error().message);
        }
        cpu_ms = thread_cpu_ms() - c0;
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
            .count();
    };

    std::map<std::string, std::vector<double>> cold, warm, warm_cpu;
    std::vector<double> mix_warm, mix_cpu;
    std::size_t runs = 0;
    double warm_ms = 0;
    for (int pass = 0; pass <= reps; ++pass)
        for (const Line& l : lines) {
            if (mode == "wildcard" && !l.cls.starts_with("prefix"))
                continue;
            const double ms = run(l);
            (pass == 0 ? cold : warm)[l.cls].push_back(ms);
            if (pass > 0)
                warm_cpu[l.cls].push_back(cpu_ms);
            if (pass > 0) {
                ++runs;
                warm_ms += ms;
                if (!l.cls.starts_with("prefix")) {
                    mix_warm.push_back(ms);
                    mix_cpu.push_back(cpu_ms);
                }
            }
        }
    std::printf("%-10s %6s %9s %9s %9s %9s %9s %9s %9s %9s\n", "class", "n", "cold_p50", "cold_p99",
                "cold_max", "p50_ms", "p99_ms", "max_ms", "cpu_p50", "cpu_p99");
    for (const auto& [cls, v] : warm) {
        const auto& c = cold[cls];
        const auto& u = warm_cpu[cls];
        std::printf("%-10s %6zu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", cls.c_str(),
                    v.size(), pct(c, 0.5), pct(c, 0.99), pct(c, 1.0), pct(v, 0.5), pct(v, 0.99),
                    pct(v, 1.0), pct(u, 0.5), pct(u, 0.99));
    }
    if (!mix_warm.empty())
        std::printf("%-10s %6zu %9s %9s %9s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "mix",
                    mix_warm.size(), "", "", "", pct(mix_warm, 0.5), pct(mix_warm, 0.99),
                    pct(mix_warm, 1.0), pct(mix_cpu, 0.5), pct(mix_cpu, 0.99));
    std::printf("RESULT mode=%s docs=%llu queries_per_s=%.1f peak_rss_mb=%.1f\n", mode.c_str(),
                static_cast<unsigned long long>(searcher.document_count()),
                static_cast<double>(runs) / (warm_ms / 1000.0), peak_rss_kb() / 1024.0);
}
