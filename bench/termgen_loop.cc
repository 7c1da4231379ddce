// The plainest indexer of the same NDJSON records: one thread, Xapian's TermGenerator with
// spelling data and CJK n-grams, a stemmer for the languages Snowball knows, the same boolean
// terms (id, type, language, tags, author) and the record as document data. A floor for what
// `mixi-search index build` costs per record, beside bench/scale.sh's figures.
//
//   termgen_loop RECORDS.ndjson DB_DIR
//
// Prints: RESULT records=N seconds=S records_per_s=R (parse, analysis, add_document, commit).
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <xapian.h>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: termgen_loop RECORDS.ndjson DB_DIR\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::cerr << "termgen_loop: cannot read " << argv[1] << "\n";
        return 2;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Xapian::WritableDatabase db(argv[2], Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_database(db);
    tg.set_flags(Xapian::TermGenerator::FLAG_SPELLING | Xapian::TermGenerator::FLAG_CJK_NGRAM);
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    std::map<std::string, Xapian::Stem> stemmers;
    const std::map<std::string, std::string> snowball = {
        {"en", "english"}, {"fr", "french"}, {"de", "german"}};
    auto str = [](const boost::json::object& o, const char* k) {
        const auto* v = o.if_contains(k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    auto term = [](const char* prefix, std::string_view value) {
        std::string t(prefix);
        t.append(value);
        return t;
    };
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        const auto o = boost::json::parse(line).as_object();
        const std::string lang = str(o, "lang");
        auto sb = snowball.find(lang);
        tg.set_stemmer(sb == snowball.end() ? Xapian::Stem() : Xapian::Stem(sb->second));
        Xapian::Document doc;
        tg.set_document(doc);
        tg.index_text(str(o, "title"), 1, "S");
        tg.index_text(str(o, "title"));
        tg.increase_termpos();
        tg.index_text(str(o, "body"));
        doc.add_boolean_term(term("Q", str(o, "id")));
        doc.add_boolean_term(term("XT", str(o, "type")));
        doc.add_boolean_term(term("L", lang));
        doc.add_boolean_term(term("A", str(o, "author")));
        if (const auto* tags = o.if_contains("tags"); tags && tags->is_array())
            for (const auto& t : tags->as_array())
                if (t.is_string())
                    doc.add_boolean_term(term("K", t.as_string()));
        doc.add_value(0, str(o, "published"));
        doc.set_data(line);
        db.add_document(doc);
        ++n;
    }
    db.commit();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("RESULT records=%zu seconds=%.2f records_per_s=%.0f\n", n, s, n / s);
}
