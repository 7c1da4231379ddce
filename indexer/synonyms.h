// Synonyms the content team manages: a text file of groups, parsed here, kept in the synonym table
// of the index (Xapian's) and applied at query time by query/ (a change needs no reindex).
//
// The file, one group a line:
//
//   # a comment; blank lines are skipped
//   写真, フォト, photo        every word expands to every other (multi-way)
//   tv, telly => television   each word on the left expands to every word on the right (one-way)
//
// Each entry is one word, normalised with the analyzer of queries (NFKC case folding), because a
// query term is one word: "new york" is refused.
#pragma once

#include "analyzers/analyzer.h"
#include "common/error.h"

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <xapian.h>

namespace mixi::indexer {

/// Word → the words it expands to, all folded as queries fold them.
using SynonymSet = std::map<std::string, std::set<std::string>>;

/// The most bytes one entry may have (the analyzer drops longer words).
inline constexpr std::size_t max_synonym_word_bytes = 80;
/// The most words one line may have (each side of "=>"): a group of n words is n·(n−1) pairs.
inline constexpr std::size_t max_synonym_line_words = 100;

/// `text` normalised as a query word: its one token's term. invalid_input (the reason, for
/// "file:line: reason") when it holds no word or more than one.
Expected<std::string> normalize_synonym_word(std::string_view text, analyzers::Analyzer& analyzer);

/// Parses a synonyms file. `where` names it in errors, which read "where:line: reason", one a
/// line (at most 20, then how many more); invalid_input when there is any.
Expected<SynonymSet> parse_synonyms(std::string_view text, std::string_view where,
                                    analyzers::Analyzer& analyzer);

/// The file format of `set`, one-way lines ("word => a, b"): parsing it gives `set` again.
std::string format_synonyms(const SynonymSet& set);

/// The synonyms held in `db` (the whole synonym table).
SynonymSet synonyms_of(const Xapian::Database& db);

/// Replaces the synonym table of `db` with `set` (uncommitted).
void write_synonyms(Xapian::WritableDatabase& db, const SynonymSet& set);

/// Replaces the synonyms of the index at `dir`, every shard of it (each shard holds the whole
/// set), with `set`. Readers see it when they next reopen.
Expected<void> replace_synonyms(const std::filesystem::path& dir, const SynonymSet& set);

/// The synonyms of the index at `dir` (of its first shard: every shard holds the same).
/// not_found when there is no index there.
Expected<SynonymSet> read_synonyms(const std::filesystem::path& dir);

/// Takes the (normalised) `word` out of the synonyms of the index at `dir`: what it expands to
/// and its place in the expansions of other words. false when it was in none.
Expected<bool> delete_synonym(const std::filesystem::path& dir, const std::string& word);

} // namespace mixi::indexer
