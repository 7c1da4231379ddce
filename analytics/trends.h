// Differentially private releases of trending terms, for publishing (GET /v1/trends, `report
// trending --dp-epsilon`). What is protected is one searcher-day: everything one searcher (one
// daily key, see SearcherKeys) searched on one day.
//
//  1. Contribution bounding, at collection: a searcher-day adds 1 to the `bounded` count of at
//     most max_terms_per_searcher_day (L0) distinct queries (SearchLogBuffer).
//  2. Noise: each query's bounded count over the period, and over the period before, gets
//     discrete Laplace noise of scale b = L0 / epsilon (L1 sensitivity L0). A searcher-day lies
//     in one of the two periods only, so the release is epsilon-DP for the counts.
//  3. Threshold: a query is released only when its noisy count reaches
//     max(k, 1 + ceil(b * ln(L0 / (delta * (1 + e^(-1/b)))))), so that a query only one
//     searcher-day searched appears with probability at most delta: (epsilon, delta)-DP in all.
//
// A release is computed once and stored; asking again for the same period and parameters
// returns the stored release, so repeating a request cannot average the noise away. Different
// releases compose: a searcher-day in n releases has spent n * epsilon.
#pragma once

#include "analytics/database.h"
#include "common/error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mixi::analytics {

struct DpOptions {
    double epsilon = 1.0;
    double delta = 1e-6;
};

struct TrendRequest {
    std::int64_t from_day = 0, to_day = 0; ///< inclusive, days since 1970-01-01
    std::string country, lang;             ///< "" = all
    std::size_t top = 20;
    std::uint64_t k = 10; ///< the least noisy count shown, whatever the DP threshold
};

struct TrendTerm {
    std::string query;
    std::int64_t searchers = 0; ///< noisy: searcher-days in the period
    std::int64_t previous = 0;  ///< noisy: searcher-days in the period before (at least 0)
};

struct TrendRelease {
    TrendRequest request;
    DpOptions dp;
    std::int64_t threshold = 0;   ///< noisy count a query needed
    std::int64_t released_at = 0; ///< Unix seconds of the first computation
    std::vector<TrendTerm> terms; ///< ranked by growth, then count; at most `top`
};

/// 64 random bits per call. The default draws from OpenSSL's RAND_bytes; tests pass a seeded one.
using RandomBits = std::function<std::uint64_t()>;
RandomBits secure_random_bits();

/// A discrete Laplace sample: P(x) proportional to exp(-|x| / scale).
std::int64_t discrete_laplace(double scale, const RandomBits& bits);

/// The count a query's noisy value must reach (see above), for L0 = max_terms_per_searcher_day.
std::int64_t dp_threshold(const DpOptions& dp, std::uint64_t k);

/// The latest complete period of `days` days before the day of `now` (Unix seconds), counted in
/// whole periods from 1970-01-01, so that consecutive releases never overlap: every
/// searcher-day is in one release's period and in the next one's period before.
TrendRequest latest_period(std::int64_t now, int days);

/// Whether the release for these parameters is stored already.
Expected<bool> has_release(Database& db, const TrendRequest& request, const DpOptions& dp);

/// The stored release for these parameters, or a new one computed from daily_terms and stored.
/// epsilon must be positive and delta in (0, 1).
Expected<TrendRelease> release_trends(Database& db, const TrendRequest& request,
                                      const DpOptions& dp, std::int64_t now,
                                      const RandomBits& bits = secure_random_bits());

/// Deletes the stored releases whose period ended before `first_day` (with their terms), as
/// the daily aggregates they were computed from are deleted; returns how many releases went.
/// Asking for such a period again finds no counts to release.
Expected<std::int64_t> remove_releases_before(Database& db, std::int64_t first_day);

std::string trends_json(const TrendRelease& release);
std::string trends_csv(const TrendRelease& release);
std::string trends_table(const TrendRelease& release);

} // namespace mixi::analytics
