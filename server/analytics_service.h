// The server's side of analytics. Searches and page views only touch memory: views go to a
// counter and searches to a buffer. A background thread runs an Asio io_context of its own whose
// timers flush both to analytics.sqlite every few seconds (and at shutdown), rebuild the
// popularity snapshot when the stored counts changed, and delete log rows past their retention in
// small batches. The routes that read or change what is stored (the admin API, /v1/trends) open
// SQLite themselves and wait for a flush (sync(), forget_document()): they are Work::blocking
// routes, which App::handle_async runs on the App's worker pool, so SQLite never runs on an I/O
// thread.
#pragma once

#include "analytics/search_log.h"
#include "analytics/views.h"
#include "analyzers/analyzer.h"
#include "common/error.h"
#include "common/popularity.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace mixi::server {

struct AnalyticsOptions {
    analytics::StoreLocation store; ///< analytics.database
    /// The index the searchers read: each snapshot is resolved to its document ids here, once,
    /// instead of in every searcher thread. Empty: the searchers resolve it themselves.
    std::filesystem::path index_dir;
    std::chrono::milliseconds flush_interval{5'000};
    /// This server's own flushes are reflected in the snapshot at most this often; counts
    /// another process stored (an import) at the next flush tick.
    std::chrono::milliseconds refresh_interval{60'000};
    analytics::PopularityOptions popularity;
    analytics::RetentionOptions retention;
    int view_retention_days = 140; ///< page-view counts
    /// At start and this often: operations::purge_expired (with index_dir, when set, for the
    /// counts of documents no longer in the index).
    std::chrono::milliseconds purge_interval{3'600'000};
    std::uint64_t report_k = 10, report_k_distinct = 5; ///< for the popular searches below
    /// While the store does not answer (PostgreSQL down or unreachable), searches and view
    /// counts are held in memory up to this many, then the oldest are dropped and counted.
    std::uint64_t max_held_events = 100'000;
    /// server.data_dir: what is still held when the server stops is saved here
    /// (held_file_name) and read back at the next start. Empty: nothing is saved.
    std::filesystem::path data_dir;
    /// The wall clock (Unix seconds); tests replace it.
    std::function<std::int64_t()> now;
};

/// Whether analytics reach their store (GET /healthz, /metrics).
struct AnalyticsHealth {
    bool store_ok = true;             ///< the last flush stored everything
    std::uint64_t held_events = 0;    ///< searches and view counts waiting in memory
    std::uint64_t dropped_events = 0; ///< dropped past the bound since start
};

/// In AnalyticsOptions::data_dir: the searches and view counts a server held when it stopped
/// (analytics/held_events.h), mode 0600, deleted once the store took them.
inline constexpr std::string_view held_file_name = "analytics-held.jsonl";

class AnalyticsService {
  public:
    /// Opens the store, builds the first snapshot and starts the background thread.
    static Expected<std::unique_ptr<AnalyticsService>> start(AnalyticsOptions options);
    /// Stops the thread after a last flush; what that flush could not store is saved in
    /// options.data_dir.
    ~AnalyticsService();

    /// One view of document `id` from `region`, today.
    void count(std::string_view id, std::string_view region);
    /// The snapshot to rank with now.
    PopularitySnapshot popularity() const { return snapshot_.load(); }
    /// The last 30 days' most searched queries that passed the reports' thresholds on at least
    /// analytics::popular_min_days (3) different days (at most 1,000, most searched first), for
    /// /v1/suggest; rebuilt with the snapshot.
    std::shared_ptr<const std::vector<std::string>> popular_searches() const {
        return popular_.load();
    }

    /// Keeps one search by the client at `address` in memory until the next flush, which
    /// records it on the background thread (SearchLogBuffer::record_search: the query folded
    /// and scrubbed, and the rest of the log's rules). The clock is read once: that reading
    /// is the search's time and picks the day whose salt keys the searcher (by network, see
    /// SearcherKeys); the address is not kept. The query is never written as it was typed.
    void log_search(analytics::RawSearch search, std::string_view address);

    /// Removes a document's view counts (stored and in memory) and ranks without them from now.
    Expected<void> forget_document(std::string_view id);

    /// Stores everything counted so far before returning (for the admin API: a deletion must
    /// also cover searches still in memory).
    void sync();

    const AnalyticsOptions& options() const { return options_; }

    AnalyticsHealth health() const;
    /// health() in the Prometheus text format, for GET /metrics.
    std::string metrics_text() const;

  private:
    explicit AnalyticsService(AnalyticsOptions options);
    /// Opens the stores if they are not open yet (a PostgreSQL server down at start is tried
    /// again at every flush), and then builds the first snapshot.
    Expected<void> open_stores();
    void schedule_flush();
    void schedule_purge();
    void tick(); ///< flush, and rebuild the snapshot when due
    bool flush();
    void fold(std::int64_t now); ///< SearchLog::fold, once a day closes
    void refresh();
    void purge();
    /// A shared store: the days' searcher secrets into keys_.
    void refresh_secrets();
    static std::uint64_t searches_in(const analytics::SearchLogBuffer::Batch& batch);
    /// Drops the oldest held events past options_.max_held_events, counting them.
    void hold_within_bound();
    void failed(std::string_view what, const Error& error);
    /// At start: the events saved by save_held, into the held queues (within the bound); a file
    /// that cannot be read is moved aside to "<name>.bad".
    void load_held();
    /// At stop, after the last flush: what is still held, to the file (written to a temporary
    /// name, then renamed); no file when nothing is held.
    void save_held();
    std::filesystem::path held_path() const { return options_.data_dir / held_file_name; }
    bool held_from_file_ = false; ///< the file's events were loaded and not all stored yet
    /// Batches the store did not take yet, oldest first, and the searches in them.
    std::deque<analytics::SearchLogBuffer::Batch> held_batches_;
    std::uint64_t held_searches_ = 0;
    std::atomic<bool> store_ok_{true};
    std::atomic<std::uint64_t> held_{0}, dropped_{0};
    std::atomic<std::uint64_t> flush_us_{0}, flushes_{0}, flush_max_us_{0}; ///< timer flushes
    /// Resolves a new snapshot in the index's current database and makes it the one to rank
    /// with.
    void publish(std::shared_ptr<Popularity> snapshot);

    AnalyticsOptions options_;
    std::optional<analytics::ViewStore> store_; ///< these three: the background thread only
    std::optional<analytics::SearchLog> log_store_;
    analyzers::Analyzer analyzer_;
    analytics::SearchLogBuffer buffer_{[this](std::string_view q) { return analyzer_.fold(q); }};
    analytics::ViewCounter counter_;
    analytics::SearcherKeys keys_;
    std::mutex pending_mutex_;
    std::vector<analytics::RawSearch> pending_; ///< raw queries, for at most one flush interval
    std::int64_t last_day_ = 0;   ///< the newest day a search or flush saw (never goes back)
    std::int64_t folded_on_ = -1; ///< the day of the last fold that succeeded (service thread)
    std::atomic<PopularitySnapshot> snapshot_;
    std::atomic<std::shared_ptr<const std::vector<std::string>>> popular_;
    void refresh_popular_searches();
    bool wrote_ = false;           ///< views stored since the last refresh
    bool searches_stored_ = false; ///< since popular searches were last listed
    std::chrono::steady_clock::time_point last_popular_;
    std::chrono::steady_clock::time_point last_refresh_;
    std::string resolved_in_; ///< the database the current snapshot was resolved in
    boost::asio::io_context ioc_;
    boost::asio::steady_timer flush_timer_{ioc_}, purge_timer_{ioc_};
    std::thread thread_;
};

} // namespace mixi::server
