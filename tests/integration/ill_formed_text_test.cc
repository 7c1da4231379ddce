// Pages whose bytes are not text: they index, and every answer that shows them (`query`,
// /v1/search, /v1/suggest) is well-formed UTF-8 JSON.
#include "../unit/temp_dir.h"
#include "common/stored_data.h"
#include "common/utf8.h"
#include "http_client.h"
#include "process.h"
#include "server_process.h"

#include <fstream>
#include <gtest/gtest.h>
#include <xapian.h>

namespace mixi {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::HttpClient;
using testing::run;
using testing::ServerProcess;

// A numeric character reference past any int (gumbo 0.10 decodes it into a stray byte), raw
// 0xFF and NUL bytes, and a reference cut off before a lone lead byte.
const std::string ill_formed_page =
    std::string("<html><head><title>ruined &#x9F3EEEEEE; title</title>"
                "<meta name=\"description\" content=\"ruined &#x9F3EEEEEE;\"></head><body><p>"
                "ruined text &#x9F3EEEEEE; here \xff\xff and ") +
    std::string("\0", 1) + "nul &#x9F366; then ruinous &#\xd1";

/// `text` is well-formed UTF-8 and JSON; the JSON value.
json::value valid_json(const std::string& text, std::string_view what) {
    EXPECT_TRUE(is_valid_utf8(text)) << what << " is not UTF-8: " << text;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    EXPECT_FALSE(ec) << what << " is not JSON: " << text;
    return v;
}

TEST(IllFormedText, HtmlPageIndexesAndEveryAnswerIsUtf8Json) {
    testing::TempDir tmp;
    fs::create_directories(tmp.path() / "site");
    std::ofstream(tmp.path() / "site/page.html", std::ios::binary) << ill_formed_page;
    const fs::path index = tmp.path() / "index";
    const auto built = run(
        {"index", "build", "--index", index.string(), (tmp.path() / "site").string()}, tmp.path());
    ASSERT_EQ(built.status, 0) << built.err;

    // What the indexer stored (title, description, text for snippets) is UTF-8 too: the answers
    // below repair what they show, so they alone would not see it.
    Xapian::Database db((index / "current").string());
    ASSERT_EQ(db.get_doccount(), 1u);
    schema::StoredDictionaries dictionaries;
    if (const std::string d = db.get_metadata(schema::stored_dictionary_key); !d.empty()) {
        ASSERT_TRUE(dictionaries.add(d));
    }
    const std::string stored =
        schema::unpack_stored(db.get_document(*db.postlist_begin("")).get_data(), &dictionaries);
    ASSERT_FALSE(stored.empty());
    EXPECT_TRUE(is_valid_utf8(stored)) << stored;

    const auto queried =
        run({"query", "--index", index.string(), "--format", "json", "ruined"}, tmp.path());
    ASSERT_EQ(queried.status, 0) << queried.err;
    const auto hits = valid_json(queried.out, "query");
    ASSERT_TRUE(hits.is_object()) << queried.out;
    EXPECT_EQ(hits.at("total").to_number<int>(), 1) << queried.out;

    ServerProcess server(tmp.path(),
                         {"--index", index.string(), "--data", (tmp.path() / "var").string()});
    ASSERT_TRUE(server.started()) << server.describe();
    HttpClient client(server.port());
    const auto search = client.get("/v1/search?q=ruined");
    ASSERT_TRUE(search) << client.last_error();
    EXPECT_EQ(search->result_int(), 200u) << search->body();
    const auto found = valid_json(search->body(), "/v1/search");
    ASSERT_TRUE(found.is_object()) << search->body();
    EXPECT_EQ(found.at("total").to_number<int>(), 1) << search->body();

    const auto suggest = client.get("/v1/suggest?q=rui");
    ASSERT_TRUE(suggest) << client.last_error();
    EXPECT_EQ(suggest->result_int(), 200u) << suggest->body();
    const auto completions = valid_json(suggest->body(), "/v1/suggest");
    ASSERT_TRUE(completions.is_object()) << suggest->body();
    EXPECT_FALSE(completions.at("titles").as_array().empty()) << suggest->body();
}

} // namespace
} // namespace mixi
