// Runs tests/golden/queries.tsv: each line a query, options, the expected top ids in order,
// and the expected total.
#include "fixture_index.h"
#include "query/searcher.h"

#include <fstream>
#include <sstream>

namespace mixi::query {
namespace {

struct GoldenCase {
    std::string query, options, expected, total;
    int line = 0;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, sep))
        out.push_back(part);
    return out;
}

std::vector<GoldenCase> load_cases() {
    std::vector<GoldenCase> cases;
    std::ifstream in(testing::source_dir / "tests/golden/queries.tsv");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty() || line[0] == '#')
            continue;
        auto cols = split(line, '\t');
        if (cols.size() != 4)
            throw std::runtime_error("queries.tsv:" + std::to_string(n) + ": need 4 columns");
        cases.push_back({cols[0], cols[1], cols[2], cols[3], n});
    }
    return cases;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, TopHitsAndTotal) {
    const GoldenCase& c = GetParam();
    auto searcher = Searcher::open(testing::fixture_index());
    ASSERT_TRUE(searcher) << searcher.error().message;
    SearchRequest req;
    req.q = c.query;
    if (c.options != "-") {
        for (const auto& kv : split(c.options, ',')) {
            const auto eq = kv.find('=');
            const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
            if (k == "type")
                req.types.push_back(v);
            else if (k == "lang")
                req.langs.push_back(v);
            else if (k == "sort")
                req.sort = v == "date" ? Sort::date : Sort::relevance;
            else if (k == "prefix")
                req.prefix = v == "1";
            else
                FAIL() << "queries.tsv:" << c.line << ": unknown option " << k;
        }
    }
    auto result = searcher->search(req);
    ASSERT_TRUE(result) << result.error().message;
    if (c.expected != "-") {
        const auto expected = split(c.expected, ' ');
        ASSERT_GE(result->hits.size(), expected.size()) << "queries.tsv:" << c.line;
        for (std::size_t i = 0; i < expected.size(); ++i)
            EXPECT_EQ(result->hits[i].id, expected[i])
                << "queries.tsv:" << c.line << " rank " << i + 1;
    }
    if (c.total != "-") {
        EXPECT_EQ(result->total, std::stoull(c.total)) << "queries.tsv:" << c.line;
    }
}

INSTANTIATE_TEST_SUITE_P(Queries, Golden, ::testing::ValuesIn(load_cases()),
                         [](const auto& info) { return "line" + std::to_string(info.param.line); });

} // namespace
} // namespace mixi::query
