// How documents are laid out in a Xapian database: term prefixes and value slots. The indexer
// writes this layout and the query library reads it; nothing else should know it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <xapian.h>

namespace mixi::schema {

// Term prefixes (Xapian conventions where one exists).
inline constexpr const char* id = "Q";      ///< unique document id (boolean)
inline constexpr const char* type = "XT";   ///< article | photo | video | comment (boolean)
inline constexpr const char* lang = "L";    ///< primary language subtag (boolean)
inline constexpr const char* tag = "K";     ///< case-folded tag (boolean)
inline constexpr const char* author = "A";  ///< case-folded author (boolean)
inline constexpr const char* title = "S";   ///< title words (probabilistic, positional)
inline constexpr const char* stem = "Z";    ///< stemmed form of an unprefixed word
inline constexpr const char* bigram = "XB"; ///< CJK character bigram of title or body
inline constexpr const char* url = "U";     ///< the document's URL (boolean; see url_term)

// Value slots.
inline constexpr Xapian::valueno slot_published = 0; ///< sortable_serialise(unix seconds)
inline constexpr Xapian::valueno slot_type = 1;      ///< type name, for facets
inline constexpr Xapian::valueno slot_lang = 2;      ///< language subtag, for facets
/// The document id, so that a search over shards learns the ids of its candidates from the
/// match itself (the sort key) without fetching documents.
inline constexpr Xapian::valueno slot_id = 3;

/// A prefixed term: `prefix` followed by `value`.
inline std::string term(std::string_view prefix, std::string_view value) {
    std::string t;
    t.reserve(prefix.size() + value.size());
    t.append(prefix).append(value);
    return t;
}

/// The URL term of a document. Xapian terms are at most 245 bytes, so a long URL keeps its
/// first 200 bytes and adds a hash of the whole URL (FNV-1a, 64 bits, hex).
inline std::string url_term(std::string_view address) {
    if (address.size() < 240)
        return term(url, address);
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : address)
        h = (h ^ c) * 1099511628211ull;
    static constexpr char hex[] = "0123456789abcdef";
    std::string t = term(url, address.substr(0, 200));
    t += '#';
    for (int shift = 60; shift >= 0; shift -= 4)
        t += hex[(h >> shift) & 0xf];
    return t;
}

/// Positions of body words start here, so a phrase never spans title and body.
inline constexpr Xapian::termpos body_position_offset = 1000;

} // namespace mixi::schema
