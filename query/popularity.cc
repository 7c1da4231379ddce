#include "query/popularity.h"

#include "common/schema.h"

#include <algorithm>
#include <xapian.h>

namespace mixi::query {

void Popularity::add(const std::string& id, std::string_view region, double views) {
    if (views <= 0)
        return;
    Counts& c = docs_[id];
    c.total += views;
    for (auto& [r, v] : c.by_region)
        if (r == region) {
            v += views;
            return;
        }
    c.by_region.emplace_back(std::string(region), views);
}

double Popularity::views(std::string_view id) const {
    auto it = docs_.find(std::string(id));
    return it == docs_.end() ? 0 : it->second.total;
}

double Popularity::region_views(std::string_view id, std::string_view region) const {
    auto it = docs_.find(std::string(id));
    if (it == docs_.end())
        return 0;
    for (const auto& [r, v] : it->second.by_region)
        if (r == region)
            return v;
    return 0;
}

ResolvedViews Popularity::resolve(const Xapian::Database& db, const std::string& path) const {
    DocViews global;
    std::unordered_map<std::string, DocViews> by_region;
    for (const auto& [id, counts] : docs_) {
        const std::string term = schema::term(schema::id, id);
        auto p = db.postlist_begin(term);
        if (p == db.postlist_end(term))
            continue; // viewed, but not (or no longer) in the index
        global.emplace_back(*p, counts.total);
        for (const auto& [region, views] : counts.by_region)
            by_region[region].emplace_back(*p, views);
    }
    auto sorted = [](DocViews v) {
        std::sort(v.begin(), v.end());
        return std::make_shared<const DocViews>(std::move(v));
    };
    ResolvedViews out{path, sorted(std::move(global)), {}};
    for (auto& [region, docs] : by_region)
        out.by_region.emplace(region, sorted(std::move(docs)));
    return out;
}

void Popularity::resolve_in(const Xapian::Database& db, const std::string& path) {
    resolved_ = std::make_shared<const ResolvedViews>(resolve(db, path));
}

} // namespace mixi::query
