#include "indexer/sources.h"

#include "analyzers/language.h"
#include "common/dates.h"
#include "common/utf8.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstring>
#include <gumbo.h>
#include <initializer_list>
#include <sstream>
#include <strings.h>
#include <unordered_set>

namespace mixi::indexer {

namespace fs = std::filesystem;
namespace json = boost::json;

bool is_known_type(const std::string& type) {
    return type == "article" || type == "photo" || type == "video" || type == "comment";
}

// ---------------------------------------------------------------------------------- NDJSON

namespace {

// Reads an optional string field; a number is accepted for ids, anything else is an error.
bool read_string(const json::object& obj, const char* key, std::string& out, std::string& error,
                 bool allow_number = false) {
    const json::value* v = obj.if_contains(key);
    if (!v || v->is_null())
        return true;
    if (v->is_string()) {
        out.assign(v->get_string().data(), v->get_string().size());
        return true;
    }
    if (allow_number && (v->is_int64() || v->is_uint64())) {
        out = json::serialize(*v);
        return true;
    }
    error = std::string("field \"") + key + "\" must be a string";
    return false;
}

std::string trim(std::string s) {
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

} // namespace

std::variant<Record, std::string> parse_ndjson_record(std::string_view line,
                                                      DefaultVisibility missing_visibility) {
    boost::system::error_code ec;
    const std::string repaired = repair_utf8(line);
    json::value value = json::parse(repaired, ec);
    if (ec)
        return "malformed JSON: " + ec.message();
    if (!value.is_object())
        return std::string("not a JSON object");
    const json::object& obj = value.get_object();
    Record r;
    std::string error;
    if (!read_string(obj, "id", r.id, error, true))
        return error;
    r.id = trim(r.id);
    if (r.id.empty())
        return std::string("missing \"id\"");
    // Visibility before anything else: a record that is not public takes its document out of
    // the index whatever else is wrong with it, so none of its other fields is even read (a bad
    // date must not keep the old public copy searchable). Only the exact string "public" is
    // public; null, "", "Public", a number are not. A missing field takes the run's default.
    const json::value* visibility = obj.if_contains("visibility");
    if (!visibility) {
        if (missing_visibility != DefaultVisibility::public_)
            return r; // visibility left empty: not public, counted as missing
        r.visibility = "public";
    } else if (visibility->is_string() && visibility->get_string() == "public") {
        r.visibility = "public";
    } else {
        // Kept as given, non-strings and "" as JSON, so that it never reads as missing.
        if (visibility->is_string() && !visibility->get_string().empty())
            r.visibility.assign(visibility->get_string().data(), visibility->get_string().size());
        else
            r.visibility = json::serialize(*visibility);
        return r;
    }
    if (!read_string(obj, "url", r.url, error) || !read_string(obj, "title", r.title, error) ||
        !read_string(obj, "body", r.body, error) || !read_string(obj, "type", r.type, error) ||
        !read_string(obj, "lang", r.lang, error) ||
        !read_string(obj, "published", r.published, error) ||
        !read_string(obj, "author", r.author, error))
        return error;
    if (r.type.empty())
        r.type = "article";
    if (!is_known_type(r.type))
        return "unknown type \"" + r.type + "\" (article, photo, video or comment)";
    if (!r.lang.empty()) {
        const std::string lang = analyzers::primary_language(r.lang);
        if (lang.empty())
            return "lang \"" + r.lang + "\" is not a language tag";
        r.lang = lang;
    }
    if (!r.published.empty() && !parse_date(r.published))
        return "published \"" + r.published + "\" is not an ISO 8601 date";
    if (const json::value* tags = obj.if_contains("tags"); tags && !tags->is_null()) {
        if (!tags->is_array())
            return std::string("field \"tags\" must be an array of strings");
        for (const json::value& t : tags->get_array()) {
            if (!t.is_string())
                return std::string("field \"tags\" must be an array of strings");
            r.tags.emplace_back(t.get_string().data(), t.get_string().size());
        }
    }
    return r;
}

NdjsonSource::NdjsonSource(fs::path path, DefaultVisibility missing_visibility)
    : path_(std::move(path)), in_(path_, std::ios::binary),
      missing_visibility_(missing_visibility) {
    std::error_code ec;
    total_ = fs::file_size(path_, ec);
    if (ec)
        total_ = 0;
}

std::optional<SourceItem> NdjsonSource::next() {
    if (!in_) {
        if (open_failed_reported_ || in_.eof())
            return std::nullopt;
        open_failed_reported_ = true;
        return SourceProblem{path_.string(), std::string("cannot read: ") + std::strerror(errno)};
    }
    std::string line;
    while (std::getline(in_, line)) {
        ++line_no_;
        done_ += line.size() + 1;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos)
            continue;
        auto parsed = parse_ndjson_record(line, missing_visibility_);
        if (auto* problem = std::get_if<std::string>(&parsed))
            return SourceProblem{path_.string() + ":" + std::to_string(line_no_),
                                 std::move(*problem)};
        return std::move(std::get<Record>(parsed));
    }
    if (in_.bad() && !open_failed_reported_) {
        open_failed_reported_ = true;
        return SourceProblem{path_.string() + ":" + std::to_string(line_no_ + 1),
                             "read error: " + std::string(std::strerror(errno))};
    }
    return std::nullopt;
}

// ------------------------------------------------------------------------------------ HTML

namespace {

bool is_skipped(const GumboElement& el) {
    switch (el.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_SELECT:
        return true;
    default:
        break;
    }
    // ARIA landmarks of the page's chrome (the main content is role "main").
    if (const GumboAttribute* role = gumbo_get_attribute(&el.attributes, "role")) {
        for (const char* chrome : {"navigation", "banner", "contentinfo", "complementary"})
            if (strcasecmp(role->value, chrome) == 0)
                return true;
    }
    return false;
}

// Whether a block's class or id names it as page chrome, the way boilerplate removers
// (Readability's "unlikely candidates") read them: a banner, breadcrumbs, a Prev/Next bar
// (DocBook's docnav, navheader, navfooter), a menu, a sidebar, a footer, pagination, share buttons.
// A name that also says content ("main-content", "article-share") keeps the block.
bool is_named_chrome(const GumboElement& el) {
    std::string names;
    for (const char* attribute : {"class", "id"})
        if (const GumboAttribute* a = gumbo_get_attribute(&el.attributes, attribute)) {
            names += a->value;
            names += ' ';
        }
    if (names.empty())
        return false;
    for (char& c : names)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto any_of = [&](std::initializer_list<std::string_view> words) {
        for (std::string_view w : words)
            if (names.find(w) != std::string::npos)
                return true;
        return false;
    };
    return any_of({"banner", "breadcrumb", "docnav", "navbar", "navheader", "navfooter", "menu",
                   "footer", "pagination", "pager", "share", "social", "skip-link"}) &&
           !any_of({"article", "content", "main"});
}

bool is_block(GumboTag tag) {
    switch (tag) {
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_A:
    case GUMBO_TAG_B:
    case GUMBO_TAG_I:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_ABBR:
    case GUMBO_TAG_MARK:
    case GUMBO_TAG_RUBY:
    case GUMBO_TAG_RB:
    case GUMBO_TAG_U:
    case GUMBO_TAG_S:
    case GUMBO_TAG_Q:
    case GUMBO_TAG_CITE:
    case GUMBO_TAG_KBD:
    case GUMBO_TAG_VAR:
    case GUMBO_TAG_SAMP:
    case GUMBO_TAG_TIME:
    case GUMBO_TAG_LABEL:
        return false;
    default:
        return true;
    }
}

// Text as gumbo made it, as well-formed UTF-8. The input is repaired before parsing, but gumbo
// 0.10 decodes a numeric character reference whose value overflows an int (`&#x9F3EEEEEE;`)
// into bytes that are no UTF-8 at all, so its output is checked again.
std::string_view valid_text(const char* text, std::string& scratch) {
    const std::string_view view(text);
    if (is_valid_utf8(view))
        return view;
    scratch = repair_utf8(view);
    return scratch;
}

// Appends text, collapsing every run of white space to one space.
void append_text(std::string& out, const char* text) {
    std::string scratch;
    for (const char c : valid_text(text, scratch)) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!out.empty() && out.back() != ' ')
                out += ' ';
        } else {
            out += c;
        }
    }
}

void separate(std::string& out) {
    if (!out.empty() && out.back() != ' ')
        out += ' ';
}

// Whether a robots directive list ("noindex, nofollow") forbids indexing: noindex or none.
bool forbids_indexing(std::string_view directives) {
    std::size_t i = 0;
    while (i < directives.size()) {
        const std::size_t end =
            std::min(directives.find_first_of(", \t\r\n", i), directives.size());
        const std::string_view word = directives.substr(i, end - i);
        if ((word.size() == 7 && strncasecmp(word.data(), "noindex", 7) == 0) ||
            (word.size() == 4 && strncasecmp(word.data(), "none", 4) == 0))
            return true;
        i = end + 1;
    }
    return false;
}

struct Walker {
    HtmlPage& page;
    std::size_t link_bytes = 0; ///< bytes of page.text that are the text of links
    int in_link = 0;            ///< depth of <a href> around the node being walked
    int in_content = 0;         ///< depth of <article> and <main> around it

    // <meta name="robots" content="noindex">, wherever it is (a page can have several).
    void robots(const GumboElement& el) {
        const GumboAttribute* name = gumbo_get_attribute(&el.attributes, "name");
        const GumboAttribute* content = gumbo_get_attribute(&el.attributes, "content");
        if (name && content && strcasecmp(name->value, "robots") == 0 &&
            forbids_indexing(content->value))
            page.noindex = true;
    }

    void head(const GumboNode* node) {
        if (node->type != GUMBO_NODE_ELEMENT)
            return;
        const GumboElement& el = node->v.element;
        if (el.tag == GUMBO_TAG_TITLE && page.title.empty()) {
            for (unsigned i = 0; i < el.children.length; ++i) {
                const auto* child = static_cast<const GumboNode*>(el.children.data[i]);
                if (child->type == GUMBO_NODE_TEXT)
                    append_text(page.title, child->v.text.text);
            }
            return;
        }
        if (el.tag == GUMBO_TAG_META) {
            const GumboAttribute* name = gumbo_get_attribute(&el.attributes, "name");
            if (!name)
                name = gumbo_get_attribute(&el.attributes, "property");
            const GumboAttribute* content = gumbo_get_attribute(&el.attributes, "content");
            if (name && content && strcasecmp(name->value, "description") == 0)
                append_text(page.description, content->value);
            robots(el);
        }
        for (unsigned i = 0; i < el.children.length; ++i)
            head(static_cast<const GumboNode*>(el.children.data[i]));
    }

    void body(const GumboNode* node) {
        switch (node->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_CDATA:
        case GUMBO_NODE_WHITESPACE: {
            const std::size_t before = page.text.size();
            append_text(page.text, node->v.text.text);
            if (in_link > 0)
                link_bytes += page.text.size() - before;
            return;
        }
        case GUMBO_NODE_ELEMENT:
        case GUMBO_NODE_TEMPLATE:
            break;
        default:
            return;
        }
        const GumboElement& el = node->v.element;
        if (el.tag == GUMBO_TAG_HEAD) {
            head(node);
            return;
        }
        if (el.tag == GUMBO_TAG_META) {
            robots(el);
            return;
        }
        if (is_skipped(el))
            return;
        const bool content = el.tag == GUMBO_TAG_ARTICLE || el.tag == GUMBO_TAG_MAIN;
        // A page's header and footer are chrome; an article's own header holds its title.
        if ((el.tag == GUMBO_TAG_HEADER || el.tag == GUMBO_TAG_FOOTER) && in_content == 0)
            return;
        const bool block = is_block(el.tag);
        if (block && !content && is_named_chrome(el))
            return;
        const bool link = el.tag == GUMBO_TAG_A && gumbo_get_attribute(&el.attributes, "href");
        if (block)
            separate(page.text);
        const std::size_t start = page.text.size();
        const bool heading =
            el.tag == GUMBO_TAG_H1 || el.tag == GUMBO_TAG_H2 || el.tag == GUMBO_TAG_H3;
        const std::size_t links_before = link_bytes;
        in_link += link;
        in_content += content;
        for (unsigned i = 0; i < el.children.length; ++i)
            body(static_cast<const GumboNode*>(el.children.data[i]));
        in_link -= link;
        in_content -= content;
        // A block whose text is mostly links (a menu, a list of related pages) is navigation.
        if (block && !content && el.tag != GUMBO_TAG_BODY && el.tag != GUMBO_TAG_HTML &&
            in_link == 0 && 2 * (link_bytes - links_before) > page.text.size() - start) {
            page.text.resize(start);
            link_bytes = links_before;
        }
        if (heading && page.text.size() > start) {
            separate(page.headings);
            page.headings.append(page.text, start, page.text.size() - start);
        }
        if (block)
            separate(page.text);
    }
};

std::string trim_spaces(std::string s) {
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    std::size_t start = 0;
    while (start < s.size() && s[start] == ' ')
        ++start;
    return s.substr(start);
}

// A folder named like a language ("ja", "zh-cn", "pt_BR") in a page's relative path.
std::string language_from_path(const fs::path& relative) {
    static const std::unordered_set<std::string> known = {
        "ar", "cs", "da", "de", "el", "en", "es", "fi", "fr", "he", "hu", "id", "it", "ja",
        "ko", "nl", "no", "pl", "pt", "ro", "ru", "sv", "th", "tr", "uk", "vi", "zh"};
    for (const auto& part : relative.parent_path()) {
        const std::string s = part.string();
        if (s.size() != 2 && !(s.size() >= 5 && s.size() <= 7 && (s[2] == '-' || s[2] == '_')))
            continue;
        const std::string lang = analyzers::primary_language(s);
        if (known.contains(lang))
            return lang;
    }
    return "";
}

// A dot-name anywhere in a page's relative path (".drafts/a.html", ".a.html"): not published.
bool is_hidden(const fs::path& relative) {
    for (const auto& part : relative) {
        const std::string s = part.string();
        if (s.size() > 1 && s[0] == '.' && s != "..")
            return true;
    }
    return false;
}

} // namespace

HtmlPage parse_html(std::string_view html) {
    HtmlPage page;
    const std::string repaired = repair_utf8(html);
    GumboOutput* out =
        gumbo_parse_with_options(&kGumboDefaultOptions, repaired.data(), repaired.size());
    if (out->root->type == GUMBO_NODE_ELEMENT) {
        if (const GumboAttribute* lang =
                gumbo_get_attribute(&out->root->v.element.attributes, "lang"))
            page.lang = repair_utf8(lang->value);
        else if (const GumboAttribute* xml_lang =
                     gumbo_get_attribute(&out->root->v.element.attributes, "xml:lang"))
            page.lang = repair_utf8(xml_lang->value);
    }
    Walker walker{page};
    walker.body(out->root);
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    page.title = trim_spaces(std::move(page.title));
    page.description = trim_spaces(std::move(page.description));
    page.headings = trim_spaces(std::move(page.headings));
    page.text = trim_spaces(std::move(page.text));
    return page;
}

HtmlFolderSource::HtmlFolderSource(fs::path root, std::string url_prefix)
    : root_(std::move(root)), url_prefix_(std::move(url_prefix)) {
    std::error_code ec;
    fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        listing_problem_ = SourceProblem{root_.string(), "cannot list folder: " + ec.message()};
        return;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            break;
        const auto ext = it->path().extension();
        if ((ext == ".html" || ext == ".htm") && it->is_regular_file(ec))
            files_.push_back(it->path());
    }
    if (ec)
        listing_problem_ = SourceProblem{root_.string(), "cannot list folder: " + ec.message()};
    std::sort(files_.begin(), files_.end());
}

std::optional<SourceItem> HtmlFolderSource::next() {
    if (listing_problem_) {
        auto problem = std::move(*listing_problem_);
        listing_problem_.reset();
        return problem;
    }
    if (next_ >= files_.size())
        return std::nullopt;
    const fs::path& file = files_[next_++];
    const fs::path relative = file.lexically_relative(root_);
    Record r;
    r.id = relative.generic_string();
    r.url = url_prefix_ + r.id;
    if (is_hidden(relative)) {
        r.visibility = "hidden"; // not read, not public: removed if an earlier run indexed it
        return r;
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    if (!in || !(bytes << in.rdbuf()))
        return SourceProblem{file.string(), std::string("cannot read: ") + std::strerror(errno)};
    r.visibility = "public";        // unless the page says robots noindex
    r.title = file.stem().string(); // until the page's own title is parsed
    r.lang = language_from_path(relative);
    r.html = std::move(bytes).str();
    return r;
}

void complete_html_record(Record& r) {
    if (r.html.empty())
        return;
    HtmlPage page = parse_html(r.html);
    r.html.clear();
    r.html.shrink_to_fit();
    if (page.noindex) {
        r.visibility = "noindex";
        r.body.clear();
        return;
    }
    if (!page.title.empty())
        r.title = std::move(page.title);
    // <html lang> wins over a language folder in the path.
    if (const std::string lang = analyzers::primary_language(page.lang); !lang.empty())
        r.lang = lang;
    r.body = std::move(page.text);
    if (!page.description.empty() && r.body.find(page.description) == std::string::npos)
        r.body = page.description + " " + r.body;
    r.emphasis = page.description;
    if (!page.headings.empty())
        r.emphasis += (r.emphasis.empty() ? "" : " ") + page.headings;
}

std::unique_ptr<Source> open_source(const fs::path& path, DefaultVisibility missing_visibility) {
    std::error_code ec;
    if (fs::is_directory(path, ec))
        return std::make_unique<HtmlFolderSource>(path);
    return std::make_unique<NdjsonSource>(path, missing_visibility);
}

} // namespace mixi::indexer
