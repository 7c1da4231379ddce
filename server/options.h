// The server's names for the shared configuration (config/config.h), and the libraries' plain
// option structs filled from it: the one mapping `serve` and the CLI subcommands use.
#pragma once

#include "analytics/search_log.h"
#include "config/config.h"
#include "query/searcher.h"

namespace mixi::server {

using ServerConfig = config::Config;
using config::Limits;
using config::TrendsConfig;

/// search.*, ranking.*, shards.* and limits.query_bytes as the query library's options (the
/// query length the HTTP limit allows is the one the library checks too).
query::SearchOptions search_options(const config::Config& config);

/// analytics.* retention and report thresholds, and trends.* when public trends are on, as the
/// search log's purge and fold take them: text below the thresholds goes once its day is over
/// (public trends may keep it until their release).
analytics::RetentionOptions retention_options(const config::Config& config);

/// analytics.database (empty: analytics.sqlite in server.data_dir), for the server and every
/// CLI command that reads or writes analytics.
analytics::StoreLocation analytics_store(const config::Config& config);

} // namespace mixi::server
