// The synonyms the content team manages (indexer/synonyms.h has the file format): import a file
// in place of the set, list it, delete a word. The CLI's `mixi-search synonyms` and the admin
// API's /v1/admin/synonyms both come here, so that the two read files and words the same way.
#pragma once

#include "common/error.h"

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace mixi::operations {

/// Word → the words a query of it also matches (normalised as queries are).
using SynonymList = std::map<std::string, std::set<std::string>>;

struct ImportedSynonyms {
    std::size_t words = 0;      ///< words that expand
    std::size_t expansions = 0; ///< word → synonym pairs
};

/// Parses `text` (a synonyms file; `where` names it in errors: "where:line: reason",
/// invalid_input) and replaces the synonyms of the index at `index`, every shard of it. Searches
/// use them from their next reopen; nothing is reindexed.
Expected<ImportedSynonyms> import_synonyms(const std::filesystem::path& index,
                                           std::string_view text, std::string_view where);

/// The synonyms of the index at `index`.
Expected<SynonymList> list_synonyms(const std::filesystem::path& index);

/// The file format of `list` (one-way lines, "word => a, b"): importing it gives `list` again.
std::string format_synonyms(const SynonymList& list);

/// Takes `word` (normalised first, as a query word is) out of the synonyms of the index at
/// `index`: its own expansions and its place in others'. false when it was in none;
/// invalid_input when it is not one word.
Expected<bool> delete_synonym(const std::filesystem::path& index, std::string_view word);

} // namespace mixi::operations
