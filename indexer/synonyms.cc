#include "indexer/synonyms.h"

#include "common/index_layout.h"
#include "common/utf8.h"
#include "indexer/index_writer.h"

#include <vector>

namespace mixi::indexer {

namespace fs = std::filesystem;

namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\f\v");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r\f\v");
    return s.substr(first, last - first + 1);
}

/// The comma-separated entries of `list`, normalised; the reason when one is not a word.
Expected<std::vector<std::string>> words_of(std::string_view list, analyzers::Analyzer& analyzer) {
    std::vector<std::string> out;
    for (std::size_t at = 0;;) {
        const auto comma = list.find(',', at);
        const std::string_view entry =
            trim(list.substr(at, comma == std::string_view::npos ? list.npos : comma - at));
        if (entry.empty())
            return fail(ErrorCode::invalid_input, "an empty entry (two commas, or a comma at an "
                                                  "end)");
        auto word = normalize_synonym_word(entry, analyzer);
        if (!word)
            return std::unexpected(word.error());
        out.push_back(std::move(*word));
        if (comma == std::string_view::npos)
            return out;
        if (out.size() == max_synonym_line_words)
            return fail(ErrorCode::invalid_input, "more than " +
                                                      std::to_string(max_synonym_line_words) +
                                                      " words (split the group)");
        at = comma + 1;
    }
}

/// Adds one line (comments already removed, not blank) to `set`; the reason when it is wrong.
Expected<void> add_line(std::string_view line, analyzers::Analyzer& analyzer, SynonymSet& set) {
    if (const auto arrow = line.find("=>"); arrow != std::string_view::npos) {
        if (line.find("=>", arrow + 2) != std::string_view::npos)
            return fail(ErrorCode::invalid_input, "more than one \"=>\" on a line");
        const std::string_view left = trim(line.substr(0, arrow)),
                               right = trim(line.substr(arrow + 2));
        if (left.empty())
            return fail(ErrorCode::invalid_input, "no word before \"=>\"");
        if (right.empty())
            return fail(ErrorCode::invalid_input, "no word after \"=>\"");
        auto from = words_of(left, analyzer);
        if (!from)
            return std::unexpected(from.error());
        auto to = words_of(right, analyzer);
        if (!to)
            return std::unexpected(to.error());
        for (const auto& a : *from)
            for (const auto& b : *to)
                if (a != b)
                    set[a].insert(b);
        return {};
    }
    auto group = words_of(line, analyzer);
    if (!group)
        return std::unexpected(group.error());
    if (group->size() < 2)
        return fail(ErrorCode::invalid_input,
                    "a group needs two words or more, separated by commas (or \"word => "
                    "word\" for one way)");
    for (const auto& a : *group)
        for (const auto& b : *group)
            if (a != b)
                set[a].insert(b);
    return {};
}

/// The database a reader of the index at `dir` opens (of its first shard when it is sharded).
fs::path first_database(const fs::path& dir) {
    return layout::resolve_database(layout::shard_count(dir) > 0 ? layout::shard_dir(dir, 0) : dir);
}

} // namespace

Expected<std::string> normalize_synonym_word(std::string_view text, analyzers::Analyzer& analyzer) {
    std::string quoted(1, '"');
    quoted.append(text).push_back('"');
    if (!is_valid_utf8(text))
        return fail(ErrorCode::invalid_input, "an entry is not valid UTF-8");
    if (text.size() > max_synonym_word_bytes)
        return fail(ErrorCode::invalid_input,
                    "an entry is longer than " + std::to_string(max_synonym_word_bytes) + " bytes");
    const auto tokens = analyzer.tokenize(text);
    if (tokens.empty())
        return fail(ErrorCode::invalid_input, quoted + " has no word to search for");
    if (tokens.size() > 1)
        return fail(ErrorCode::invalid_input,
                    quoted + " is more than one word (\"" + tokens[0].term + "\", \"" +
                        tokens[1].term + "\"): a query term is one word, so a synonym must be one");
    return tokens[0].term;
}

Expected<SynonymSet> parse_synonyms(std::string_view text, std::string_view where,
                                    analyzers::Analyzer& analyzer) {
    constexpr std::size_t max_errors = 20;
    SynonymSet set;
    std::string errors;
    std::size_t error_count = 0, number = 0;
    if (text.starts_with("\xEF\xBB\xBF"))
        text.remove_prefix(3); // a byte order mark
    for (std::size_t at = 0; at < text.size();) {
        const auto newline = text.find('\n', at);
        std::string_view line =
            text.substr(at, newline == std::string_view::npos ? text.npos : newline - at);
        at = newline == std::string_view::npos ? text.size() : newline + 1;
        ++number;
        if (const auto hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        line = trim(line);
        if (line.empty())
            continue;
        if (auto added = add_line(line, analyzer, set); !added) {
            if (++error_count <= max_errors) {
                if (!errors.empty())
                    errors += '\n';
                errors.append(where).append(":").append(std::to_string(number));
                errors.append(": ").append(added.error().message);
            }
        }
    }
    if (error_count > max_errors)
        errors += "\n... and " + std::to_string(error_count - max_errors) + " more";
    if (error_count > 0)
        return fail(ErrorCode::invalid_input, errors);
    return set;
}

std::string format_synonyms(const SynonymSet& set) {
    std::string out;
    for (const auto& [word, expansions] : set) {
        out += word + " =>";
        const char* separator = " ";
        for (const auto& e : expansions) {
            out += separator + e;
            separator = ", ";
        }
        out += "\n";
    }
    return out;
}

SynonymSet synonyms_of(const Xapian::Database& db) {
    SynonymSet set;
    for (auto key = db.synonym_keys_begin(); key != db.synonym_keys_end(); ++key) {
        const std::string word = *key;
        auto& expansions = set[word];
        for (auto s = db.synonyms_begin(word); s != db.synonyms_end(word); ++s)
            expansions.insert(*s);
        if (expansions.empty())
            set.erase(word);
    }
    return set;
}

void write_synonyms(Xapian::WritableDatabase& db, const SynonymSet& set) {
    std::vector<std::string> keys;
    for (auto key = db.synonym_keys_begin(); key != db.synonym_keys_end(); ++key)
        keys.push_back(*key);
    for (const auto& key : keys)
        db.clear_synonyms(key);
    for (const auto& [word, expansions] : set)
        for (const auto& e : expansions)
            db.add_synonym(word, e);
}

Expected<void> replace_synonyms(const fs::path& dir, const SynonymSet& set) {
    return change_in_place(dir, [&](Xapian::WritableDatabase& db) { write_synonyms(db, set); });
}

Expected<SynonymSet> read_synonyms(const fs::path& dir) {
    const fs::path path = first_database(dir);
    if (path.empty())
        return fail(ErrorCode::not_found,
                    "no index at " + dir.string() + " (run `mixi-search index build` first)");
    try {
        return synonyms_of(Xapian::Database(path.string()));
    } catch (const Xapian::Error& e) {
        return fail(ErrorCode::index_unavailable,
                    "cannot read " + path.string() + ": " + e.get_description());
    }
}

Expected<bool> delete_synonym(const fs::path& dir, const std::string& word) {
    bool found = false;
    auto changed = change_in_place(dir, [&](Xapian::WritableDatabase& db) {
        SynonymSet set = synonyms_of(db);
        bool here = set.erase(word) > 0;
        for (auto it = set.begin(); it != set.end();) {
            here = it->second.erase(word) > 0 || here;
            it = it->second.empty() ? set.erase(it) : std::next(it);
        }
        if (!here)
            return;
        found = true;
        write_synonyms(db, set);
    });
    if (!changed)
        return std::unexpected(changed.error());
    return found;
}

} // namespace mixi::indexer
