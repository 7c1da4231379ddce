#include "query/result_json.h"

#include <boost/json.hpp>

namespace mixi::query {

namespace json = boost::json;

json::object to_json(const SearchResult& r) {
    json::object out;
    out["total"] = r.total;
    if (r.partial)
        out["partial"] = true;
    out["page"] = r.page;
    out["per_page"] = r.per_page;
    json::array hits;
    for (const Hit& h : r.hits) {
        json::object o;
        o["id"] = h.id;
        o["url"] = h.url;
        o["title"] = h.title;
        o["snippet"] = h.snippet;
        o["type"] = h.type;
        o["lang"] = h.lang;
        if (!h.published.empty())
            o["published"] = h.published;
        o["score"] = h.score;
        if (h.explain)
            o["explain"] = json::object{{"text", h.explain->text},
                                        {"popularity", h.explain->popularity},
                                        {"region", h.explain->region},
                                        {"language", h.explain->language},
                                        {"proximity", h.explain->proximity},
                                        {"views", h.explain->views},
                                        {"region_views", h.explain->region_views}};
        hits.push_back(std::move(o));
    }
    out["hits"] = std::move(hits);
    if (r.has_facets) {
        json::object facets, types, langs;
        for (const auto& [k, v] : r.type_facets)
            types[k] = v;
        for (const auto& [k, v] : r.lang_facets)
            langs[k] = v;
        facets["type"] = std::move(types);
        facets["lang"] = std::move(langs);
        out["facets"] = std::move(facets);
    }
    if (!r.corrected.empty()) {
        json::object corrected;
        for (const auto& [word, close] : r.corrected)
            corrected[word] = close;
        out["corrected"] = std::move(corrected);
    }
    if (!r.synonyms.empty()) {
        json::object synonyms;
        for (const auto& [word, expanded] : r.synonyms)
            synonyms[word] = json::array(expanded.begin(), expanded.end());
        out["synonyms"] = std::move(synonyms);
    }
    if (r.did_you_mean)
        out["did_you_mean"] = *r.did_you_mean;
    return out;
}

} // namespace mixi::query
