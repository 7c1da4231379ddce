// The route handlers. Each parses parameters into a library request struct, calls the library
// and writes JSON; no search logic lives here.
#pragma once

#include "server/app.h"

namespace mixi::server {

Response get_search(Context& ctx);
Response get_suggest(Context& ctx);
Response post_views(Context& ctx);
Response post_prefs(Context& ctx);
Response get_privacy(Context& ctx);
Response get_account_export(Context& ctx);
Response delete_account(Context& ctx);
Response delete_account_entry(Context& ctx);
Response delete_document(Context& ctx);
Response get_synonyms(Context& ctx);
Response put_synonyms(Context& ctx);
Response delete_synonym(Context& ctx);
Response get_report(Context& ctx);
Response get_trends(Context& ctx);
Response get_healthz(Context& ctx);
Response get_metrics(Context& ctx);
/// web/opensearch.xml with this server's origin filled in.
Response get_opensearch(Context& ctx);

/// The routing table.
std::vector<Route> routes();

} // namespace mixi::server
