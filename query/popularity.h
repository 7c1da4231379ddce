// Popularity: decayed page-view counts per document, globally and per region, and how they turn
// into score. A snapshot is immutable once built and shared by every searcher thread; a new one
// replaces it whole (std::atomic<std::shared_ptr>), so a search never sees half an update.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace Xapian {
class Database;
}

namespace mixi::query {

/// Views by Xapian document id of one database, sorted by id, for ranking without a lookup per
/// document.
using DocViews = std::vector<std::pair<unsigned, double>>;

/// A snapshot's views resolved to the document ids of one database.
struct ResolvedViews {
    std::string database; ///< the database directory they were resolved in
    std::shared_ptr<const DocViews> global;
    std::unordered_map<std::string, std::shared_ptr<const DocViews>> by_region;
};

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

class Popularity {
  public:
    /// Adds `views` (already decayed) of document `id` from `region` (a country or continent
    /// code, "ZZ" when unknown). Only while building, before the snapshot is shared.
    void add(const std::string& id, std::string_view region, double views);

    /// Decayed views of a document, from everywhere.
    double views(std::string_view id) const;
    /// Decayed views of a document from one region.
    double region_views(std::string_view id, std::string_view region) const;

    std::size_t document_count() const { return docs_.size(); }

    struct Counts {
        double total = 0;
        std::vector<std::pair<std::string, double>> by_region; ///< few per document
    };
    const std::unordered_map<std::string, Counts>& documents() const { return docs_; }

    /// The views by document id in `db` (one term lookup per viewed document).
    ResolvedViews resolve(const Xapian::Database& db, const std::string& path) const;
    /// Resolves once, before the snapshot is shared, so that searchers of that database need
    /// not each do it. Document ids stay valid while the database is updated in place (a
    /// replaced document keeps its id); documents added later get their boost from the next
    /// snapshot, and a rebuilt index (a new `current` version) needs a new resolution.
    void resolve_in(const Xapian::Database& db, const std::string& path);
    const ResolvedViews* resolved() const { return resolved_.get(); }

  private:
    std::unordered_map<std::string, Counts> docs_;
    std::shared_ptr<const ResolvedViews> resolved_;
};

using PopularitySnapshot = std::shared_ptr<const Popularity>;

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
    double views = 0, region_views = 0;
};

} // namespace mixi::query
