#include "common/text_lines.h"

#include <zlib.h>

namespace mixi {

bool for_each_line(const std::filesystem::path& path,
                   const std::function<void(std::string&)>& line) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return false;
    gzbuffer(f, 1 << 17);
    std::string current;
    char buf[1 << 16];
    while (gzgets(f, buf, sizeof buf)) {
        current += buf;
        if (current.back() != '\n')
            continue; // a line longer than the buffer
        current.pop_back();
        if (!current.empty() && current.back() == '\r')
            current.pop_back();
        line(current);
        current.clear();
    }
    if (!current.empty())
        line(current);
    gzclose(f);
    return true;
}

std::filesystem::path plain_or_gz(const std::filesystem::path& base) {
    if (std::filesystem::exists(base))
        return base;
    std::filesystem::path gz = base;
    gz += ".gz";
    return std::filesystem::exists(gz) ? gz : std::filesystem::path{};
}

} // namespace mixi
