// Where an index directory keeps its versions. Shared by the writer (indexer/) and the readers
// (query/, server/), which must agree on it.
//
//   <dir>/current            symlink to versions/<name>, switched with one atomic rename
//   <dir>/versions/<name>/   one complete Xapian database per full build
//   <dir>/write.lock         held (flock) by the one writer at a time
#pragma once

#include <filesystem>

namespace mixi::layout {

std::filesystem::path current_link(const std::filesystem::path& dir);
std::filesystem::path versions_dir(const std::filesystem::path& dir);
std::filesystem::path lock_file(const std::filesystem::path& dir);

/// The database directory a reader should open: the target of `current` when `dir` is an
/// index directory, or `dir` itself when it is a plain Xapian database. Empty if neither.
std::filesystem::path resolve_database(const std::filesystem::path& dir);

} // namespace mixi::layout
