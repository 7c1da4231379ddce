// Unit tests of the index writer: build_index, update_index, delete_documents, index_stats, the
// write lock, stop_on_error and threads. Every test builds into its own TempDir.
#include "common/error.h"
#include "common/index_layout.h"
#include "common/schema.h"
#include "common/stored_data.h"
#include "indexer/index_writer.h"
#include "test_util.h"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <sys/file.h>
#include <unistd.h>
#include <vector>
#include <xapian.h>

namespace {

namespace fs = std::filesystem;
namespace layout = mixi::layout;
namespace schema = mixi::schema;
using mixi::ErrorCode;
using mixi::indexer::build_index;
using mixi::indexer::DefaultVisibility;
using mixi::indexer::delete_documents;
using mixi::indexer::index_stats;
using mixi::indexer::IndexOptions;
using mixi::indexer::Record;
using mixi::indexer::Source;
using mixi::indexer::SourceProblem;
using mixi::indexer::update_index;
using mixi::testing::all_terms;
using mixi::testing::build_sample;
using mixi::testing::current_target;
using mixi::testing::document_terms;
using mixi::testing::kSampleHidden;
using mixi::testing::kSamplePublic;
using mixi::testing::ndjson_line;
using mixi::testing::open_current;
using mixi::testing::read_file;
using mixi::testing::records_source;
using mixi::testing::sample_ndjson;
using mixi::testing::sources_of;
using mixi::testing::spelling_frequency;
using mixi::testing::TempDir;
using mixi::testing::terms_with_prefix;
using mixi::testing::version_names;
using mixi::testing::write_file;

std::map<std::string, Xapian::termcount> spellings(const Xapian::Database& db) {
    std::map<std::string, Xapian::termcount> out;
    for (auto s = db.spellings_begin(); s != db.spellings_end(); ++s)
        out[*s] = s.get_termfreq();
    return out;
}

/// Holds flock(LOCK_EX) on <dir>/write.lock, as another writer process would.
class HeldLock {
  public:
    explicit HeldLock(const fs::path& dir) {
        fs::create_directories(dir);
        fd_ = ::open(layout::lock_file(dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        locked_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
    }
    ~HeldLock() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    bool locked() const { return locked_; }

  private:
    int fd_ = -1;
    bool locked_ = false;
};

/// The files under `dir` whose raw bytes contain `word`, as someone who copies the disk finds
/// them (relative paths).
std::vector<std::string> files_containing(const fs::path& dir, std::string_view word) {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.is_regular_file() && read_file(entry.path()).find(word) != std::string::npos)
            out.push_back(fs::relative(entry.path(), dir).string());
    return out;
}

// ------------------------------------------------------------------------------- build

TEST(BuildIndex, SampleCountsAndLayout) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    const auto report = build_sample(dir);
    EXPECT_EQ(report.indexed, kSamplePublic);
    EXPECT_EQ(report.hidden, kSampleHidden);
    EXPECT_EQ(report.skipped, 0u);
    EXPECT_EQ(report.removed, 0u);
    EXPECT_EQ(report.documents, kSamplePublic);
    ASSERT_FALSE(report.version.empty());

    EXPECT_TRUE(fs::is_symlink(layout::current_link(dir)));
    EXPECT_EQ(current_target(dir), fs::path("versions") / report.version);
    EXPECT_EQ(layout::resolve_database(dir), dir / "versions" / report.version);
    EXPECT_TRUE(fs::exists(dir / "versions" / report.version / "iamglass"));
    EXPECT_EQ(version_names(dir), std::vector<std::string>{report.version});

    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic);
    EXPECT_EQ(terms_with_prefix(db, "Q").size(), kSamplePublic);
    EXPECT_EQ(db.get_termfreq("Qa-001"), 1u);
    EXPECT_EQ(db.get_termfreq("Qc-010"), 1u);
}

TEST(BuildIndex, NonPublicRecordsLeaveNoTrace) {
    TempDir tmp;
    build_sample(tmp.path());
    const Xapian::Database db = open_current(tmp.path());
    for (const char* id : {"a-011", "p-008", "v-008"})
        EXPECT_EQ(db.get_termfreq(std::string("Q") + id), 0u) << id;
    // Words, tags and bigrams only the private records have.
    EXPECT_EQ(db.get_termfreq("tripod"), 0u); // a-011 (private)
    EXPECT_EQ(db.get_termfreq("Ktripod"), 0u);
    EXPECT_EQ(db.get_termfreq("XB函館"), 0u); // p-008 (private)
    EXPECT_EQ(db.get_termfreq("XB運動"), 0u); // v-008 (friends)
    EXPECT_EQ(spelling_frequency(db, "tripod"), 0u);
    EXPECT_EQ(spelling_frequency(db, "aluminium"), 0u);
}

TEST(BuildIndex, SampleTermsFollowSchema) {
    TempDir tmp;
    build_sample(tmp.path());
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_termfreq("XTarticle"), 11u);
    EXPECT_EQ(db.get_termfreq("XTphoto"), 9u);
    EXPECT_EQ(db.get_termfreq("XTvideo"), 7u);
    EXPECT_EQ(db.get_termfreq("XTcomment"), 10u);
    EXPECT_EQ(db.get_termfreq("Lja"), 15u);
    EXPECT_EQ(db.get_termfreq("Len"), 14u);
    EXPECT_EQ(db.get_termfreq("Kphotography"), 2u); // a-001, a-006
    EXPECT_EQ(db.get_termfreq("Aemma_lens"), 5u);   // a-001, a-006, p-004, v-002, c-007
    EXPECT_EQ(db.get_termfreq("patience"), 1u);
    EXPECT_EQ(db.get_termfreq("Spatience"), 1u);
    EXPECT_GE(db.get_termfreq("XB東京"), 2u);
    EXPECT_GE(db.get_termfreq("写真"), 1u);
}

TEST(BuildIndex, SpellingTable) {
    TempDir tmp;
    build_sample(tmp.path());
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_spelling_suggestion("photgraphy"), "photography");
    EXPECT_EQ(spelling_frequency(db, "photography"), 1u); // a-001 only (tags do not count)
    EXPECT_EQ(spelling_frequency(db, "minutes"), 4u);     // once per document
    EXPECT_EQ(spelling_frequency(db, "riffelsee"), 1u);
    EXPECT_EQ(spelling_frequency(db, "2024"), 0u); // numbers are not spelling words
}

TEST(BuildIndex, SecondBuildSwitchesAndKeepsTwoVersions) {
    TempDir tmp;
    const fs::path dir = tmp.path();
    const auto first = build_sample(dir);
    Xapian::Database reader = open_current(dir); // a reader of the first version
    const auto second = build_sample(dir);
    ASSERT_NE(first.version, second.version);
    EXPECT_EQ(current_target(dir), fs::path("versions") / second.version);
    std::vector<std::string> expected = {first.version, second.version};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(version_names(dir), expected);
    // The reader of the previous version still works.
    EXPECT_EQ(reader.get_doccount(), kSamplePublic);
    EXPECT_EQ(reader.get_termfreq("Qa-001"), 1u);

    const auto third = build_sample(dir);
    EXPECT_EQ(current_target(dir), fs::path("versions") / third.version);
    expected = {second.version, third.version};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(version_names(dir), expected);
    EXPECT_EQ(open_current(dir).get_doccount(), kSamplePublic);
}

TEST(BuildIndex, APreviousVersionWithADocumentTheNewOneLacksIsDropped) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    build_sample(dir);
    // The sample without p-009: the previous version would keep it on disk as a rollback.
    std::string without;
    std::istringstream lines(read_file(sample_ndjson()));
    for (std::string line; std::getline(lines, line);)
        if (line.find("\"p-009\"") == std::string::npos)
            without += line + "\n";
    const fs::path file = tmp.path() / "without.ndjson";
    write_file(file, without);
    ASSERT_FALSE(files_containing(dir, "gornergrat").empty());
    auto second = build_index(dir, sources_of(file), {});
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(version_names(dir), std::vector<std::string>{second->version});
    EXPECT_EQ(files_containing(dir, "gornergrat"), std::vector<std::string>{});
    // A build with every document of the one before keeps that one for a rollback.
    const auto third = build_sample(dir);
    std::vector<std::string> expected = {second->version, third.version};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(version_names(dir), expected);
}

TEST(BuildIndex, NewVersionIsCompactedInPlace) {
    // A fresh build's posting-list B-tree is about half empty; the build compacts it before
    // switching, so compacting it again gains next to nothing, and nothing is left beside it.
    std::vector<Record> records;
    for (int i = 0; i < 3000; ++i) {
        Record r;
        r.id = "r-" + std::to_string(i);
        r.title = "record " + std::to_string(i) + " of many";
        r.body = "word" + std::to_string(i % 97) + " shared text about item " + std::to_string(i) +
                 " and word" + std::to_string(i % 13);
        r.lang = "en";
        r.visibility = "public";
        records.push_back(std::move(r));
    }
    TempDir tmp;
    auto report = build_index(tmp.path(), records_source(records), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(version_names(tmp.path()), std::vector<std::string>{report->version});
    const fs::path built = layout::resolve_database(tmp.path());
    Xapian::Database(built.string()).compact((tmp.path() / "again").string());
    const auto size = fs::file_size(built / "postlist.glass");
    const auto again = fs::file_size(tmp.path() / "again" / "postlist.glass");
    EXPECT_GT(size, 8u * 8192u); // big enough for the comparison to mean something
    EXPECT_LE(size, again + again / 20) << size << " bytes against " << again << " compacted";
    EXPECT_EQ(open_current(tmp.path()).get_doccount(), 3000u);
    EXPECT_EQ(open_current(tmp.path()).get_termfreq("Qr-2999"), 1u);
}

TEST(BuildIndex, StoredFieldsArePackedWithADictionaryOfTheIndex) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    std::string content;
    for (int i = 0; i < 300; ++i)
        content += ndjson_line("gen-" + std::to_string(i), "generated title " + std::to_string(i),
                               "body of record number " + std::to_string(i * 7919) +
                                   " about topic " + std::to_string(i % 23) + " with shared text");
    const fs::path file = tmp.path() / "records.ndjson";
    write_file(file, content);
    ASSERT_TRUE(build_index(dir, sources_of(file), {}));
    auto fields = [](const Xapian::Database& db, const std::string& id,
                     const schema::StoredDictionaries* dictionaries) {
        const std::string data =
            db.get_document(*db.postlist_begin("Q" + id)).get_data(); // one document per id
        return schema::unpack_stored(data, dictionaries);
    };
    {
        const Xapian::Database db = open_current(dir);
        schema::StoredDictionaries dictionaries;
        ASSERT_TRUE(dictionaries.add(db.get_metadata(schema::stored_dictionary_key)));
        for (const char* id : {"gen-0", "gen-150", "gen-299"}) {
            EXPECT_NE(fields(db, id, &dictionaries).find("\"id\":\"" + std::string(id) + "\""),
                      std::string::npos);
            EXPECT_EQ(fields(db, id, nullptr), ""); // packed with the dictionary
        }
    }
    // An update packs a new document without it; the others still read with it.
    const fs::path update = tmp.path() / "update.ndjson";
    write_file(update, ndjson_line("gen-new", "a new title", "a new body"));
    ASSERT_TRUE(update_index(dir, sources_of(update), {}));
    const Xapian::Database db = open_current(dir);
    schema::StoredDictionaries dictionaries;
    ASSERT_TRUE(dictionaries.add(db.get_metadata(schema::stored_dictionary_key)));
    EXPECT_NE(fields(db, "gen-new", nullptr).find("a new body"), std::string::npos);
    EXPECT_NE(fields(db, "gen-7", &dictionaries).find("\"id\":\"gen-7\""), std::string::npos);

    // Too few documents to train on (the 37 of the sample): plain frames, no dictionary.
    const fs::path small = tmp.path() / "small";
    build_sample(small);
    EXPECT_EQ(open_current(small).get_metadata(schema::stored_dictionary_key), "");
}

TEST(BuildIndex, FromHtmlFolder) {
    TempDir tmp;
    std::vector<std::unique_ptr<mixi::indexer::Source>> sources;
    sources.push_back(mixi::indexer::open_source(mixi::testing::fixture_site()));
    auto report = build_index(tmp.path(), std::move(sources), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->documents, 11u);
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_termfreq("Qen/extra/nav-script.html"), 1u);
    EXPECT_EQ(db.get_termfreq("visibleword"), 1u);
    EXPECT_EQ(db.get_termfreq("scriptonly"), 0u);
    EXPECT_EQ(db.get_termfreq("styleonly"), 0u);
    EXPECT_EQ(db.get_termfreq("navigationonly"), 0u);
    EXPECT_EQ(db.get_termfreq("Lzh"), 2u);
    EXPECT_EQ(db.get_termfreq("Lja"), 2u);
    EXPECT_EQ(db.get_termfreq("Len"), 3u);
    EXPECT_EQ(db.get_termfreq("Stails"), 5u);
}

TEST(BuildIndex, BadLinesAreSkippedAndReported) {
    TempDir tmp;
    const fs::path file = tmp.path() / "input.ndjson";
    write_file(file, ndjson_line("g-1", "good one") + "{broken\n" + ndjson_line("g-2", "good two") +
                         "{\"id\": \"g-3\", \"type\": \"podcast\", \"visibility\": \"public\"}\n");
    IndexOptions options;
    std::vector<SourceProblem> problems;
    options.on_problem = [&](const SourceProblem& p) { problems.push_back(p); };
    auto report = build_index(tmp.path() / "index", sources_of(file), options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->indexed, 2u);
    EXPECT_EQ(report->skipped, 2u);
    EXPECT_EQ(report->documents, 2u);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].where, file.string() + ":2");
    EXPECT_EQ(problems[1].where, file.string() + ":4");
}

TEST(BuildIndex, EmptyInputGivesEmptyIndex) {
    TempDir tmp;
    auto report = build_index(tmp.path(), records_source({}), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->documents, 0u);
    EXPECT_EQ(open_current(tmp.path()).get_doccount(), 0u);
}

TEST(BuildIndex, ProgressReachesTheEnd) {
    TempDir tmp;
    IndexOptions options;
    std::vector<mixi::indexer::Progress> seen;
    options.on_progress = [&](const mixi::indexer::Progress& p) { seen.push_back(p); };
    build_sample(tmp.path(), options);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().documents, 40u); // records read, public or not
    EXPECT_DOUBLE_EQ(seen.back().fraction, 1.0);
}

// Within one source, a later record with the same id replaces the earlier one, and the
// spelling table counts the words of the surviving document only.
// (Replacing a document within its own batch once counted both versions' words.)
TEST(BuildIndex, DuplicateIdsKeepTheLastRecord) {
    TempDir tmp;
    std::vector<Record> records(3);
    records[0].id = "dup";
    records[0].title = "alpha uniqueone shared";
    records[0].lang = "en";
    records[1].id = "other";
    records[1].title = "unrelated words";
    records[1].lang = "en";
    records[2].id = "dup";
    records[2].title = "beta uniquetwo shared";
    records[2].lang = "en";
    for (Record& r : records)
        r.visibility = "public";
    auto report = build_index(tmp.path(), records_source(records), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->documents, 2u);
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_termfreq("Qdup"), 1u);
    EXPECT_EQ(db.get_termfreq("uniqueone"), 0u);
    EXPECT_EQ(db.get_termfreq("uniquetwo"), 1u);
    EXPECT_EQ(spelling_frequency(db, "uniqueone"), 0u); // fails: 1 (bug above)
    EXPECT_EQ(spelling_frequency(db, "uniquetwo"), 1u);
    EXPECT_EQ(spelling_frequency(db, "shared"), 1u); // fails: 2 (bug above)
}

// ------------------------------------------------------------------------------ threads

TEST(BuildIndex, ThreadsGiveTheSameIndex) {
    TempDir tmp;
    // The sample plus enough generated records for several batches of the pipeline.
    std::string content = mixi::testing::read_file(sample_ndjson());
    for (int i = 0; i < 700; ++i)
        content += ndjson_line("gen-" + std::to_string(i),
                               "generated title " + std::to_string(i % 17) + " word" +
                                   std::to_string(i % 50),
                               "body of record number " + std::to_string(i) + " with shared text",
                               i % 7 == 0 ? ", \"visibility\": \"private\"" : "");
    const fs::path file = tmp.path() / "big.ndjson";
    write_file(file, content);

    std::vector<std::map<std::string, Xapian::doccount>> terms;
    std::vector<std::map<std::string, Xapian::termcount>> spelling;
    std::vector<Xapian::doccount> counts;
    for (unsigned threads : {1u, 2u, 3u}) {
        SCOPED_TRACE(threads);
        const fs::path dir = tmp.path() / ("index-" + std::to_string(threads));
        IndexOptions options;
        options.threads = threads;
        auto report = build_index(dir, sources_of(file), options);
        ASSERT_TRUE(report) << report.error().message;
        EXPECT_EQ(report->indexed, kSamplePublic + 600u);
        EXPECT_EQ(report->hidden, kSampleHidden + 100u);
        const Xapian::Database db = open_current(dir);
        counts.push_back(db.get_doccount());
        terms.push_back(all_terms(db));
        spelling.push_back(spellings(db));
    }
    EXPECT_EQ(counts[0], kSamplePublic + 600u);
    EXPECT_EQ(counts[1], counts[0]);
    EXPECT_EQ(counts[2], counts[0]);
    // Same Q terms (and in fact the same terms with the same frequencies).
    auto q_terms = [](const std::map<std::string, Xapian::doccount>& m) {
        std::vector<std::string> out;
        for (const auto& [t, f] : m)
            if (t.starts_with("Q"))
                out.push_back(t);
        return out;
    };
    EXPECT_EQ(q_terms(terms[0]).size(), kSamplePublic + 600u);
    EXPECT_EQ(q_terms(terms[1]), q_terms(terms[0]));
    EXPECT_EQ(q_terms(terms[2]), q_terms(terms[0]));
    EXPECT_TRUE(terms[1] == terms[0]);
    EXPECT_TRUE(terms[2] == terms[0]);
    EXPECT_TRUE(spelling[1] == spelling[0]);
    EXPECT_TRUE(spelling[2] == spelling[0]);
    EXPECT_EQ(spelling[0].at("shared"), 600u);
}

TEST(BuildIndex, ThreadsOnSample) {
    TempDir tmp;
    IndexOptions two;
    two.threads = 2;
    build_sample(tmp.path() / "one");
    const auto report = build_sample(tmp.path() / "two", two);
    EXPECT_EQ(report.documents, kSamplePublic);
    const Xapian::Database a = open_current(tmp.path() / "one");
    const Xapian::Database b = open_current(tmp.path() / "two");
    EXPECT_EQ(a.get_doccount(), b.get_doccount());
    EXPECT_EQ(terms_with_prefix(a, "Q"), terms_with_prefix(b, "Q"));
    EXPECT_EQ(b.get_spelling_suggestion("photgraphy"), "photography");
}

// ------------------------------------------------------------------------------- update

TEST(Replica, IsReadAsItsLiveCopyAndNeverWritten) {
    // A replica as xapian-replicate leaves it: a stub naming the live copy, beside the copy.
    TempDir tmp;
    const fs::path primary = tmp.path() / "primary";
    build_sample(primary);
    const fs::path replica = tmp.path() / "replica";
    fs::create_directories(replica);
    fs::copy(layout::resolve_database(primary), replica / "replica_1");
    write_file(layout::replica_stub(replica),
               "# Automatically generated by Xapian::DatabaseReplica v1.4.22.\n"
               "# Do not manually edit - replication operations may regenerate this file.\n"
               "auto replica_1\n");
    EXPECT_TRUE(layout::is_replica(replica));
    EXPECT_FALSE(layout::is_replica(primary));
    EXPECT_EQ(layout::resolve_database(replica), replica / "replica_1");
    EXPECT_EQ(Xapian::Database(layout::resolve_database(replica).string()).get_doccount(),
              kSamplePublic);

    // Every writer refuses it, and names where writes go; the copy is left as it was.
    const Xapian::rev revision = Xapian::Database((replica / "replica_1").string()).get_revision();
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, ndjson_line("a-900", "Zanzibar sunsets"));
    auto expect_refused = [&](const auto& result) {
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().code, ErrorCode::read_only_copy);
        EXPECT_NE(result.error().message.find("primary"), std::string::npos)
            << result.error().message;
    };
    expect_refused(update_index(replica, sources_of(file), {}));
    expect_refused(build_index(replica, sources_of(file), {}));
    expect_refused(delete_documents(replica, {"a-001"}));
    EXPECT_EQ(Xapian::Database((replica / "replica_1").string()).get_revision(), revision);
    EXPECT_FALSE(fs::exists(layout::current_link(replica)));
}

TEST(UpdateIndex, ChangedTitleIsSearchable) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    const auto built = build_sample(dir);
    const Xapian::rev before = open_current(dir).get_revision();

    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file,
               ndjson_line("a-001", "Zanzibar sunsets", "Most great photos come down to light."));
    auto report = update_index(dir, sources_of(file), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->indexed, 1u);
    EXPECT_EQ(report->removed, 0u);
    EXPECT_EQ(report->documents, kSamplePublic);
    EXPECT_EQ(report->version, built.version); // in place: no new version
    EXPECT_EQ(version_names(dir), std::vector<std::string>{built.version});

    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic);
    EXPECT_GT(db.get_revision(), before);
    EXPECT_EQ(db.get_termfreq("zanzibar"), 1u);
    EXPECT_EQ(db.get_termfreq("Szanzibar"), 1u);
    EXPECT_EQ(db.get_termfreq("Qa-001"), 1u);
    const auto terms = document_terms(db, "a-001");
    EXPECT_TRUE(terms.contains("zanzibar"));
    EXPECT_TRUE(terms.contains("Ssunsets"));
    EXPECT_FALSE(terms.contains("patience"));
    // The old title's words are gone, from the terms and the spelling table.
    EXPECT_EQ(db.get_termfreq("patience"), 0u);
    EXPECT_EQ(spelling_frequency(db, "patience"), 0u);
    EXPECT_EQ(spelling_frequency(db, "zanzibar"), 1u);
}

TEST(UpdateIndex, RecordTurningPrivateIsRemoved) {
    TempDir tmp;
    const fs::path dir = tmp.path();
    build_sample(dir);
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, ndjson_line("p-004", "Morning fog over Lake Bled", "now private",
                                 ", \"visibility\": \"private\"") +
                         ndjson_line("a-011", "Still a draft", "still private",
                                     ", \"visibility\": \"private\"") +
                         ndjson_line("n-001", "Brand new post"));
    auto report = update_index(dir, sources_of(file), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->removed, 1u);
    EXPECT_EQ(report->hidden, 1u); // a-011 was never indexed
    EXPECT_EQ(report->indexed, 1u);
    EXPECT_EQ(report->documents, kSamplePublic); // -1 +1

    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic);
    EXPECT_EQ(db.get_termfreq("Qp-004"), 0u);
    EXPECT_EQ(db.get_termfreq("Qa-011"), 0u);
    EXPECT_EQ(db.get_termfreq("Qn-001"), 1u);
    EXPECT_EQ(db.get_termfreq("bled"), 0u);
    EXPECT_EQ(spelling_frequency(db, "bled"), 0u);
    EXPECT_EQ(spelling_frequency(db, "minutes"), 3u); // p-004 had it, 4 -> 3
}

TEST(UpdateIndex, RecordTurningPrivateLeavesNoCopyOnDisk) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    build_sample(dir);
    build_sample(dir); // and a previous version, for a rollback, that has p-004 too
    for (const char* word : {"slovenia", "burned"})
        ASSERT_FALSE(files_containing(dir, word).empty()) << word;
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, ndjson_line("p-004", "Morning fog over Lake Bled", "now private",
                                 ", \"visibility\": \"private\""));
    auto report = update_index(dir, sources_of(file), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->removed, 1u);
    // One version, compacted from the updated one: no free block keeps the old document.
    EXPECT_EQ(version_names(dir), std::vector<std::string>{report->version});
    EXPECT_EQ(current_target(dir), fs::path("versions") / report->version);
    for (const char* word : {"slovenia", "burned"})
        EXPECT_EQ(files_containing(dir, word), std::vector<std::string>{}) << word;
    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic - 1);
    EXPECT_EQ(db.get_termfreq("Qa-001"), 1u);
    EXPECT_EQ(spelling_frequency(db, "minutes"), 3u);
}

TEST(UpdateIndex, RecordTurningPrivateIsRemovedWhateverElseIsWrongWithIt) {
    TempDir tmp;
    const fs::path dir = tmp.path();
    build_sample(dir);
    const fs::path file = tmp.path() / "update.ndjson";
    // Made private (or null) by an exporter that also wrote fields the parser rejects.
    write_file(file, "{\"id\": \"p-004\", \"visibility\": \"private\", \"type\": \"podcast\", "
                     "\"published\": \"last week\"}\n"
                     "{\"id\": \"a-001\", \"visibility\": null, \"lang\": \"??\", "
                     "\"title\": 5}\n"
                     "{\"id\": \"a-002\", \"visibility\": \"Public\"}\n");
    std::vector<SourceProblem> problems;
    IndexOptions options;
    options.stop_on_error = true; // none of them is a problem
    options.on_problem = [&](const SourceProblem& p) { problems.push_back(p); };
    auto report = update_index(dir, sources_of(file), options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_TRUE(problems.empty()) << problems.front().where << ": " << problems.front().reason;
    EXPECT_EQ(report->skipped, 0u);
    EXPECT_EQ(report->removed, 3u);
    EXPECT_EQ(report->documents, kSamplePublic - 3);
    const Xapian::Database db = open_current(dir);
    for (const char* id : {"Qp-004", "Qa-001", "Qa-002"})
        EXPECT_EQ(db.get_termfreq(id), 0u) << id;
    EXPECT_EQ(db.get_termfreq("bled"), 0u);
    EXPECT_EQ(spelling_frequency(db, "bled"), 0u);
}

TEST(UpdateIndex, RecordWithoutVisibilityIsRemovedByDefault) {
    TempDir tmp;
    build_sample(tmp.path());
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, "{\"id\": \"p-004\", \"title\": \"Morning fog over Lake Bled\"}\n");
    auto report = update_index(tmp.path(), sources_of(file), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->indexed, 0u);
    EXPECT_EQ(report->removed, 1u);
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_termfreq("Qp-004"), 0u);
    EXPECT_EQ(db.get_termfreq("bled"), 0u);
}

TEST(UpdateIndex, MissingVisibilityIsCountedAndPublicOnlyWhenTheRunSaysSo) {
    TempDir tmp;
    build_sample(tmp.path());
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, "{\"id\": \"p-004\", \"title\": \"Zanzibar fog\"}\n"
                     "{\"id\": \"n-1\", \"title\": \"Zanzibar news\"}\n"
                     "{\"id\": \"n-2\", \"title\": \"Zanzibar\", \"visibility\": null}\n");
    auto open = [&](DefaultVisibility missing) {
        std::vector<std::unique_ptr<Source>> out;
        out.push_back(mixi::indexer::open_source(file, missing));
        return out;
    };
    auto as_public = update_index(tmp.path(), open(DefaultVisibility::public_), {});
    ASSERT_TRUE(as_public) << as_public.error().message;
    EXPECT_EQ(as_public->indexed, 2u);
    EXPECT_EQ(as_public->hidden, 1u); // null is not missing: never public
    EXPECT_EQ(as_public->no_visibility, 0u);
    EXPECT_EQ(open_current(tmp.path()).get_termfreq("zanzibar"), 2u);

    auto as_private = update_index(tmp.path(), open(DefaultVisibility::private_), {});
    ASSERT_TRUE(as_private) << as_private.error().message;
    EXPECT_EQ(as_private->indexed, 0u);
    EXPECT_EQ(as_private->removed, 2u);
    EXPECT_EQ(as_private->hidden, 1u);
    EXPECT_EQ(as_private->no_visibility, 2u);
    EXPECT_EQ(open_current(tmp.path()).get_termfreq("zanzibar"), 0u);
}

TEST(UpdateIndex, HtmlPageThatSaysNoindexOrIsHiddenIsRemoved) {
    TempDir tmp;
    const fs::path site = tmp.path() / "site", dir = tmp.path() / "index";
    fs::create_directories(site / "en");
    auto page = [](const std::string& word, const std::string& head = "") {
        return "<html lang=\"en\"><head><title>" + word + "</title>" + head + "</head><body><p>" +
               word + " text</p></body></html>";
    };
    write_file(site / "en" / "open.html", page("lanternword"));
    write_file(site / "en" / "later.html", page("zeppelinword"));
    write_file(site / "en" / "never.html",
               page("quokkaword", R"(<meta name="ROBOTS" content="noarchive, NOINDEX">)"));
    write_file(site / "en" / ".hidden.html", page("heronword"));
    fs::create_directories(site / ".drafts");
    write_file(site / ".drafts" / "plan.html", page("walrusword"));
    auto folder = [&] {
        std::vector<std::unique_ptr<Source>> out;
        out.push_back(mixi::indexer::open_source(site));
        return out;
    };
    auto built = build_index(dir, folder(), {});
    ASSERT_TRUE(built) << built.error().message;
    EXPECT_EQ(built->documents, 2u);
    EXPECT_EQ(built->skipped, 0u);
    {
        const Xapian::Database db = open_current(dir);
        for (const char* word : {"quokkaword", "heronword", "walrusword"})
            EXPECT_EQ(db.get_termfreq(word), 0u) << word;
        EXPECT_EQ(db.get_termfreq("zeppelinword"), 1u);
    }
    // The page gains a robots noindex: the update takes it out.
    write_file(site / "en" / "later.html",
               page("zeppelinword", R"(<meta name="robots" content="noindex">)"));
    auto updated = update_index(dir, folder(), {});
    ASSERT_TRUE(updated) << updated.error().message;
    EXPECT_EQ(updated->removed, 1u);
    EXPECT_EQ(updated->documents, 1u);
    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_termfreq("zeppelinword"), 0u);
    EXPECT_EQ(spelling_frequency(db, "zeppelinword"), 0u);
    EXPECT_EQ(db.get_termfreq("lanternword"), 1u);
}

// An update that changes one record twice leaves only the last version's words.
TEST(UpdateIndex, SameIdTwiceInOneUpdate) {
    TempDir tmp;
    build_sample(tmp.path());
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, ndjson_line("a-001", "Zanzibar sunsets", "first edit light") +
                         ndjson_line("a-001", "Quokka portraits", "second edit light"));
    auto report = update_index(tmp.path(), sources_of(file), {});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->documents, kSamplePublic);
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_termfreq("Qa-001"), 1u);
    EXPECT_EQ(db.get_termfreq("zanzibar"), 0u);
    EXPECT_EQ(db.get_termfreq("quokka"), 1u);
    EXPECT_EQ(spelling_frequency(db, "quokka"), 1u);
    EXPECT_EQ(spelling_frequency(db, "zanzibar"), 0u); // fails: 1 (stale, see above)
    EXPECT_EQ(spelling_frequency(db, "edit"), 1u);     // fails: 2
    EXPECT_EQ(spelling_frequency(db, "patience"), 0u);
}

TEST(UpdateIndex, RevisionIncreasesEachTime) {
    TempDir tmp;
    build_sample(tmp.path());
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, ndjson_line("n-1", "one"));
    Xapian::rev last = open_current(tmp.path()).get_revision();
    for (int i = 0; i < 2; ++i) {
        auto report = update_index(tmp.path(), sources_of(file), {});
        ASSERT_TRUE(report) << report.error().message;
        const Xapian::rev now = open_current(tmp.path()).get_revision();
        EXPECT_GT(now, last);
        last = now;
        auto stats = index_stats(tmp.path());
        ASSERT_TRUE(stats);
        EXPECT_EQ(stats->revision, now);
        EXPECT_EQ(stats->documents, kSamplePublic + 1);
    }
}

TEST(UpdateIndex, NoIndexIsNotFound) {
    TempDir tmp;
    auto report = update_index(tmp.path() / "nothing-here", sources_of(sample_ndjson()), {});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::not_found);
}

TEST(UpdateIndex, BadLineWithoutStopOnErrorIsSkipped) {
    TempDir tmp;
    build_sample(tmp.path());
    const fs::path file = tmp.path() / "update.ndjson";
    write_file(file, ndjson_line("a-001", "Zanzibar sunsets") + "not json\n" +
                         ndjson_line("p-004", "gone", "x", ", \"visibility\": \"private\""));
    std::vector<SourceProblem> problems;
    IndexOptions options;
    options.on_problem = [&](const SourceProblem& p) { problems.push_back(p); };
    auto report = update_index(tmp.path(), sources_of(file), options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->skipped, 1u);
    EXPECT_EQ(report->indexed, 1u);
    EXPECT_EQ(report->removed, 1u);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].where, file.string() + ":2");
    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_doccount(), kSamplePublic - 1);
    EXPECT_EQ(db.get_termfreq("zanzibar"), 1u);
}

// ------------------------------------------------------------------------ stop_on_error

/// `n` good records (the first one changes a-001), then a bad line, then p-004 made private.
std::string update_with_bad_line(int n) {
    std::string content = ndjson_line("a-001", "Zanzibar sunsets");
    for (int i = 2; i <= n; ++i)
        content += ndjson_line("n-" + std::to_string(i), "new record");
    content += "{\"id\": \"bad\", \"tags\": \"not an array\", \"visibility\": \"public\"}\n";
    content += ndjson_line("p-004", "gone", "x", ", \"visibility\": \"private\"");
    return content;
}

TEST(StopOnError, BuildFailsAndKeepsCurrent) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    const auto first = build_sample(dir);
    const fs::path before = current_target(dir);

    // The bad line comes after more than one pipeline batch (256 records).
    const fs::path file = tmp.path() / "bad.ndjson";
    write_file(file, update_with_bad_line(300));
    IndexOptions options;
    options.stop_on_error = true;
    std::vector<SourceProblem> problems;
    options.on_problem = [&](const SourceProblem& p) { problems.push_back(p); };
    auto report = build_index(dir, sources_of(file), options);
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::invalid_input);
    EXPECT_NE(report.error().message.find(file.string() + ":301"), std::string::npos)
        << report.error().message;
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].where, file.string() + ":301");

    EXPECT_EQ(current_target(dir), before);
    EXPECT_EQ(version_names(dir), std::vector<std::string>{first.version}); // no half-built version
    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic);
    EXPECT_EQ(db.get_termfreq("zanzibar"), 0u);
    EXPECT_EQ(db.get_termfreq("Qn-2"), 0u);
}

TEST(StopOnError, BuildOfFreshDirectoryLeavesNoCurrent) {
    TempDir tmp;
    const fs::path file = tmp.path() / "bad.ndjson";
    write_file(file, update_with_bad_line(3));
    IndexOptions options;
    options.stop_on_error = true;
    auto report = build_index(tmp.path() / "index", sources_of(file), options);
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::invalid_input);
    EXPECT_TRUE(layout::resolve_database(tmp.path() / "index").empty());
    EXPECT_TRUE(version_names(tmp.path() / "index").empty());
}

class StopOnErrorUpdate : public ::testing::TestWithParam<unsigned> {};

TEST_P(StopOnErrorUpdate, LeavesIndexUnchanged) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    build_sample(dir);
    const auto terms_before = all_terms(open_current(dir));
    const Xapian::rev rev_before = open_current(dir).get_revision();

    const fs::path file = tmp.path() / "bad.ndjson";
    write_file(file, update_with_bad_line(300)); // records before the bad line span a batch
    IndexOptions options;
    options.stop_on_error = true;
    options.threads = GetParam();
    auto report = update_index(dir, sources_of(file), options);
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::invalid_input);
    EXPECT_NE(report.error().message.find(":301"), std::string::npos) << report.error().message;

    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic);
    EXPECT_EQ(db.get_termfreq("zanzibar"), 0u); // a-001, before the bad line: not applied
    EXPECT_EQ(db.get_termfreq("patience"), 1u);
    EXPECT_EQ(db.get_termfreq("Qn-2"), 0u);
    EXPECT_EQ(db.get_termfreq("Qn-300"), 0u);
    EXPECT_EQ(db.get_termfreq("Qp-004"), 1u); // after the bad line: not applied
    EXPECT_EQ(spelling_frequency(db, "zanzibar"), 0u);
    EXPECT_EQ(spelling_frequency(db, "patience"), 1u);
    EXPECT_TRUE(all_terms(db) == terms_before);
    EXPECT_EQ(db.get_revision(), rev_before);

    // The index is still writable afterwards (the lock was released).
    auto again = update_index(dir, sources_of(sample_ndjson()), {});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->documents, kSamplePublic);
}

INSTANTIATE_TEST_SUITE_P(Threads, StopOnErrorUpdate, ::testing::Values(1u, 2u));

// ------------------------------------------------------------------------------- delete

TEST(DeleteDocuments, ExistingAndUnknownIds) {
    TempDir tmp;
    build_sample(tmp.path());
    {
        const Xapian::Database db = open_current(tmp.path());
        ASSERT_EQ(spelling_frequency(db, "riffelsee"), 1u);
        ASSERT_EQ(spelling_frequency(db, "minutes"), 4u);
    }
    auto report = delete_documents(tmp.path(), {"p-009", "no-such-id", "a-011"});
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->deleted, std::vector<std::string>{"p-009"});
    EXPECT_EQ(report->not_found, (std::vector<std::string>{"no-such-id", "a-011"}));

    const Xapian::Database db = open_current(tmp.path());
    EXPECT_EQ(db.get_doccount(), kSamplePublic - 1);
    EXPECT_EQ(db.get_termfreq("Qp-009"), 0u);
    EXPECT_EQ(db.get_termfreq("riffelsee"), 0u);
    // Spelling data of the deleted document goes with it.
    EXPECT_EQ(spelling_frequency(db, "riffelsee"), 0u);
    EXPECT_EQ(spelling_frequency(db, "minutes"), 3u);
    EXPECT_NE(db.get_spelling_suggestion("rifelsee"), "riffelsee");

    // Deleting again finds nothing.
    auto again = delete_documents(tmp.path(), {"p-009"});
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->deleted.empty());
    EXPECT_EQ(again->not_found, std::vector<std::string>{"p-009"});
}

TEST(DeleteDocuments, LeaveNoCopyOfTheDocumentOnDisk) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    build_sample(dir);
    build_sample(dir); // and a previous version, for a rollback, that has p-009 too
    Xapian::Database reader = open_current(dir); // a searcher with the index open
    for (const char* word : {"riffelsee", "gornergrat"})
        ASSERT_FALSE(files_containing(dir, word).empty()) << word;
    auto report = delete_documents(dir, {"p-009"});
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->deleted, std::vector<std::string>{"p-009"});
    for (const char* word : {"riffelsee", "gornergrat"})
        EXPECT_EQ(files_containing(dir, word), std::vector<std::string>{}) << word;
    EXPECT_EQ(version_names(dir).size(), 1u);
    const Xapian::Database db = open_current(dir);
    EXPECT_EQ(db.get_doccount(), kSamplePublic - 1);
    EXPECT_EQ(db.get_termfreq("Qp-009"), 0u);
    EXPECT_EQ(db.get_termfreq("Qa-001"), 1u);
    EXPECT_EQ(spelling_frequency(db, "minutes"), 3u);
    // Document ids are kept (view counts and snapshots resolve by them).
    EXPECT_EQ(db.get_lastdocid(), reader.get_lastdocid());
    // A searcher that had the old version open reads on until it reopens.
    EXPECT_EQ(reader.get_doccount(), kSamplePublic);
    // A second delete of nothing changes nothing.
    const auto version = version_names(dir);
    ASSERT_TRUE(delete_documents(dir, {"p-009"}));
    EXPECT_EQ(version_names(dir), version);
}

TEST(DeleteDocuments, NoIndexIsNotFound) {
    TempDir tmp;
    auto report = delete_documents(tmp.path(), {"a-001"});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::not_found);
}

// -------------------------------------------------------------------------------- stats

TEST(IndexStats, Sample) {
    TempDir tmp;
    const auto built = build_sample(tmp.path());
    auto stats = index_stats(tmp.path());
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->documents, kSamplePublic);
    EXPECT_EQ(fs::path(stats->database), tmp.path() / "versions" / built.version);
    EXPECT_GT(stats->bytes_on_disk, 0u);
    EXPECT_GT(stats->average_length, 0.0);
    EXPECT_EQ(stats->by_type, (std::map<std::string, std::uint64_t>{
                                  {"article", 11}, {"comment", 10}, {"photo", 9}, {"video", 7}}));
    EXPECT_EQ(stats->by_lang, (std::map<std::string, std::uint64_t>{
                                  {"de", 3}, {"en", 14}, {"fr", 3}, {"ja", 15}, {"zh", 2}}));
}

TEST(IndexStats, NoIndexIsNotFound) {
    TempDir tmp;
    auto stats = index_stats(tmp.path());
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code, ErrorCode::not_found);
}

// --------------------------------------------------------------------------------- lock

TEST(WriteLock, HeldLockRefusesWriters) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    const auto built = build_sample(dir);
    {
        HeldLock lock(dir);
        ASSERT_TRUE(lock.locked());

        auto build = build_index(dir, sources_of(sample_ndjson()), {});
        ASSERT_FALSE(build);
        EXPECT_EQ(build.error().code, ErrorCode::index_locked);
        EXPECT_NE(build.error().message.find("locked"), std::string::npos) << build.error().message;

        auto update = update_index(dir, sources_of(sample_ndjson()), {});
        ASSERT_FALSE(update);
        EXPECT_EQ(update.error().code, ErrorCode::index_locked);
        EXPECT_NE(update.error().message.find("locked"), std::string::npos)
            << update.error().message;

        auto del = delete_documents(dir, {"a-001"});
        ASSERT_FALSE(del);
        EXPECT_EQ(del.error().code, ErrorCode::index_locked);

        // Nothing changed, and readers are not blocked by the lock.
        EXPECT_EQ(current_target(dir), fs::path("versions") / built.version);
        EXPECT_EQ(version_names(dir), std::vector<std::string>{built.version});
        EXPECT_EQ(open_current(dir).get_termfreq("Qa-001"), 1u);
        ASSERT_TRUE(index_stats(dir));
    }
    // Released: writers work again.
    auto build = build_index(dir, sources_of(sample_ndjson()), {});
    ASSERT_TRUE(build) << build.error().message;
    EXPECT_EQ(build->documents, kSamplePublic);
}

TEST(WriteLock, LockOnEmptyDirectory) {
    TempDir tmp;
    HeldLock lock(tmp.path());
    ASSERT_TRUE(lock.locked());
    auto build = build_index(tmp.path(), sources_of(sample_ndjson()), {});
    ASSERT_FALSE(build);
    EXPECT_EQ(build.error().code, ErrorCode::index_locked);
    EXPECT_TRUE(version_names(tmp.path()).empty());
}

TEST(XapianErrors, AWriterOutsideOurLockMakesTheIndexLocked) {
    TempDir tmp;
    build_sample(tmp.path());
    // Xapian's own lock on the current version, held by a writer that does not take ours.
    Xapian::WritableDatabase other(layout::resolve_database(tmp.path()).string(), Xapian::DB_OPEN);
    auto r = update_index(tmp.path(), sources_of(sample_ndjson()), IndexOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::index_locked) << r.error().message;
    auto del = delete_documents(tmp.path(), {"a-001"});
    ASSERT_FALSE(del);
    EXPECT_EQ(del.error().code, ErrorCode::index_locked) << del.error().message;
}

TEST(XapianErrors, ACurrentVersionThatIsNotADatabaseIsAnIoError) {
    TempDir tmp;
    build_sample(tmp.path());
    const fs::path current = layout::resolve_database(tmp.path());
    for (const auto& entry : fs::directory_iterator(current))
        fs::remove(entry.path());
    // Xapian says DatabaseNotFoundError, a DatabaseOpeningError that is reported as I/O.
    auto r = update_index(tmp.path(), sources_of(sample_ndjson()), IndexOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::io_error) << r.error().message;
    EXPECT_NE(r.error().message.find("DatabaseNotFoundError"), std::string::npos);
    auto stats = index_stats(tmp.path());
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code, ErrorCode::io_error) << stats.error().message;
}

} // namespace

// ------------------------------------------------------------------------------ shards

TEST(Shards, ShardOfIsStableAndSpreads) {
    // FNV-1a: fixed values, so that every machine and version agrees.
    EXPECT_EQ(layout::shard_of("a-001", 3), layout::shard_of("a-001", 3));
    EXPECT_EQ(layout::shard_of("", 7), 14695981039346656037ull % 7);
    std::vector<int> counts(4);
    for (int i = 0; i < 4000; ++i)
        ++counts[layout::shard_of("doc-" + std::to_string(i), 4)];
    for (int c : counts)
        EXPECT_NEAR(c, 1000, 120);
}

TEST(Shards, BuildPutsEachDocumentInItsShardAndUpdatesAndDeletesFindIt) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "index";
    IndexOptions options;
    options.shards = 3;
    const auto report = build_sample(dir, options);
    EXPECT_EQ(report.indexed, kSamplePublic);
    EXPECT_EQ(report.documents, kSamplePublic);
    ASSERT_EQ(layout::shard_count(dir), 3u);
    Xapian::doccount total = 0;
    for (unsigned i = 0; i < 3; ++i) {
        const Xapian::Database db = open_current(layout::shard_dir(dir, i));
        total += db.get_doccount();
        EXPECT_GT(db.get_doccount(), 0u) << "shard " << i;
        for (const auto& term : terms_with_prefix(db, "Q"))
            EXPECT_EQ(layout::shard_of(term.substr(1), 3), i) << term;
        // Each shard has the spelling words of its own documents.
        EXPECT_FALSE(spellings(db).empty());
    }
    EXPECT_EQ(total, kSamplePublic);
    EXPECT_EQ(layout::resolve_database(dir), fs::path()); // no `current` at the top

    // An update replaces a document in its shard; it never appears twice.
    Record replacement;
    replacement.id = "a-001";
    replacement.title = "Replaced";
    replacement.visibility = "public";
    auto updated = update_index(dir, records_source({replacement}), IndexOptions{});
    ASSERT_TRUE(updated) << updated.error().message;
    EXPECT_EQ(updated->documents, kSamplePublic);
    const Xapian::Database home =
        open_current(layout::shard_dir(dir, layout::shard_of("a-001", 3)));
    EXPECT_TRUE(document_terms(home, "a-001").contains("Sreplaced"));

    auto deleted = delete_documents(dir, {"a-001", "c-010", "missing"});
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(deleted->deleted, (std::vector<std::string>{"a-001", "c-010"}));
    EXPECT_EQ(deleted->not_found, std::vector<std::string>{"missing"});

    auto stats = index_stats(dir);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->shards, 3u);
    EXPECT_EQ(stats->documents, kSamplePublic - 2);
    EXPECT_EQ(stats->by_type.at("article") + stats->by_type.at("photo") +
                  stats->by_type.at("video") + stats->by_type.at("comment"),
              kSamplePublic - 2);
}

TEST(Shards, ABuildMustKeepTheShapeOfTheIndex) {
    TempDir tmp;
    IndexOptions three;
    three.shards = 3;
    build_sample(tmp.path() / "sharded", three);
    auto plain = build_index(tmp.path() / "sharded", sources_of(sample_ndjson()), IndexOptions{});
    ASSERT_FALSE(plain);
    EXPECT_NE(plain.error().message.find("3 shards"), std::string::npos) << plain.error().message;
    IndexOptions two;
    two.shards = 2;
    EXPECT_FALSE(build_index(tmp.path() / "sharded", sources_of(sample_ndjson()), two));
    EXPECT_TRUE(build_index(tmp.path() / "sharded", sources_of(sample_ndjson()), three));

    build_sample(tmp.path() / "plain");
    auto sharded = build_index(tmp.path() / "plain", sources_of(sample_ndjson()), three);
    ASSERT_FALSE(sharded);
    EXPECT_NE(sharded.error().message.find("without shards"), std::string::npos);
}

TEST(Shards, AWriterOfOneShardLocksTheWholeIndexOut) {
    TempDir tmp;
    IndexOptions options;
    options.shards = 2;
    build_sample(tmp.path(), options);
    HeldLock held(layout::shard_dir(tmp.path(), 1));
    ASSERT_TRUE(held.locked());
    auto r = update_index(tmp.path(), sources_of(sample_ndjson()), IndexOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::index_locked);
}
