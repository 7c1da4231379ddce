// The real mixi-search binary, run as a user runs it.
#include "../unit/temp_dir.h"
#include "process.h"
#include "query/searcher.h"

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
const fs::path source_dir = MIXI_SOURCE_DIR;

using testing::Outcome;
using testing::slurp;

/// Starts the binary with stdout and stderr going to files in `dir`.
pid_t spawn(const std::vector<std::string>& args, const fs::path& dir) {
    return testing::spawn(args, dir / "out", dir / "err");
}

Outcome finish(pid_t pid, const fs::path& dir) {
    Outcome r;
    r.status = testing::wait_exit(pid, std::chrono::seconds(60)).value_or(-1);
    r.out = slurp(dir / "out");
    r.err = slurp(dir / "err");
    return r;
}

Outcome run(const std::vector<std::string>& args, const fs::path& dir) {
    return finish(spawn(args, dir), dir);
}

std::uint64_t doc_count(const fs::path& index) {
    auto s = query::Searcher::open(index);
    return s ? s->document_count() : 0;
}

class Cli : public ::testing::Test {
  protected:
    testing::TempDir tmp;
    fs::path index() const { return tmp.path() / "index"; }
    void write(const fs::path& name, const std::string& text) {
        std::ofstream(tmp.path() / name) << text;
    }
};

TEST_F(Cli, BuildReportsBadLinesWithFileAndLineAndKeepsGoing) {
    write("in.ndjson",
          "{\"id\":\"a\",\"title\":\"alpha\",\"visibility\":\"public\"}\n"
          "{not json}\n"
          "\n"
          "{\"title\":\"no id\"}\n"
          "{\"id\":\"b\",\"title\":\"beta\",\"type\":\"podcast\",\"visibility\":\"public\"}\n"
          "{\"id\":\"c\",\"title\":\"gamma\",\"visibility\":\"public\"}\n");
    const fs::path in = tmp.path() / "in.ndjson";
    const Outcome r = run({"index", "build", "--index", index(), in}, tmp.path());
    EXPECT_EQ(r.status, 3) << r.err; // done, but something was skipped
    EXPECT_NE(r.err.find(in.string() + ":2: malformed JSON"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(in.string() + ":4: missing \"id\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(in.string() + ":5: unknown type \"podcast\""), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("2 indexed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3 skipped"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress display when not a terminal";
    EXPECT_EQ(doc_count(index()), 2u);

    // --strict stops at the first bad line and leaves the index as it was.
    const Outcome strict = run({"index", "build", "--strict", "--index", index(), in}, tmp.path());
    EXPECT_EQ(strict.status, 1);
    EXPECT_NE(strict.err.find(":2: malformed JSON"), std::string::npos) << strict.err;
    EXPECT_EQ(doc_count(index()), 2u);
}

TEST_F(Cli, SecondWriterGetsIndexIsLocked) {
    write("in.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"visibility\":\"public\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "in.ndjson"}, tmp.path()).status,
        0);
    // Another writer holds the lock (as a running `index update` would).
    const int fd = ::open((index() / "write.lock").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    for (const char* sub : {"build", "update"}) {
        const Outcome r =
            run({"index", sub, "--index", index(), tmp.path() / "in.ndjson"}, tmp.path());
        EXPECT_EQ(r.status, 1) << sub;
        EXPECT_NE(r.err.find("index is locked"), std::string::npos) << r.err;
    }
    const Outcome d = run({"index", "delete", "--index", index(), "a"}, tmp.path());
    EXPECT_NE(d.err.find("index is locked"), std::string::npos) << d.err;
    ::close(fd);
    EXPECT_EQ(run({"index", "delete", "--index", index(), "a"}, tmp.path()).status, 0);
}

TEST_F(Cli, KilledBuildLeavesCurrentAtTheLastCompleteVersion) {
    write("small.ndjson",
          "{\"id\":\"only\",\"title\":\"the one document\",\"visibility\":\"public\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "small.ndjson"}, tmp.path()).status,
        0);
    {
        std::ofstream big(tmp.path() / "big.ndjson");
        for (int i = 0; i < 60000; ++i)
            big << "{\"id\":\"d" << i << "\",\"title\":\"document number " << i
                << "\",\"body\":\"some words to index for document " << i
                << " with a few more words so that it takes a while\",\"visibility\":\"public\"}\n";
    }
    const fs::path current = fs::read_symlink(index() / "current");
    for (int delay_ms : {50, 300, 700}) {
        const pid_t pid =
            spawn({"index", "build", "--index", index(), tmp.path() / "big.ndjson"}, tmp.path());
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ASSERT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "the build finished before the kill";
        ::kill(pid, SIGKILL);
        finish(pid, tmp.path());
        EXPECT_EQ(fs::read_symlink(index() / "current"), current);
        EXPECT_EQ(doc_count(index()), 1u);
    }
    // The next build succeeds and clears the partial versions.
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "small.ndjson"}, tmp.path()).status,
        0);
    int versions = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(index() / "versions"))
        ++versions;
    EXPECT_EQ(versions, 2); // the new one and the one it replaced
}

TEST_F(Cli, UpdateUpsertsAndRemovesRecordsThatTurnPrivate) {
    write("v1.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"visibility\":\"public\"}\n{\"id\":"
                       "\"b\",\"title\":\"beta\",\"visibility\":\"public\"}\n");
    write("v2.ndjson", "{\"id\":\"a\",\"title\":\"alpha renamed\",\"visibility\":\"public\"}\n"
                       "{\"id\":\"b\",\"title\":\"beta\",\"visibility\":\"private\"}\n"
                       "{\"id\":\"c\",\"title\":\"gamma\",\"visibility\":\"public\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "v1.ndjson"}, tmp.path()).status,
        0);
    const Outcome r =
        run({"index", "update", "--index", index(), tmp.path() / "v2.ndjson"}, tmp.path());
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("2 indexed, 1 removed"), std::string::npos) << r.out;
    const Outcome q = run({"query", "--index", index(), "beta"}, tmp.path());
    EXPECT_EQ(q.status, 0);
    EXPECT_NE(q.out.find("\"total\":0"), std::string::npos) << q.out;
    const Outcome renamed = run({"query", "--index", index(), "renamed"}, tmp.path());
    EXPECT_NE(renamed.out.find("\"id\":\"a\""), std::string::npos) << renamed.out;
}

// docs/privacy.md, "private content stays private": however a record stops being public, its
// document and snippets leave the index, whatever else is wrong with the record.
TEST_F(Cli, RecordTurnedPrivateWithBadFieldsIsRemoved) {
    write("v1.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"body\":\"the lanternword festival\","
                       "\"visibility\":\"public\"}\n"
                       "{\"id\":\"b\",\"title\":\"beta\",\"body\":\"a zeppelinword harbour\","
                       "\"visibility\":\"public\"}\n");
    // Private with an unknown type and a bad date; null with a bad language.
    write("v2.ndjson", "{\"id\":\"a\",\"visibility\":\"private\",\"type\":\"podcast\","
                       "\"published\":\"someday\",\"body\":\"the lanternword festival\"}\n"
                       "{\"id\":\"b\",\"visibility\":null,\"lang\":\"??\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "v1.ndjson"}, tmp.path()).status,
        0);
    const Outcome before = run({"query", "--index", index(), "lanternword"}, tmp.path());
    ASSERT_NE(before.out.find("<mark>lanternword</mark>"), std::string::npos) << before.out;

    const Outcome r =
        run({"index", "update", "--index", index(), tmp.path() / "v2.ndjson"}, tmp.path());
    EXPECT_EQ(r.status, 0) << r.err; // nothing skipped
    EXPECT_NE(r.out.find("0 indexed, 2 removed, 0 not public, 0 skipped"), std::string::npos)
        << r.out;
    EXPECT_EQ(doc_count(index()), 0u);
    for (const char* word : {"lanternword", "zeppelinword", "alpha", "beta"}) {
        const Outcome q = run({"query", "--index", index(), word}, tmp.path());
        EXPECT_NE(q.out.find("\"total\":0"), std::string::npos) << word << ": " << q.out;
        EXPECT_EQ(q.out.find("lanternword"), std::string::npos) << word << ": " << q.out;
    }
    // --strict has nothing to stop at either.
    const Outcome strict = run(
        {"index", "build", "--strict", "--index", index(), tmp.path() / "v2.ndjson"}, tmp.path());
    EXPECT_EQ(strict.status, 0) << strict.err;
    EXPECT_NE(strict.out.find("0 indexed, 0 removed, 2 not public"), std::string::npos)
        << strict.out;
}

TEST_F(Cli, MissingVisibilityIsPrivateUnlessTheRunSaysPublic) {
    write("in.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"body\":\"cormorantword\"}\n"
                       "{\"id\":\"b\",\"title\":\"beta\"}\n");
    const fs::path in = tmp.path() / "in.ndjson";
    const Outcome b = run({"index", "build", "--index", index(), in}, tmp.path());
    EXPECT_EQ(b.status, 0) << b.err;
    EXPECT_NE(b.out.find("0 indexed, 0 removed, 2 not public, 0 skipped"), std::string::npos)
        << b.out;
    // Said once, with the count and the way to opt in.
    EXPECT_NE(b.err.find("2 records have no \"visibility\""), std::string::npos) << b.err;
    EXPECT_NE(b.err.find("--default-visibility public"), std::string::npos) << b.err;
    EXPECT_EQ(b.err.find("no \"visibility\""), b.err.rfind("no \"visibility\"")) << b.err;
    EXPECT_EQ(doc_count(index()), 0u);

    const Outcome opted = run(
        {"index", "build", "--default-visibility", "public", "--index", index(), in}, tmp.path());
    EXPECT_EQ(opted.status, 0) << opted.err;
    EXPECT_EQ(opted.err.find("visibility"), std::string::npos) << opted.err;
    EXPECT_EQ(doc_count(index()), 2u);
    const Outcome q = run({"query", "--index", index(), "cormorantword"}, tmp.path());
    EXPECT_NE(q.out.find("\"id\":\"a\""), std::string::npos) << q.out;

    // An update without the flag takes them out again.
    const Outcome u = run({"index", "update", "--index", index(), in}, tmp.path());
    EXPECT_EQ(u.status, 0) << u.err;
    EXPECT_NE(u.out.find("0 indexed, 2 removed"), std::string::npos) << u.out;
    EXPECT_EQ(doc_count(index()), 0u);

    const Outcome bad = run(
        {"index", "build", "--default-visibility", "Public", "--index", index(), in}, tmp.path());
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("private or public"), std::string::npos) << bad.err;
}

TEST_F(Cli, HtmlPagesWithRobotsNoindexOrHiddenNamesAreNotIndexed) {
    const fs::path site = tmp.path() / "site";
    fs::create_directories(site / "en");
    fs::create_directories(site / ".hidden");
    auto page = [&](const fs::path& name, const std::string& word, const std::string& head = "") {
        write(name, "<html lang=\"en\"><head><title>" + word + " page</title>" + head +
                        "</head><body><p>" + word + " text</p></body></html>");
    };
    page("site/en/open.html", "lanternword");
    page("site/en/later.html", "zeppelinword");
    page("site/en/never.html", "quokkaword",
         "<meta name=\"robots\" content=\"noindex, nofollow\">");
    page("site/.hidden/x.html", "heronword");
    page("site/en/.x.html", "walrusword");
    const Outcome b = run({"index", "build", "--index", index(), site}, tmp.path());
    EXPECT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(doc_count(index()), 2u);
    for (const char* word : {"quokkaword", "heronword", "walrusword"}) {
        const Outcome q = run({"query", "--index", index(), word}, tmp.path());
        EXPECT_NE(q.out.find("\"total\":0"), std::string::npos) << word << ": " << q.out;
    }
    const Outcome found = run({"query", "--index", index(), "zeppelinword"}, tmp.path());
    EXPECT_NE(found.out.find("en/later.html"), std::string::npos) << found.out;

    // The page gains a robots noindex: the update removes it.
    page("site/en/later.html", "zeppelinword", "<meta name=\"robots\" content=\"noindex\">");
    const Outcome u = run({"index", "update", "--index", index(), site}, tmp.path());
    EXPECT_EQ(u.status, 0) << u.err;
    EXPECT_NE(u.out.find("1 indexed, 1 removed"), std::string::npos) << u.out;
    EXPECT_EQ(doc_count(index()), 1u);
    const Outcome gone = run({"query", "--index", index(), "zeppelinword"}, tmp.path());
    EXPECT_NE(gone.out.find("\"total\":0"), std::string::npos) << gone.out;
}

TEST_F(Cli, QueryErrorsAreClear) {
    write("in.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"visibility\":\"public\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "in.ndjson"}, tmp.path()).status,
        0);
    const Outcome empty = run({"query", "--index", index(), "  "}, tmp.path());
    EXPECT_EQ(empty.status, 2);
    EXPECT_NE(empty.err.find("query is empty"), std::string::npos) << empty.err;
    const Outcome missing = run({"query", "--index", tmp.path() / "nope", "alpha"}, tmp.path());
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.err.find("no index at"), std::string::npos) << missing.err;
    const Outcome bad_flag =
        run({"query", "--index", index(), "--per-page", "x", "alpha"}, tmp.path());
    EXPECT_EQ(bad_flag.status, 2);
    const Outcome table =
        run({"query", "--index", index(), "--format", "table", "alpha"}, tmp.path());
    EXPECT_EQ(table.status, 0);
    EXPECT_NE(table.out.find("1 matches"), std::string::npos) << table.out;
}

TEST_F(Cli, QueryTakesItsIndexAndLimitsFromTheConfigFile) {
    write("in.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"visibility\":\"public\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "in.ndjson"}, tmp.path()).status,
        0);
    write("mixi.toml",
          "[server]\nindex = '" + index().string() + "'\n\n[search]\nmax_per_page = 5\n");
    const std::string config = (tmp.path() / "mixi.toml").string();
    const Outcome found = run(
        {"query", "--config", config, "--format", "table", "--per-page", "5", "alpha"}, tmp.path());
    EXPECT_EQ(found.status, 0) << found.err;
    EXPECT_NE(found.out.find("1 matches"), std::string::npos) << found.out;
    // The server's limits apply to the CLI too.
    const Outcome limited = run({"query", "--config", config, "alpha"}, tmp.path());
    EXPECT_EQ(limited.status, 2);
    EXPECT_NE(limited.err.find("between 1 and 5"), std::string::npos) << limited.err;
    // A flag overrides the file.
    const Outcome flag = run(
        {"query", "--config", config, "--index", tmp.path() / "nope", "--per-page", "5", "alpha"},
        tmp.path());
    EXPECT_EQ(flag.status, 1);
    EXPECT_NE(flag.err.find("no index at"), std::string::npos) << flag.err;
}

TEST_F(Cli, IndexDeleteWorksOnTheServersIndexFromTheConfigFile) {
    write("in.ndjson", "{\"id\":\"a\",\"title\":\"alpha\",\"visibility\":\"public\"}\n{\"id\":"
                       "\"b\",\"title\":\"beta\",\"visibility\":\"public\"}\n");
    ASSERT_EQ(
        run({"index", "build", "--index", index(), tmp.path() / "in.ndjson"}, tmp.path()).status,
        0);
    write("mixi.toml", "[server]\nindex = '" + index().string() + "'\n");
    const std::string config = (tmp.path() / "mixi.toml").string();
    const Outcome d = run({"index", "delete", "--config", config, "a"}, tmp.path());
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_EQ(doc_count(index()), 1u);
    // --index overrides the file.
    const Outcome flag = run(
        {"index", "delete", "--config", config, "--index", tmp.path() / "nope", "b"}, tmp.path());
    EXPECT_NE(flag.status, 0);
    EXPECT_EQ(doc_count(index()), 1u);
}

TEST_F(Cli, StatsAndHtmlFolders) {
    const Outcome b =
        run({"index", "build", "--index", index(), source_dir / "tests/fixtures/site"}, tmp.path());
    EXPECT_EQ(b.status, 0) << b.err;
    const Outcome s = run({"index", "stats", "--index", index()}, tmp.path());
    EXPECT_EQ(s.status, 0);
    EXPECT_NE(s.out.find("documents:      11"), std::string::npos) << s.out;
    EXPECT_NE(s.out.find("lang ja: 2"), std::string::npos) << s.out;
    const Outcome q = run({"query", "--index", index(), "visibleword"}, tmp.path());
    EXPECT_NE(q.out.find("en/extra/nav-script.html"), std::string::npos) << q.out;
    const Outcome nav = run({"query", "--index", index(), "navigationonly"}, tmp.path());
    EXPECT_NE(nav.out.find("\"total\":0"), std::string::npos) << nav.out;
}

} // namespace
} // namespace mixi
