#include "operations/synonyms.h"

#include "analyzers/analyzer.h"
#include "indexer/synonyms.h"

namespace mixi::operations {

Expected<ImportedSynonyms> import_synonyms(const std::filesystem::path& index,
                                           std::string_view text, std::string_view where) {
    analyzers::Analyzer analyzer;
    auto set = indexer::parse_synonyms(text, where, analyzer);
    if (!set)
        return std::unexpected(set.error());
    if (auto replaced = indexer::replace_synonyms(index, *set); !replaced)
        return std::unexpected(replaced.error());
    ImportedSynonyms out;
    out.words = set->size();
    for (const auto& [word, expansions] : *set)
        out.expansions += expansions.size();
    return out;
}

Expected<SynonymList> list_synonyms(const std::filesystem::path& index) {
    return indexer::read_synonyms(index);
}

std::string format_synonyms(const SynonymList& list) {
    return indexer::format_synonyms(list);
}

Expected<bool> delete_synonym(const std::filesystem::path& index, std::string_view word) {
    analyzers::Analyzer analyzer;
    auto normalized = indexer::normalize_synonym_word(word, analyzer);
    if (!normalized)
        return std::unexpected(normalized.error());
    return indexer::delete_synonym(index, *normalized);
}

} // namespace mixi::operations
