// Helpers shared by the indexer unit tests.
#pragma once

#include "../temp_dir.h"
#include "common/index_layout.h"
#include "indexer/index_writer.h"
#include "indexer/sources.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <xapian.h>

namespace mixi::testing {

namespace fs = std::filesystem;

inline fs::path source_dir() {
    return fs::path(MIXI_SOURCE_DIR);
}
inline fs::path sample_ndjson() {
    return source_dir() / "data" / "sample.ndjson";
}
inline fs::path fixture_site() {
    return source_dir() / "tests" / "fixtures" / "site";
}

/// The sample has 40 records: 37 public, a-011 and p-008 private, v-008 "friends".
inline constexpr unsigned kSamplePublic = 37;
inline constexpr unsigned kSampleHidden = 3;

inline void write_file(const fs::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

inline std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<std::unique_ptr<indexer::Source>> sources_of(const fs::path& path) {
    std::vector<std::unique_ptr<indexer::Source>> out;
    out.push_back(std::make_unique<indexer::NdjsonSource>(path));
    return out;
}

inline std::vector<std::unique_ptr<indexer::Source>>
records_source(std::vector<indexer::Record> records) {
    std::vector<std::unique_ptr<indexer::Source>> out;
    out.push_back(std::make_unique<indexer::RecordsSource>(std::move(records)));
    return out;
}

/// One NDJSON line for a simple public English record (`extra` may set another visibility).
inline std::string ndjson_line(const std::string& id, const std::string& title,
                               const std::string& body = "plain body text",
                               const std::string& extra = "") {
    const bool visibility = extra.find("\"visibility\"") != std::string::npos;
    return "{\"id\": \"" + id + "\", \"title\": \"" + title + "\", \"body\": \"" + body +
           "\", \"type\": \"article\", \"lang\": \"en\"" +
           (visibility ? "" : ", \"visibility\": \"public\"") + extra + "}\n";
}

/// Opens what `current` points at.
inline Xapian::Database open_current(const fs::path& dir) {
    const fs::path db = layout::resolve_database(dir);
    if (db.empty())
        throw std::runtime_error("no index at " + dir.string());
    return Xapian::Database(db.string());
}

inline std::set<std::string> terms_with_prefix(const Xapian::Database& db,
                                               const std::string& prefix) {
    std::set<std::string> out;
    for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix); ++t)
        out.insert(*t);
    return out;
}

/// Every term with its document frequency.
inline std::map<std::string, Xapian::doccount> all_terms(const Xapian::Database& db) {
    std::map<std::string, Xapian::doccount> out;
    for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t)
        out[*t] = t.get_termfreq();
    return out;
}

/// How often `word` is in the spelling table (0 when it is not). Xapian 1.4 has no
/// Database::get_spelling_frequency, so this walks the spelling list.
inline Xapian::doccount spelling_frequency(const Xapian::Database& db, const std::string& word) {
    auto s = db.spellings_begin();
    s.skip_to(word);
    if (s != db.spellings_end() && *s == word)
        return s.get_termfreq();
    return 0;
}

/// The terms of the document with unique id `id` (empty when there is none).
inline std::set<std::string> document_terms(const Xapian::Database& db, const std::string& id) {
    std::set<std::string> out;
    auto p = db.postlist_begin("Q" + id);
    if (p == db.postlist_end("Q" + id))
        return out;
    for (auto t = db.termlist_begin(*p); t != db.termlist_end(*p); ++t)
        out.insert(*t);
    return out;
}

/// Names of the version directories, sorted.
inline std::vector<std::string> version_names(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(layout::versions_dir(dir), ec))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

/// The symlink text of `current` ("versions/<name>").
inline fs::path current_target(const fs::path& dir) {
    std::error_code ec;
    return fs::read_symlink(layout::current_link(dir), ec);
}

/// Builds the sample into `dir`; throws when the build fails.
inline indexer::IndexReport build_sample(const fs::path& dir, indexer::IndexOptions options = {}) {
    auto r = indexer::build_index(dir, sources_of(sample_ndjson()), options);
    if (!r)
        throw std::runtime_error("build_index failed: " + r.error().message);
    return *r;
}

} // namespace mixi::testing
