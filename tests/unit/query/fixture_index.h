// The fixture index every query test searches: data/sample.ndjson, tests/fixtures/site and
// tests/fixtures/ja-pages, built once per test program into a temporary directory.
#pragma once

#include "../temp_dir.h"
#include "indexer/index_writer.h"

#include <gtest/gtest.h>

namespace mixi::testing {

inline const std::filesystem::path source_dir = MIXI_SOURCE_DIR;

inline const std::filesystem::path& fixture_index() {
    static TempDir dir;
    static const bool built = [] {
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(indexer::open_source(source_dir / "data/sample.ndjson"));
        sources.push_back(indexer::open_source(source_dir / "tests/fixtures/site"));
        sources.push_back(indexer::open_source(source_dir / "tests/fixtures/ja-pages"));
        auto report = indexer::build_index(dir.path(), std::move(sources), {});
        if (!report)
            throw std::runtime_error("fixture index: " + report.error().message);
        return true;
    }();
    (void)built;
    return dir.path();
}

} // namespace mixi::testing
