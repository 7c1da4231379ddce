// Small UTF-8 helpers used at every text boundary.
#pragma once

#include <string>
#include <string_view>

namespace mixi {

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// The character at s[i] (i < s.size()) as a code point, and its length in bytes; an
/// ill-formed byte is one byte long and decodes to U+FFFD, as repair_utf8 replaces it.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp);

/// `s` with every ill-formed sequence replaced by U+FFFD; valid input is returned unchanged.
std::string repair_utf8(std::string_view s);

/// The longest prefix of `s` of at most `max_bytes` bytes that does not split a character.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

} // namespace mixi
