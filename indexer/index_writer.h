// Writing an index directory (common/index_layout.h): full builds into a new version with an
// atomic switch of `current`, in-place updates and deletes, and statistics. One writer at a time.
#pragma once

#include "common/error.h"
#include "indexer/document_builder.h"
#include "indexer/sources.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <xapian.h>

namespace mixi::indexer {

struct Progress {
    std::uint64_t documents = 0; ///< records read so far
    double seconds = 0;          ///< since the run started
    double fraction = 0;         ///< of all sources, by their own measure (0..1)
};

struct IndexOptions {
    unsigned threads = 1; ///< analysis threads (the writer is one more)
    /// build_index: 2 or more splits the index into this many shards by a hash of the id
    /// (common/index_layout.h). Updates and deletes find the shards themselves.
    unsigned shards = 0;
    bool stop_on_error = false; ///< stop at the first problem and change nothing
    BuildOptions build;
    std::function<void(const SourceProblem&)> on_problem;
    std::function<void(const Progress&)> on_progress; ///< called about every 0.25 s
};

struct IndexReport {
    std::uint64_t indexed = 0; ///< public records written
    std::uint64_t removed = 0; ///< documents taken out (non-public records in an update)
    std::uint64_t hidden = 0;  ///< non-public records not indexed
    /// Of the records above, those that had no visibility at all (not public by default:
    /// the caller should say how to opt in).
    std::uint64_t no_visibility = 0;
    std::uint64_t skipped = 0;   ///< problems reported and skipped
    std::uint64_t documents = 0; ///< documents in the index afterwards
    double seconds = 0;
    std::string version; ///< the version directory written
};

/// Builds a new version of the index in `dir` from `sources`, then switches `current` to it
/// with one atomic rename. Until then readers see the previous version; a build that is killed
/// or stopped leaves `current` as it was. Keeps the new and the previous version.
Expected<IndexReport> build_index(const std::filesystem::path& dir,
                                  std::vector<std::unique_ptr<Source>> sources,
                                  const IndexOptions& options);

/// Upserts the public records of `sources` into the current version in place, and removes the
/// documents of records that are not public (Record::visibility anything but "public").
Expected<IndexReport> update_index(const std::filesystem::path& dir,
                                   std::vector<std::unique_ptr<Source>> sources,
                                   const IndexOptions& options);

struct DeleteReport {
    std::vector<std::string> deleted;
    std::vector<std::string> not_found;
};

/// Removes documents by id from the current version, with their spelling data.
Expected<DeleteReport> delete_documents(const std::filesystem::path& dir,
                                        const std::vector<std::string>& ids);

/// Of `ids`, those that are not in the current version of the index at `dir` (of any of its
/// shards). not_found when there is no index there.
Expected<std::vector<std::string>> missing_documents(const std::filesystem::path& dir,
                                                     const std::vector<std::string>& ids);

/// Runs `change` on the current version of the index at `dir`, or of each of its shards in
/// shard order, locked and open for writing, then commits each. A replica is refused
/// (read_only_copy); a change that throws Xapian::Error is not committed.
Expected<void> change_in_place(const std::filesystem::path& dir,
                               const std::function<void(Xapian::WritableDatabase&)>& change);

struct IndexStats {
    std::string database; ///< the directory `current` points at (each shard's, one per line)
    unsigned shards = 0;  ///< 0: not sharded
    std::uint64_t documents = 0;
    std::uint64_t revision = 0;
    double average_length = 0;
    std::uint64_t bytes_on_disk = 0;
    std::map<std::string, std::uint64_t> by_type;
    std::map<std::string, std::uint64_t> by_lang;
};

Expected<IndexStats> index_stats(const std::filesystem::path& dir);

} // namespace mixi::indexer
