// Deleting a document everywhere it is kept: the index with its spelling data (indexer/) and its
// page-view counts (analytics/). The CLI's `index delete` and the server's admin delete both
// come here, so that the two cannot differ in what a deletion removes.
#pragma once

#include "analytics/database.h"
#include "common/error.h"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mixi::operations {

/// Removes every page-view count of one document.
using ForgetViews = std::function<Expected<void>(std::string_view id)>;

/// The counts in the analytics store (none when it is a SQLite file that does not exist), for a
/// process that counts nothing in memory (the CLI). A running server sees them go at its next
/// flush (SQLite) or snapshot refresh (PostgreSQL) and ranks without them from then on. The
/// store is opened once, on first use.
ForgetViews stored_views(analytics::StoreLocation store);

struct DeletedDocuments {
    std::vector<std::string> deleted;   ///< were in the index
    std::vector<std::string> not_found; ///< were not (their view counts are gone all the same)
};

/// Deletes documents by id: first from the current version of the index at `index` with their
/// spelling data, then their page-view counts through `forget_views` (nothing when it is
/// empty), for every id, found in the index or not. Stops at the first failure; documents
/// already deleted by then stay deleted.
Expected<DeletedDocuments> delete_document_everywhere(const std::filesystem::path& index,
                                                      const std::vector<std::string>& ids,
                                                      const ForgetViews& forget_views);

} // namespace mixi::operations
