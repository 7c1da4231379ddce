#include "analyzers/language.h"

#include "common/utf8.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <libexttextcat/textcat.h>
#include <optional>
#include <string>
#include <unicode/uscript.h>
#include <unicode/utf8.h>
#include <unistd.h>
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

// The language a text's script gives (kana -> ja, Han -> zh, ...), or "" for Latin text.
std::string script_language(std::string_view text) {
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
    return "";
}

} // namespace

std::string detect_language(std::string_view text) {
    const std::string by_script = script_language(text);
    if (!by_script.empty())
        return by_script;
    return detect_latin(text.substr(0, 8192));
}

namespace {

// libexttextcat's classifier over Debian's n-gram profiles of the Latin-script languages
// Xapian has a stemmer for. (Among all ~160 profiles, English text comes out as Scots and a
// short word as Slovak; a stemmer is what the answer is for.) The classifier keeps scratch
// state in its handle, so each thread has its own, made on first use.
class TextCat {
  public:
    TextCat() {
        // The library reads its list of profiles from a file: a private one, gone once read.
        std::string path =
            (std::filesystem::temp_directory_path() / "mixi-textcat-XXXXXX").string();
        const int fd = ::mkstemp(path.data());
        if (fd < 0)
            return;
        std::string conf;
        for (const char* lang : {"en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb",
                                 "nn", "fi", "hu", "ro", "tr", "ca", "eu", "ga", "id", "lt"})
            conf += std::string(lang) + ".lm " + lang + "\n";
        const bool written =
            ::write(fd, conf.data(), conf.size()) == static_cast<ssize_t>(conf.size());
        ::close(fd);
        if (written)
            handle_ = special_textcat_Init(path.c_str(), MIXI_TEXTCAT_DIR "/");
        ::unlink(path.c_str());
        if (!handle_)
            return;
        // Below this many bytes the answer is "too short".
        textcat_SetProperty(handle_, TCPROP_MINIMUM_DOCUMENT_SIZE, 25);
        candidates_ = textcat_GetClassifyFullOutput(handle_);
    }
    ~TextCat() {
        if (handle_) {
            textcat_ReleaseClassifyFullOutput(handle_, candidates_);
            textcat_Done(handle_);
        }
    }
    TextCat(const TextCat&) = delete;
    TextCat& operator=(const TextCat&) = delete;

    /// The language the profiles give ("de"); "" when the text is too short, like none of them,
    /// or like more than two (mixed text); nullopt when the profiles could not be read.
    std::optional<std::string> classify(std::string_view text) {
        if (!handle_)
            return std::nullopt;
        const int n = textcat_ClassifyFull(handle_, text.data(), text.size(), candidates_);
        if (n < 1 || n > 2)
            return std::string();
        return std::string(candidates_[0].name);
    }

  private:
    void* handle_ = nullptr;
    candidate_t* candidates_ = nullptr;
};

} // namespace

std::string identify_document_language(std::string_view text) {
    const std::string by_script = script_language(text);
    if (!by_script.empty())
        return by_script;
    // A few hundred characters decide; more only cost time.
    const std::string_view sample = utf8_prefix(text, 2048);
    thread_local TextCat textcat;
    if (auto lang = textcat.classify(sample))
        return lang->empty() ? std::string(undetermined_language) : *lang;
    return detect_latin(sample); // the profiles could not be read
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
