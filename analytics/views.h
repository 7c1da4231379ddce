// Page views: counted in memory per (document, region, day), flushed to SQLite in batches, and
// turned into popularity snapshots for ranking. Nothing about a viewer is kept but the region
// (a country or continent code) and the day.
#pragma once

#include "analytics/database.h"
#include "common/error.h"
#include "common/popularity.h"

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace mixi::analytics {

/// `count` views of document `id` from `region` on `day` (days since 1970-01-01, UTC).
struct ViewCount {
    std::string id;
    std::string region;
    std::int64_t day = 0;
    std::int64_t count = 0;
};

/// The day (since 1970-01-01, UTC) of a Unix time.
std::int64_t day_of(std::int64_t unix_seconds);

/// A region code as stored: two ASCII capital letters (ISO 3166-1 alpha-2, a continent code,
/// or ZZ for unknown).
bool is_region_code(std::string_view code);

/// Counts views in memory until they are taken for a flush. Safe to use from many threads.
class ViewCounter {
  public:
    void add(std::string_view id, std::string_view region, std::int64_t day, std::int64_t n = 1);
    /// Everything counted since the last call; the counter starts again from empty.
    std::vector<ViewCount> take();
    std::size_t pending() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, std::int64_t>, std::int64_t> counts_;
};

struct ViewStats {
    std::int64_t rows = 0, documents = 0, views = 0;
    std::int64_t first_day = 0, last_day = 0;                  ///< 0 when empty
    std::vector<std::pair<std::string, std::int64_t>> regions; ///< views by region, most first
};

struct PopularityOptions {
    double half_life_days = 7; ///< a view counts half as much this many days later
};

/// Views older than this many half-lives weigh less than a millionth of a fresh one (2^-20):
/// popularity() leaves them out, so keeping counts longer than this serves no ranking.
inline constexpr int popularity_horizon_half_lives = 20;

/// View counts in the analytics store (analytics.sqlite of a data directory, shared by the
/// server and the CLI; or PostgreSQL, shared by several servers). One ViewStore per thread.
class ViewStore {
  public:
    static Expected<ViewStore> open(const StoreLocation& where);
    /// True for a store several servers write (PostgreSQL).
    bool shared() const { return db_.postgres(); }

    /// Adds counts in one transaction: all of them are stored, or none.
    Expected<void> add(const std::vector<ViewCount>& counts);
    Expected<ViewStats> stats();
    /// Views decayed to `today` with the half-life, globally and per region.
    Expected<std::shared_ptr<Popularity>> popularity(std::int64_t today,
                                                     const PopularityOptions& options);
    /// True when another connection (an import by the CLI, another server) changed the counts
    /// since the last call, and on the first call. This connection's own writes do not count
    /// (SQLite: PRAGMA data_version; PostgreSQL: a version every change bumps).
    Expected<bool> changed_elsewhere();
    /// Removes every count of a document; returns how many rows went.
    Expected<std::int64_t> remove_document(std::string_view id);
    /// Removes the counts of days before `first_day` (days since 1970-01-01), `batch_rows` at a
    /// time, each batch its own transaction; returns how many rows went.
    Expected<std::int64_t> remove_before(std::int64_t first_day, int batch_rows = 1000);
    /// The ids of the documents that have counts, in id order.
    Expected<std::vector<std::string>> documents();

  private:
    explicit ViewStore(Database db) : db_(std::move(db)) {}
    Expected<void> bump(); ///< PostgreSQL: counts a change in store_changes
    Database db_;
    std::optional<std::int64_t> seen_version_;
};

struct CsvProblem {
    std::size_t line = 0;
    std::string reason;
};

struct ImportReport {
    std::size_t imported = 0; ///< lines stored
    std::size_t skipped = 0;  ///< malformed lines, and documents that are not in the index
    std::int64_t views = 0;
};

struct ImportOptions {
    /// A URL to its document id; nullopt when no document has that URL.
    std::function<std::optional<std::string>(std::string_view url)> resolve_url;
    /// An id to itself when the document exists; nullopt when it does not (then the line is
    /// skipped). Unset: every id is taken as it is.
    std::function<std::optional<std::string>(std::string_view id)> resolve_id;
    bool stop_on_error = false; ///< the first bad line fails the import and nothing is stored
    std::function<void(const CsvProblem&)> on_problem;
};

/// The lines of a view-count CSV (the format of import_views_csv below), read one at a time:
/// the header, the fields and their checks, and the document's id. Stores nothing.
class ViewsCsvReader {
  public:
    explicit ViewsCsvReader(const ImportOptions& options) : options_(options) {}
    /// One line, without its line break: a count to store; nothing for a header, blank or
    /// comment line, or a count of 0; or why the line is skipped.
    std::expected<std::optional<ViewCount>, std::string> read(std::string_view raw);

  private:
    const ImportOptions& options_;
    enum class Column { guess, id, url } first_column_ = Column::guess;
    bool seen_first_ = false;
};

/// Imports counts exported from another analytics tool: CSV lines `document,region,day,count`
/// where document is an id or a URL (an `http://`, `https://` or `/` prefix marks a URL; a
/// header line `id,...` or `url,...` says which for every line), region a country code, day
/// YYYY-MM-DD. Fields may be double-quoted. Everything read is stored in one transaction.
Expected<ImportReport> import_views_csv(const std::filesystem::path& file, ViewStore& store,
                                        const ImportOptions& options);

} // namespace mixi::analytics
