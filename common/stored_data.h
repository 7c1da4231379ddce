// The stored fields of a document (what a hit shows and snippets are cut from) as Xapian keeps
// them in its document data: a JSON object, compressed with zstd.
#pragma once

#include <string>
#include <string_view>

namespace mixi::schema {

/// The document data for the stored fields `json`: one zstd frame. Xapian compresses document
/// data it can shrink with zlib, and inflating ten hits' data was an eighth of a search's CPU;
/// a zstd frame cannot shrink further, so Xapian keeps it as it is, and it unpacks 3-5x faster.
std::string pack_stored(std::string_view json);

/// The stored fields' JSON from document data written by pack_stored, or the data as it is
/// when it is not a zstd frame (indexes built before, whose data is the JSON itself). Empty
/// when the frame is damaged.
std::string unpack_stored(std::string_view data);

} // namespace mixi::schema
