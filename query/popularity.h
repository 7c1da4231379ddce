// How popularity snapshots (common/popularity.h) turn into score, and their resolution to the
// document ids of a database.
#pragma once

#include "common/error.h"
#include "common/popularity.h"

#include <filesystem>
#include <string>

namespace Xapian {
class Database;
}

namespace mixi::query {

/// How views add to the BM25 score: score = BM25 + popularity_weight * f(views) +
/// region_weight * f(views from the searcher's region), with f(v) = v / (v + saturation), which
/// rises from 0 towards 1. Both terms are bounded by their weights, so a popular page can move
/// up among pages that match, but never gets far ahead of a clearly better text match, and a
/// page that does not match is never returned (the terms are only added to matches).
///
/// Defaults by measurement (bench/RESULTS.md, "Popularity weights"): on SciFact with random
/// heavy-tailed views, weight 4 moved nDCG@10 by up to -0.55% and weight 2 by at most +-0.2%
/// (saturation 50; with saturation 10, weight 2 already cost -0.74%). The default is half the
/// largest weight that stayed within 1%.
struct RankingOptions {
    double popularity_weight = 2;
    double region_weight = 2;
    double saturation = 50; ///< decayed views at which f = 0.5
    /// Added to documents in the searcher's preferred language (cookie or Accept-Language).
    /// Not measured: SciFact has one language. As large as one half-saturated popularity term.
    double language_weight = 1;
};

/// The views of `snapshot` by document id in `db` (one term lookup per viewed document);
/// `path` is the database's directory.
ResolvedViews resolve_views(const Popularity& snapshot, const Xapian::Database& db,
                            const std::string& path);

/// Resolves a snapshot once, before it is shared, in the database directory `database` (what
/// layout::resolve_database names), so that its searchers need not each do it
/// (Popularity::set_resolved). Fails when the database cannot be read; the snapshot is then
/// left as it was, and searchers resolve it themselves.
Expected<void> resolve_in(Popularity& snapshot, const std::filesystem::path& database);

/// f(v) above.
inline double saturate(double views, double saturation) {
    return views <= 0 ? 0 : views / (views + saturation);
}

/// What one hit's score is made of (explain=1).
struct ScoreParts {
    double text = 0;       ///< BM25
    double popularity = 0; ///< popularity_weight * f(views)
    double region = 0;     ///< region_weight * f(views from the searcher's region)
    double language = 0;   ///< language_weight when the document is in the preferred language
    double proximity = 0;  ///< proximity_weight * the weights of the query's pairs found adjacent
    double views = 0, region_views = 0;
};

} // namespace mixi::query
