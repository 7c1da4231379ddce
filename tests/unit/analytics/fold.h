// A query fold for the search log in tests that do not link the analyzers: ASCII lower-casing,
// which is what the server's NFKC case folding does to ASCII text.
#pragma once

#include <string>
#include <string_view>

namespace mixi::testing {

inline std::string ascii_fold(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

} // namespace mixi::testing
