// Reports for analysts from the daily search-term aggregates: popular terms, zero-result terms
// (content gaps), trending terms and search volume over time. A term is shown only when it
// reached both thresholds in the reported period: at least `k` searches, and at least
// `k_distinct` distinct searchers on one day (distinct searchers cannot be added up across days,
// because the daily salt makes the same person a different searcher each day; taking the best
// single day never overstates them). Everything below the thresholds is folded into one "other"
// count. No output path shows a term below the thresholds.
#pragma once

#include "analytics/database.h"
#include "common/error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mixi::analytics {

enum class ReportKind { popular, zero_results, trending, volume };

/// "popular", "zero-results", "trending", "volume"; nullopt for anything else.
std::optional<ReportKind> report_kind(std::string_view name);
std::string_view report_name(ReportKind kind);

struct ReportRequest {
    ReportKind kind = ReportKind::popular;
    std::int64_t from_day = 0, to_day = 0; ///< inclusive, days since 1970-01-01
    std::string country, lang;             ///< "" = all
    std::size_t top = 20;
    std::uint64_t k = 10, k_distinct = 5;
    /// Show only terms that reached both thresholds in one cell on at least this many different
    /// days of the period (the public completions of /v1/suggest ask for 3).
    std::uint64_t min_days = 1;
};

struct TermRow {
    std::string query;
    std::int64_t searches = 0, zero_results = 0;
    std::int64_t searchers = 0; ///< distinct searchers on the best day
    std::int64_t previous = 0;  ///< trending: searches in the period before
};

struct DayRow {
    std::int64_t day = 0, searches = 0, zero_results = 0;
};

struct Report {
    ReportRequest request;
    std::vector<TermRow> terms; ///< popular, zero-results, trending: at most `top`, ranked
    std::vector<DayRow> days;   ///< volume: every day of the period
    std::int64_t total_searches = 0;
    /// Searches of terms below the thresholds or past `top` (zero-results: their zero-result
    /// searches), folded into one count.
    std::int64_t other_searches = 0;
};

/// The days of a report when no first day is given: the last day and the days before it.
inline constexpr int default_report_days = 30;

/// Public completions (/v1/suggest's popular searches) need a term over both thresholds on at
/// least this many different days of their period: one day of fake searchers cannot push a term
/// into everyone's autocomplete, nor tell whether a real person searched a guessed term.
inline constexpr std::uint64_t popular_min_days = 3;

struct ReportPeriod {
    std::int64_t from_day = 0, to_day = 0; ///< inclusive, days since 1970-01-01
};

/// The period a report covers, from an optional first and last date (Unix seconds, any time of
/// the day): the last day defaults to the day of `now`, the first to default_report_days days
/// ending on the last.
ReportPeriod report_period(std::int64_t now, std::optional<std::int64_t> from = std::nullopt,
                           std::optional<std::int64_t> to = std::nullopt);

/// Builds a report from the aggregates in `db` (an analytics.sqlite).
Expected<Report> build_report(Database& db, const ReportRequest& request);

/// Output formats. CSV quotes fields that need it and defuses spreadsheet formulas (a field
/// starting with =, +, -, @, tab or carriage return gets a leading apostrophe).
std::string report_csv(const Report& report);
std::string report_json(const Report& report);
std::string report_table(const Report& report);

/// Trending order: growth (now + 1) / (before + 1) of a against b, compared without division:
/// negative when a grew less, 0 when equally, positive when more.
inline std::int64_t compare_growth(std::int64_t a_now, std::int64_t a_before, std::int64_t b_now,
                                   std::int64_t b_before) {
    return (a_now + 1) * (b_before + 1) - (b_now + 1) * (a_before + 1);
}

/// A day (days since 1970-01-01) as YYYY-MM-DD.
std::string day_text(std::int64_t day);

/// One CSV field, escaped as report_csv does.
std::string csv_field(std::string_view text);

} // namespace mixi::analytics
