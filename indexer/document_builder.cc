#include "indexer/document_builder.h"

#include "analyzers/language.h"
#include "common/dates.h"
#include "common/schema.h"
#include "common/stored_data.h"
#include "common/utf8.h"

#include <algorithm>
#include <boost/json.hpp>
#include <xapian.h>

namespace mixi::indexer {

namespace json = boost::json;

namespace {

bool is_spelling_word(const analyzers::Token& t) {
    return t.kind == analyzers::TokenKind::word && t.term.size() >= 2 &&
           std::none_of(t.term.begin(), t.term.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

DocumentBuilder::DocumentBuilder(BuildOptions options) : options_(options) {}

void DocumentBuilder::index_text(std::string_view text, const std::string& lang, unsigned wdf,
                                 Xapian::termpos& pos, bool title, PreparedDocument& out) {
    Xapian::Document& doc = out.document;
    const std::vector<analyzers::Token> tokens = analyzer_.tokenize(text);
    const bool stems = analyzer_.has_stemmer(lang);
    for (const analyzers::Token& t : tokens) {
        doc.add_posting(t.term, ++pos, wdf);
        if (title)
            doc.add_term(schema::term(schema::title, t.term));
        if (stems && t.kind == analyzers::TokenKind::word)
            doc.add_term(schema::term(schema::stem, analyzer_.stem(t.term, lang)), wdf);
        if (is_spelling_word(t))
            out.spelling_words.insert(t.term);
    }
    for (const std::string& gram : analyzers::cjk_bigrams(tokens))
        doc.add_term(schema::term(schema::bigram, gram), wdf);
}

PreparedDocument DocumentBuilder::build(const Record& r) {
    PreparedDocument out;
    out.id_term = schema::term(schema::id, r.id);
    Xapian::Document& doc = out.document;

    const std::string title = repair_utf8(r.title);
    const std::string body = repair_utf8(r.body);
    std::string lang = r.lang;
    if (lang.empty())
        lang = analyzers::identify_document_language(title + "\n" +
                                                     std::string(utf8_prefix(body, 4096)));

    Xapian::termpos pos = 0;
    index_text(title, lang, options_.title_weight, pos, true, out);
    pos += schema::body_position_offset;
    index_text(body, lang, 1, pos, false, out);
    // Headings and the description are in the body already: their words count extra, without
    // positions of their own (a phrase is matched where the text has it).
    if (options_.emphasis_weight > 1 && !r.emphasis.empty()) {
        const bool stems = analyzer_.has_stemmer(lang);
        const Xapian::termcount extra = options_.emphasis_weight - 1;
        for (const analyzers::Token& t : analyzer_.tokenize(repair_utf8(r.emphasis))) {
            doc.add_term(t.term, extra);
            if (stems && t.kind == analyzers::TokenKind::word)
                doc.add_term(schema::term(schema::stem, analyzer_.stem(t.term, lang)), extra);
        }
    }

    doc.add_boolean_term(out.id_term);
    if (!r.url.empty())
        doc.add_boolean_term(schema::url_term(repair_utf8(r.url)));
    doc.add_boolean_term(schema::term(schema::type, r.type));
    doc.add_boolean_term(schema::term(schema::lang, lang));
    for (const std::string& tag : r.tags) {
        const std::string folded = analyzer_.fold(repair_utf8(tag));
        if (!folded.empty() && folded.size() < 200)
            doc.add_boolean_term(schema::term(schema::tag, folded));
    }
    if (!r.author.empty()) {
        const std::string folded = analyzer_.fold(repair_utf8(r.author));
        if (folded.size() < 200)
            doc.add_boolean_term(schema::term(schema::author, folded));
    }

    doc.add_value(schema::slot_type, r.type);
    doc.add_value(schema::slot_lang, lang);
    doc.add_value(schema::slot_id, r.id);
    if (auto seconds = parse_date(r.published))
        doc.add_value(schema::slot_published,
                      Xapian::sortable_serialise(static_cast<double>(*seconds)));

    // The stored fields: what a hit shows, and the text snippets are cut from.
    json::object data;
    data["id"] = r.id;
    data["url"] = repair_utf8(r.url);
    data["title"] = title;
    data["type"] = r.type;
    data["lang"] = lang;
    if (!r.published.empty())
        data["published"] = r.published;
    if (!r.author.empty())
        data["author"] = repair_utf8(r.author);
    if (!r.tags.empty()) {
        json::array tags;
        for (const auto& t : r.tags)
            tags.emplace_back(repair_utf8(t));
        data["tags"] = std::move(tags);
    }
    data["body"] = utf8_prefix(body, options_.stored_body_bytes);
    doc.set_data(schema::pack_stored(json::serialize(data)));
    return out;
}

} // namespace mixi::indexer
