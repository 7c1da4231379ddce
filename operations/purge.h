// Retention: deleting everything kept past its time, and what outlived its document. The server
// runs it at start and on its purge timer, `mixi-search purge` offline (a systemd timer runs it
// hourly while the server is down), so the two cannot differ in what a purge removes.
#pragma once

#include "analytics/search_log.h"
#include "common/error.h"

#include <cstdint>
#include <filesystem>

namespace mixi::operations {

/// The PostgreSQL advisory lock a purge holds ("purge" in ASCII).
inline constexpr std::int64_t purge_lock_key = 0x7075726765;

struct PurgeOptions {
    analytics::StoreLocation store; ///< analytics.database
    /// The index the counts belong to: the counts of documents not in it go. Empty, or no index
    /// there yet (no such directory, or no version built in it): they are kept
    /// (PurgeReport::index_checked says which). Something there that cannot be read is an
    /// error.
    std::filesystem::path index;
    analytics::RetentionOptions log; ///< search-log rows and aggregates; also trend releases
    int view_retention_days = 140;   ///< page-view counts (analytics.view_retention_days)
    std::int64_t now = 0;            ///< Unix seconds
};

struct PurgeReport {
    analytics::PurgeReport log;      ///< search-log rows and aggregates
    std::int64_t trend_releases = 0; ///< releases whose period ended before the aggregates'
    std::int64_t expired_views = 0;  ///< view-count rows older than view_retention_days
    std::int64_t gone_documents = 0; ///< documents not in the index whose counts went
    std::int64_t gone_views = 0;     ///< their view-count rows
    bool index_checked = false;      ///< the index was there to compare with
    /// Nothing done: another server or CLI was purging the same PostgreSQL store.
    bool skipped = false;
};

/// With PostgreSQL, only one process purges at a time (an advisory lock); another that tries
/// meanwhile skips (PurgeReport::skipped). In this order: the search log's purge
/// (analytics::SearchLog::purge), trend releases whose period ended before the aggregates'
/// retention, view counts of days older than view_retention_days, the counts of documents that are
/// not in the index, and then a WAL checkpoint that truncates analytics.sqlite-wal, so that (with
/// secure_delete, see analytics/database.h) nothing purged stays in the files. Stops at the first
/// failure.
Expected<PurgeReport> purge_expired(const PurgeOptions& options);

} // namespace mixi::operations
