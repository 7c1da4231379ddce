#include "analytics/trends.h"

#include "analytics/reports.h"
#include "analytics/search_log.h"
#include "analytics/views.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <iomanip>
#include <map>
#include <openssl/rand.h>
#include <random>
#include <sstream>

namespace mixi::analytics {

RandomBits secure_random_bits() {
    return [] {
        std::uint64_t bits = 0;
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&bits), sizeof bits) != 1) {
            static thread_local std::mt19937_64 fallback{std::random_device{}()};
            bits = fallback();
        }
        return bits;
    };
}

namespace {

/// Uniform in (0, 1], from 53 random bits.
double uniform(const RandomBits& bits) {
    return static_cast<double>((bits() >> 11) + 1) * 0x1p-53;
}

/// Geometric on {0, 1, ...} with P(n) proportional to exp(-n / scale).
std::int64_t geometric(double scale, const RandomBits& bits) {
    return static_cast<std::int64_t>(std::floor(-scale * std::log(uniform(bits))));
}

/// Each query's bounded count over [from, to] with the request's filters.
Expected<std::map<std::string, std::int64_t>> bounded_counts(Database& db, const TrendRequest& r,
                                                             std::int64_t from, std::int64_t to) {
    std::map<std::string, std::int64_t> out;
    auto sums = db.prepare("SELECT query, sum(bounded) FROM daily_terms WHERE day BETWEEN ?1 AND ?2"
                           " AND (?3 = '' OR country = ?3) AND (?4 = '' OR lang = ?4)"
                           " GROUP BY query HAVING sum(bounded) > 0");
    if (!sums)
        return std::unexpected(sums.error());
    sums->bind(1, from).bind(2, to).bind(3, r.country).bind(4, r.lang);
    if (auto ok = sums->each([&] { out[sums->text(0)] = sums->int64(1); }); !ok)
        return std::unexpected(ok.error());
    return out;
}

/// The stored release's id, or 0.
Expected<std::int64_t> find_release(Database& db, const TrendRequest& r, const DpOptions& dp,
                                    TrendRelease& out) {
    auto find = db.prepare("SELECT id, threshold, released_at FROM trend_releases WHERE"
                           " from_day = ?1 AND to_day = ?2 AND country = ?3 AND lang = ?4 AND"
                           " epsilon = ?5 AND delta = ?6 AND max_terms = ?7");
    if (!find)
        return std::unexpected(find.error());
    find->bind(1, r.from_day).bind(2, r.to_day).bind(3, r.country).bind(4, r.lang);
    find->bind(5, dp.epsilon).bind(6, dp.delta);
    find->bind(7, static_cast<std::int64_t>(max_terms_per_searcher_day));
    auto row = find->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return 0;
    const std::int64_t id = find->int64(0);
    out.threshold = find->int64(1);
    out.released_at = find->int64(2);
    auto terms = db.prepare("SELECT query, searchers, previous FROM trend_release_terms"
                            " WHERE release = ?1");
    if (!terms)
        return std::unexpected(terms.error());
    terms->bind(1, id);
    if (auto ok = terms->each([&] {
            out.terms.push_back({terms->text(0), terms->int64(1), terms->int64(2)});
        });
        !ok)
        return std::unexpected(ok.error());
    return id;
}

/// Computes a release (every query above the DP threshold) and stores it.
Expected<void> compute_release(Database& db, const TrendRequest& r, const DpOptions& dp,
                               std::int64_t now, const RandomBits& bits, TrendRelease& out) {
    const std::int64_t length = r.to_day - r.from_day + 1;
    auto current = bounded_counts(db, r, r.from_day, r.to_day);
    if (!current)
        return std::unexpected(current.error());
    auto before = bounded_counts(db, r, r.from_day - length, r.from_day - 1);
    if (!before)
        return std::unexpected(before.error());
    const double scale = static_cast<double>(max_terms_per_searcher_day) / dp.epsilon;
    out.threshold = dp_threshold(dp, 0);
    out.released_at = now;
    // Only queries searched in the period are candidates; the threshold is what keeps a
    // query that one searcher-day brought in from showing.
    for (const auto& [query, count] : *current) {
        const std::int64_t noisy = count + discrete_laplace(scale, bits);
        if (noisy < out.threshold)
            continue;
        const auto p = before->find(query);
        const std::int64_t prev = p == before->end() ? 0 : p->second;
        out.terms.push_back(
            {query, noisy, std::max<std::int64_t>(0, prev + discrete_laplace(scale, bits))});
    }
    auto insert = db.prepare(
        "INSERT INTO trend_releases (from_day, to_day, country, lang, epsilon, delta, max_terms,"
        " threshold, released_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id");
    if (!insert)
        return std::unexpected(insert.error());
    insert->bind(1, r.from_day).bind(2, r.to_day).bind(3, r.country).bind(4, r.lang);
    insert->bind(5, dp.epsilon).bind(6, dp.delta);
    insert->bind(7, static_cast<std::int64_t>(max_terms_per_searcher_day));
    insert->bind(8, out.threshold).bind(9, now);
    auto inserted = insert->step();
    if (!inserted)
        return std::unexpected(inserted.error());
    const std::int64_t id = *inserted ? insert->int64(0) : 0;
    insert->reset();
    auto term = db.prepare("INSERT INTO trend_release_terms (release, query, searchers, previous)"
                           " VALUES (?1, ?2, ?3, ?4)");
    if (!term)
        return std::unexpected(term.error());
    for (const TrendTerm& t : out.terms) {
        term->bind(1, id).bind(2, t.query).bind(3, t.searchers).bind(4, t.previous);
        if (auto ok = term->run(); !ok)
            return std::unexpected(ok.error());
    }
    return {};
}

} // namespace

std::int64_t discrete_laplace(double scale, const RandomBits& bits) {
    // The difference of two geometric samples is discrete Laplace with the same scale.
    return geometric(scale, bits) - geometric(scale, bits);
}

std::int64_t dp_threshold(const DpOptions& dp, std::uint64_t k) {
    // With one searcher-day's count (1) and noise x: P(1 + x >= t) = a^(t-1) / (1 + a) for
    // a = e^(-1/b). Held to delta / L0 for each of the L0 queries the searcher-day touched.
    const double b = static_cast<double>(max_terms_per_searcher_day) / dp.epsilon;
    const double a = std::exp(-1.0 / b);
    const double l0 = static_cast<double>(max_terms_per_searcher_day);
    const auto t =
        1 + static_cast<std::int64_t>(std::ceil(b * std::log(l0 / (dp.delta * (1 + a)))));
    return std::max<std::int64_t>({t, static_cast<std::int64_t>(k), 1});
}

TrendRequest latest_period(std::int64_t now, int days) {
    TrendRequest r;
    r.to_day = day_of(now) / days * days - 1;
    r.from_day = r.to_day - days + 1;
    return r;
}

Expected<bool> has_release(Database& db, const TrendRequest& request, const DpOptions& dp) {
    TrendRelease ignored;
    auto found = find_release(db, request, dp, ignored);
    if (!found)
        return std::unexpected(found.error());
    return *found != 0;
}

Expected<std::int64_t> remove_releases_before(Database& db, std::int64_t first_day) {
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::unexpected(tx.error());
    const std::string day = std::to_string(first_day);
    if (auto ok = db.exec("DELETE FROM trend_release_terms WHERE release IN"
                          " (SELECT id FROM trend_releases WHERE to_day < " +
                          day + ")");
        !ok)
        return std::unexpected(ok.error());
    if (auto ok = db.exec("DELETE FROM trend_releases WHERE to_day < " + day); !ok)
        return std::unexpected(ok.error());
    auto n = db.changes();
    if (!n)
        return std::unexpected(n.error());
    if (auto ok = tx->commit(); !ok)
        return std::unexpected(ok.error());
    return *n;
}

Expected<TrendRelease> release_trends(Database& db, const TrendRequest& request,
                                      const DpOptions& dp, std::int64_t now,
                                      const RandomBits& bits) {
    if (!(dp.epsilon > 0) || !std::isfinite(dp.epsilon))
        return std::unexpected(
            Error{ErrorCode::invalid_argument, "epsilon must be a positive number"});
    if (!(dp.delta > 0 && dp.delta < 1))
        return std::unexpected(Error{ErrorCode::invalid_argument, "delta must be between 0 and 1"});
    if (request.from_day > request.to_day)
        return std::unexpected(Error{ErrorCode::invalid_argument, "from is after to"});
    TrendRelease release;
    release.request = request;
    release.dp = dp;
    {
        // One writer at a time: two processes asking at once get the same release.
        auto tx = Transaction::begin(db);
        if (!tx)
            return std::unexpected(tx.error());
        auto found = find_release(db, request, dp, release);
        if (!found)
            return std::unexpected(found.error());
        if (*found == 0) {
            if (auto ok = compute_release(db, request, dp, now, bits, release); !ok)
                return std::unexpected(ok.error());
            if (auto ok = tx->commit(); !ok)
                return std::unexpected(ok.error());
        }
    }
    // What is shown: post-processing of the noisy values only.
    const auto k = static_cast<std::int64_t>(dp_threshold(dp, request.k));
    std::erase_if(release.terms,
                  [&](const TrendTerm& t) { return t.searchers < k || t.searchers <= t.previous; });
    std::sort(
        release.terms.begin(), release.terms.end(), [](const TrendTerm& a, const TrendTerm& b) {
            if (const auto g = compare_growth(a.searchers, a.previous, b.searchers, b.previous))
                return g > 0;
            if (a.searchers != b.searchers)
                return a.searchers > b.searchers;
            return a.query < b.query;
        });
    if (release.terms.size() > request.top)
        release.terms.resize(request.top);
    release.threshold = k;
    return release;
}

std::string trends_json(const TrendRelease& release) {
    namespace json = boost::json;
    const TrendRequest& r = release.request;
    json::array terms;
    for (const TrendTerm& t : release.terms)
        terms.push_back(
            json::object{{"query", t.query}, {"searchers", t.searchers}, {"previous", t.previous}});
    json::object out{
        {"report", "trending"},
        {"from", day_text(r.from_day)},
        {"to", day_text(r.to_day)},
        {"country", r.country},
        {"lang", r.lang},
        {"privacy", json::object{{"epsilon", release.dp.epsilon},
                                 {"delta", release.dp.delta},
                                 {"unit", "searcher-day"},
                                 {"max_terms_per_searcher_day", max_terms_per_searcher_day},
                                 {"threshold", release.threshold}}},
        {"released_at", release.released_at},
        {"terms", std::move(terms)}};
    return json::serialize(out);
}

std::string trends_csv(const TrendRelease& release) {
    std::string out = "query,searchers,previous\r\n";
    for (const TrendTerm& t : release.terms)
        out += csv_field(t.query) + "," + std::to_string(t.searchers) + "," +
               std::to_string(t.previous) + "\r\n";
    return out;
}

std::string trends_table(const TrendRelease& release) {
    const TrendRequest& r = release.request;
    std::ostringstream out;
    out << "trending (differentially private: epsilon " << release.dp.epsilon << ", delta "
        << release.dp.delta << " per searcher-day), " << day_text(r.from_day) << " to "
        << day_text(r.to_day) << (r.country.empty() ? "" : ", country " + r.country)
        << (r.lang.empty() ? "" : ", language " + r.lang) << "; noisy counts of at least "
        << release.threshold << " searcher-days\n";
    for (const TrendTerm& t : release.terms)
        out << std::setw(9) << t.searchers << std::setw(9) << t.previous << "  " << t.query << "\n";
    if (release.terms.empty())
        out << "(no term above the threshold)\n";
    return out.str();
}

} // namespace mixi::analytics
