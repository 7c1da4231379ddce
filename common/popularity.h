// Popularity snapshots: decayed page-view counts per document, globally and per region. The
// analytics library builds them from the stored counts; the query library ranks with them. A
// snapshot is immutable once built and shared by every searcher thread; a new one replaces it
// whole (std::atomic<std::shared_ptr>), so a search never sees half an update.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mixi {

/// Views by Xapian document id of one database, sorted by id, for ranking without a lookup per
/// document.
using DocViews = std::vector<std::pair<unsigned, double>>;

/// A snapshot's views resolved to the document ids of one database (query::resolve_views).
struct ResolvedViews {
    std::string database; ///< the database directory they were resolved in
    std::shared_ptr<const DocViews> global;
    std::unordered_map<std::string, std::shared_ptr<const DocViews>> by_region;
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

    /// Keeps a resolution made once, before the snapshot is shared (query::resolve_in), so
    /// that searchers of that database need not each make it. Document ids stay valid while
    /// the database is updated in place (a replaced document keeps its id); documents added
    /// later get their boost from the next snapshot, and a rebuilt index (a new `current`
    /// version) needs a new resolution.
    void set_resolved(std::shared_ptr<const ResolvedViews> resolved) {
        resolved_ = std::move(resolved);
    }
    const ResolvedViews* resolved() const { return resolved_.get(); }

  private:
    std::unordered_map<std::string, Counts> docs_;
    std::shared_ptr<const ResolvedViews> resolved_;
};

using PopularitySnapshot = std::shared_ptr<const Popularity>;

} // namespace mixi
