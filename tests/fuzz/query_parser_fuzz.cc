// The query syntax (query/query_parser.h) on arbitrary bytes: parse_query never crashes or
// throws, and what it builds is a query Xapian runs (against a small in-memory database).
#include "analyzers/analyzer.h"
#include "common/utf8.h"
#include "fuzz_util.h"
#include "query/query_parser.h"

#include <xapian.h>

using namespace mixi;

namespace {

const char* const languages[] = {"", "en", "ja", "fr", "de", "zh"};

Xapian::Database& database() {
    static Xapian::WritableDatabase db = [] {
        Xapian::WritableDatabase w(std::string(), Xapian::DB_BACKEND_INMEMORY);
        for (const char* words : {"search engine tokyo", "東京 京都 検索", "photo travel 2024"}) {
            Xapian::Document doc;
            Xapian::TermGenerator gen;
            gen.set_document(doc);
            gen.index_text(words);
            w.add_document(doc);
        }
        return w;
    }();
    return db;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static analyzers::Analyzer analyzer;
    if (size == 0)
        return 0;
    const std::uint8_t flags = data[0];
    query::ParseOptions options;
    options.lang = languages[flags % std::size(languages)];
    options.preferred_lang = languages[(flags / 8) % std::size(languages)];
    options.match_all = flags & 0x40;
    options.prefix = flags & 0x80;
    const std::string_view text = fuzz::as_text(data + 1, size - 1);
    auto parsed = query::parse_query(text, analyzer, options);
    if (!parsed)
        return 0;
    fuzz::check(!parsed->lang.empty() || options.lang.empty(), "lost the language");
    // Word offsets index the repaired text (the searcher corrects spelling there).
    const std::string repaired = repair_utf8(text);
    for (const auto& w : parsed->words)
        fuzz::check(w.begin <= w.end && w.end <= repaired.size(), "query word outside the text");
    Xapian::Enquire enquire(database());
    Xapian::Query q = parsed->query;
    if (!parsed->filter.empty())
        q = Xapian::Query(Xapian::Query::OP_FILTER, q, parsed->filter);
    enquire.set_query(q);
    (void)enquire.get_mset(0, 10);
    (void)q.get_description();
    return 0;
}
