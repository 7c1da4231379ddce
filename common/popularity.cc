#include "common/popularity.h"

namespace mixi {

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

} // namespace mixi
