// Analyzer throughput on the visible text of real pages (English and Japanese Debian handbook,
// "apt" chapter, from data/site/ in the repository), in bytes of text per second.
//
//   BM_Tokenize        Analyzer::tokenize only
//   BM_TokenizeStem    tokenize + Snowball stem of each word + CJK bigrams: the analysis part of
//                      DocumentBuilder::index_text, without the Xapian postings
//   BM_BuildDocument   DocumentBuilder::build of a whole record (analysis + Xapian::Document +
//                      stored JSON), i.e. what one indexing thread does per page
#include "analyzers/analyzer.h"
#include "indexer/document_builder.h"
#include "indexer/sources.h"

#include <benchmark/benchmark.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#ifndef MIXI_SOURCE_DIR
#error "MIXI_SOURCE_DIR must be defined (the repository root)"
#endif

namespace {

namespace fs = std::filesystem;
using mixi::analyzers::Analyzer;
using mixi::analyzers::Token;
using mixi::analyzers::TokenKind;

struct Sample {
    std::string lang;
    std::string title;
    std::string text; // visible text, as the indexer sees it
    std::string error;
};

const Sample& sample(const std::string& lang) {
    static std::map<std::string, Sample> cache;
    auto it = cache.find(lang);
    if (it != cache.end())
        return it->second;
    Sample s;
    s.lang = lang;
    const fs::path path =
        fs::path(MIXI_SOURCE_DIR) / "data/site" / lang / "debian-handbook/apt.html";
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        s.error = "cannot read " + path.string();
    } else {
        std::ostringstream html;
        html << in.rdbuf();
        mixi::indexer::HtmlPage page = mixi::indexer::parse_html(html.str());
        s.title = std::move(page.title);
        s.text = std::move(page.text);
        if (s.text.empty())
            s.error = "no text in " + path.string();
    }
    return cache.emplace(lang, std::move(s)).first->second;
}

void set_labels(benchmark::State& state, const Sample& s, std::size_t tokens) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(s.text.size()));
    state.counters["text_bytes"] = static_cast<double>(s.text.size());
    if (tokens == 0)
        return;
    state.counters["tokens"] = static_cast<double>(tokens);
    state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Tokenize(benchmark::State& state, const std::string& lang) {
    const Sample& s = sample(lang);
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    Analyzer analyzer;
    std::size_t tokens = 0;
    for (auto _ : state) {
        std::vector<Token> t = analyzer.tokenize(s.text);
        tokens = t.size();
        benchmark::DoNotOptimize(t.data());
    }
    set_labels(state, s, tokens);
}

// Mirrors DocumentBuilder::index_text minus the Xapian::Document calls.
void BM_TokenizeStem(benchmark::State& state, const std::string& lang) {
    const Sample& s = sample(lang);
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    Analyzer analyzer;
    std::size_t tokens = 0;
    for (auto _ : state) {
        const std::vector<Token> t = analyzer.tokenize(s.text);
        const bool stems = analyzer.has_stemmer(lang);
        std::size_t stem_bytes = 0;
        for (const Token& tok : t)
            if (stems && tok.kind == TokenKind::word)
                stem_bytes += analyzer.stem(tok.term, lang).size();
        const std::vector<std::string> grams = mixi::analyzers::cjk_bigrams(t);
        tokens = t.size();
        benchmark::DoNotOptimize(stem_bytes);
        benchmark::DoNotOptimize(grams.data());
    }
    set_labels(state, s, tokens);
}

void BM_BuildDocument(benchmark::State& state, const std::string& lang) {
    const Sample& s = sample(lang);
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    mixi::indexer::Record r;
    r.id = lang + "/debian-handbook/apt.html";
    r.url = "/" + r.id;
    r.title = s.title;
    r.body = s.text;
    r.lang = lang;
    mixi::indexer::DocumentBuilder builder;
    for (auto _ : state) {
        mixi::indexer::PreparedDocument d = builder.build(r);
        benchmark::DoNotOptimize(d.document.termlist_count());
    }
    set_labels(state, s, 0);
}

BENCHMARK_CAPTURE(BM_Tokenize, en, std::string("en"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Tokenize, ja, std::string("ja"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TokenizeStem, en, std::string("en"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TokenizeStem, ja, std::string("ja"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_BuildDocument, en, std::string("en"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_BuildDocument, ja, std::string("ja"))->Unit(benchmark::kMicrosecond);

} // namespace
