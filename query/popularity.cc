#include "query/popularity.h"

#include "common/schema.h"

#include <algorithm>
#include <xapian.h>

namespace mixi::query {

ResolvedViews resolve_views(const Popularity& snapshot, const Xapian::Database& db,
                            const std::string& path) {
    DocViews global;
    std::unordered_map<std::string, DocViews> by_region;
    for (const auto& [id, counts] : snapshot.documents()) {
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

Expected<void> resolve_in(Popularity& snapshot, const std::filesystem::path& database) {
    try {
        snapshot.set_resolved(std::make_shared<const ResolvedViews>(
            resolve_views(snapshot, Xapian::Database(database.string()), database.string())));
        return {};
    } catch (const Xapian::Error& e) {
        return fail(ErrorCode::index_unavailable, e.get_description());
    }
}

} // namespace mixi::query
