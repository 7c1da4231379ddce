// Where an index directory keeps its versions. Shared by the writer (indexer/) and the readers
// (query/, server/), which must agree on it.
//
//   <dir>/current            symlink to versions/<name>, switched with one atomic rename
//   <dir>/versions/<name>/   one complete Xapian database per full build
//   <dir>/write.lock         held (flock) by the one writer at a time
//
// A sharded index (`index build --shards N`) is a directory of N such index directories:
//
//   <dir>/shards             the number of shards, N (its presence makes <dir> sharded)
//   <dir>/shard-<i>/         shard i, 0 <= i < N: an index directory as above
//   <dir>/write.lock         held by the writer of all shards
//
// A document lives in shard shard_of(id, N), a stable hash of its id.
#pragma once

#include <filesystem>
#include <string_view>

namespace mixi::layout {

std::filesystem::path current_link(const std::filesystem::path& dir);
std::filesystem::path versions_dir(const std::filesystem::path& dir);
std::filesystem::path lock_file(const std::filesystem::path& dir);

/// The database directory a reader should open: the target of `current` when `dir` is an
/// index directory, or `dir` itself when it is a plain Xapian database. Empty if neither.
std::filesystem::path resolve_database(const std::filesystem::path& dir);

std::filesystem::path shards_file(const std::filesystem::path& dir);
std::filesystem::path shard_dir(const std::filesystem::path& dir, unsigned shard);
/// N when `dir` is a sharded index; 0 when it is not (or the file is unreadable).
unsigned shard_count(const std::filesystem::path& dir);
/// The shard of a document id among n (FNV-1a, 64 bits, of the id's bytes, modulo n): the
/// same on every machine and in every version.
unsigned shard_of(std::string_view id, unsigned n);

} // namespace mixi::layout
