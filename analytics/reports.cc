#include "analytics/reports.h"

#include "analytics/search_log.h"
#include "analytics/views.h"
#include "common/dates.h"

#include <algorithm>
#include <boost/json.hpp>
#include <iomanip>
#include <map>
#include <sstream>
#include <unordered_map>

namespace mixi::analytics {

std::optional<ReportKind> report_kind(std::string_view name) {
    if (name == "popular")
        return ReportKind::popular;
    if (name == "zero-results")
        return ReportKind::zero_results;
    if (name == "trending")
        return ReportKind::trending;
    if (name == "volume")
        return ReportKind::volume;
    return std::nullopt;
}

std::string_view report_name(ReportKind kind) {
    switch (kind) {
    case ReportKind::popular:
        return "popular";
    case ReportKind::zero_results:
        return "zero-results";
    case ReportKind::trending:
        return "trending";
    case ReportKind::volume:
        break;
    }
    return "volume";
}

ReportPeriod report_period(std::int64_t now, std::optional<std::int64_t> from,
                           std::optional<std::int64_t> to) {
    ReportPeriod p;
    p.to_day = day_of(to.value_or(now));
    p.from_day = from ? day_of(*from) : p.to_day - (default_report_days - 1);
    return p;
}

namespace {

/// "AND country = ?3 AND lang = ?4" as the filters ask (empty binds match everything).
constexpr const char* filters = " AND (?3 = '' OR country = ?3) AND (?4 = '' OR lang = ?4)";

struct Totals {
    std::int64_t searches = 0, zero = 0, best = 0;
};

/// Part of a period, read from one table: whole months from monthly_terms, days from
/// daily_terms.
struct Segment {
    bool monthly;
    std::int64_t lo, hi; ///< months or days, inclusive
};

/// [from, to] as the whole months inside it and the days around them. Months older than the
/// oldest monthly row may have been purged in part, and months with days not yet closed by
/// SearchLog::fold are not in monthly_terms: both are read day by day.
Expected<std::vector<Segment>> segments(Database& db, std::int64_t from, std::int64_t to) {
    auto oldest = db.scalar("SELECT coalesce(min(month), 1000000) FROM monthly_terms");
    if (!oldest)
        return std::unexpected(oldest.error());
    auto merged = db.scalar("SELECT coalesce((SELECT value FROM search_log_state"
                            " WHERE name = 'merged_before'), 0)");
    if (!merged)
        return std::unexpected(merged.error());
    std::int64_t first = month_of(from), last = month_of(to);
    if (first_day_of_month(first) < from)
        ++first;
    if (first_day_of_month(last + 1) - 1 > to)
        --last;
    while (last >= first && first_day_of_month(last + 1) > *merged)
        --last;
    first = std::max(first, *oldest);
    if (first > last)
        return std::vector<Segment>{{false, from, to}};
    std::vector<Segment> out;
    if (from < first_day_of_month(first))
        out.push_back({false, from, first_day_of_month(first) - 1});
    out.push_back({true, first, last});
    if (to >= first_day_of_month(last + 1))
        out.push_back({false, first_day_of_month(last + 1), to});
    return out;
}

/// Searches, zero-result searches and best single-cell distinct searchers of every term that
/// reached k_distinct distinct searchers in one cell (a day, or the best day of a month) of
/// the period.
Expected<void> term_totals(Database& db, const ReportRequest& r, std::int64_t from, std::int64_t to,
                           std::unordered_map<std::string, Totals>& out) {
    auto parts = segments(db, from, to);
    if (!parts)
        return std::unexpected(parts.error());
    // Candidates first, through the (searchers, day|month) indexes: in a heavy-tailed log few
    // cells reach k_distinct, and only their terms can be shown.
    std::vector<std::string> terms;
    std::vector<Statement> sums;
    for (const Segment& part : *parts) {
        const std::string table = part.monthly ? "monthly_terms" : "daily_terms";
        const std::string unit = part.monthly ? "month" : "day";
        auto candidates =
            db.prepare("SELECT DISTINCT query FROM " + table + " WHERE searchers >= ?5 AND " +
                       unit + " BETWEEN ?1 AND ?2" + filters);
        auto sum =
            db.prepare("SELECT sum(searches), sum(zero_results), max(searchers) FROM " + table +
                       " WHERE query = ?5 AND " + unit + " BETWEEN ?1 AND ?2" + filters);
        if (!candidates)
            return std::unexpected(candidates.error());
        if (!sum)
            return std::unexpected(sum.error());
        candidates->bind(1, part.lo).bind(2, part.hi).bind(3, r.country).bind(4, r.lang);
        candidates->bind(5, static_cast<std::int64_t>(r.k_distinct));
        if (auto ok = candidates->each([&] { terms.push_back(candidates->text(0)); }); !ok)
            return std::unexpected(ok.error());
        sums.push_back(std::move(*sum));
    }
    std::sort(terms.begin(), terms.end());
    terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
    for (const auto& term : terms) {
        Totals t;
        for (std::size_t i = 0; i < sums.size(); ++i) {
            Statement& sum = sums[i];
            sum.bind(1, (*parts)[i].lo).bind(2, (*parts)[i].hi).bind(3, r.country);
            sum.bind(4, r.lang).bind(5, term);
            auto row = sum.step();
            if (!row)
                return std::unexpected(row.error());
            if (*row) {
                t.searches += sum.int64(0);
                t.zero += sum.int64(1);
                t.best = std::max(t.best, sum.int64(2));
            }
            sum.reset();
        }
        out[term] = t;
    }
    return {};
}

Expected<std::pair<std::int64_t, std::int64_t>> volume_totals(Database& db, const ReportRequest& r,
                                                              std::int64_t from, std::int64_t to) {
    auto q = db.prepare(std::string("SELECT coalesce(sum(searches),0),"
                                    " coalesce(sum(zero_results),0) FROM daily_volume"
                                    " WHERE day BETWEEN ?1 AND ?2") +
                        filters);
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, from).bind(2, to).bind(3, r.country).bind(4, r.lang);
    auto row = q->step();
    if (!row)
        return std::unexpected(row.error());
    return std::make_pair(q->int64(0), q->int64(1));
}

} // namespace

Expected<Report> build_report(Database& db, const ReportRequest& r) {
    Report report;
    report.request = r;
    if (r.to_day < r.from_day)
        return fail(ErrorCode::invalid_argument, "the period ends before it starts");

    if (r.kind == ReportKind::volume) {
        auto q = db.prepare(std::string("SELECT day, sum(searches), sum(zero_results) FROM"
                                        " daily_volume WHERE day BETWEEN ?1 AND ?2") +
                            filters + " GROUP BY day ORDER BY day");
        if (!q)
            return std::unexpected(q.error());
        q->bind(1, r.from_day).bind(2, r.to_day).bind(3, r.country).bind(4, r.lang);
        std::map<std::int64_t, DayRow> by_day;
        for (std::int64_t d = r.from_day; d <= r.to_day && by_day.size() < 4000; ++d)
            by_day[d] = {d, 0, 0};
        if (auto ok = q->each([&] {
                by_day[q->int64(0)] = {q->int64(0), q->int64(1), q->int64(2)};
                report.total_searches += q->int64(1);
            });
            !ok)
            return std::unexpected(ok.error());
        for (auto& [day, row] : by_day)
            report.days.push_back(row);
        return report;
    }

    std::unordered_map<std::string, Totals> totals, previous;
    if (auto ok = term_totals(db, r, r.from_day, r.to_day, totals); !ok)
        return std::unexpected(ok.error());
    auto volume = volume_totals(db, r, r.from_day, r.to_day);
    if (!volume)
        return std::unexpected(volume.error());
    report.total_searches = r.kind == ReportKind::zero_results ? volume->second : volume->first;

    if (r.kind == ReportKind::trending) {
        const std::int64_t length = r.to_day - r.from_day + 1;
        if (auto ok = term_totals(db, r, r.from_day - length, r.from_day - 1, previous); !ok)
            return std::unexpected(ok.error());
    }

    // Terms that reached both thresholds in one cell on at least min_days different days.
    std::unordered_map<std::string, std::int64_t> days_over;
    if (r.min_days > 1) {
        auto q = db.prepare(std::string("SELECT query, count(DISTINCT day) FROM daily_terms"
                                        " WHERE day BETWEEN ?1 AND ?2") +
                            filters + " AND searchers >= ?5 AND searches >= ?6 GROUP BY query");
        if (!q)
            return std::unexpected(q.error());
        q->bind(1, r.from_day).bind(2, r.to_day).bind(3, r.country).bind(4, r.lang);
        q->bind(5, static_cast<std::int64_t>(r.k_distinct)).bind(6, static_cast<std::int64_t>(r.k));
        if (auto ok = q->each([&] { days_over[q->text(0)] = q->int64(1); }); !ok)
            return std::unexpected(ok.error());
    }

    std::vector<TermRow> shown;
    for (const auto& [term, t] : totals) {
        if (r.min_days > 1) {
            auto d = days_over.find(term);
            if (d == days_over.end() || d->second < static_cast<std::int64_t>(r.min_days))
                continue; // not on enough days: only in "other"
        }
        if (t.searches < static_cast<std::int64_t>(r.k) ||
            t.best < static_cast<std::int64_t>(r.k_distinct))
            continue; // below the thresholds: only in "other"
        TermRow row{term, t.searches, t.zero, t.best, 0};
        if (r.kind == ReportKind::zero_results && t.zero == 0)
            continue;
        if (r.kind == ReportKind::trending) {
            // The previous period's count is shown only when it passed the thresholds there
            // too; otherwise it counts as 0 (a term new to the reports).
            auto p = previous.find(term);
            if (p != previous.end() && p->second.searches >= static_cast<std::int64_t>(r.k) &&
                p->second.best >= static_cast<std::int64_t>(r.k_distinct))
                row.previous = p->second.searches;
            if (row.searches <= row.previous)
                continue;
        }
        shown.push_back(std::move(row));
    }
    auto rank = [&](const TermRow& a, const TermRow& b) {
        if (r.kind == ReportKind::zero_results && a.zero_results != b.zero_results)
            return a.zero_results > b.zero_results;
        if (r.kind == ReportKind::trending) {
            if (const auto g = compare_growth(a.searches, a.previous, b.searches, b.previous))
                return g > 0;
        }
        if (a.searches != b.searches)
            return a.searches > b.searches;
        return a.query < b.query;
    };
    std::sort(shown.begin(), shown.end(), rank);
    if (shown.size() > r.top)
        shown.resize(r.top);
    std::int64_t listed = 0;
    for (const auto& row : shown)
        listed += r.kind == ReportKind::zero_results ? row.zero_results : row.searches;
    report.terms = std::move(shown);
    report.other_searches = std::max<std::int64_t>(0, report.total_searches - listed);
    return report;
}

std::string csv_field(std::string_view text) {
    // A spreadsheet would run a field that starts like a formula.
    const bool formula = !text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' ||
                                           text[0] == '@' || text[0] == '\t' || text[0] == '\r');
    std::string s = formula ? "'" : "";
    s.append(text);
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

std::string day_text(std::int64_t day) {
    return format_date(day * 86400).substr(0, 10);
}

namespace {} // namespace

std::string report_csv(const Report& report) {
    std::string out;
    if (report.request.kind == ReportKind::volume) {
        out = "day,searches,zero_results\r\n";
        for (const auto& d : report.days)
            out += day_text(d.day) + "," + std::to_string(d.searches) + "," +
                   std::to_string(d.zero_results) + "\r\n";
        return out;
    }
    const bool trending = report.request.kind == ReportKind::trending;
    out = std::string("query,searches,zero_results,searchers") + (trending ? ",previous" : "") +
          "\r\n";
    for (const auto& t : report.terms) {
        out += csv_field(t.query) + "," + std::to_string(t.searches) + "," +
               std::to_string(t.zero_results) + "," + std::to_string(t.searchers);
        if (trending)
            out += "," + std::to_string(t.previous);
        out += "\r\n";
    }
    // The folded rest, as one row whose name cannot be a scrubbed query.
    out +=
        "(other)," + std::to_string(report.other_searches) + ",,," + (trending ? "," : "") + "\r\n";
    return out;
}

std::string report_json(const Report& report) {
    namespace json = boost::json;
    const ReportRequest& r = report.request;
    json::object out{{"report", report_name(r.kind)},
                     {"from", day_text(r.from_day)},
                     {"to", day_text(r.to_day)},
                     {"country", r.country},
                     {"lang", r.lang},
                     {"thresholds", json::object{{"searches", r.k}, {"searchers", r.k_distinct}}},
                     {"total_searches", report.total_searches}};
    if (r.kind == ReportKind::volume) {
        json::array days;
        for (const auto& d : report.days)
            days.push_back(json::object{{"day", day_text(d.day)},
                                        {"searches", d.searches},
                                        {"zero_results", d.zero_results}});
        out["days"] = std::move(days);
        return json::serialize(out);
    }
    json::array terms;
    for (const auto& t : report.terms) {
        json::object o{{"query", t.query},
                       {"searches", t.searches},
                       {"zero_results", t.zero_results},
                       {"searchers", t.searchers}};
        if (r.kind == ReportKind::trending)
            o["previous"] = t.previous;
        terms.push_back(std::move(o));
    }
    out["terms"] = std::move(terms);
    out["other_searches"] = report.other_searches;
    return json::serialize(out);
}

std::string report_table(const Report& report) {
    std::ostringstream out;
    const ReportRequest& r = report.request;
    out << report_name(r.kind) << ", " << day_text(r.from_day) << " to " << day_text(r.to_day)
        << (r.country.empty() ? "" : ", country " + r.country)
        << (r.lang.empty() ? "" : ", language " + r.lang) << " (terms with at least " << r.k
        << " searches and " << r.k_distinct << " searchers on one day)\n";
    if (r.kind == ReportKind::volume) {
        for (const auto& d : report.days)
            out << day_text(d.day) << "  " << std::setw(9) << d.searches << " searches  "
                << std::setw(8) << d.zero_results << " without results\n";
        return out.str();
    }
    int rank = 0;
    for (const auto& t : report.terms) {
        out << std::setw(3) << ++rank << "  " << std::setw(9) << t.searches << "  " << std::setw(8)
            << t.zero_results << " zero  " << std::setw(6) << t.searchers << " searchers";
        if (r.kind == ReportKind::trending)
            out << "  (was " << t.previous << ")";
        out << "  " << t.query << "\n";
    }
    out << "     " << std::setw(9) << report.other_searches
        << "  other searches (terms below the thresholds or past the top " << r.top << ")\n";
    return out.str();
}

} // namespace mixi::analytics
