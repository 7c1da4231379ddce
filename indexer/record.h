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
    /// Text the page stresses: its headings (h1-h3) and meta description, also part of `body`.
    /// Its words count BuildOptions::emphasis_weight times instead of once.
    std::string emphasis;
    std::string type = "article"; ///< article | photo | video | comment
    std::string lang;             ///< primary language subtag; empty = detect from the text
    std::string published;        ///< ISO 8601 date or time as given; empty = unknown
    std::vector<std::string> tags;
    std::string author;
    /// Only exactly "public" is indexed. Empty: the source gave none, which is not public
    /// (a record built in code says "public" when it means it).
    std::string visibility;
    /// A page still to be parsed: HtmlFolderSource only reads files, and the analysis
    /// threads parse them (complete_html_record), so parsing runs in parallel.
    std::string html;
};

/// Whether a record may be searched at all (docs/privacy.md: private content stays private).
/// Anything but exactly "public" (a missing value, "private", "Public", " public") is not.
inline bool is_public(const Record& r) {
    return r.visibility == "public";
}

/// What a record without a `visibility` field is: private unless the run says otherwise
/// (`--default-visibility public`). HTML pages have no such field; see HtmlFolderSource.
enum class DefaultVisibility { private_, public_ };

/// The content types the site has.
bool is_known_type(const std::string& type);

/// A record or file a source could not read: `where` is "file:line" or "file".
struct SourceProblem {
    std::string where;
    std::string reason;
};

} // namespace mixi::indexer
