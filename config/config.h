// The configuration model of mixi-search, shared by `serve` and every subcommand that uses one of
// its settings: one TOML file, overridden by MIXI_* environment variables and then by the command
// line, and checked by one validate(). Only the edges (cli/, server/) load it; they fill the
// libraries' plain option structs from it.
#pragma once

#include "common/error.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mixi::config {

struct Limits {
    std::size_t header_bytes = 8 * 1024;            ///< request line + headers (431 beyond)
    std::size_t body_bytes = 64 * 1024;             ///< request body (413 beyond)
    std::size_t target_bytes = 4 * 1024;            ///< request target (414 beyond)
    std::size_t query_bytes = 1024;                 ///< decoded q parameter (414 beyond)
    std::chrono::milliseconds read_timeout{10'000}; ///< to read one whole request
    std::chrono::milliseconds idle_timeout{30'000}; ///< keep-alive wait for the next request
    std::size_t max_connections = 1024;             ///< more are answered 503 and closed
    /// Open connections from one client (the TCP peer: an IPv4 address or an IPv6 /64) that is
    /// not a trusted proxy; more are answered 503 and closed. 0: no cap.
    std::size_t connections_per_client = 64;
    std::size_t requests_per_connection = 1000;          ///< the last with Connection: close
    std::chrono::milliseconds shutdown_deadline{10'000}; ///< to finish in-flight requests
    /// Requests per second per client address on the public routes (0: no limit), and the
    /// burst a client may use at once; beyond that 429 with Retry-After.
    double rate_per_second = 50;
    double rate_burst = 200;
};

/// Client address -> region (GeoIP). The address itself is never stored.
struct GeoConfig {
    std::filesystem::path database; ///< an mmdb file; empty = every region is "ZZ"
    std::string level = "country";  ///< "country" or "continent"; never finer
    bool ignore_errors = false;     ///< a broken database: run without regions instead of failing
};

/// The shortest account secret accepted: 32 bytes, the size of the HMAC-SHA256 output, so that
/// guessing the secret is no easier than forging a signature.
inline constexpr std::size_t min_account_secret_bytes = 32;

/// The lowest analytics.report_k and report_k_distinct accepted: a term one searcher typed is
/// never shown, however often they typed it.
inline constexpr std::uint64_t min_report_k = 2;

/// Secrets. Never printed by --print-config.
struct AuthConfig {
    /// Verifies account tokens; empty: none accepted. At least min_account_secret_bytes.
    std::string account_secret;
    /// The account secret read from this file instead (its first line; read at start).
    std::filesystem::path account_secret_file;
    /// Bearer keys of the admin API; empty: admin API off. A key holds no comma.
    std::vector<std::string> admin_keys;
    std::filesystem::path admin_key_file; ///< more keys, one per line (read at start)
};

/// The public GET /v1/trends: differentially private releases only (analytics/trends.h).
struct TrendsConfig {
    bool enabled = false;
    double epsilon = 1.0, delta = 1e-6; ///< per searcher-day and release
    int days = 7;                       ///< each release covers this many complete days
    std::size_t top = 20;
};

/// How searches are run and ranked: the configurable part of query::SearchOptions (the defaults
/// are the query library's; server/options.h fills SearchOptions from this).
struct SearchConfig {
    double k1 = 1.2;             ///< BM25 term frequency saturation
    double b = 0.75;             ///< BM25 length normalisation
    double exact_weight = 0.1;   ///< the exact (unstemmed) form of a query word
    double bigram_weight = 0.5;  ///< adjacent words of a CJK query as a phrase
    double synonym_weight = 0.5; ///< a query word's synonyms beside the word; 0: off
    /// Typo tolerance (query::ParseOptions): a typo's close words at typo_weight (0: off), a
    /// word the index has in at most typo_rare documents counting as a typo when a close word
    /// is in typo_ratio times as many.
    double typo_weight = 0.6;
    unsigned typo_rare = 3;
    unsigned typo_ratio = 20;
    unsigned prefix_postings = 250'000; ///< postings a short prefix's expansion may read
    /// Query words typed next to each other and found next to each other, in the first
    /// proximity_window matches (query::SearchOptions); 0: off.
    double proximity_weight = 0.03;
    unsigned proximity_window = 10;
    /// Pseudo-relevance feedback from the first prf_docs matches (query::SearchOptions); 0: off.
    unsigned prf_docs = 0;
    unsigned prf_terms = 10;
    double prf_weight = 0.1;
    unsigned max_per_page = 100;
    std::size_t snippet_bytes = 240;
    std::uint64_t spelling_below = 10; ///< look for "did you mean" below this many matches
    /// Page views, region and language in the score (query::RankingOptions).
    struct Ranking {
        double popularity_weight = 2;
        double region_weight = 2;
        double saturation = 50; ///< decayed views at which popularity gives half its weight
        double language_weight = 1;
    } ranking;
    /// Remote shards: the longest one operation or a connection may take.
    unsigned remote_timeout_ms = 2000, remote_connect_timeout_ms = 1000;
    bool allow_partial = false; ///< answer from the other shards when a remote one is down
    std::filesystem::path spelling_index; ///< local copy for spelling and synonyms, remote shards
};

/// Every setting, for the server and the subcommands alike.
struct Config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;
    unsigned threads = 0;                  ///< io_context threads; 0 = one per core
    std::filesystem::path index = "index"; ///< written by the admin API's document deletes
    /// Search these shards as one instead of `index` (query::Searcher::open_shards): index
    /// directories or tcp://host:port served by xapian-tcpsrv. Remote timeouts, partial
    /// results and the local spelling copy are in `search`.
    std::vector<std::string> shards;
    std::filesystem::path web_root = "web";
    std::vector<std::string> cors_origins; ///< exact origins allowed by CORS
    /// Proxies whose X-Forwarded-For / Forwarded headers name the client (addresses or CIDR
    /// networks); from anyone else those headers are ignored.
    std::vector<std::string> trusted_proxies;
    /// The one header those proxies write and the server reads: "x-forwarded-for" or
    /// "forwarded" (RFC 7239). The other is ignored, whoever sends it.
    std::string forwarded_header = "x-forwarded-for";
    std::filesystem::path data_dir = "var"; ///< analytics.sqlite (view counts) lives here
    /// The analytics store: empty for <data_dir>/analytics.sqlite, a SQLite file path, or a
    /// postgresql:// URI that several servers share. Printed without its password.
    std::string analytics_database;
    bool access_log = true;
    std::chrono::milliseconds reopen_interval{500}; ///< how often readers check for a new index
    /// Page views and searches are counted in memory and stored this often (and at shutdown).
    std::chrono::milliseconds analytics_flush_interval{5'000};
    /// Searches and view counts held in memory while the analytics store is away; past it the
    /// oldest are dropped and counted (/metrics).
    std::uint64_t analytics_max_held_events = 100'000;
    int retention_days = 30;            ///< raw search-log rows are deleted after this
    int aggregate_retention_days = 400; ///< daily search-term aggregates are deleted after this
    /// Page-view counts are deleted this many days after their day: 20 half-lives of the
    /// default ranking.half_life_days (7), the oldest views the popularity snapshot still reads.
    int view_retention_days = 140;
    std::chrono::milliseconds purge_interval{3'600'000}; ///< how often expired rows are deleted
    /// How often the popularity snapshot is rebuilt when the stored counts changed (an import
    /// by the CLI, or this server's own flushes).
    std::chrono::milliseconds popularity_refresh_interval{60'000};
    double half_life_days = 7;
    GeoConfig geoip;
    AuthConfig auth;
    /// Reports show a term only when its cell reached both thresholds.
    std::uint64_t report_k = 10, report_k_distinct = 5;
    TrendsConfig trends;
    Limits limits;
    SearchConfig search;
    /// What load() found worth telling the operator but not worth refusing (a secret file others
    /// can read); the edge prints them. Never holds a secret.
    std::vector<std::string> warnings;
};

/// Where each setting may come from, in increasing precedence.
struct Sources {
    std::filesystem::path file;             ///< empty = no file
    std::map<std::string, std::string> env; ///< the environment (name -> value); MIXI_* are read
    /// Dotted keys from the command line ("server.port" -> "8081"), applied in the order given:
    /// a subcommand's own flags first, then `--set`, so `--set` wins over a flag.
    std::vector<std::pair<std::string, std::string>> overrides;
};

/// Defaults, then the file, then the environment (MIXI_SERVER_PORT -> server.port), then the
/// overrides; then the secret files (auth.admin_key_file, auth.account_secret_file) are read
/// and validate() runs. Unknown keys (in the file and the overrides; the environment may hold
/// other programs' MIXI_* names) and values of the wrong type are errors naming the key. In the
/// file an array element may not hold a comma (so an admin key "a,b" is an error, not two
/// keys); from the environment and the command line a list is comma-separated text. A secret
/// file that its group or others may read adds a warning to Config::warnings.
Expected<Config> load(const Sources& sources);

/// The checks no single value can make: ranges and relations between settings. The error names
/// the key and the value. load() calls it; call it again after changing a loaded Config.
Expected<void> validate(const Config& config);

/// The effective configuration as TOML (what `serve --print-config` shows); secrets hidden.
std::string to_toml(const Config& config);

} // namespace mixi::config
