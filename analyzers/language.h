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

/// The language tag of text whose language nobody can tell (BCP 47 "und"): no stemmer.
inline constexpr std::string_view undetermined_language = "und";

/// The language of a document's text, for documents that do not say it: the script, and for
/// Latin text the one language libexttextcat's n-gram profiles identify (de, fr, es, nl, ...).
/// Text too short or too mixed to tell is `undetermined_language`: no stemming is better than
/// a wrong stemmer. Slower than detect_language (about 0.2 ms), so not for queries.
std::string identify_document_language(std::string_view text);

/// Whether two languages are written in a common script (ICU's script data for the language
/// codes): "ja" and "zh" share Han, "en" and "de" share Latin, "ja" and "en" share none.
bool share_script(std::string_view a, std::string_view b);

/// The language to analyse `text` in for a searcher who prefers `preferred` (may be empty): the
/// preference when the text's script fits it (東京 from a Japanese reader is Japanese, not
/// Chinese; "haus" from a German reader is German), else what detect_language says.
std::string query_language(std::string_view text, std::string_view preferred);

} // namespace mixi::analyzers
