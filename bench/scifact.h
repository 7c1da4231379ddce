// BEIR SciFact for the benchmarks: its 300 test queries and its 5,183 abstracts as records.
#pragma once

#include "common/text_lines.h"
#include "indexer/record.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mixi::bench {

struct Query {
    std::string id, text;
};

/// Where to get the benchmark data (bench/README.md, "Data"), for error messages.
inline constexpr const char* data_hint =
    "set MIXI_BENCH_DATA to the benchmark data folder, or MIXI_SCIFACT to a BEIR SciFact "
    "folder; bench/README.md says where to get them";

/// MIXI_SCIFACT, else $MIXI_BENCH_DATA/beir/scifact; empty when neither is set.
inline std::filesystem::path scifact_dir() {
    if (const char* v = std::getenv("MIXI_SCIFACT"); v && *v)
        return v;
    if (const char* v = std::getenv("MIXI_BENCH_DATA"); v && *v)
        return std::filesystem::path(v) / "beir" / "scifact";
    return {};
}

inline std::string json_text(const boost::json::object& o, const char* key) {
    const boost::json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// The test queries (those in qrels/test.tsv); empty when SciFact is not there.
inline std::vector<Query> scifact_test_queries(const std::filesystem::path& beir) {
    if (beir.empty())
        return {};
    const auto queries = plain_or_gz(beir / "queries.jsonl");
    const auto qrels = beir / "qrels" / "test.tsv";
    std::vector<Query> out;
    if (queries.empty() || !std::filesystem::exists(qrels))
        return out;
    std::set<std::string> test_ids;
    for_each_line(qrels, [&](const std::string& line) {
        std::istringstream in(line);
        std::string qid;
        if (in >> qid && qid != "query-id")
            test_ids.insert(qid);
    });
    for_each_line(queries, [&](const std::string& line) {
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(line, ec);
        if (ec || !v.is_object())
            return;
        Query q{json_text(v.get_object(), "_id"), json_text(v.get_object(), "text")};
        if (test_ids.contains(q.id) && !q.text.empty())
            out.push_back(std::move(q));
    });
    return out;
}

/// The corpus as English records (id, title, body); empty when SciFact is not there.
inline std::vector<indexer::Record> scifact_records(const std::filesystem::path& beir) {
    if (beir.empty())
        return {};
    const auto corpus = plain_or_gz(beir / "corpus.jsonl");
    std::vector<indexer::Record> out;
    if (corpus.empty())
        return out;
    for_each_line(corpus, [&](const std::string& line) {
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(line, ec);
        if (ec || !v.is_object())
            return;
        indexer::Record r;
        r.id = json_text(v.get_object(), "_id");
        r.title = json_text(v.get_object(), "title");
        r.body = json_text(v.get_object(), "text");
        r.lang = "en";
        r.visibility = "public"; // a public test collection
        out.push_back(std::move(r));
    });
    return out;
}

} // namespace mixi::bench
