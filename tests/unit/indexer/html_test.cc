// Unit tests of HTML text extraction (parse_html) and HtmlFolderSource over tests/fixtures/site.
#include "common/utf8.h"
#include "indexer/sources.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <variant>

namespace {

using mixi::indexer::HtmlFolderSource;
using mixi::indexer::HtmlPage;
using mixi::indexer::parse_html;
using mixi::indexer::Record;
using mixi::indexer::SourceProblem;
namespace fs = std::filesystem;
using mixi::testing::fixture_site;
using mixi::testing::read_file;
using mixi::testing::TempDir;
using mixi::testing::write_file;

bool has(const std::string& text, std::string_view word) {
    return text.find(word) != std::string::npos;
}

// The Debian pages of en, fr and zh-cn write their titles with a NO-BREAK SPACE (U+00A0) after
// the section number ("A.7.\u00A0Tails"); de and ja use a plain space. (tests/fixtures/README.md
// says "A.7. Tails" in every language, which is true only up to that character.) parse_html
// keeps the title as written, so the comparisons below treat U+00A0 as a space.
std::string nbsp_to_space(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s.substr(i, 2) == "\xC2\xA0") {
            out += ' ';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

TEST(ParseHtml, NavScriptFixture) {
    const std::string html = read_file(fixture_site() / "en" / "extra" / "nav-script.html");
    ASSERT_FALSE(html.empty());
    const HtmlPage page = parse_html(html);
    EXPECT_EQ(page.title, "Nav and Script Test Page");
    EXPECT_EQ(page.description, "A tiny handwritten page for testing HTML text extraction.");
    EXPECT_EQ(page.lang, "en");
    EXPECT_TRUE(has(page.text, "visibleword")) << page.text;
    EXPECT_TRUE(has(page.text, "Extraction test")) << page.text;
    EXPECT_FALSE(has(page.text, "navigationonly")) << page.text;
    EXPECT_FALSE(has(page.text, "scriptonly")) << page.text;
    EXPECT_FALSE(has(page.text, "styleonly")) << page.text;
    EXPECT_FALSE(has(page.text, "marker")) << page.text;
    EXPECT_FALSE(has(page.text, "font-family")) << page.text;
    // The title is not repeated in the body text.
    EXPECT_FALSE(has(page.text, "Nav and Script")) << page.text;
    // White space is collapsed and trimmed; block elements are separated.
    EXPECT_EQ(page.text,
              "Extraction test This paragraph is the real page content and contains the word "
              "visibleword.");
}

TEST(ParseHtml, DebianHandbookPage) {
    const HtmlPage page =
        parse_html(read_file(fixture_site() / "ja" / "debian-handbook" / "sect.tails.html"));
    EXPECT_EQ(page.title, "A.7. Tails");
    EXPECT_EQ(page.lang, ""); // no lang attribute on <html>
    EXPECT_TRUE(has(page.text, "Tails OS (The Amnesic Incognito Live System) aims at providing"))
        << page.text;
    EXPECT_FALSE(has(page.text, "\t"));
    EXPECT_FALSE(has(page.text, "  "));

    const HtmlPage steam =
        parse_html(read_file(fixture_site() / "en" / "debian-handbook" / "sect.steamos.html"));
    EXPECT_EQ(nbsp_to_space(steam.title), "A.13. SteamOS");
    // The title is kept as written: a NO-BREAK SPACE in the English page, a space in German.
    EXPECT_EQ(steam.title, "A.13.\xC2\xA0SteamOS");
    EXPECT_EQ(parse_html(read_file(fixture_site() / "de" / "debian-handbook" / "sect.steamos.html"))
                  .title,
              "A.13. SteamOS");
    EXPECT_TRUE(has(steam.text, "SteamOS is a gaming-oriented Debian-based distribution"))
        << steam.text;
}

TEST(ParseHtml, InlineAndBlockElements) {
    const HtmlPage page =
        parse_html("<html lang=\"fr-FR\"><head><title>  Un   titre </title></head><body>"
                   "<p>ab<b>cd</b>ef</p><div>gh</div><p>x<span>y</span>z</p></body></html>");
    EXPECT_EQ(page.lang, "fr-FR");
    EXPECT_EQ(page.title, "Un titre");
    EXPECT_EQ(page.text, "abcdef gh xyz");
}

TEST(ParseHtml, SkipsNonContentElements) {
    const HtmlPage page =
        parse_html("<body><div role=\"navigation\">rolenav</div><template>tpl</template>"
                   "<noscript>nojs</noscript><button>btn</button><p>kept</p>"
                   "<div class=\"navfooter\">footnav</div></body>");
    EXPECT_EQ(page.text, "kept");
}

TEST(ParseHtml, BoilerplateIsNotPageText) {
    // Page chrome by element, by ARIA role, by the class or id names boilerplate removers know,
    // and blocks whose text is mostly links; a header inside the article is its content.
    const HtmlPage page = parse_html(
        "<body><header>Site name</header><div id=\"banner\"><a href=\"/get\">Download the "
        "ebook</a></div><ul class=\"docnav top\"><li><a href=\"p\">Prev</a></li><li>The "
        "Handbook</li><li><a href=\"n\">Next</a></li></ul><div class=\"breadcrumbs\">Home &gt; "
        "Docs</div><aside>Related posts</aside><div role=\"contentinfo\">(c) us</div>"
        "<ul><li><a href=\"a\">one link</a></li><li><a href=\"b\">another link</a> x</li></ul>"
        "<article><header><h1>The title</h1></header><p>Text with <a href=\"l\">a link</a> "
        "inside a sentence long enough.</p><div class=\"main-content\">more text</div></article>"
        "<footer>Footer text</footer></body>");
    EXPECT_EQ(page.text, "The title Text with a link inside a sentence long enough. more text");
}

TEST(ParseHtml, EveryBundledSitePageOpensWithItsContent) {
    // The demo's pages (DocBook output: banners, Prev/Next bars, navigation headers) all open
    // with their first heading (h1 or h2) once the chrome is gone, so snippets never start with
    // navigation. (Pages without an h1 are checked by the ones with one: the chrome is the same.)
    const fs::path site = mixi::testing::source_dir() / "data" / "site";
    const std::regex heading_re("<h([12])[^>]*>([\\s\\S]*?)</h\\1>");
    const std::regex tag("<[^>]*>");
    unsigned pages = 0, with_heading = 0;
    for (const auto& entry : fs::recursive_directory_iterator(site)) {
        if (entry.path().extension() != ".html")
            continue;
        ++pages;
        const std::string html = read_file(entry.path());
        const HtmlPage page = parse_html(html);
        std::smatch m;
        if (!std::regex_search(html, m, heading_re))
            continue;
        ++with_heading;
        // The heading's first word, as plain text.
        std::string heading = std::regex_replace(m[2].str(), tag, " ");
        std::istringstream words(heading);
        std::string first;
        words >> first;
        // At its very start, or after a few words of the title page ("Debian 11").
        EXPECT_LT(page.text.find(first), 16u)
            << entry.path() << ": opens with \"" << page.text.substr(0, 80) << "\"";
    }
    EXPECT_GT(pages, 200u);
    EXPECT_GT(with_heading, pages / 2);
}

TEST(ParseHtml, MetaDescriptionAndXmlLang) {
    const HtmlPage page =
        parse_html("<html xml:lang=\"de\"><head><meta name=\"Description\" content=\"Eine Seite\">"
                   "</head><body>Text</body></html>");
    EXPECT_EQ(page.description, "Eine Seite");
    EXPECT_EQ(page.lang, "de");
    EXPECT_EQ(page.text, "Text");
}

TEST(ParseHtml, HeadingsAreCollectedBesideTheText) {
    const HtmlPage page =
        parse_html("<html><body><main><h1>APT basics</h1><p>Install with apt.</p><h2>Sources</h2>"
                   "<p>The list.</p><h4>Small print</h4></main></body></html>");
    EXPECT_EQ(page.headings, "APT basics Sources");
    EXPECT_EQ(page.text, "APT basics Install with apt. Sources The list. Small print");
    // A record from the page stresses its description and headings.
    mixi::indexer::Record r;
    r.html = "<html><head><meta name=\"description\" content=\"How to use APT\"></head>"
             "<body><main><h1>APT basics</h1><p>Install with apt.</p></main></body></html>";
    mixi::indexer::complete_html_record(r);
    EXPECT_EQ(r.emphasis, "How to use APT APT basics");
    EXPECT_EQ(r.body, "How to use APT APT basics Install with apt.");
}

TEST(ParseHtml, BrokenInputDoesNotCrash) {
    const HtmlPage empty = parse_html("");
    EXPECT_EQ(empty.title, "");
    EXPECT_EQ(empty.text, "");
    const HtmlPage broken = parse_html("<p>caf\xff <b>unclosed <i>tags\xc3");
    EXPECT_TRUE(mixi::is_valid_utf8(broken.text));
    EXPECT_TRUE(has(broken.text, "unclosed")) << broken.text;
    EXPECT_TRUE(has(broken.text, "caf\xEF\xBF\xBD")) << broken.text;
}

// ---------------------------------------------------------------------- HtmlFolderSource

struct PageExpectation {
    const char* id;
    const char* lang;
    const char* title;
};

TEST(HtmlFolderSource, FixtureSite) {
    HtmlFolderSource source(fixture_site());
    const std::vector<PageExpectation> expected = {
        {"de/debian-handbook/sect.steamos.html", "de", "A.13. SteamOS"},
        {"de/debian-handbook/sect.tails.html", "de", "A.7. Tails"},
        {"en/debian-handbook/sect.steamos.html", "en", "A.13. SteamOS"},
        {"en/debian-handbook/sect.tails.html", "en", "A.7. Tails"},
        {"en/extra/nav-script.html", "en", "Nav and Script Test Page"},
        {"fr/debian-handbook/sect.steamos.html", "fr", "A.13. SteamOS"},
        {"fr/debian-handbook/sect.tails.html", "fr", "A.7. Tails"},
        {"ja/debian-handbook/sect.steamos.html", "ja", "A.13. SteamOS"},
        {"ja/debian-handbook/sect.tails.html", "ja", "A.7. Tails"},
        {"zh-cn/debian-handbook/sect.steamos.html", "zh", "A.13. SteamOS"},
        {"zh-cn/debian-handbook/sect.tails.html", "zh", "A.7. Tails"},
    };
    EXPECT_EQ(source.total(), expected.size());
    EXPECT_EQ(source.done(), 0u);
    std::vector<Record> records;
    while (auto item = source.next()) {
        ASSERT_TRUE(std::holds_alternative<Record>(*item))
            << std::get<SourceProblem>(*item).where << ": "
            << std::get<SourceProblem>(*item).reason;
        records.push_back(std::get<Record>(std::move(*item)));
        // The source only reads the file; the analysis threads parse it.
        EXPECT_FALSE(records.back().html.empty());
        mixi::indexer::complete_html_record(records.back());
        EXPECT_TRUE(records.back().html.empty());
        ASSERT_LE(records.size(), expected.size());
    }
    ASSERT_EQ(records.size(), expected.size());
    EXPECT_EQ(source.done(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE(expected[i].id);
        EXPECT_EQ(records[i].id, expected[i].id);
        EXPECT_EQ(records[i].url, std::string("/") + expected[i].id);
        EXPECT_EQ(records[i].lang, expected[i].lang);
        EXPECT_EQ(nbsp_to_space(records[i].title), expected[i].title);
        EXPECT_EQ(records[i].type, "article");
        EXPECT_TRUE(mixi::indexer::is_public(records[i]));
        EXPECT_FALSE(records[i].body.empty());
    }
    // The description leads the body when the text does not contain it.
    const Record& nav = records[4];
    EXPECT_EQ(nav.body.rfind("A tiny handwritten page for testing HTML text extraction.", 0), 0u)
        << nav.body;
    EXPECT_TRUE(has(nav.body, "visibleword"));
    EXPECT_FALSE(has(nav.body, "scriptonly"));
}

TEST(HtmlFolderSource, UrlPrefixAndFallbacks) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "ko" / "sub");
    std::filesystem::create_directories(tmp.path() / "misc");
    write_file(tmp.path() / "ko" / "sub" / "page.htm", "<p>한국어 페이지</p>");
    write_file(tmp.path() / "misc" / "untitled.html", "<html lang=\"pt-BR\"><p>Olá</p></html>");
    write_file(tmp.path() / "misc" / "notes.txt", "not html");
    HtmlFolderSource source(tmp.path(), "https://example.social/");
    EXPECT_EQ(source.total(), 2u);
    auto first = source.next();
    ASSERT_TRUE(first && std::holds_alternative<Record>(*first));
    Record& a = std::get<Record>(*first);
    mixi::indexer::complete_html_record(a);
    EXPECT_EQ(a.id, "ko/sub/page.htm");
    EXPECT_EQ(a.url, "https://example.social/ko/sub/page.htm");
    EXPECT_EQ(a.lang, "ko");    // from the folder name
    EXPECT_EQ(a.title, "page"); // no <title>: the file name
    EXPECT_EQ(a.body, "한국어 페이지");
    auto second = source.next();
    ASSERT_TRUE(second && std::holds_alternative<Record>(*second));
    mixi::indexer::complete_html_record(std::get<Record>(*second));
    EXPECT_EQ(std::get<Record>(*second).id, "misc/untitled.html");
    EXPECT_EQ(std::get<Record>(*second).lang, "pt"); // <html lang> wins
    EXPECT_FALSE(source.next().has_value());
}

TEST(HtmlFolderSource, MissingFolderIsAProblem) {
    TempDir tmp;
    HtmlFolderSource source(tmp.path() / "nope");
    auto first = source.next();
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(std::holds_alternative<SourceProblem>(*first));
    EXPECT_EQ(std::get<SourceProblem>(*first).where, (tmp.path() / "nope").string());
    EXPECT_FALSE(source.next().has_value());
}

// A page as the analysis threads complete it: public unless it says robots noindex.
Record completed(const std::string& html) {
    Record r;
    r.id = "page.html";
    r.visibility = "public"; // as HtmlFolderSource sets it
    r.html = html;
    mixi::indexer::complete_html_record(r);
    return r;
}

TEST(CompleteHtmlRecord, RobotsNoindexMakesThePageNotPublic) {
    for (const char* meta : {R"(<meta name="robots" content="noindex">)",
                             R"(<META NAME="Robots" CONTENT="NoIndex, nofollow">)",
                             R"(<meta name="robots" content="nofollow,noindex">)",
                             R"(<meta name="robots" content="none">)"}) {
        const Record r = completed(std::string("<html><head><title>Secret plans</title>") + meta +
                                   "</head><body><p>zeppelinword</p></body></html>");
        EXPECT_FALSE(mixi::indexer::is_public(r)) << meta;
        EXPECT_FALSE(has(r.body, "zeppelinword")) << meta;
    }
    // Also where the parser leaves it in the body.
    EXPECT_FALSE(mixi::indexer::is_public(
        completed(R"(<p>text</p><div><meta name="robots" content="noindex"></div>)")));
    // Other robots directives, and other meta names, leave the page public.
    for (const char* meta : {R"(<meta name="robots" content="nofollow">)",
                             R"(<meta name="robots" content="index, follow, noarchive">)",
                             R"(<meta name="googlebot" content="noindex">)",
                             R"(<meta name="description" content="noindex">)",
                             R"(<meta name="robots" content="noindexed">)"}) {
        const Record r = completed(std::string("<html><head>") + meta +
                                   "</head><body><p>zeppelinword</p></body></html>");
        EXPECT_TRUE(mixi::indexer::is_public(r)) << meta;
        EXPECT_TRUE(has(r.body, "zeppelinword")) << meta;
    }
}

TEST(HtmlFolderSource, HiddenFilesAndFoldersAreNotPublic) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / ".drafts");
    std::filesystem::create_directories(tmp.path() / "en" / ".git" / "x");
    write_file(tmp.path() / ".drafts" / "plan.html", "<p>draftword</p>");
    write_file(tmp.path() / "en" / ".git" / "x" / "index.html", "<p>gitword</p>");
    write_file(tmp.path() / "en" / ".notes.html", "<p>noteword</p>");
    write_file(tmp.path() / "en" / "page.html", "<p>publicword</p>");
    HtmlFolderSource source(tmp.path());
    std::map<std::string, Record> records;
    while (auto item = source.next()) {
        ASSERT_TRUE(std::holds_alternative<Record>(*item));
        Record r = std::get<Record>(std::move(*item));
        mixi::indexer::complete_html_record(r);
        records[r.id] = std::move(r);
    }
    ASSERT_EQ(records.size(), 4u);
    EXPECT_TRUE(mixi::indexer::is_public(records["en/page.html"]));
    EXPECT_TRUE(has(records["en/page.html"].body, "publicword"));
    for (const char* id : {".drafts/plan.html", "en/.git/x/index.html", "en/.notes.html"}) {
        // Yielded, so that an update removes a copy indexed before, but not public and unread.
        ASSERT_TRUE(records.contains(id)) << id;
        EXPECT_FALSE(mixi::indexer::is_public(records[id])) << id;
        EXPECT_EQ(records[id].body, "") << id;
    }
}

TEST(OpenSource, DirectoryIsHtmlFolder) {
    auto source = mixi::indexer::open_source(fixture_site());
    ASSERT_TRUE(source);
    EXPECT_EQ(source->total(), 11u);
    auto first = source->next();
    ASSERT_TRUE(first && std::holds_alternative<Record>(*first));
    EXPECT_EQ(std::get<Record>(*first).id, "de/debian-handbook/sect.steamos.html");
}

} // namespace
