// Where an index directory keeps its versions. Shared by the writer (indexer/) and the readers
// (query/, server/), which must agree on it.
//
//   <dir>/current            symlink to versions/<name>, switched with one atomic rename
//   <dir>/versions/<name>/   one complete Xapian database per full build
//   <dir>/write.lock         held (flock) by the one writer at a time
//
// A replica of an index, kept by Xapian's `xapian-replicate` from the primary's `current`, is
// read like an index directory but never written:
//
//   <dir>/XAPIANDB           a stub naming the live copy ("auto replica_0"), replaced with one
//                            atomic rename when a new copy is complete
//   <dir>/replica_<n>/       the copy it names (and, while one is arriving, the next)
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

/// The stub file of a replica.
std::filesystem::path replica_stub(const std::filesystem::path& dir);
/// Whether `dir` is a replica made by xapian-replicate (it has a stub file).
bool is_replica(const std::filesystem::path& dir);

/// The database directory a reader should open: the target of `current` when `dir` is an
/// index directory, the copy its stub names when it is a replica, or `dir` itself when it is a
/// plain Xapian database. Empty if none of these.
std::filesystem::path resolve_database(const std::filesystem::path& dir);

std::filesystem::path shards_file(const std::filesystem::path& dir);
std::filesystem::path shard_dir(const std::filesystem::path& dir, unsigned shard);
/// N when `dir` is a sharded index; 0 when it is not (or the file is unreadable).
unsigned shard_count(const std::filesystem::path& dir);
/// The shard of a document id among n (FNV-1a, 64 bits, of the id's bytes, modulo n): the
/// same on every machine and in every version.
unsigned shard_of(std::string_view id, unsigned n);

} // namespace mixi::layout
