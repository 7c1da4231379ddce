// The JSON shape of a search result, shared by `mixi-search query` and the HTTP server.
#pragma once

#include "query/searcher.h"

#include <boost/json/object.hpp>

namespace mixi::query {

/// {"total","page","per_page","hits":[{id,url,title,snippet,type,lang,published,score}],
///  "facets"?:{"type":{..},"lang":{..}} (when asked for), "did_you_mean"?}
boost::json::object to_json(const SearchResult& result);

} // namespace mixi::query
