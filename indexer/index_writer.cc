#include "indexer/index_writer.h"

#include "common/index_layout.h"
#include "common/schema.h"
#include "common/stored_data.h"
#include "indexer/synonyms.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <sys/file.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <xapian.h>

namespace mixi::indexer {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// ------------------------------------------------------------------------------ write lock

/// flock() on <dir>/write.lock: released by the kernel when the process ends, however it ends.
class WriteLock {
  public:
    static Expected<WriteLock> acquire(const fs::path& dir) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec)
            return fail(ErrorCode::io_error, "cannot create " + dir.string() + ": " + ec.message());
        const fs::path path = layout::lock_file(dir);
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return fail(ErrorCode::io_error,
                        "cannot open " + path.string() + ": " + std::strerror(errno));
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            char buf[32] = {};
            const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
            ::close(fd);
            std::string holder =
                n > 0 ? " (pid " + std::string(buf, static_cast<std::size_t>(n)) + ")" : "";
            while (!holder.empty() && (holder.back() == '\n'))
                holder.pop_back();
            return fail(ErrorCode::index_locked, "index is locked: another writer" + holder +
                                                     " is updating " + dir.string());
        }
        const std::string pid = std::to_string(::getpid());
        if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
            // The pid is only a hint for the error message above.
        }
        return WriteLock(fd);
    }
    WriteLock(WriteLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    WriteLock& operator=(WriteLock&&) = delete;
    ~WriteLock() {
        if (fd_ >= 0)
            ::close(fd_);
    }

  private:
    explicit WriteLock(int fd) : fd_(fd) {}
    int fd_;
};

/// The error for the Xapian::Error being handled: call it only in a catch block.
Error xapian_error(const std::string& what) {
    auto error = [&](ErrorCode code, const Xapian::Error& e) {
        return Error{code, what + ": " + e.get_description()};
    };
    try {
        throw;
    } catch (const Xapian::DatabaseLockError& e) {
        return {ErrorCode::index_locked, "index is locked: " + e.get_msg()};
    } catch (const Xapian::DatabaseNotFoundError& e) {
        return error(ErrorCode::io_error, e); // not as DatabaseOpeningError, its base
    } catch (const Xapian::DatabaseVersionError& e) {
        return error(ErrorCode::io_error, e); // not as DatabaseOpeningError, its base
    } catch (const Xapian::DatabaseOpeningError& e) {
        return error(ErrorCode::index_unavailable, e);
    } catch (const Xapian::Error& e) {
        return error(ErrorCode::io_error, e);
    }
}

// ---------------------------------------------------------------------------------- pipeline

/// A record after analysis: public ones carry their document.
struct Item {
    std::string id_term;
    unsigned shard = 0; ///< layout::shard_of(id)
    std::optional<PreparedDocument> prepared;
};

using SpellingCounts = std::unordered_map<std::string, Xapian::termcount>;

/// Takes every distinct word of document `docid` out of the spelling table (words were added
/// once per document, so one each comes off). Words still waiting in `pending` come off there,
/// so a document replaced within its own batch is not counted twice.
void remove_spelling(Xapian::WritableDatabase& db, Xapian::docid docid,
                     SpellingCounts* pending = nullptr) {
    for (auto t = db.termlist_begin(docid); t != db.termlist_end(docid); ++t) {
        const std::string term = *t;
        if (term.empty() || (term[0] >= 'A' && term[0] <= 'Z'))
            continue; // prefixed terms are never spelling words
        if (auto it = pending ? pending->find(term) : SpellingCounts::iterator{};
            pending && it != pending->end()) {
            if (--it->second == 0)
                pending->erase(it);
        } else {
            db.remove_spelling(term, 1);
        }
    }
}

std::optional<Xapian::docid> find_document(Xapian::WritableDatabase& db, const std::string& term) {
    auto p = db.postlist_begin(term);
    if (p == db.postlist_end(term))
        return std::nullopt;
    return *p;
}

/// Writes analysed items to one database.
class Writer {
  public:
    /// `fresh`: the database started empty in this run, so only ids seen in this run can
    /// already be in it (saves a lookup per document in a full build).
    Writer(Xapian::WritableDatabase& db, IndexReport& report, bool fresh)
        : db_(db), report_(report), fresh_(fresh) {}

    void write(Item& item) {
        std::optional<Xapian::docid> existing;
        if (!fresh_ || !seen_.insert(item.id_term).second)
            existing = find_document(db_, item.id_term);
        if (existing)
            remove_spelling(db_, *existing, &spelling_);
        if (!item.prepared) {
            if (existing) {
                db_.delete_document(*existing);
                ++report_.removed;
                ++removed_;
            } else {
                ++report_.hidden;
            }
            return;
        }
        if (existing)
            db_.replace_document(*existing, item.prepared->document);
        else
            db_.add_document(item.prepared->document);
        for (const std::string& word : item.prepared->spelling_words)
            ++spelling_[word];
        ++report_.indexed;
    }

    /// Hands the words counted so far to Xapian once each: far fewer calls into its spelling
    /// table than one per word per document. `if_large`: only when the counts take much memory.
    void flush_spelling(bool if_large = false) {
        if (if_large && spelling_.size() < max_pending_spelling)
            return;
        for (const auto& [word, count] : spelling_)
            db_.add_spelling(word, count);
        spelling_.clear();
    }

    /// Documents this writer took out of its database.
    std::uint64_t removed() const { return removed_; }

  private:
    static constexpr std::size_t max_pending_spelling = 1 << 18;

    Xapian::WritableDatabase& db_;
    IndexReport& report_;
    bool fresh_;
    std::uint64_t removed_ = 0;
    std::unordered_set<std::string> seen_;
    SpellingCounts spelling_;
};

class Pipeline {
  public:
    Pipeline(std::vector<std::unique_ptr<Source>> sources, const IndexOptions& options)
        : sources_(std::move(sources)), options_(options), start_(Clock::now()) {
        const unsigned n = std::max(1u, options.threads);
        for (unsigned i = 0; i < n; ++i)
            builders_.emplace_back(options.build);
    }

    /// Feeds every item, in source order, to the writer of its shard (one writer per shard).
    /// Analysis of the next batch overlaps the writing of this one when more than one thread
    /// is allowed.
    Expected<void> run(std::vector<Writer>& writers, IndexReport& report) {
        shards_ = static_cast<unsigned>(writers.size());
        auto done = run_batches(writers, report);
        for (Writer& w : writers)
            w.flush_spelling(); // the words of every document written, even after an error
        return done;
    }

  private:
    static constexpr std::size_t batch_size = 64;

    static void write(std::vector<Writer>& writers, std::vector<Item>& items) {
        for (Item& item : items)
            writers[item.shard].write(item);
        for (Writer& w : writers)
            w.flush_spelling(true);
    }

    Expected<void> run_batches(std::vector<Writer>& writers, IndexReport& report) {
        auto batch = read_batch(report);
        if (!batch)
            return std::unexpected(batch.error());
        if (options_.threads <= 1) {
            while (!batch->empty()) {
                auto items = analyze(std::move(*batch));
                write(writers, items);
                batch = read_batch(report);
                if (!batch)
                    return std::unexpected(batch.error());
            }
            return {};
        }
        // Reading batch k+1 overlaps the analysis of batch k; writing batch k overlaps the
        // analysis of batch k+1.
        auto pending = std::async(std::launch::async, &Pipeline::analyze, this, std::move(*batch));
        for (bool more = true; more;) {
            auto next = read_batch(report);
            auto items = pending.get();
            if (!next)
                return std::unexpected(next.error());
            more = !next->empty();
            if (more)
                pending =
                    std::async(std::launch::async, &Pipeline::analyze, this, std::move(*next));
            write(writers, items);
        }
        return {};
    }

    Expected<std::vector<Record>> read_batch(IndexReport& report) {
        std::vector<Record> out;
        while (out.size() < batch_size && current_ < sources_.size()) {
            auto item = sources_[current_]->next();
            if (!item) {
                ++current_;
                continue;
            }
            if (auto* problem = std::get_if<SourceProblem>(&*item)) {
                ++report.skipped;
                if (options_.on_problem)
                    options_.on_problem(*problem);
                if (options_.stop_on_error)
                    return fail(ErrorCode::invalid_input, problem->where + ": " + problem->reason);
                continue;
            }
            Record& record = std::get<Record>(*item);
            if (record.visibility.empty())
                ++report.no_visibility;
            out.push_back(std::move(record));
            ++read_;
        }
        report_progress();
        return out;
    }

    std::vector<Item> analyze(std::vector<Record> records) {
        std::vector<Item> items(records.size());
        const unsigned n = static_cast<unsigned>(builders_.size());
        auto work = [&](unsigned t) {
            for (std::size_t i = t; i < records.size(); i += n) {
                items[i].id_term = schema::term(schema::id, records[i].id);
                items[i].shard = shards_ > 1 ? layout::shard_of(records[i].id, shards_) : 0;
                complete_html_record(records[i]);
                if (is_public(records[i]))
                    items[i].prepared = builders_[t].build(records[i]);
            }
        };
        std::vector<std::thread> threads;
        for (unsigned t = 1; t < n && t < records.size(); ++t)
            threads.emplace_back(work, t);
        work(0);
        for (auto& th : threads)
            th.join();
        return items;
    }

    void report_progress() {
        if (!options_.on_progress)
            return;
        const auto now = Clock::now();
        if (now - last_progress_ < std::chrono::milliseconds(250) && current_ < sources_.size())
            return;
        last_progress_ = now;
        double done = static_cast<double>(current_);
        if (current_ < sources_.size() && sources_[current_]->total() > 0)
            done += static_cast<double>(sources_[current_]->done()) /
                    static_cast<double>(sources_[current_]->total());
        Progress p;
        p.documents = read_;
        p.seconds = std::chrono::duration<double>(now - start_).count();
        p.fraction = sources_.empty() ? 1.0 : done / static_cast<double>(sources_.size());
        options_.on_progress(p);
    }

    std::vector<std::unique_ptr<Source>> sources_;
    const IndexOptions& options_;
    std::vector<DocumentBuilder> builders_;
    std::size_t current_ = 0;
    std::uint64_t read_ = 0;
    unsigned shards_ = 1;
    Clock::time_point start_, last_progress_{};
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string new_version_name() {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return "v" + std::to_string(ns) + "-" + std::to_string(::getpid());
}

void sync_directory(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

/// Re-packs the stored fields of every document of the database just built with a zstd
/// dictionary trained on them, kept in the database's metadata (schema::StoredPacker: a hit
/// unpacks faster). Only document data is rewritten. Too few documents to train on: left as
/// they are. Documents added later by `index update` are packed without the dictionary.
void pack_with_dictionary(Xapian::WritableDatabase& db) {
    constexpr std::size_t min_samples = 100, sample_bytes = 2 << 20;
    std::vector<Xapian::docid> ids;
    for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it)
        ids.push_back(*it);
    std::vector<std::string> samples;
    std::size_t sampled = 0;
    for (std::size_t i = 0; i < ids.size() && sampled < sample_bytes; ++i) {
        samples.push_back(schema::unpack_stored(db.get_document(ids[i]).get_data()));
        sampled += samples.back().size();
    }
    if (samples.size() < min_samples)
        return;
    const std::string dictionary = schema::train_stored_dictionary(samples);
    if (dictionary.empty())
        return;
    const schema::StoredPacker packer(dictionary);
    for (Xapian::docid id : ids) {
        Xapian::Document doc = db.get_document(id);
        doc.set_data(packer.pack(schema::unpack_stored(doc.get_data())));
        db.replace_document(id, doc);
    }
    db.set_metadata(schema::stored_dictionary_key, dictionary);
    db.commit();
}

/// Copies the synonyms of the current version of the index directory `dir` (when it has one that
/// can be read) into `db`, a new version being built.
void carry_synonyms(const fs::path& dir, Xapian::WritableDatabase& db) {
    const fs::path previous = layout::resolve_database(dir);
    if (previous.empty())
        return;
    SynonymSet set;
    try {
        set = synonyms_of(Xapian::Database(previous.string()));
    } catch (const Xapian::Error&) {
        return; // unreadable: the build replaces it all the same
    }
    write_synonyms(db, set);
}

/// Rewrites the database just built at `path` compacted, with the same document ids. A fresh
/// build leaves the posting-list B-tree about half empty; full blocks make searches read about a
/// fifth fewer blocks (bench/RESULTS.md). A writer killed in between leaves `path` missing and
/// `<path>.compact` behind, before `current` was switched; the next switch removes both.
Expected<void> compact_in_place(const fs::path& path) {
    const fs::path compacted = path.string() + ".compact";
    std::error_code ec;
    fs::remove_all(compacted, ec);
    Xapian::Database(path.string()).compact(compacted.string(), Xapian::DBCOMPACT_NO_RENUMBER);
    fs::remove_all(path, ec);
    if (!ec)
        fs::rename(compacted, path, ec);
    sync_directory(path.parent_path()); // the rename is durable before `current` names it
    if (ec)
        return fail(ErrorCode::io_error,
                    "cannot replace " + path.string() + " by its compacted copy: " + ec.message());
    return {};
}

/// Points `current` at versions/<name> with one rename(2), then drops every version but the
/// new one and, when `keep_previous`, the one it replaced (a rollback; a reader may still have
/// it open). A reader that has a dropped version open goes on reading its open files until it
/// reopens, and then follows `current`.
Expected<void> switch_current(const fs::path& dir, const std::string& name, bool keep_previous) {
    std::error_code ec;
    const fs::path previous = layout::resolve_database(dir).filename();
    // A writer killed between making its temporary link and renaming it left one behind: we
    // hold the write lock, so any there now is stale.
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().filename().string().starts_with("current.tmp."))
            fs::remove(entry.path(), ec);
    const fs::path tmp = dir / ("current.tmp." + std::to_string(::getpid()));
    fs::create_directory_symlink(fs::path("versions") / name, tmp, ec);
    if (!ec)
        fs::rename(tmp, layout::current_link(dir), ec);
    if (ec)
        return fail(ErrorCode::io_error,
                    "cannot switch " + layout::current_link(dir).string() + ": " + ec.message());
    sync_directory(dir);
    for (const auto& entry : fs::directory_iterator(layout::versions_dir(dir), ec)) {
        const fs::path f = entry.path().filename();
        if (f != name && (f != previous || !keep_previous))
            fs::remove_all(entry.path(), ec);
    }
    return {};
}

/// Whether every document of the database at `older` is also in the one at `newer` (by id):
/// then `older` holds no document that was deleted or made private since.
bool has_no_document_missing_from(const fs::path& older, const fs::path& newer) {
    const Xapian::Database old_db(older.string()), new_db(newer.string());
    const std::string prefix = schema::term(schema::id, "");
    for (auto t = old_db.allterms_begin(prefix); t != old_db.allterms_end(prefix); ++t)
        if (!new_db.term_exists(*t))
            return false;
    return true;
}

/// Rewrites the current version of the index directory `dir` compacted into a new version,
/// switches `current` to it and drops every other version. Deleting in place leaves a deleted
/// document's terms and stored fields in free blocks of the database's B-trees (and in the
/// version it was compacted from); a compacted copy holds only what is live. Returns the new
/// version's name.
Expected<std::string> compact_into_new_version(const fs::path& dir) {
    const fs::path from = layout::resolve_database(dir);
    const std::string name = new_version_name();
    const fs::path to = layout::versions_dir(dir) / name;
    try {
        Xapian::Database(from.string()).compact(to.string(), Xapian::DBCOMPACT_NO_RENUMBER);
    } catch (const Xapian::Error&) {
        std::error_code ec;
        fs::remove_all(to, ec);
        return std::unexpected(xapian_error("cannot compact " + from.string()));
    }
    sync_directory(to.parent_path());
    if (auto switched = switch_current(dir, name, false); !switched)
        return std::unexpected(switched.error());
    return name;
}

} // namespace

// ------------------------------------------------------------------------------- public API

namespace {

/// The index directories a writer of `dir` writes: `dir` itself, or its shards. `wanted`: the
/// shards a build asks for (0 or 1: none); checked against what `dir` already is.
Expected<std::vector<fs::path>> target_dirs(const fs::path& dir, unsigned wanted, bool building) {
    const unsigned existing = layout::shard_count(dir);
    const bool replica =
        layout::is_replica(dir) || (existing > 0 && layout::is_replica(layout::shard_dir(dir, 0)));
    if (replica)
        return fail(ErrorCode::read_only_copy,
                    dir.string() + " is a replica kept by xapian-replicate: write the primary "
                                   "index it copies (docs/scale-out.md), and the replica follows");
    const bool plain = !layout::resolve_database(dir).empty();
    const unsigned n = building ? wanted : existing;
    if (building && existing > 0 && existing != std::max(1u, wanted))
        return fail(ErrorCode::invalid_argument,
                    dir.string() + " is an index of " + std::to_string(existing) +
                        " shards: build it with --shards " + std::to_string(existing) +
                        ", or build into a new directory");
    if (building && wanted > 1 && plain)
        return fail(ErrorCode::invalid_argument,
                    dir.string() + " is an index without shards: build the shards into a new "
                                   "directory");
    std::vector<fs::path> dirs;
    if (n <= 1)
        dirs.push_back(dir);
    else
        for (unsigned i = 0; i < n; ++i)
            dirs.push_back(layout::shard_dir(dir, i));
    return dirs;
}

/// Write locks on `dir` and on each of `dirs` (a shard can also be written on its own).
Expected<std::vector<WriteLock>> lock_all(const fs::path& dir, const std::vector<fs::path>& dirs) {
    std::vector<WriteLock> locks;
    auto top = WriteLock::acquire(dir);
    if (!top)
        return std::unexpected(top.error());
    locks.push_back(std::move(*top));
    for (const fs::path& d : dirs) {
        if (d == dir)
            continue;
        auto lock = WriteLock::acquire(d);
        if (!lock)
            return std::unexpected(lock.error());
        locks.push_back(std::move(*lock));
    }
    return locks;
}

/// Writes `<dir>/shards` (with a rename, so a reader sees all of it or none).
Expected<void> write_shard_count(const fs::path& dir, unsigned n) {
    const fs::path tmp = dir / ("shards.tmp." + std::to_string(::getpid()));
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << n << "\n";
        if (!out.flush())
            return fail(ErrorCode::io_error, "cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, layout::shards_file(dir), ec);
    if (ec)
        return fail(ErrorCode::io_error,
                    "cannot write " + layout::shards_file(dir).string() + ": " + ec.message());
    sync_directory(dir);
    return {};
}

} // namespace

Expected<IndexReport> build_index(const fs::path& dir, std::vector<std::unique_ptr<Source>> sources,
                                  const IndexOptions& options) {
    const auto start = Clock::now();
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto dirs = target_dirs(dir, options.shards, true);
    if (!dirs)
        return std::unexpected(dirs.error());
    auto locks = lock_all(dir, *dirs);
    if (!locks)
        return std::unexpected(locks.error());
    IndexReport report;
    report.version = new_version_name();
    std::vector<fs::path> paths;
    for (const fs::path& d : *dirs) {
        paths.push_back(layout::versions_dir(d) / report.version);
        fs::create_directories(paths.back(), ec);
        if (ec)
            return fail(ErrorCode::io_error,
                        "cannot create " + paths.back().string() + ": " + ec.message());
    }
    auto discard = [&] {
        for (const fs::path& p : paths) {
            fs::remove_all(p, ec);
            fs::remove_all(p.string() + ".compact", ec);
        }
    };
    try {
        std::vector<Xapian::WritableDatabase> dbs;
        for (const fs::path& p : paths)
            dbs.emplace_back(p.string(), Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
        std::vector<Writer> writers;
        for (auto& db : dbs)
            writers.emplace_back(db, report, true);
        Pipeline pipeline(std::move(sources), options);
        auto ran = pipeline.run(writers, report);
        if (!ran) {
            for (auto& db : dbs)
                db.close();
            discard();
            return std::unexpected(ran.error());
        }
        // The synonyms are the content team's, not the sources': the new version keeps them.
        for (std::size_t i = 0; i < dbs.size(); ++i)
            carry_synonyms((*dirs)[i], dbs[i]);
        for (auto& db : dbs) {
            db.commit();
            pack_with_dictionary(db);
            report.documents += db.get_doccount();
            db.close();
        }
        for (const fs::path& p : paths)
            if (auto compacted = compact_in_place(p); !compacted) {
                discard();
                return std::unexpected(compacted.error());
            }
    } catch (const Xapian::Error&) {
        discard();
        return std::unexpected(xapian_error("cannot build " + paths.front().string()));
    }
    // Each shard switches on its own; `shards` appears once all of them have a version. The
    // previous version stays for a rollback only when it has no document the new one lacks:
    // otherwise it would keep a document deleted or made private since on disk.
    for (std::size_t i = 0; i < dirs->size(); ++i) {
        const fs::path previous = layout::resolve_database((*dirs)[i]);
        bool keep_previous = false;
        try {
            keep_previous = !previous.empty() && has_no_document_missing_from(previous, paths[i]);
        } catch (const Xapian::Error&) {
            keep_previous = false; // unreadable: no use for a rollback either
        }
        if (auto switched = switch_current((*dirs)[i], report.version, keep_previous); !switched)
            return std::unexpected(switched.error());
    }
    if (dirs->size() > 1 && layout::shard_count(dir) == 0)
        if (auto written = write_shard_count(dir, static_cast<unsigned>(dirs->size())); !written)
            return std::unexpected(written.error());
    report.seconds = seconds_since(start);
    return report;
}

namespace {

Expected<Xapian::WritableDatabase> open_current_for_writing(const fs::path& dir) {
    const fs::path path = layout::resolve_database(dir);
    if (path.empty())
        return fail(ErrorCode::not_found,
                    "no index at " + dir.string() + " (run `mixi-search index build` first)");
    try {
        return Xapian::WritableDatabase(path.string(), Xapian::DB_OPEN);
    } catch (const Xapian::Error&) {
        return std::unexpected(xapian_error("cannot open " + path.string()));
    }
}

} // namespace

namespace {

/// The current version of the index, or of each of its shards, locked and open for writing.
struct OpenIndex {
    std::vector<WriteLock> locks;
    std::vector<Xapian::WritableDatabase> dbs; ///< in shard order
    std::string version;                       ///< of the first
    std::vector<fs::path> dirs;                ///< the index directory of each
};

/// Closes database `i` of `index` and, when documents were removed from it, compacts it into a
/// new version that has no copy of them (compact_into_new_version).
Expected<void> close_and_compact(OpenIndex& index, std::size_t i, bool removed) {
    index.dbs[i].close();
    if (!removed)
        return {};
    auto name = compact_into_new_version(index.dirs[i]);
    if (!name)
        return std::unexpected(name.error());
    if (i == 0)
        index.version = *name;
    return {};
}

Expected<OpenIndex> open_for_writing(const fs::path& dir) {
    auto dirs = target_dirs(dir, 0, false);
    if (!dirs)
        return std::unexpected(dirs.error());
    auto locks = lock_all(dir, *dirs);
    if (!locks)
        return std::unexpected(locks.error());
    OpenIndex out{std::move(*locks), {}, layout::resolve_database(dirs->front()).filename(), *dirs};
    for (const fs::path& d : *dirs) {
        auto db = open_current_for_writing(d);
        if (!db)
            return std::unexpected(db.error());
        out.dbs.push_back(std::move(*db));
    }
    return out;
}

} // namespace

Expected<IndexReport> update_index(const fs::path& dir,
                                   std::vector<std::unique_ptr<Source>> sources,
                                   const IndexOptions& options) {
    const auto start = Clock::now();
    auto index = open_for_writing(dir);
    if (!index)
        return std::unexpected(index.error());
    auto& dbs = index->dbs;
    IndexReport report;
    report.version = index->version;
    try {
        // With stop_on_error the update is one transaction per database, so a bad record
        // leaves the index exactly as it was.
        if (options.stop_on_error)
            for (auto& db : dbs)
                db.begin_transaction();
        std::vector<Writer> writers;
        for (auto& db : dbs)
            writers.emplace_back(db, report, false);
        Pipeline pipeline(std::move(sources), options);
        auto ran = pipeline.run(writers, report);
        if (!ran) {
            if (options.stop_on_error)
                for (auto& db : dbs)
                    db.cancel_transaction();
            return std::unexpected(ran.error());
        }
        for (auto& db : dbs) {
            if (options.stop_on_error)
                db.commit_transaction();
            db.commit();
            report.documents += db.get_doccount();
        }
        // Removed documents (records made private or hidden) leave no copy on disk.
        for (std::size_t i = 0; i < dbs.size(); ++i)
            if (auto ok = close_and_compact(*index, i, writers[i].removed() > 0); !ok)
                return std::unexpected(ok.error());
    } catch (const Xapian::Error&) {
        return std::unexpected(xapian_error("cannot update " + dir.string()));
    }
    report.version = index->version;
    report.seconds = seconds_since(start);
    return report;
}

Expected<DeleteReport> delete_documents(const fs::path& dir, const std::vector<std::string>& ids) {
    auto index = open_for_writing(dir);
    if (!index)
        return std::unexpected(index.error());
    auto& dbs = index->dbs;
    const auto n = static_cast<unsigned>(dbs.size());
    DeleteReport report;
    std::vector<bool> removed(dbs.size(), false);
    try {
        for (const std::string& id : ids) {
            const unsigned shard = n > 1 ? layout::shard_of(id, n) : 0;
            auto& db = dbs[shard];
            const auto docid = find_document(db, schema::term(schema::id, id));
            if (!docid) {
                report.not_found.push_back(id);
                continue;
            }
            remove_spelling(db, *docid);
            db.delete_document(*docid);
            removed[shard] = true;
            report.deleted.push_back(id);
        }
        for (auto& db : dbs)
            db.commit();
        // Searchers see the deletion now; the compacted copy then leaves none of it on disk.
        for (std::size_t i = 0; i < dbs.size(); ++i)
            if (auto ok = close_and_compact(*index, i, removed[i]); !ok)
                return std::unexpected(ok.error());
    } catch (const Xapian::Error&) {
        return std::unexpected(xapian_error("cannot delete from " + dir.string()));
    }
    return report;
}

Expected<void> change_in_place(const fs::path& dir,
                               const std::function<void(Xapian::WritableDatabase&)>& change) {
    auto index = open_for_writing(dir);
    if (!index)
        return std::unexpected(index.error());
    // One transaction per database: a change that fails part-way leaves each as it was (the
    // destructor of a WritableDatabase would otherwise commit what was done).
    try {
        for (auto& db : index->dbs)
            db.begin_transaction();
        try {
            for (auto& db : index->dbs)
                change(db);
        } catch (const Xapian::Error&) {
            for (auto& db : index->dbs)
                db.cancel_transaction();
            throw;
        }
        for (auto& db : index->dbs)
            db.commit_transaction();
    } catch (const Xapian::Error&) {
        return std::unexpected(xapian_error("cannot change " + dir.string()));
    }
    return {};
}

Expected<std::vector<std::string>> missing_documents(const fs::path& dir,
                                                     const std::vector<std::string>& ids) {
    auto dirs = target_dirs(dir, 0, false);
    if (!dirs)
        return std::unexpected(dirs.error());
    std::vector<std::string> missing;
    try {
        std::vector<Xapian::Database> dbs;
        for (const fs::path& d : *dirs) {
            const fs::path path = layout::resolve_database(d);
            if (path.empty())
                return fail(ErrorCode::not_found, "no index at " + d.string());
            dbs.emplace_back(path.string());
        }
        const auto n = static_cast<unsigned>(dbs.size());
        for (const std::string& id : ids)
            if (!dbs[n > 1 ? layout::shard_of(id, n) : 0].term_exists(schema::term(schema::id, id)))
                missing.push_back(id);
    } catch (const Xapian::Error&) {
        return std::unexpected(xapian_error("cannot read " + dir.string()));
    }
    return missing;
}

Expected<IndexStats> index_stats(const fs::path& dir) {
    auto dirs = target_dirs(dir, 0, false);
    if (!dirs)
        return std::unexpected(dirs.error());
    IndexStats stats;
    stats.shards = layout::shard_count(dir);
    double total_length = 0;
    for (const fs::path& d : *dirs) {
        const fs::path path = layout::resolve_database(d);
        if (path.empty())
            return fail(ErrorCode::not_found, "no index at " + d.string());
        stats.database += (stats.database.empty() ? "" : "\n") + path.string();
        try {
            Xapian::Database db(path.string());
            stats.documents += db.get_doccount();
            stats.revision = std::max<std::uint64_t>(stats.revision, db.get_revision());
            total_length += db.get_avlength() * db.get_doccount();
            auto count_prefix = [&](const std::string& prefix,
                                    std::map<std::string, std::uint64_t>& out) {
                for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix); ++t)
                    out[(*t).substr(prefix.size())] += t.get_termfreq();
            };
            count_prefix(schema::type, stats.by_type);
            count_prefix(schema::lang, stats.by_lang);
        } catch (const Xapian::Error&) {
            return std::unexpected(xapian_error("cannot open " + path.string()));
        }
        std::error_code ec;
        for (const auto& entry : fs::recursive_directory_iterator(path, ec))
            if (entry.is_regular_file(ec))
                stats.bytes_on_disk += entry.file_size(ec);
    }
    stats.average_length = stats.documents ? total_length / stats.documents : 0;
    return stats;
}

} // namespace mixi::indexer
