// The search-term log: one raw row per search (kept `retention_days`), daily aggregates per
// (day, query, language, country) with searches, zero-result searches and an estimate of distinct
// searchers, and a daily volume per (day, language, country) without any text (both kept
// `aggregate_retention_days`). Queries are scrubbed before anything is stored, and searchers are
// counted without identifiers: a keyed hash of their network under a salt that rotates daily and
// lives only in memory feeds a distinct counter, and only its estimate is written.
//
// The aggregates are not a second raw log: once a day is over, SearchLog::fold keeps the text of
// a cell only when it reached the reports' thresholds (k searches, k_distinct searchers); the
// others are left as what the daily volume already counts (public trends may hold them a little
// longer, never past `retention_days`).
//
// The privacy rules of a search are all applied in one place, SearchLogBuffer::record_search,
// the only way a search gets into the log: fold and scrub the query, and under Sec-GPC / DNT
// count it in the daily volume only (no row, no account link, no text).
#pragma once

#include "analytics/database.h"
#include "common/error.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <openssl/types.h>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mixi::analytics {

/// Months since 1970-01 of a day (days since 1970-01-01), and the first day of a month.
std::int64_t month_of(std::int64_t day);
std::int64_t first_day_of_month(std::int64_t month);

// The scrubber's settings (/v1/privacy publishes them).

/// Longer queries are cut to this many code points.
inline constexpr std::size_t max_query_chars = 100;
/// A run of at least this many digits becomes <number>.
inline constexpr std::size_t min_number_digits = 6;
/// At least this many digits with phone-number separators between them become <phone>.
inline constexpr std::size_t min_phone_digits = 9;
/// What scrub_query replaces, in words: "e-mail addresses", "@handles", "phone numbers", "runs
/// of 6 or more digits", "URLs", "control and invisible formatting characters".
std::vector<std::string> scrubbed_kinds();

/// A query as it may be stored. Control characters (C0, DEL, C1) and Unicode spaces become
/// spaces, invisible formatting characters (zero-width, bidirectional controls, soft hyphen, byte
/// order mark) go, invalid UTF-8 becomes U+FFFD. Then, word by word: a word with a URL scheme
/// ("https://") or a bare URL (a dotted host whose last label is two or more letters, starting
/// with "www." or followed by '/', '?', '#' or a port) becomes <url>; a word with "name@domain"
/// (no top-level domain needed: "taro@gmail") becomes <email>; a word starting with '@' and a
/// name becomes <handle>. Then min_phone_digits or more digits with separators between them
/// (spaces, . ( ) - ~ and the dashes Japanese input produces: ー ‐ ‑ ‒ – — ― − 〜 ─) become
/// <phone>, and min_number_digits or more digits in a row <number>. Spaces are collapsed and the
/// result cut to `max_chars` code points. Expects text that is already case-folded by the caller's
/// analyzer (NFKC case folding turns full-width digits, '－' and '～' into ASCII).
std::string scrub_query(std::string_view folded, std::size_t max_chars = max_query_chars);

/// The Global Privacy Control / Do Not Track rule: a request asks not to be tracked when its
/// Sec-GPC or its DNT header is "1".
bool asks_not_to_track(std::string_view sec_gpc, std::string_view dnt);

/// Counts distinct 64-bit keys: exactly up to 1,024 of them, then with a HyperLogLog of 4,096
/// registers (about 1.6% standard error).
class DistinctCounter {
  public:
    void add(std::uint64_t key);
    std::uint64_t estimate() const;

  private:
    std::unordered_set<std::uint64_t> exact_;
    std::vector<std::uint8_t> registers_; ///< empty while exact
};

/// The network a searcher is counted by: an IPv4 address's /24, an IPv6 address's /48 (an
/// IPv4-mapped IPv6 address is its IPv4 address), as text ("81.2.69.0/24", "2001:db8:1::/48").
/// One host with many User-Agents, or many addresses of one network, is one searcher, so one
/// client cannot pass the distinct-searcher threshold alone. Empty for anything that is not an
/// address.
std::string searcher_network(std::string_view address);

/// Fills a buffer with random bytes; false when it cannot (RAND_bytes by default).
using RandomFill = std::function<bool(unsigned char*, std::size_t)>;

/// A searcher's key and the day whose salt made it.
struct SearcherKey {
    std::int64_t day = 0;
    std::uint64_t key = 0;
};

/// Keys searchers by HMAC-SHA256(salt, searcher_network(address)). The salt is random, held in
/// memory only, and replaced when the day changes, so a key cannot be linked across days or
/// recomputed after a restart. The salt's day never goes backwards: asked for a day older than
/// the current salt's (a clock that stepped back), the key is made with the current salt and
/// says so in SearcherKey::day; an older day's salt is never made again. When no random salt can
/// be drawn the key fails closed: nullopt, and the search counts no searcher.
///
/// Servers that share a store (PostgreSQL) share the salt instead, so that one network that
/// reaches two servers on one day is one key: after share_secrets(), the salt of a day is the
/// secret given to set_secret (SearchLog::shared_secret, read off the search path), never
/// drawn here, and a day whose secret this process does not have yet gets no key.
class SearcherKeys {
  public:
    explicit SearcherKeys(RandomFill random = {});
    ~SearcherKeys();
    SearcherKeys(const SearcherKeys&) = delete;
    SearcherKeys& operator=(const SearcherKeys&) = delete;

    std::optional<SearcherKey> key(std::int64_t day, std::string_view address);

    /// From now on, salts are only the days' shared secrets.
    void share_secrets();
    /// The shared secret of `day` (at least 16 bytes; replaces the one this process had for
    /// that day). Secrets of days before the current one are forgotten: before the day of the
    /// latest key, and before the day before `day` (today's and tomorrow's are set together).
    void set_secret(std::int64_t day, std::string_view secret);
    /// True when the secret of `day` is here (shared mode).
    bool has_secret(std::int64_t day);

  private:
    std::mutex mutex_;
    RandomFill random_;
    std::int64_t day_ = -1;
    EVP_MAC* hmac_ = nullptr;      ///< HMAC, fetched once
    EVP_MAC_CTX* keyed_ = nullptr; ///< HMAC-SHA256 keyed with the day's salt, copied per key
    bool shared_ = false;
    std::map<std::int64_t, EVP_MAC_CTX*> secrets_; ///< shared mode: day -> keyed context
    EVP_MAC_CTX* keyed_with(const unsigned char* salt, std::size_t size);
};

/// One search as it was made: the query as typed. SearchLogBuffer::record_search turns it into
/// what may be stored.
struct RawSearch {
    std::int64_t time = 0; ///< Unix seconds
    std::string query, lang, country;
    std::string account; ///< a verified account id for signed-in searches; empty otherwise
    std::uint64_t results = 0;
    bool do_not_track = false; ///< asks_not_to_track: daily volume only
    /// SearcherKeys::key; none when no key could be made: the search counts no searcher.
    std::optional<std::uint64_t> searcher;
};

/// Case folding for queries before they are scrubbed (the server passes its analyzer's NFKC
/// case folding), so that the scrubber sees "HTTPS://" as "https://" and full-width digits as
/// digits.
using QueryFold = std::function<std::string(std::string_view)>;

/// One search as the log stores it, made only by SearchLogBuffer::record_search: `query`
/// folded and scrubbed.
struct SearchEvent {
    std::int64_t time = 0; ///< Unix seconds
    std::string query, lang, country;
    std::uint64_t results = 0;
    std::string account; ///< signed-in searches only; empty otherwise
    bool raw_row = true; ///< false under Sec-GPC / DNT: daily volume only, no row, no text
    std::optional<std::uint64_t> searcher; ///< SearcherKeys::key
};

/// A raw row as exported for an account.
struct LoggedSearch {
    std::int64_t id = 0, hour = 0; ///< hour: Unix seconds of the start of the hour
    std::string query, lang, country;
    std::int64_t results = 0;
};

/// An account's history as exported: {"account", "searches": [{"id", "hour", "query", "lang",
/// "country", "results"}]}.
std::string export_json(std::string_view account, const std::vector<LoggedSearch>& history);

struct RetentionOptions {
    int retention_days = 30;            ///< raw rows, and any text below the thresholds
    int aggregate_retention_days = 400; ///< aggregates above the thresholds, and daily volume
    int batch_rows = 1000;              ///< rows deleted per statement
    /// A closed day's cell keeps its text only with at least `k` searches and `k_distinct`
    /// distinct searchers (the reports' thresholds, analytics.report_k and report_k_distinct).
    std::uint64_t k = 10, k_distinct = 5;
    /// Public trends (0: off): cells below the thresholds that a release of `trend_days` days
    /// (analytics/trends.h, unfiltered, with this epsilon and delta) still needs are kept until
    /// it is made: the open period, the latest complete one until it is released, and the one
    /// before it, at most; never past retention_days.
    int trend_days = 0;
    double trend_epsilon = 1.0, trend_delta = 1e-6;
};

struct PurgeReport {
    std::int64_t rows = 0, aggregates = 0;
    std::int64_t folded = 0; ///< cells below the thresholds whose text went (fold)
};

struct FoldReport {
    bool due = false;        ///< a day closed, or trends released cells, since the last fold
    std::int64_t merged = 0; ///< cells above the thresholds added to the monthly aggregates
    std::int64_t folded = 0; ///< cells below the thresholds whose text was deleted
};

/// Contribution bound for differentially private releases (analytics/trends.h): one searcher
/// (one daily key) adds to the `bounded` count of at most this many distinct queries a day, and
/// to each at most once.
inline constexpr std::size_t max_terms_per_searcher_day = 4;

/// Collects searches in memory until they are flushed (thread-safe).
class SearchLogBuffer {
  public:
    /// `fold` runs on the threads that call record_search.
    explicit SearchLogBuffer(QueryFold fold);

    /// Records one search with the log's privacy rules: the query is folded and scrubbed (and
    /// the search dropped when nothing is left of it); under Sec-GPC / DNT it only counts in
    /// the daily volume, with no raw row, no account link and no text in any aggregate.
    void record_search(RawSearch search);

    class Batch {
      public:
        /// Raw rows to append: only record_search makes them.
        const std::vector<SearchEvent>& rows() const { return rows_; }
        /// Searches that count in the daily volume only (Sec-GPC / DNT): (day, lang, country) ->
        /// searches, zero-result searches. No text.
        std::map<std::tuple<std::int64_t, std::string, std::string>,
                 std::pair<std::int64_t, std::int64_t>>
            volume_only;
        /// (day, query, lang, country) -> searches, zero-result searches, distinct estimate,
        /// and searchers counted under the contribution bound. Open for synthetic aggregates
        /// (bench/report_bench.cc); searches go through record_search.
        struct Cell {
            std::int64_t searches = 0, zero = 0;
            std::uint64_t distinct = 0;
            std::int64_t bounded = 0;
            /// The searcher keys seen since the last take, each once: a shared store
            /// (PostgreSQL) counts distinct searchers from every server's keys.
            std::vector<std::uint64_t> keys;
        };
        std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, Cell> cells;
        /// For a batch the store could not take: its rows lose their account links (the
        /// searches still count), so that an account deleted through another server while the
        /// batch waits cannot come back with it.
        void unlink_accounts();

      private:
        friend class SearchLogBuffer;
        friend struct HeldEventsCodec; ///< reads back what a stopped server held (held_events.h)
        std::vector<SearchEvent> rows_;
    };
    /// The rows and the aggregate changes since the last call. Distinct counters are kept per
    /// cell for the current and the previous day (their estimates are what is stored).
    Batch take();

  private:
    void add(SearchEvent event);
    QueryFold fold_;
    std::mutex mutex_;
    std::vector<SearchEvent> rows_;
    std::map<std::tuple<std::int64_t, std::string, std::string>,
             std::pair<std::int64_t, std::int64_t>>
        volume_only_;
    struct Counting {
        std::int64_t searches = 0, zero = 0, bounded = 0;
        DistinctCounter distinct;
        std::vector<std::uint64_t> keys; ///< since the last take
        bool dirty = false;
    };
    std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, Counting> cells_;
    /// 1 when this search may add to its query's bounded count: the searcher's first search of
    /// that query today, among their first max_terms_per_searcher_day queries.
    int bounded_contribution(std::int64_t day, std::uint64_t searcher, std::string_view query);
    /// Today's searchers -> hashes of the queries they added to (memory only, like the salt).
    std::int64_t bound_day_ = -1;
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> contributions_;
};

/// The log in the analytics store (analytics.sqlite of a data directory, or PostgreSQL). One
/// SearchLog per thread.
class SearchLog {
  public:
    static Expected<SearchLog> open(const StoreLocation& where);
    bool shared() const { return db_.postgres(); }

    /// PostgreSQL: the searcher secret of `day` that every server of the store keys searchers
    /// with (SearcherKeys::set_secret), made by the first server that asks (32 bytes from
    /// RAND_bytes) and kept only in an UNLOGGED table until the day is over (fold). A day a
    /// fold has closed has none: ErrorCode::not_found, and nothing is made for it.
    Expected<std::string> shared_secret(std::int64_t day);

    /// Stores a batch in one transaction. A cell of a day already folded makes the next fold
    /// due from that day.
    Expected<void> add(const SearchLogBuffer::Batch& batch);
    /// Folds (see fold), then deletes raw rows older than retention_days and aggregates older
    /// than aggregate_retention_days before `now`, in batches.
    Expected<PurgeReport> purge(std::int64_t now, const RetentionOptions& options);
    /// Closes the days before the day of `now`: their cells that reached the thresholds
    /// (options.k, options.k_distinct) are added to the monthly aggregates, and the others lose
    /// their text, leaving only what the daily volume counts (public trends may keep them, see
    /// RetentionOptions). Cheap when nothing is due (one state read); call it after every flush
    /// that may have closed a day, and from an operations-level purge.
    Expected<FoldReport> fold(std::int64_t now, const RetentionOptions& options);

    Expected<std::vector<LoggedSearch>> account_history(std::string_view account);
    /// Deletes an account's rows: all, or those in [from, to) (Unix seconds). Returns how many.
    Expected<std::int64_t> delete_account(std::string_view account,
                                          std::optional<std::int64_t> from = std::nullopt,
                                          std::optional<std::int64_t> to = std::nullopt);
    /// Deletes one row of an account.
    Expected<std::int64_t> delete_entry(std::string_view account, std::int64_t id);

    Expected<std::int64_t> raw_rows();
    Expected<std::int64_t> oldest_raw_hour(); ///< 0 when there are none

  private:
    explicit SearchLog(Database db) : db_(std::move(db)) {}
    /// PostgreSQL: the batch in a few statements (arrays), distinct searchers from the keys.
    Expected<void> add_batched(const SearchLogBuffer::Batch& batch);
    /// PostgreSQL: the secrets of days before `today` and the keys of days before yesterday go.
    Expected<void> forget_closed_days(std::int64_t today);
    Database db_;
};

} // namespace mixi::analytics
