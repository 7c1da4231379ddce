// Language tags and detection by script.
#pragma once

#include <string>
#include <string_view>

namespace mixi::analyzers {

/// The primary subtag of a BCP 47 tag, lower-cased ("ja-JP" -> "ja", "zh-Hans-CN" -> "zh"),
/// or "" when the tag is not well-formed.
std::string primary_language(std::string_view tag);

/// The language of `text` guessed from its script (kana -> ja, Han -> zh, Hangul -> ko, Thai ->
/// th, Cyrillic -> ru, ...); Latin text is told apart by stop words among en, de and fr.
/// Returns "en" when nothing decides.
std::string detect_language(std::string_view text);

} // namespace mixi::analyzers
