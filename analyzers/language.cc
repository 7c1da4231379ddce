#include "analyzers/language.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <unicode/uscript.h>
#include <unicode/utf8.h>
#include <unordered_set>
#include <vector>

namespace mixi::analyzers {

std::string primary_language(std::string_view tag) {
    std::string out;
    for (char c : tag) {
        if (c == '-' || c == '_')
            break;
        if (!std::isalpha(static_cast<unsigned char>(c)))
            return "";
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (out.size() < 2 || out.size() > 3)
        return "";
    return out;
}

namespace {

// A few very frequent function words that tell the Latin-script languages we index apart.
const std::unordered_set<std::string>& marker_words(int lang) {
    static const std::array<std::unordered_set<std::string>, 3> sets = {{
        {"the", "and", "of", "to", "is", "in", "that", "with", "for", "this", "are", "you"},
        {"der", "die", "und", "das", "ist", "nicht", "mit", "sie", "ein", "eine", "auf", "für"},
        {"le", "la", "les", "et", "est", "des", "une", "pour", "dans", "que", "qui", "avec"},
    }};
    return sets[lang];
}

std::string detect_latin(std::string_view text) {
    static constexpr std::array<const char*, 3> names = {"en", "de", "fr"};
    std::array<int, 3> votes{};
    std::string word;
    auto vote = [&] {
        for (int l = 0; l < 3; ++l)
            votes[l] += marker_words(l).count(word) ? 1 : 0;
        word.clear();
    };
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalpha(u) || u >= 0x80)
            word += static_cast<char>(std::tolower(u));
        else if (!word.empty())
            vote();
    }
    if (!word.empty())
        vote();
    int best = 0;
    for (int l = 1; l < 3; ++l)
        if (votes[l] > votes[best])
            best = l;
    return names[best];
}

} // namespace

std::string detect_language(std::string_view text) {
    // A sample is enough to tell the script; whole books are not needed.
    const auto n = static_cast<int32_t>(std::min<std::size_t>(text.size(), 8192));
    int kana = 0, han = 0, hangul = 0, thai = 0, cyrillic = 0, greek = 0, arabic = 0, latin = 0;
    for (int32_t i = 0; i < n;) {
        UChar32 c;
        U8_NEXT(text.data(), i, n, c);
        if (c < 0x80) {
            latin += std::isalpha(c) ? 1 : 0;
            continue;
        }
        UErrorCode status = U_ZERO_ERROR;
        switch (uscript_getScript(c, &status)) {
        case USCRIPT_HIRAGANA:
        case USCRIPT_KATAKANA:
            ++kana;
            break;
        case USCRIPT_HAN:
            ++han;
            break;
        case USCRIPT_HANGUL:
            ++hangul;
            break;
        case USCRIPT_THAI:
            ++thai;
            break;
        case USCRIPT_CYRILLIC:
            ++cyrillic;
            break;
        case USCRIPT_GREEK:
            ++greek;
            break;
        case USCRIPT_ARABIC:
            ++arabic;
            break;
        case USCRIPT_LATIN:
            ++latin;
            break;
        default:
            break;
        }
    }
    // Japanese mixes kana into Han text; Chinese has none. A few kana among much Han still
    // means Japanese, so kana wins whenever it is a noticeable share.
    if (kana > 0 && kana * 10 >= han)
        return "ja";
    const std::array<std::pair<int, const char*>, 6> scripts = {{
        // An ideograph carries about as much as a Latin word of several letters.
        {(han + kana) * 3, "zh"},
        {hangul * 2, "ko"},
        {thai, "th"},
        {cyrillic, "ru"},
        {greek, "el"},
        {arabic, "ar"},
    }};
    const char* best = nullptr;
    int best_count = latin;
    for (const auto& [count, name] : scripts) {
        if (count > best_count) {
            best = name;
            best_count = count;
        }
    }
    if (best)
        return best;
    return detect_latin(std::string_view(text.data(), static_cast<std::size_t>(n)));
}

} // namespace mixi::analyzers

namespace mixi::analyzers {

bool share_script(std::string_view a, std::string_view b) {
    auto scripts = [](std::string_view lang) {
        std::array<UScriptCode, 8> codes{};
        UErrorCode status = U_ZERO_ERROR;
        const std::string name(lang);
        const int n = uscript_getCode(name.c_str(), codes.data(),
                                      static_cast<int32_t>(codes.size()), &status);
        return std::vector<UScriptCode>(codes.begin(), codes.begin() + (U_SUCCESS(status) ? n : 0));
    };
    const auto x = scripts(a), y = scripts(b);
    for (UScriptCode c : x)
        if (std::find(y.begin(), y.end(), c) != y.end())
            return true;
    return false;
}

std::string query_language(std::string_view text, std::string_view preferred) {
    std::string detected = detect_language(text);
    const std::string want = primary_language(preferred);
    if (!want.empty() && want != detected && share_script(detected, want))
        return want;
    return detected;
}

} // namespace mixi::analyzers
