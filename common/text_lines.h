// Reading text files line by line, gzip-compressed or not.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace mixi {

/// Calls `line` for each line of `path` (".gz" or plain; zlib reads both). False if the file
/// cannot be opened.
bool for_each_line(const std::filesystem::path& path,
                   const std::function<void(std::string&)>& line);

/// `base` if it exists, else `base` + ".gz", else empty.
std::filesystem::path plain_or_gz(const std::filesystem::path& base);

} // namespace mixi
