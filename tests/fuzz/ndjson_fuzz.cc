// NDJSON ingest (indexer/sources.h) on arbitrary bytes: each line is parsed as a record as
// NdjsonSource does, and every public record goes through the document builder, as the indexer
// does. Nothing crashes; stored values are valid UTF-8.
#include "common/stored_data.h"
#include "common/utf8.h"
#include "fuzz_util.h"
#include "indexer/document_builder.h"
#include "indexer/sources.h"

using namespace mixi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static indexer::DocumentBuilder builder;
    std::string_view rest = fuzz::as_text(data, size);
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos)
            continue;
        // Records without a visibility are public here, so that they reach the builder.
        auto parsed = indexer::parse_ndjson_record(line, indexer::DefaultVisibility::public_);
        auto* record = std::get_if<indexer::Record>(&parsed);
        if (!record)
            continue;
        fuzz::check(!record->id.empty(), "a record without an id");
        for (const std::string* s : {&record->id, &record->url, &record->title, &record->body,
                                     &record->lang, &record->author})
            fuzz::check(is_valid_utf8(*s), "a record field is not valid UTF-8");
        if (!indexer::is_public(*record)) {
            // A record that is not public is a removal: nothing but its id is read.
            fuzz::check(record->title.empty() && record->body.empty() && record->url.empty(),
                        "a record that is not public kept its content");
            continue;
        }
        const auto prepared = builder.build(*record);
        fuzz::check(!prepared.id_term.empty(), "a document without an id term");
        fuzz::check(is_valid_utf8(schema::unpack_stored(prepared.document.get_data())),
                    "document data is not UTF-8");
    }
    return 0;
}
