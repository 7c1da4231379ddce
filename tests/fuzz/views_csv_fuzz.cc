// View-count CSV import (analytics/views.h) on arbitrary bytes: each line goes to a
// ViewsCsvReader as import_views_csv gives it, with URLs resolved as an index would resolve
// them. Nothing crashes; a line is either skipped with a reason, or gives a count of a
// non-empty, well-formed document id, a region code, a day that the format could write, and a
// positive number of views.
#include "analytics/views.h"
#include "common/utf8.h"
#include "fuzz_util.h"

using namespace mixi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    analytics::ImportOptions options;
    options.resolve_url = [](std::string_view url) -> std::optional<std::string> {
        if (url.size() > 1 && url.size() < 40 && url.starts_with("/"))
            return std::string(url.substr(1));
        return std::nullopt;
    };
    // A header line, when the first line is one, applies to every line after it.
    analytics::ViewsCsvReader reader(options);
    std::string_view rest = fuzz::as_text(data, size);
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        const auto read = reader.read(line);
        if (!read) {
            fuzz::check(!read.error().empty(), "a line skipped without a reason");
            continue;
        }
        if (!*read)
            continue;
        const analytics::ViewCount& count = **read;
        fuzz::check(!count.id.empty(), "a count without a document");
        fuzz::check(is_valid_utf8(count.id), "a document id is not valid UTF-8");
        fuzz::check(analytics::is_region_code(count.region), "a region that is not a code");
        // 0000-01-01 .. 9999-12-31
        fuzz::check(count.day >= -719'528 && count.day <= 2'932'896, "a day out of range");
        fuzz::check(count.count > 0, "a count of no views");
    }
    return 0;
}
