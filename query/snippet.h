// Snippets: the passage of a text that holds the most query words, HTML-escaped, with the
// matched words in <mark>.
#pragma once

#include "analyzers/analyzer.h"

#include <set>
#include <string>
#include <string_view>

namespace mixi::query {

struct SnippetTerms {
    const std::set<std::string>* terms = nullptr; ///< folded words
    const std::set<std::string>* stems = nullptr; ///< stems in `lang`
    std::string lang;
};

/// A passage of about `max_bytes` bytes of `text` (cut at word boundaries, "…" where cut),
/// chosen to hold the most distinct query words. Everything is HTML-escaped except the
/// <mark> tags. When nothing matches, the start of the text.
std::string make_snippet(std::string_view text, const SnippetTerms& query,
                         analyzers::Analyzer& analyzer, std::size_t max_bytes = 240);

} // namespace mixi::query
