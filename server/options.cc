#include "server/options.h"

namespace mixi::server {

query::SearchOptions search_options(const config::Config& config) {
    const config::SearchConfig& s = config.search;
    query::SearchOptions out;
    out.k1 = s.k1;
    out.b = s.b;
    out.exact_weight = s.exact_weight;
    out.bigram_weight = s.bigram_weight;
    out.synonym_weight = s.synonym_weight;
    out.typo_weight = s.typo_weight;
    out.typo_rare = s.typo_rare;
    out.typo_ratio = s.typo_ratio;
    out.prefix_postings = s.prefix_postings;
    out.proximity_weight = s.proximity_weight;
    out.proximity_window = s.proximity_window;
    out.prf_docs = s.prf_docs;
    out.prf_terms = s.prf_terms;
    out.prf_weight = s.prf_weight;
    out.max_per_page = s.max_per_page;
    out.snippet_bytes = s.snippet_bytes;
    out.max_query_bytes = config.limits.query_bytes;
    out.spelling_below = s.spelling_below;
    out.ranking.popularity_weight = s.ranking.popularity_weight;
    out.ranking.region_weight = s.ranking.region_weight;
    out.ranking.saturation = s.ranking.saturation;
    out.ranking.language_weight = s.ranking.language_weight;
    out.remote_timeout_ms = s.remote_timeout_ms;
    out.remote_connect_timeout_ms = s.remote_connect_timeout_ms;
    out.allow_partial = s.allow_partial;
    out.spelling_index = s.spelling_index;
    return out;
}

analytics::RetentionOptions retention_options(const config::Config& config) {
    analytics::RetentionOptions options;
    options.retention_days = config.retention_days;
    options.aggregate_retention_days = config.aggregate_retention_days;
    options.k = config.report_k;
    options.k_distinct = config.report_k_distinct;
    if (config.trends.enabled) {
        options.trend_days = config.trends.days;
        options.trend_epsilon = config.trends.epsilon;
        options.trend_delta = config.trends.delta;
    }
    return options;
}

analytics::StoreLocation analytics_store(const config::Config& config) {
    return analytics::StoreLocation::from_setting(config.data_dir, config.analytics_database);
}

} // namespace mixi::server
