#include "analytics/schema.h"

#include <string>
#include <vector>

namespace mixi::analytics {

namespace {

// Version 1 in SQLite: what stores made before the version table had, so that an existing
// analytics.sqlite is taken over as it is (IF NOT EXISTS, and the column it may lack).
constexpr const char* sqlite_v1 =
    "CREATE TABLE IF NOT EXISTS views ("
    " doc_id TEXT NOT NULL, region TEXT NOT NULL, day INTEGER NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY (doc_id, region, day)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS views_by_day ON views (day);"
    "CREATE TABLE IF NOT EXISTS searches ("
    " id INTEGER PRIMARY KEY, hour INTEGER NOT NULL, query TEXT NOT NULL,"
    " lang TEXT NOT NULL, country TEXT NOT NULL, results INTEGER NOT NULL, account TEXT);"
    "CREATE INDEX IF NOT EXISTS searches_by_hour ON searches (hour);"
    "CREATE INDEX IF NOT EXISTS searches_by_account ON searches (account)"
    " WHERE account IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS daily_terms ("
    " day INTEGER NOT NULL, query TEXT NOT NULL, lang TEXT NOT NULL, country TEXT NOT NULL,"
    " searches INTEGER NOT NULL, zero_results INTEGER NOT NULL, searchers INTEGER NOT NULL,"
    " bounded INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (day, query, lang, country)) WITHOUT ROWID;"
    // Reports: the few cells with enough distinct searchers, then one term's days.
    "CREATE INDEX IF NOT EXISTS daily_terms_by_searchers ON daily_terms (searchers, day);"
    // Covering (a term's sums never read the table): three times faster reports.
    "DROP INDEX IF EXISTS daily_terms_by_query;"
    "CREATE INDEX IF NOT EXISTS daily_terms_by_query_sums ON daily_terms"
    " (query, day, searches, zero_results, searchers);"
    // The same per month (searchers: the best day's), so that a report over a year reads
    // twelve rows per term and cell instead of 365.
    "CREATE TABLE IF NOT EXISTS monthly_terms ("
    " month INTEGER NOT NULL, query TEXT NOT NULL, lang TEXT NOT NULL, country TEXT NOT NULL,"
    " searches INTEGER NOT NULL, zero_results INTEGER NOT NULL, searchers INTEGER NOT NULL,"
    " PRIMARY KEY (month, query, lang, country)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS monthly_terms_by_searchers ON monthly_terms (searchers, month);"
    "DROP INDEX IF EXISTS monthly_terms_by_query;"
    "CREATE INDEX IF NOT EXISTS monthly_terms_by_query_sums ON monthly_terms"
    " (query, month, searches, zero_results, searchers);"
    // Searches per day, so that totals and volume never scan the terms.
    "CREATE TABLE IF NOT EXISTS daily_volume ("
    " day INTEGER NOT NULL, lang TEXT NOT NULL, country TEXT NOT NULL,"
    " searches INTEGER NOT NULL, zero_results INTEGER NOT NULL,"
    " PRIMARY KEY (day, lang, country)) WITHOUT ROWID;"
    // How far fold has gone: merged_before (days before it are in monthly_terms; a late cell
    // lowers it), secrets_from (PostgreSQL: no searcher secret for a day before it), folded_on
    // (the day of the last complete fold) and kept_from (the first day whose cells below the
    // thresholds trends still needed then).
    "CREATE TABLE IF NOT EXISTS search_log_state ("
    " name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    // One release per period, filters and budget: asking again reads it.
    "CREATE TABLE IF NOT EXISTS trend_releases ("
    " id INTEGER PRIMARY KEY, from_day INTEGER NOT NULL, to_day INTEGER NOT NULL,"
    " country TEXT NOT NULL, lang TEXT NOT NULL, epsilon REAL NOT NULL, delta REAL NOT NULL,"
    " max_terms INTEGER NOT NULL, threshold INTEGER NOT NULL, released_at INTEGER NOT NULL,"
    " UNIQUE (from_day, to_day, country, lang, epsilon, delta, max_terms));"
    "CREATE TABLE IF NOT EXISTS trend_release_terms ("
    " release INTEGER NOT NULL, query TEXT NOT NULL, searchers INTEGER NOT NULL,"
    " previous INTEGER NOT NULL, PRIMARY KEY (release, query)) WITHOUT ROWID;";

// Version 1 in PostgreSQL: the same tables (text compared byte by byte, as in SQLite), and
// what several servers share: a change counter for the view counts, and the day's searcher
// secret and searcher keys in UNLOGGED tables (never in the WAL, so never in a replica, a WAL
// archive or a base backup; emptied by a crash).
constexpr const char* postgres_v1 =
    "CREATE TABLE views ("
    " doc_id TEXT COLLATE \"C\" NOT NULL, region TEXT NOT NULL, day BIGINT NOT NULL,"
    " count BIGINT NOT NULL, PRIMARY KEY (doc_id, region, day));"
    "CREATE INDEX views_by_day ON views (day);"
    "CREATE TABLE searches ("
    " id BIGSERIAL PRIMARY KEY, hour BIGINT NOT NULL, query TEXT COLLATE \"C\" NOT NULL,"
    " lang TEXT NOT NULL, country TEXT NOT NULL, results BIGINT NOT NULL, account TEXT);"
    "CREATE INDEX searches_by_hour ON searches (hour);"
    "CREATE INDEX searches_by_account ON searches (account) WHERE account IS NOT NULL;"
    "CREATE TABLE daily_terms ("
    " day BIGINT NOT NULL, query TEXT COLLATE \"C\" NOT NULL, lang TEXT NOT NULL,"
    " country TEXT NOT NULL, searches BIGINT NOT NULL, zero_results BIGINT NOT NULL,"
    " searchers BIGINT NOT NULL, bounded BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (day, query, lang, country));"
    "CREATE INDEX daily_terms_by_searchers ON daily_terms (searchers, day);"
    "CREATE INDEX daily_terms_by_query_sums ON daily_terms"
    " (query, day, searches, zero_results, searchers);"
    "CREATE TABLE monthly_terms ("
    " month BIGINT NOT NULL, query TEXT COLLATE \"C\" NOT NULL, lang TEXT NOT NULL,"
    " country TEXT NOT NULL, searches BIGINT NOT NULL, zero_results BIGINT NOT NULL,"
    " searchers BIGINT NOT NULL, PRIMARY KEY (month, query, lang, country));"
    "CREATE INDEX monthly_terms_by_searchers ON monthly_terms (searchers, month);"
    "CREATE INDEX monthly_terms_by_query_sums ON monthly_terms"
    " (query, month, searches, zero_results, searchers);"
    "CREATE TABLE daily_volume ("
    " day BIGINT NOT NULL, lang TEXT NOT NULL, country TEXT NOT NULL,"
    " searches BIGINT NOT NULL, zero_results BIGINT NOT NULL, PRIMARY KEY (day, lang, country));"
    "CREATE TABLE search_log_state (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "CREATE TABLE trend_releases ("
    " id BIGSERIAL PRIMARY KEY, from_day BIGINT NOT NULL, to_day BIGINT NOT NULL,"
    " country TEXT NOT NULL, lang TEXT NOT NULL, epsilon DOUBLE PRECISION NOT NULL,"
    " delta DOUBLE PRECISION NOT NULL, max_terms BIGINT NOT NULL, threshold BIGINT NOT NULL,"
    " released_at BIGINT NOT NULL,"
    " UNIQUE (from_day, to_day, country, lang, epsilon, delta, max_terms));"
    "CREATE TABLE trend_release_terms ("
    " release BIGINT NOT NULL, query TEXT COLLATE \"C\" NOT NULL, searchers BIGINT NOT NULL,"
    " previous BIGINT NOT NULL, PRIMARY KEY (release, query));"
    // Bumped by every change to views: a server rebuilds its snapshot when others wrote.
    "CREATE TABLE store_changes (name TEXT PRIMARY KEY, version BIGINT NOT NULL);"
    "INSERT INTO store_changes VALUES ('views', 0);"
    "CREATE UNLOGGED TABLE searcher_secrets (day BIGINT PRIMARY KEY, secret BYTEA NOT NULL);"
    "CREATE UNLOGGED TABLE searcher_keys ("
    " day BIGINT NOT NULL, query TEXT COLLATE \"C\" NOT NULL, lang TEXT NOT NULL,"
    " country TEXT NOT NULL, searcher BIGINT NOT NULL,"
    " PRIMARY KEY (day, query, lang, country, searcher));";

// Version 2: what of a cell is already in monthly_terms (its searches and zero results then),
// so that a fold merges only what a late write (a cell of a closed day) added. The cells of days
// already merged count as merged: a cell kept below the thresholds (trends) that a late write
// lifts above them then adds only that write, an undercount, never a count twice.
constexpr const char* merged_v2_sqlite =
    "ALTER TABLE daily_terms ADD COLUMN merged_searches INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE daily_terms ADD COLUMN merged_zero INTEGER NOT NULL DEFAULT 0;"
    "UPDATE daily_terms SET merged_searches = searches, merged_zero = zero_results WHERE day <"
    " (SELECT value FROM search_log_state WHERE name = 'merged_before');";
constexpr const char* merged_v2_postgres =
    "ALTER TABLE daily_terms ADD COLUMN merged_searches BIGINT NOT NULL DEFAULT 0,"
    " ADD COLUMN merged_zero BIGINT NOT NULL DEFAULT 0;"
    "UPDATE daily_terms SET merged_searches = searches, merged_zero = zero_results WHERE day <"
    " (SELECT value FROM search_log_state WHERE name = 'merged_before');";

/// Each version's steps, from the previous one.
const std::vector<const char*>& steps(bool postgres) {
    static const std::vector<const char*> sqlite = {sqlite_v1, merged_v2_sqlite};
    static const std::vector<const char*> pg = {postgres_v1, merged_v2_postgres};
    return postgres ? pg : sqlite;
}

/// SQLite stores from before the bounded count lack its column (0 for their old days).
Expected<void> add_bounded_column(Database& db) {
    auto has_bounded =
        db.scalar("SELECT count(*) FROM pragma_table_info('daily_terms') WHERE name = 'bounded'");
    if (!has_bounded)
        return std::unexpected(has_bounded.error());
    if (*has_bounded == 0)
        return db.exec("ALTER TABLE daily_terms ADD COLUMN bounded INTEGER NOT NULL DEFAULT 0");
    return {};
}

} // namespace

Expected<void> migrate(Database& db) {
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::unexpected(tx.error());
    if (auto ok = db.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)");
        !ok)
        return std::unexpected(ok.error());
    auto version = db.scalar("SELECT coalesce(max(version), 0) FROM schema_version");
    if (!version)
        return std::unexpected(version.error());
    if (*version == schema_version)
        return tx->commit();
    if (*version > schema_version)
        return fail(ErrorCode::invalid_input,
                    db.description() + ": the analytics store is at schema version " +
                        std::to_string(*version) + ", newer than this program's (" +
                        std::to_string(schema_version) + "); upgrade mixi-search");
    const auto& all = steps(db.postgres());
    for (std::int64_t v = *version; v < schema_version; ++v) {
        if (auto ok = db.exec(all[static_cast<std::size_t>(v)]); !ok)
            return std::unexpected(ok.error());
        if (v == 0 && !db.postgres())
            if (auto ok = add_bounded_column(db); !ok)
                return std::unexpected(ok.error());
    }
    if (auto ok = db.exec("DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                          std::to_string(schema_version) + ")");
        !ok)
        return std::unexpected(ok.error());
    return tx->commit();
}

} // namespace mixi::analytics
