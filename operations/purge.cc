#include "operations/purge.h"

#include "analytics/trends.h"
#include "analytics/views.h"
#include "common/index_layout.h"
#include "indexer/index_writer.h"

namespace mixi::operations {

namespace {

constexpr std::int64_t seconds_per_day = 86400;

/// Whether `index` holds an index to compare with: false when there is none yet (no such
/// directory, or one with no version built in it); an error when something is there that
/// cannot be read.
Expected<bool> has_index(const std::filesystem::path& index) {
    if (index.empty())
        return false;
    std::error_code ec;
    const auto status = std::filesystem::status(index, ec);
    if (status.type() == std::filesystem::file_type::not_found)
        return false;
    if (ec)
        return fail(ErrorCode::index_unavailable,
                    "cannot read the index at " + index.string() + ": " + ec.message());
    if (!std::filesystem::is_directory(status))
        return fail(ErrorCode::index_unavailable, index.string() + " is not an index directory");
    // Listing it tells a directory that cannot be read from one with nothing built in it yet.
    std::filesystem::directory_iterator listing(index, ec);
    if (ec)
        return fail(ErrorCode::index_unavailable,
                    "cannot read the index at " + index.string() + ": " + ec.message());
    const unsigned shards = layout::shard_count(index);
    return !layout::resolve_database(shards > 0 ? layout::shard_dir(index, 0) : index).empty();
}

} // namespace

Expected<PurgeReport> purge_expired(const PurgeOptions& options) {
    PurgeReport report;
    auto db = analytics::Database::connect(options.store);
    if (!db)
        return std::unexpected(db.error());
    // One purge at a time for the whole service: with PostgreSQL, the server (or CLI) that takes
    // the lock purges and the others skip their turn (the lock goes with the connection).
    auto locked = db->try_lock(purge_lock_key);
    if (!locked)
        return std::unexpected(locked.error());
    if (!*locked) {
        report.skipped = true;
        return report;
    }
    struct Unlock {
        analytics::Database& db;
        ~Unlock() { db.unlock(purge_lock_key); }
    } unlock{*db};
    auto log = analytics::SearchLog::open(options.store);
    if (!log)
        return std::unexpected(log.error());
    auto purged = log->purge(options.now, options.log);
    if (!purged)
        return std::unexpected(purged.error());
    report.log = *purged;

    // A release is computed from daily aggregates: it goes when all of its period has.
    const std::int64_t aggregate_cutoff =
        (options.now - std::int64_t{options.log.aggregate_retention_days} * seconds_per_day) /
        seconds_per_day;
    auto releases = analytics::remove_releases_before(*db, aggregate_cutoff);
    if (!releases)
        return std::unexpected(releases.error());
    report.trend_releases = *releases;

    auto views = analytics::ViewStore::open(options.store);
    if (!views)
        return std::unexpected(views.error());
    // A day is kept whole while any of it is within the period, as the aggregates' days are.
    const std::int64_t view_cutoff =
        (options.now - std::int64_t{options.view_retention_days} * seconds_per_day) /
        seconds_per_day;
    auto expired = views->remove_before(view_cutoff, options.log.batch_rows);
    if (!expired)
        return std::unexpected(expired.error());
    report.expired_views = *expired;

    auto present = has_index(options.index);
    if (!present)
        return std::unexpected(present.error());
    if (*present) {
        auto ids = views->documents();
        if (!ids)
            return std::unexpected(ids.error());
        auto missing = indexer::missing_documents(options.index, *ids);
        if (!missing)
            return std::unexpected(missing.error());
        for (const std::string& id : *missing) {
            auto removed = views->remove_document(id);
            if (!removed)
                return std::unexpected(removed.error());
            report.gone_views += *removed;
        }
        report.gone_documents = static_cast<std::int64_t>(missing->size());
        report.index_checked = true;
    }

    if (auto ok = db->checkpoint(); !ok)
        return std::unexpected(ok.error());
    return report;
}

} // namespace mixi::operations
