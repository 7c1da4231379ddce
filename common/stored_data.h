// The stored fields of a document (what a hit shows and snippets are cut from) as Xapian keeps
// them in its document data: a JSON object, compressed with zstd, with a dictionary trained on
// the index's own documents when the index has one.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mixi::schema {

/// Where an index keeps its stored-fields dictionary (Xapian user metadata).
inline constexpr const char* stored_dictionary_key = "mixi.stored_dictionary";

/// The document data for the stored fields `json`: one zstd frame. Xapian compresses document
/// data it can shrink with zlib, and inflating ten hits' data was an eighth of a search's CPU;
/// a zstd frame cannot shrink further, so Xapian keeps it as it is, and it unpacks 3-5x faster.
std::string pack_stored(std::string_view json);

/// A zstd dictionary trained on `samples` (stored fields' JSON), at most `max_bytes` long, or
/// "" when they are too few or too alike to train one.
std::string train_stored_dictionary(const std::vector<std::string>& samples,
                                    std::size_t max_bytes = 32 * 1024);

/// Packs stored fields with a dictionary: a small document's frame then needs no entropy
/// tables of its own, so it is smaller and unpacks about 40% faster (bench/RESULTS.md).
/// Thread-safe.
class StoredPacker {
  public:
    explicit StoredPacker(std::string_view dictionary);
    /// As pack_stored, with the dictionary (pack_stored itself when it could not be loaded).
    std::string pack(std::string_view json) const;

  private:
    std::shared_ptr<void> cdict_;
};

/// The dictionaries an index's frames may name, by their zstd dictionary id. Read-only once
/// loaded, so one set can serve every thread.
class StoredDictionaries {
  public:
    /// Adds a dictionary written by train_stored_dictionary; false when it is not one.
    bool add(std::string_view dictionary);
    const void* find(unsigned id) const;

  private:
    std::map<unsigned, std::shared_ptr<void>> ddicts_;
};

/// The stored fields' JSON from document data written by pack_stored or a StoredPacker (whose
/// dictionary must be in `dictionaries`), or the data as it is when it is not a zstd frame
/// (indexes built before, whose data is the JSON itself). Empty when the frame is damaged or
/// names a dictionary that is not there.
std::string unpack_stored(std::string_view data, const StoredDictionaries* dictionaries = nullptr);

} // namespace mixi::schema
