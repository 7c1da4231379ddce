// The synonyms file (indexer/synonyms.h) on arbitrary bytes. Nothing crashes or hangs; a refused
// file says why on every line of its message ("fuzz:LINE: reason"); an accepted one holds only
// non-empty, well-formed words, none its own synonym, none longer than the analyzer keeps, and
// what format_synonyms writes of it parses back to the same set.
#include "common/utf8.h"
#include "fuzz_util.h"
#include "indexer/synonyms.h"

using namespace mixi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static analyzers::Analyzer analyzer;
    const auto set = indexer::parse_synonyms(fuzz::as_text(data, size), "fuzz", analyzer);
    if (!set) {
        const std::string& message = set.error().message;
        fuzz::check(set.error().code == ErrorCode::invalid_input,
                    "a refusal that is not invalid_input");
        for (std::size_t at = 0; at < message.size();) {
            const auto nl = message.find('\n', at);
            const std::string_view line(message.data() + at,
                                        (nl == std::string::npos ? message.size() : nl) - at);
            fuzz::check(line.starts_with("fuzz:") || line.starts_with("... and "),
                        "an error line without file:line");
            at = nl == std::string::npos ? message.size() : nl + 1;
        }
        return 0;
    }
    for (const auto& [word, expansions] : *set) {
        fuzz::check(!word.empty() && is_valid_utf8(word), "a word that is empty or not UTF-8");
        fuzz::check(!expansions.empty(), "a word that expands to nothing");
        fuzz::check(!expansions.contains(word), "a word that is its own synonym");
        for (const auto& e : expansions)
            fuzz::check(!e.empty() && is_valid_utf8(e) && e.size() <= 80,
                        "a synonym that is empty, not UTF-8 or too long");
    }
    const auto again = indexer::parse_synonyms(indexer::format_synonyms(*set), "again", analyzer);
    fuzz::check(again && *again == *set, "the formatted set does not parse back to itself");
    return 0;
}
