// One piece of site content as the sources deliver it, before analysis.
#pragma once

#include <string>
#include <vector>

namespace mixi::indexer {

struct Record {
    std::string id; ///< unique, stable id (required)
    std::string url;
    std::string title;
    std::string body;
    std::string type = "article"; ///< article | photo | video | comment
    std::string lang;             ///< primary language subtag; empty = detect from the text
    std::string published;        ///< ISO 8601 date or time as given; empty = unknown
    std::vector<std::string> tags;
    std::string author;
    std::string visibility = "public"; ///< only "public" records are indexed
    /// A page still to be parsed: HtmlFolderSource only reads files, and the analysis
    /// threads parse them (complete_html_record), so parsing runs in parallel.
    std::string html;
};

/// Whether a record may be searched at all (docs/design.md: private content stays private).
inline bool is_public(const Record& r) {
    return r.visibility == "public";
}

/// The content types the site has.
bool is_known_type(const std::string& type);

/// A record or file a source could not read: `where` is "file:line" or "file".
struct SourceProblem {
    std::string where;
    std::string reason;
};

} // namespace mixi::indexer
