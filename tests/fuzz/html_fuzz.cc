// HTML ingest (indexer/sources.h) on arbitrary bytes: parse_html and complete_html_record as the
// HTML folder source uses them, then the document builder. Nothing crashes; the extracted text
// is valid UTF-8.
#include "common/stored_data.h"
#include "common/utf8.h"
#include "fuzz_util.h"
#include "indexer/document_builder.h"
#include "indexer/sources.h"

using namespace mixi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static indexer::DocumentBuilder builder;
    const std::string_view html = fuzz::as_text(data, size);
    const indexer::HtmlPage page = indexer::parse_html(html);
    fuzz::check(is_valid_utf8(page.title), "title is not valid UTF-8");
    fuzz::check(is_valid_utf8(page.description), "description is not valid UTF-8");
    fuzz::check(is_valid_utf8(page.text), "text is not valid UTF-8");

    indexer::Record record;
    record.id = "fuzz/page.html";
    record.url = "/fuzz/page.html";
    record.html = std::string(html);
    indexer::complete_html_record(record);
    fuzz::check(record.html.empty(), "html kept after parsing");
    const auto prepared = builder.build(record);
    fuzz::check(is_valid_utf8(schema::unpack_stored(prepared.document.get_data())),
                "document data is not UTF-8");
    return 0;
}
