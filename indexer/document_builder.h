// Record -> Xapian document, following common/schema.h.
#pragma once

#include "analyzers/analyzer.h"
#include "indexer/record.h"

#include <string>
#include <unordered_set>
#include <xapian.h>

namespace mixi::indexer {

struct BuildOptions {
    /// Within-document frequency given to a title word; body words count 1. This is how BM25
    /// weighs the title above the body (a BM25F-style field boost).
    unsigned title_weight = 2;
    /// Within-document frequency of a word of a heading (h1-h3) or the meta description
    /// (Record::emphasis), its count in the body included: the title's weight by default.
    unsigned emphasis_weight = 2;
    /// At most this much body text is kept in the document for snippets (bytes).
    std::size_t stored_body_bytes = 64 * 1024;
};

/// A document ready to be written: its unique id term, and the words for the spelling table.
struct PreparedDocument {
    std::string id_term;
    Xapian::Document document;
    std::unordered_set<std::string>
        spelling_words; ///< distinct words, each counted once per document
};

/// Turns records into documents. Owns an Analyzer, so use one builder per thread.
class DocumentBuilder {
  public:
    explicit DocumentBuilder(BuildOptions options = {});
    PreparedDocument build(const Record& record);

  private:
    void index_text(std::string_view text, const std::string& lang, unsigned wdf,
                    Xapian::termpos& pos, bool title, PreparedDocument& out);

    BuildOptions options_;
    analyzers::Analyzer analyzer_;
};

} // namespace mixi::indexer
