// Synonyms through the real binary: `mixi-search synonyms import|list|delete` and the admin API's
// /v1/admin/synonyms, applied by a running server without reindexing.
#include "../unit/temp_dir.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <fstream>
#include <gtest/gtest.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::expect_error;
using testing::json_body;
using testing::Outcome;
using testing::run;
using testing::ServerProcess;

const std::string admin_key = "admin-key-0123456789abcdef";

std::string record(const std::string& id, const std::string& body, const std::string& lang) {
    return "{\"id\":\"" + id + "\",\"title\":\"" + id + "\",\"body\":\"" + body + "\",\"lang\":\"" +
           lang + "\",\"visibility\":\"public\"}\n";
}

class Synonyms : public ::testing::Test {
  protected:
    void SetUp() override {
        std::ofstream(tmp.path() / "docs.ndjson")
            << record("tv", "A tv in the lounge.", "en")
            << record("television", "A television in the lounge.", "en")
            << record("shashin", "山の写真を見ました。", "ja")
            << record("foto", "山のフォトを見ました。", "ja");
        const Outcome b = run({"index", "build", "--quiet", "--index", index().string(),
                               (tmp.path() / "docs.ndjson").string()},
                              tmp.path());
        ASSERT_EQ(b.status, 0) << b.err;
    }

    fs::path index() const { return tmp.path() / "index"; }

    Outcome synonyms(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), "synonyms");
        args.push_back("--index");
        args.push_back(index().string());
        if (input.empty())
            return run(args, tmp.path());
        // The binary through sh, for its standard input.
        const fs::path in = tmp.path() / "stdin.txt", out = tmp.path() / "sh.out",
                       err = tmp.path() / "sh.err";
        std::ofstream(in) << input;
        args.insert(args.begin(), {"-c", "exec \"$0\" \"$@\" < \"$STDIN_FILE\"", MIXI_BINARY});
        const pid_t pid =
            testing::spawn_program("/bin/sh", args, out, err, {"STDIN_FILE=" + in.string()});
        Outcome r;
        r.status = testing::wait_exit(pid, std::chrono::seconds(60)).value_or(-1);
        r.out = testing::slurp(out);
        r.err = testing::slurp(err);
        return r;
    }

    testing::TempDir tmp;
};

std::vector<std::string> hit_ids(const json::value& v) {
    std::vector<std::string> ids;
    for (const auto& h : v.at("hits").as_array())
        ids.emplace_back(h.at("id").as_string());
    return ids;
}

TEST_F(Synonyms, CliImportsListsAndDeletes) {
    std::ofstream(tmp.path() / "synonyms.txt") << "# sample\nTV => television\n写真, フォト\n";
    Outcome r = synonyms({"import", (tmp.path() / "synonyms.txt").string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("3 words"), std::string::npos) << r.out;
    r = synonyms({"list"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "tv => television\nフォト => 写真\n写真 => フォト\n");
    // A search right after, from the CLI.
    r = run({"query", "--index", index().string(), "tv"}, tmp.path());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(hit_ids(json::parse(r.out)), (std::vector<std::string>{"tv", "television"}));

    // A bad file changes nothing and names file and line.
    std::ofstream(tmp.path() / "bad.txt") << "car, auto\nnew york, nyc\n";
    r = synonyms({"import", (tmp.path() / "bad.txt").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("bad.txt:2: \"new york\" is more than one word"), std::string::npos)
        << r.err;
    EXPECT_EQ(synonyms({"list"}).out, "tv => television\nフォト => 写真\n写真 => フォト\n");

    r = synonyms({"delete", "フォト"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(synonyms({"list"}).out, "tv => television\n");
    r = synonyms({"delete", "フォト"});
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_NE(r.err.find("not found: フォト"), std::string::npos) << r.err;

    // From standard input; what list prints imports back as the same set.
    r = synonyms({"import", "-"}, "car, automobile\n");
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string listed = synonyms({"list"}).out;
    EXPECT_EQ(listed, "automobile => car\ncar => automobile\n");
    EXPECT_EQ(synonyms({"import", "-"}, listed).status, 0);
    EXPECT_EQ(synonyms({"list"}).out, listed);
    EXPECT_EQ(synonyms({"import"}).status, 2);
}

TEST_F(Synonyms, AdminApiChangesWhatARunningServerExpands) {
    ServerProcess s(tmp.path(),
                    {"--index", index().string(), "--data", (tmp.path() / "var").string(), "--set",
                     "auth.admin_keys=" + admin_key, "--threads", "1"});
    ASSERT_TRUE(s.started()) << s.describe();
    const std::vector<std::pair<std::string, std::string>> auth = {
        {"Authorization", "Bearer " + admin_key}};
    testing::HttpClient c(s.port());
    auto search = [&](const std::string& q) {
        const auto r = c.get("/v1/search?q=" + testing::url_encode(q));
        EXPECT_EQ(r->result_int(), 200u) << r->body();
        return json_body(*r);
    };
    EXPECT_EQ(hit_ids(search("写真")), std::vector<std::string>{"shashin"});
    EXPECT_EQ(
        expect_error(c.request("PUT", "/v1/admin/synonyms", {}, "tv, television\n"), 401, "no key"),
        "unauthorized");
    EXPECT_EQ(expect_error(c.get("/v1/admin/synonyms"), 401, "no key"), "unauthorized");

    auto put =
        c.request("PUT", "/v1/admin/synonyms", auth, "写真, フォト, photo\ntv => television\n");
    ASSERT_EQ(put->result_int(), 200u) << put->body();
    EXPECT_EQ(json_body(*put), json::parse(R"({"words":4,"expansions":7})"));
    // At once, on the next search: no reindex, no wait for the reopen interval.
    json::value v = search("写真");
    EXPECT_EQ(hit_ids(v), (std::vector<std::string>{"shashin", "foto"}));
    EXPECT_EQ(v.at("synonyms"), json::parse(R"({"写真":["photo","フォト"]})")) << v;
    EXPECT_EQ(hit_ids(search("tv")), (std::vector<std::string>{"tv", "television"}));
    EXPECT_EQ(hit_ids(search("television")), std::vector<std::string>{"television"});

    const auto listed = c.get("/v1/admin/synonyms", auth);
    ASSERT_EQ(listed->result_int(), 200u) << listed->body();
    EXPECT_EQ(json_body(*listed),
              json::parse(R"({"synonyms":{"photo":["フォト","写真"],"tv":["television"],)"
                          R"("フォト":["photo","写真"],"写真":["photo","フォト"]},"count":4})"));

    // A bad body: 400 with the line, and the set as it was.
    const auto bad = c.request("PUT", "/v1/admin/synonyms", auth, "car, auto\n\nnew york, nyc\n");
    EXPECT_EQ(expect_error(bad, 400, "multi-word entry"), "invalid_input");
    EXPECT_NE(bad->body().find("body:3: \\\"new york\\\" is more than one word"), std::string::npos)
        << bad->body();
    EXPECT_EQ(json_body(*c.get("/v1/admin/synonyms", auth)).at("count"), 4);

    // DELETE takes a word out (percent-encoded in the path), 404 when it is in none.
    const auto gone =
        c.request("DELETE", "/v1/admin/synonyms/" + testing::url_encode("フォト"), auth);
    ASSERT_EQ(gone->result_int(), 200u) << gone->body();
    EXPECT_EQ(json_body(*gone), json::parse(R"({"deleted":"フォト"})"));
    v = search("写真");
    EXPECT_EQ(hit_ids(v), std::vector<std::string>{"shashin"});
    EXPECT_EQ(v.at("synonyms"), json::parse(R"({"写真":["photo"]})")) << v;
    EXPECT_EQ(expect_error(c.request("DELETE", "/v1/admin/synonyms/zebra", auth), 404, "unknown"),
              "not_found");
    EXPECT_EQ(
        expect_error(c.request("DELETE", "/v1/admin/synonyms/new%20york", auth), 400, "two words"),
        "invalid_input");

    // An empty file empties the set.
    ASSERT_EQ(c.request("PUT", "/v1/admin/synonyms", auth, "")->result_int(), 200u);
    EXPECT_EQ(json_body(*c.get("/v1/admin/synonyms", auth)).at("count"), 0);
    EXPECT_FALSE(search("tv").as_object().contains("synonyms"));
    EXPECT_EQ(s.terminate(), 0) << s.log();
}

} // namespace
} // namespace mixi
