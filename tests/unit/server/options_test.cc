// The query library's options filled from the configuration: the model's defaults are the
// library's, and every configured value reaches it.
#include "server/options.h"

#include <gtest/gtest.h>

namespace mixi::server {
namespace {

TEST(SearchOptionsFromConfig, DefaultsAreTheQueryLibrarysDefaults) {
    const query::SearchOptions library;
    const query::SearchOptions mapped = search_options(config::Config{});
    EXPECT_EQ(mapped.k1, library.k1);
    EXPECT_EQ(mapped.b, library.b);
    EXPECT_EQ(mapped.exact_weight, library.exact_weight);
    EXPECT_EQ(mapped.bigram_weight, library.bigram_weight);
    EXPECT_EQ(mapped.synonym_weight, library.synonym_weight);
    EXPECT_EQ(mapped.typo_weight, library.typo_weight);
    EXPECT_EQ(mapped.typo_rare, library.typo_rare);
    EXPECT_EQ(mapped.typo_ratio, library.typo_ratio);
    EXPECT_EQ(mapped.prefix_postings, library.prefix_postings);
    EXPECT_EQ(mapped.max_per_page, library.max_per_page);
    EXPECT_EQ(mapped.max_page, library.max_page);
    EXPECT_EQ(mapped.snippet_bytes, library.snippet_bytes);
    EXPECT_EQ(mapped.spelling_below, library.spelling_below);
    EXPECT_EQ(mapped.ranking.popularity_weight, library.ranking.popularity_weight);
    EXPECT_EQ(mapped.ranking.region_weight, library.ranking.region_weight);
    EXPECT_EQ(mapped.ranking.saturation, library.ranking.saturation);
    EXPECT_EQ(mapped.ranking.language_weight, library.ranking.language_weight);
    EXPECT_EQ(mapped.remote_timeout_ms, library.remote_timeout_ms);
    EXPECT_EQ(mapped.remote_connect_timeout_ms, library.remote_connect_timeout_ms);
    EXPECT_EQ(mapped.allow_partial, library.allow_partial);
    EXPECT_EQ(mapped.spelling_index, library.spelling_index);
    // The HTTP limit on the query is the one the library checks too.
    EXPECT_EQ(mapped.max_query_bytes, config::Config{}.limits.query_bytes);
}

TEST(SearchOptionsFromConfig, ConfiguredValuesReachTheLibrary) {
    config::Sources sources;
    sources.overrides = {{"search.k1", "0.9"},
                         {"search.b", "0.4"},
                         {"search.exact_weight", "0.2"},
                         {"search.bigram_weight", "0.3"},
                         {"search.synonym_weight", "0.25"},
                         {"search.typo_weight", "0"},
                         {"search.typo_rare", "0"},
                         {"search.typo_ratio", "5"},
                         {"search.prefix_postings", "1000"},
                         {"search.max_per_page", "20"},
                         {"search.snippet_bytes", "100"},
                         {"search.spelling_below", "3"},
                         {"limits.query_bytes", "512"},
                         {"ranking.popularity_weight", "1e-7"},
                         {"ranking.region_weight", "0.5"},
                         {"ranking.saturation", "25"},
                         {"ranking.language_weight", "0"},
                         {"shards.timeout_ms", "700"},
                         {"shards.connect_timeout_ms", "300"},
                         {"shards.allow_partial", "true"},
                         {"shards.spelling_index", "spelling"}};
    auto config = config::load(sources);
    ASSERT_TRUE(config) << config.error().message;
    const query::SearchOptions o = search_options(*config);
    EXPECT_EQ(o.k1, 0.9);
    EXPECT_EQ(o.b, 0.4);
    EXPECT_EQ(o.exact_weight, 0.2);
    EXPECT_EQ(o.bigram_weight, 0.3);
    EXPECT_EQ(o.synonym_weight, 0.25);
    EXPECT_EQ(o.typo_weight, 0);
    EXPECT_EQ(o.typo_rare, 0u);
    EXPECT_EQ(o.typo_ratio, 5u);
    EXPECT_EQ(o.prefix_postings, 1000u);
    EXPECT_EQ(o.max_per_page, 20u);
    EXPECT_EQ(o.snippet_bytes, 100u);
    EXPECT_EQ(o.spelling_below, 3u);
    EXPECT_EQ(o.max_query_bytes, 512u);
    EXPECT_EQ(o.ranking.popularity_weight, 1e-7);
    EXPECT_EQ(o.ranking.region_weight, 0.5);
    EXPECT_EQ(o.ranking.saturation, 25);
    EXPECT_EQ(o.ranking.language_weight, 0);
    EXPECT_EQ(o.remote_timeout_ms, 700u);
    EXPECT_EQ(o.remote_connect_timeout_ms, 300u);
    EXPECT_TRUE(o.allow_partial);
    EXPECT_EQ(o.spelling_index, "spelling");
}

} // namespace
} // namespace mixi::server
