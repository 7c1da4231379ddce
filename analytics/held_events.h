// What a server holds for the analytics store while the store does not answer (searches as
// SearchLogBuffer batches, and page-view counts), as text: the server writes it to a file in its
// data directory when it stops before the store came back, and reads it at its next start. The
// text has what a flush would store and nothing more: a search row's hour (not its second) and no
// searcher key of its own (the cells hold the keys they count). It even has less: the account
// links of signed-in searches are left out (the searches are kept, unlinked), so that an account
// deleted through another server while the file waits cannot come back from it.
#pragma once

#include "analytics/search_log.h"
#include "analytics/views.h"
#include "common/error.h"

#include <string>
#include <string_view>
#include <vector>

namespace mixi::analytics {

struct HeldEvents {
    std::vector<SearchLogBuffer::Batch> batches; ///< oldest first
    std::vector<ViewCount> views;
};

/// JSON lines: a header line ({"format": "mixi-search held analytics", "version": 1}), then one
/// line per batch ({"batch": {"rows", "volume_only", "cells"}}) and one per view count
/// ({"view": {"id", "region", "day", "count"}}).
std::string held_events_text(const HeldEvents& held);

/// The text held_events_text wrote; an error (invalid_argument, naming the line) for anything
/// else: another format or version, a line that is not JSON, a missing or mistyped field.
Expected<HeldEvents> parse_held_events(std::string_view text);

} // namespace mixi::analytics
