#include "operations/delete_document.h"

#include "analytics/views.h"
#include "indexer/index_writer.h"

#include <memory>
#include <optional>

namespace mixi::operations {

ForgetViews stored_views(analytics::StoreLocation where) {
    auto store = std::make_shared<std::optional<analytics::ViewStore>>();
    return [where = std::move(where), store](std::string_view id) -> Expected<void> {
        if (!*store) {
            if (where.missing())
                return {}; // no counts kept here
            auto opened = analytics::ViewStore::open(where);
            if (!opened)
                return std::unexpected(opened.error());
            store->emplace(std::move(*opened));
        }
        if (auto removed = (*store)->remove_document(id); !removed)
            return std::unexpected(removed.error());
        return {};
    };
}

Expected<DeletedDocuments> delete_document_everywhere(const std::filesystem::path& index,
                                                      const std::vector<std::string>& ids,
                                                      const ForgetViews& forget_views) {
    // The index first (results, suggestions, spelling), then the view counts.
    auto report = indexer::delete_documents(index, ids);
    if (!report)
        return std::unexpected(report.error());
    if (forget_views)
        for (const auto& id : ids)
            if (auto forgot = forget_views(id); !forgot)
                return std::unexpected(forgot.error());
    return DeletedDocuments{std::move(report->deleted), std::move(report->not_found)};
}

} // namespace mixi::operations
