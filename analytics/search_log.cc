#include "analytics/search_log.h"

#include "analytics/trends.h"
#include "analytics/views.h"
#include "common/dates.h"
#include "common/utf8.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <bit>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/socket.h>

namespace mixi::analytics {

namespace fs = std::filesystem;

std::int64_t month_of(std::int64_t day) {
    using namespace std::chrono;
    const year_month_day ymd{sys_days{days{day}}};
    return (static_cast<int>(ymd.year()) - 1970) * 12 +
           static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
}

std::int64_t first_day_of_month(std::int64_t month) {
    using namespace std::chrono;
    const auto y = static_cast<int>(1970 + (month >= 0 ? month / 12 : (month - 11) / 12));
    const auto m = static_cast<unsigned>(month - (y - 1970) * 12 + 1);
    return sys_days{year{y} / std::chrono::month{m} / 1}.time_since_epoch().count();
}

namespace {
/// The start of the hour of a Unix time, which is all a log row keeps of it.
std::int64_t hour_of(std::int64_t t) {
    return t - ((t % 3600) + 3600) % 3600;
}
} // namespace

// ------------------------------------------------------------------------------- scrubbing

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_alnum(char c) {
    return is_digit(c) || is_letter(c);
}

bool is_ascii(char c) {
    return (static_cast<unsigned char>(c) & 0x80) == 0;
}

/// Control characters (C0, DEL, C1), line and paragraph separators and the Unicode spaces: a
/// space.
bool is_control_or_space(char32_t c) {
    return c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/// Invisible formatting characters (soft hyphen, zero-width characters, bidirectional controls,
/// the byte order mark, tags): nothing. NFKC case folding removes them too.
bool is_invisible_format(char32_t c) {
    return c == 0xAD || c == 0x61C || c == 0x180E || (c >= 0x200B && c <= 0x200F) ||
           (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF ||
           (c >= 0xFFF9 && c <= 0xFFFB) || c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F);
}

/// The text with control characters and Unicode spaces turned into single spaces, invisible
/// formatting characters removed and invalid UTF-8 replaced by U+FFFD.
std::string clean(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const std::size_t n = decode_utf8(text, i, cp);
        if (is_control_or_space(cp))
            out += ' ';
        else if (cp == 0xFFFD)
            out += "\xEF\xBF\xBD"; // also for an ill-formed byte
        else if (!is_invisible_format(cp))
            out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

/// A URL with a scheme anywhere in the word: "https://", "ftp://".
bool has_scheme_url(std::string_view word) {
    const auto p = word.find("://");
    return p != std::string_view::npos && p > 0 && is_letter(word[p - 1]) && p + 3 < word.size();
}

/// What an '@' in the word followed by a name makes it: "<email>" after a local part
/// (`taro@gmail`, `taro.yamada@example.co.jp`), "<handle>" otherwise (`@taro_yamada`); empty
/// when no '@' is followed by a name.
std::string_view at_kind(std::string_view word) {
    for (auto at = word.find('@'); at != std::string_view::npos; at = word.find('@', at + 1)) {
        if (at + 1 == word.size())
            break;
        const char next = word[at + 1];
        if (!is_alnum(next) && next != '_' && is_ascii(next))
            continue;
        const char prev = at > 0 ? word[at - 1] : ' ';
        const bool local = is_alnum(prev) || prev == '.' || prev == '_' || prev == '-' ||
                           prev == '+' || prev == '%';
        return local ? "<email>" : "<handle>";
    }
    return {};
}

/// A URL without a scheme: a dotted host name (ASCII letters, digits and hyphens) whose last
/// label, the top-level domain, is two or more letters, and that starts with "www." or is
/// followed by '/', '?', '#' or ":<port>". "www.example.com", "example.com/path" are URLs;
/// "example.com", "1.4", "e.g.", "node.js" are not.
bool has_bare_url(std::string_view word) {
    auto host_char = [](char c) { return is_alnum(c) || c == '-' || c == '.'; };
    std::size_t i = 0;
    while (i < word.size()) {
        if (!host_char(word[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < word.size() && host_char(word[end]))
            ++end;
        std::string_view host = word.substr(i, end - i);
        const std::size_t after = end;
        i = end;
        while (!host.empty() && (host.front() == '.' || host.front() == '-'))
            host.remove_prefix(1);
        bool trailing_dot = false;
        while (!host.empty() && host.back() == '.') {
            host.remove_suffix(1);
            trailing_dot = true;
        }
        const auto dot = host.rfind('.');
        if (dot == std::string_view::npos || dot == 0 || host.find("..") != std::string_view::npos)
            continue;
        const std::string_view tld = host.substr(dot + 1);
        if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), is_letter))
            continue;
        if (host.starts_with("www."))
            return true;
        if (trailing_dot || after == word.size())
            continue;
        const char next = word[after];
        if (next == '/' || next == '?' || next == '#' ||
            (next == ':' && after + 1 < word.size() && is_digit(word[after + 1])))
            return true;
    }
    return false;
}

/// Replaces e-mail addresses, @handles and URLs, word by word (words separated by single spaces
/// after clean()).
std::string scrub_words(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ') {
            out += ' ';
            ++i;
            continue;
        }
        std::size_t end = text.find(' ', i);
        if (end == std::string_view::npos)
            end = text.size();
        const std::string_view word = text.substr(i, end - i);
        if (has_scheme_url(word))
            out += "<url>";
        else if (const auto kind = at_kind(word); !kind.empty())
            out += kind;
        else if (has_bare_url(word))
            out += "<url>";
        else
            out += word;
        i = end;
    }
    return out;
}

/// The length in bytes of a phone-number separator at s[j], 0 if there is none: a space, '.',
/// '(', ')', '-', '~', and what Japanese input methods put between digits: the prolonged sound
/// mark ー, the Unicode hyphens and dashes ‐ ‑ ‒ – — ―, the minus sign −, the wave dash 〜 and
/// the box-drawing line ─. (NFKC folds － and ～ to '-' and '~'.)
std::size_t separator_len(std::string_view s, std::size_t j) {
    const char c = s[j];
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '~')
        return 1;
    if (is_ascii(c))
        return 0;
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, j, cp);
    const bool dash = (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x30FC ||
                      cp == 0x301C || cp == 0x2500;
    return dash ? len : 0;
}

/// Replaces runs of digits that may identify someone: min_number_digits or more digits in a row
/// (<number>), or min_phone_digits or more digits with phone-number separators between them
/// (<phone>).
std::string scrub_digits(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const bool starts = is_digit(text[i]) || ((text[i] == '+' || text[i] == '(') &&
                                                  i + 1 < text.size() && is_digit(text[i + 1]));
        if (!starts) {
            out += text[i++];
            continue;
        }
        // The longest run of digits and separators that ends with a digit.
        std::size_t last_digit = i, digits = 0, longest = 0, current = 0;
        bool separated = text[i] == '+' || text[i] == '(';
        for (std::size_t j = i; j < text.size();) {
            const char c = text[j];
            if (is_digit(c)) {
                ++digits;
                longest = std::max(longest, ++current);
                last_digit = j++;
            } else if (const std::size_t sep = separator_len(text, j); sep > 0) {
                current = 0;
                if (j > i)
                    separated = true;
                j += sep;
            } else if (c == '+' && j == i) {
                current = 0;
                ++j;
            } else {
                break;
            }
        }
        const std::size_t run_end = last_digit + 1;
        if (separated && digits >= min_phone_digits) {
            out += "<phone>";
        } else if (longest >= min_number_digits) {
            // Only the long digit groups go; short ones ("iphone 15") stay.
            std::size_t k = i;
            while (k < run_end) {
                if (!is_digit(text[k])) {
                    out += text[k++];
                    continue;
                }
                std::size_t g = k;
                while (g < run_end && is_digit(text[g]))
                    ++g;
                out += g - k >= min_number_digits ? std::string("<number>")
                                                  : std::string(text.substr(k, g - k));
                k = g;
            }
        } else {
            out.append(text.substr(i, run_end - i));
        }
        i = run_end;
    }
    return out;
}

} // namespace

std::vector<std::string> scrubbed_kinds() {
    return {"e-mail addresses",
            "@handles",
            "phone numbers",
            "runs of " + std::to_string(min_number_digits) + " or more digits",
            "URLs",
            "control and invisible formatting characters"};
}

std::string scrub_query(std::string_view folded, std::size_t max_chars) {
    std::string s = scrub_digits(scrub_words(clean(folded)));
    // Collapse and trim spaces.
    std::string out;
    for (char c : s) {
        if (c == ' ' && (out.empty() || out.back() == ' '))
            continue;
        out += c;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    // At most max_chars code points, never cutting a UTF-8 sequence.
    std::size_t chars = 0, i = 0;
    for (; i < out.size(); ++i) {
        if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80 && chars++ == max_chars)
            break;
    }
    out.resize(i);
    // A cut just after a space leaves it at the end.
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

bool asks_not_to_track(std::string_view sec_gpc, std::string_view dnt) {
    return sec_gpc == "1" || dnt == "1";
}

// ------------------------------------------------------------------------ distinct counting

namespace {
constexpr std::size_t exact_limit = 1024;
constexpr int hll_bits = 12;
constexpr std::size_t hll_registers = std::size_t{1} << hll_bits;

void hll_add(std::vector<std::uint8_t>& registers, std::uint64_t key) {
    const std::size_t index = key >> (64 - hll_bits);
    const std::uint64_t rest = (key << hll_bits) | (std::uint64_t{1} << (hll_bits - 1));
    const auto rank = static_cast<std::uint8_t>(std::countl_zero(rest) + 1);
    registers[index] = std::max(registers[index], rank);
}
} // namespace

void DistinctCounter::add(std::uint64_t key) {
    if (registers_.empty()) {
        exact_.insert(key);
        if (exact_.size() <= exact_limit)
            return;
        registers_.assign(hll_registers, 0);
        for (std::uint64_t k : exact_)
            hll_add(registers_, k);
        exact_.clear();
        return;
    }
    hll_add(registers_, key);
}

std::uint64_t DistinctCounter::estimate() const {
    if (registers_.empty())
        return exact_.size();
    const double m = static_cast<double>(hll_registers);
    double sum = 0;
    std::size_t zeros = 0;
    for (std::uint8_t r : registers_) {
        sum += std::ldexp(1.0, -r);
        zeros += r == 0;
    }
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros > 0)
        e = m * std::log(m / static_cast<double>(zeros)); // linear counting for small sets
    return static_cast<std::uint64_t>(std::llround(e));
}

std::string searcher_network(std::string_view address) {
    std::string text(address.substr(0, address.find('%'))); // no IPv6 zone
    unsigned char bytes[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        bytes[3] = 0;
        inet_ntop(AF_INET, bytes, out, sizeof out);
        return std::string(out) + "/24";
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes) != 1)
        return {};
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(bytes, mapped, sizeof mapped) == 0) {
        bytes[15] = 0;
        inet_ntop(AF_INET, bytes + 12, out, sizeof out);
        return std::string(out) + "/24";
    }
    std::memset(bytes + 6, 0, 10);
    inet_ntop(AF_INET6, bytes, out, sizeof out);
    return std::string(out) + "/48";
}

SearcherKeys::SearcherKeys(RandomFill random)
    : random_(random ? std::move(random) : RandomFill([](unsigned char* out, std::size_t n) {
          return RAND_bytes(out, static_cast<int>(n)) == 1;
      })),
      hmac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)) {}

SearcherKeys::~SearcherKeys() {
    EVP_MAC_CTX_free(keyed_);
    for (auto& [day, ctx] : secrets_)
        EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac_);
}

EVP_MAC_CTX* SearcherKeys::keyed_with(const unsigned char* salt, std::size_t size) {
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    EVP_MAC_CTX* ctx = hmac_ ? EVP_MAC_CTX_new(hmac_) : nullptr;
    if (ctx && EVP_MAC_init(ctx, salt, size, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = nullptr;
    }
    return ctx;
}

void SearcherKeys::share_secrets() {
    std::lock_guard lock(mutex_);
    shared_ = true;
    EVP_MAC_CTX_free(keyed_);
    keyed_ = nullptr;
}

void SearcherKeys::set_secret(std::int64_t day, std::string_view secret) {
    if (secret.size() < 16)
        return;
    EVP_MAC_CTX* ctx =
        keyed_with(reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    if (!ctx)
        return;
    std::lock_guard lock(mutex_);
    auto& slot = secrets_[day];
    EVP_MAC_CTX_free(slot);
    slot = ctx;
    // The secrets of days before the current one go, the current one being the day of the
    // latest key or the day before the latest secret (a server sets today's and tomorrow's),
    // so that a day without searches does not keep yesterday's secret.
    std::erase_if(secrets_, [&](auto& entry) {
        if (entry.first >= std::max(day_, day - 1))
            return false;
        EVP_MAC_CTX_free(entry.second);
        return true;
    });
}

bool SearcherKeys::has_secret(std::int64_t day) {
    std::lock_guard lock(mutex_);
    return secrets_.contains(day);
}

std::optional<SearcherKey> SearcherKeys::key(std::int64_t day, std::string_view address) {
    const std::string network = searcher_network(address);
    // OpenSSL's one-shot HMAC() looks the algorithms up and hashes the key on every call
    // (about 20 us); a context keyed once a day and copied per call costs a few.
    EVP_MAC_CTX* mac = nullptr;
    {
        std::lock_guard lock(mutex_);
        // The salt's day never goes backwards: a clock that stepped back gets today's salt.
        day = std::max(day, day_);
        if (shared_) {
            day_ = day;
            // The day's shared secret, or no key (fail closed) until this process has it.
            std::erase_if(secrets_, [&](auto& entry) {
                if (entry.first >= day_)
                    return false;
                EVP_MAC_CTX_free(entry.second);
                return true;
            });
            auto found = secrets_.find(day);
            if (found == secrets_.end())
                return std::nullopt;
            mac = EVP_MAC_CTX_dup(found->second);
        } else if (day != day_ || !keyed_) {
            // Whatever happens below, the old salt is gone and its day is over.
            EVP_MAC_CTX_free(keyed_);
            keyed_ = nullptr;
            day_ = day;
            std::array<unsigned char, 32> salt{};
            if (!random_(salt.data(), salt.size())) {
                // No random salt, no key: a weak one would let keys be recomputed.
                OPENSSL_cleanse(salt.data(), salt.size());
                return std::nullopt;
            }
            keyed_ = keyed_with(salt.data(), salt.size());
            OPENSSL_cleanse(salt.data(), salt.size()); // the keyed context holds it now
        }
        if (keyed_ && !shared_)
            mac = EVP_MAC_CTX_dup(keyed_);
    }
    if (!mac) // OpenSSL without HMAC-SHA256: no key, the search counts no searcher
        return std::nullopt;
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    const bool ok = EVP_MAC_update(mac, reinterpret_cast<const unsigned char*>(network.data()),
                                   network.size()) == 1 &&
                    EVP_MAC_final(mac, out, &length, sizeof out) == 1;
    EVP_MAC_CTX_free(mac);
    if (!ok || length < sizeof(std::uint64_t))
        return std::nullopt;
    SearcherKey key{day, 0};
    std::memcpy(&key.key, out, sizeof key.key);
    return key;
}

// --------------------------------------------------------------------------- the buffer

SearchLogBuffer::SearchLogBuffer(QueryFold fold) : fold_(std::move(fold)) {}

void SearchLogBuffer::record_search(RawSearch search) {
    SearchEvent e;
    e.time = search.time;
    // Nothing is stored as it was typed: the query folded, then personal data scrubbed.
    e.query = scrub_query(fold_(search.query));
    if (e.query.empty())
        return;
    e.lang = std::move(search.lang);
    e.country = std::move(search.country);
    e.results = search.results;
    e.searcher = search.searcher;
    // Sec-GPC / DNT: counted in the daily volume only, with no row, no account link and none
    // of its words in any aggregate.
    if (search.do_not_track) {
        std::lock_guard lock(mutex_);
        auto& [searches, zero] = volume_only_[{day_of(e.time), e.lang, e.country}];
        ++searches;
        zero += e.results == 0;
        return;
    }
    e.account = std::move(search.account);
    add(std::move(e));
}

void SearchLogBuffer::add(SearchEvent event) {
    const std::int64_t day = day_of(event.time);
    std::lock_guard lock(mutex_);
    Counting& c = cells_[{day, event.query, event.lang, event.country}];
    ++c.searches;
    c.zero += event.results == 0;
    // Without a key (no random salt could be drawn) the search counts no searcher: fail closed.
    if (event.searcher) {
        c.distinct.add(*event.searcher);
        c.keys.push_back(*event.searcher);
        c.bounded += bounded_contribution(day, *event.searcher, event.query);
    }
    c.dirty = true;
    if (event.raw_row)
        rows_.push_back(std::move(event));
}

void SearchLogBuffer::Batch::unlink_accounts() {
    for (SearchEvent& e : rows_)
        e.account.clear();
}

int SearchLogBuffer::bounded_contribution(std::int64_t day, std::uint64_t searcher,
                                          std::string_view query) {
    if (day > bound_day_) { // a new day, a new salt: nobody has contributed yet
        contributions_.clear();
        bound_day_ = day;
    }
    if (day < bound_day_)
        return 0; // late for yesterday, whose contributions are forgotten: count nothing
    auto& queries = contributions_[searcher];
    const std::size_t hash = std::hash<std::string_view>{}(query);
    if (queries.size() >= max_terms_per_searcher_day ||
        std::find(queries.begin(), queries.end(), hash) != queries.end())
        return 0;
    queries.push_back(hash);
    return 1;
}

SearchLogBuffer::Batch SearchLogBuffer::take() {
    Batch batch;
    std::lock_guard lock(mutex_);
    batch.rows_.swap(rows_);
    batch.volume_only.swap(volume_only_);
    std::int64_t newest = 0;
    for (auto& [key, c] : cells_) {
        newest = std::max(newest, std::get<0>(key));
        if (!c.dirty)
            continue;
        std::sort(c.keys.begin(), c.keys.end());
        c.keys.erase(std::unique(c.keys.begin(), c.keys.end()), c.keys.end());
        batch.cells[key] = {c.searches, c.zero, c.distinct.estimate(), c.bounded, {}};
        batch.cells[key].keys.swap(c.keys);
        c.searches = c.zero = c.bounded = 0;
        c.dirty = false;
    }
    // Distinct counters of older days can no longer grow: drop them.
    std::erase_if(cells_, [&](const auto& cell) { return std::get<0>(cell.first) < newest - 1; });
    return batch;
}

// ------------------------------------------------------------------------------ the store

Expected<SearchLog> SearchLog::open(const StoreLocation& where) {
    auto db = Database::connect(where);
    if (!db)
        return std::unexpected(db.error());
    return SearchLog(std::move(*db));
}

Expected<void> SearchLog::add(const SearchLogBuffer::Batch& batch) {
    if (batch.rows().empty() && batch.cells.empty() && batch.volume_only.empty())
        return {};
    auto tx = Transaction::begin(db_);
    if (!tx)
        return std::unexpected(tx.error());
    if (!batch.cells.empty()) {
        // A cell of a day already folded (another server's last flush, searches held while the
        // store was down): the next fold is due from that day, so that it merges what the cell
        // adds (once: fold merges only what is not merged yet) and sweeps its text if it stays
        // below the thresholds. Writers take turns (the transaction's lock), so a fold either
        // sees this cell or sees merged_before lowered.
        std::int64_t oldest = std::get<0>(batch.cells.begin()->first);
        for (const auto& [key, c] : batch.cells)
            oldest = std::min(oldest, std::get<0>(key));
        auto reopen = db_.prepare("UPDATE search_log_state SET value = ?1"
                                  " WHERE name = 'merged_before' AND value > ?1");
        if (!reopen)
            return std::unexpected(reopen.error());
        reopen->bind(1, oldest);
        if (auto ok = reopen->run(); !ok)
            return ok;
    }
    if (db_.postgres()) {
        if (auto ok = add_batched(batch); !ok)
            return ok;
        return tx->commit();
    }
    auto row = db_.prepare("INSERT INTO searches (hour, query, lang, country, results, account)"
                           " VALUES (?,?,?,?,?,?)");
    auto cell = db_.prepare(
        "INSERT INTO daily_terms (day, query, lang, country, searches, zero_results, searchers,"
        " bounded) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (day, query, lang, country) DO UPDATE SET"
        " searches = daily_terms.searches + excluded.searches,"
        " zero_results = daily_terms.zero_results + excluded.zero_results,"
        // The estimate of this run's counter; after a restart it starts again, so keep the
        // larger of the two (an undercount, never an overcount).
        " searchers = CASE WHEN excluded.searchers > daily_terms.searchers"
        " THEN excluded.searchers ELSE daily_terms.searchers END,"
        " bounded = daily_terms.bounded + excluded.bounded");
    auto volume = db_.prepare(
        "INSERT INTO daily_volume (day, lang, country, searches, zero_results) VALUES (?,?,?,?,?)"
        " ON CONFLICT (day, lang, country) DO UPDATE SET"
        " searches = daily_volume.searches + excluded.searches,"
        " zero_results = daily_volume.zero_results + excluded.zero_results");
    if (!row)
        return std::unexpected(row.error());
    if (!cell)
        return std::unexpected(cell.error());
    if (!volume)
        return std::unexpected(volume.error());
    for (const SearchEvent& e : batch.rows()) {
        const std::int64_t hour = hour_of(e.time);
        row->bind(1, hour).bind(2, e.query).bind(3, e.lang).bind(4, e.country);
        row->bind(5, static_cast<std::int64_t>(e.results));
        if (!e.account.empty())
            row->bind(6, e.account);
        if (auto ok = row->run(); !ok)
            return std::unexpected(ok.error());
    }
    for (const auto& [key, c] : batch.cells) {
        const auto& [day, query, lang, country] = key;
        cell->bind(1, day).bind(2, query).bind(3, lang).bind(4, country).bind(5, c.searches);
        cell->bind(6, c.zero).bind(7, static_cast<std::int64_t>(c.distinct)).bind(8, c.bounded);
        if (auto ok = cell->run(); !ok)
            return std::unexpected(ok.error());
        volume->bind(1, day).bind(2, lang).bind(3, country).bind(4, c.searches).bind(5, c.zero);
        if (auto ok = volume->run(); !ok)
            return std::unexpected(ok.error());
    }
    // Sec-GPC / DNT searches: the volume, and nothing else.
    for (const auto& [key, counts] : batch.volume_only) {
        const auto& [day, lang, country] = key;
        volume->bind(1, day).bind(2, lang).bind(3, country).bind(4, counts.first);
        volume->bind(5, counts.second);
        if (auto ok = volume->run(); !ok)
            return std::unexpected(ok.error());
    }
    // Monthly aggregates are made when a day closes (fold), of the cells that keep their text.
    return tx->commit();
}

namespace {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    auto value = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(value(hex[i]) << 4 | value(hex[i + 1]));
    return out;
}

} // namespace

Expected<std::string> SearchLog::shared_secret(std::int64_t day) {
    if (!db_.postgres())
        return fail(ErrorCode::invalid_argument, "only a shared store has shared secrets");
    std::array<unsigned char, 32> secret{};
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1)
        return fail(ErrorCode::io_error, "no random bytes for a searcher secret");
    std::string hex = to_hex(secret.data(), secret.size());
    OPENSSL_cleanse(secret.data(), secret.size());
    // The first server to ask makes it; the others read that one. Never for a day already
    // closed (a fold forgot the secrets before secrets_from): a server whose clock is behind
    // gets none, so its searches of that day count no searcher, and no secret outlives its
    // day. Checked in the statement: a fold that forgets the secrets holds the table's lock
    // until it has recorded secrets_from.
    static constexpr std::string_view open_day =
        " NOT EXISTS (SELECT 1 FROM search_log_state WHERE name = 'secrets_from' AND value > ?1)";
    auto make = db_.prepare("INSERT INTO searcher_secrets (day, secret)"
                            " SELECT ?1, decode(?2, 'hex') WHERE" +
                            std::string(open_day) + " ON CONFLICT (day) DO NOTHING");
    auto read = db_.prepare("SELECT encode(secret, 'hex') FROM searcher_secrets WHERE day = ?1"
                            " AND" +
                            std::string(open_day));
    if (!make)
        return std::unexpected(make.error());
    if (!read)
        return std::unexpected(read.error());
    make->bind(1, day).bind(2, hex);
    OPENSSL_cleanse(hex.data(), hex.size());
    if (auto ok = make->run(); !ok)
        return std::unexpected(ok.error());
    read->bind(1, day);
    auto row = read->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return fail(ErrorCode::not_found,
                    "the day " + std::to_string(day) + " is closed: it has no searcher secret");
    std::string out = from_hex(read->text(0));
    read->reset();
    return out;
}

Expected<void> SearchLog::forget_closed_days(std::int64_t today) {
    // Run by every fold, due or not: cheap (one read) when there is nothing to forget.
    auto due = db_.prepare(
        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM search_log_state WHERE name ="
        " 'secrets_from' AND value >= ?1) OR EXISTS (SELECT 1 FROM searcher_secrets WHERE"
        " day < ?1) OR EXISTS (SELECT 1 FROM searcher_keys WHERE day < ?1 - 1) THEN 1 ELSE 0 END");
    if (!due)
        return std::unexpected(due.error());
    due->bind(1, today);
    auto any = due->step();
    if (!any)
        return std::unexpected(any.error());
    const bool forget = *any && due->int64(0) != 0;
    due->reset();
    if (!forget)
        return {};
    auto tx = Transaction::begin(db_);
    if (!tx)
        return std::unexpected(tx.error());
    // From now on no secret is made for a day before today (shared_secret checks this).
    auto closed_before =
        db_.prepare("INSERT INTO search_log_state (name, value) VALUES ('secrets_from', ?1)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                    " WHERE search_log_state.value < excluded.value");
    if (!closed_before)
        return std::unexpected(closed_before.error());
    closed_before->bind(1, today);
    if (auto ok = closed_before->run(); !ok)
        return ok;
    // The keys of yesterday may still be counted (a flush of its last searches); older ones
    // cannot, and without their day's secret they name no network.
    auto keys = db_.prepare("DELETE FROM searcher_keys WHERE day < ?1");
    if (!keys)
        return std::unexpected(keys.error());
    keys->bind(1, today - 1);
    if (auto ok = keys->run(); !ok)
        return ok;
    auto old = db_.prepare("SELECT count(*) FROM searcher_secrets WHERE day < ?1");
    if (!old)
        return std::unexpected(old.error());
    old->bind(1, today);
    auto row = old->step();
    if (!row)
        return std::unexpected(row.error());
    const std::int64_t closed = *row ? old->int64(0) : 0;
    old->reset();
    if (closed > 0) {
        // A deleted row stays in the table's file until its space is reused; TRUNCATE gives
        // the table a new file and removes the old one, so the past days' secrets are gone
        // from the database's files. The days kept are written again.
        std::vector<std::pair<std::int64_t, std::string>> kept;
        auto keep =
            db_.prepare("SELECT day, encode(secret, 'hex') FROM searcher_secrets WHERE day >= ?1");
        if (!keep)
            return std::unexpected(keep.error());
        keep->bind(1, today);
        if (auto ok = keep->each([&] { kept.emplace_back(keep->int64(0), keep->text(1)); }); !ok)
            return ok;
        if (auto ok = db_.exec("TRUNCATE searcher_secrets"); !ok)
            return ok;
        auto put = db_.prepare("INSERT INTO searcher_secrets (day, secret)"
                               " VALUES (?1, decode(?2, 'hex'))");
        if (!put)
            return std::unexpected(put.error());
        for (auto& [day, hex] : kept) {
            put->bind(1, day).bind(2, hex);
            OPENSSL_cleanse(hex.data(), hex.size());
            if (auto ok = put->run(); !ok)
                return ok;
        }
    }
    return tx->commit();
}

namespace {

/// A PostgreSQL array literal of text values ({"a","b\"c"}); nullopt elements are NULL.
class TextArray {
  public:
    void add(std::string_view v) {
        out_ += out_.size() > 1 ? ",\"" : "\"";
        for (char c : v) {
            if (c == '"' || c == '\\')
                out_ += '\\';
            out_ += c;
        }
        out_ += '"';
    }
    void add_null() { out_ += out_.size() > 1 ? ",NULL" : "NULL"; }
    std::string text() const { return out_ + "}"; }

  private:
    std::string out_ = "{";
};

class IntArray {
  public:
    void add(std::int64_t v) {
        if (out_.size() > 1)
            out_ += ',';
        out_ += std::to_string(v);
    }
    std::string text() const { return out_ + "}"; }

  private:
    std::string out_ = "{";
};

} // namespace

Expected<void> SearchLog::add_batched(const SearchLogBuffer::Batch& batch) {
    // One statement per table, whatever the batch's size: the rows, cells, volumes and keys go
    // as arrays (unnest), so that a flush costs a few round trips to the database, not one per
    // search.
    if (!batch.rows().empty()) {
        IntArray hours, results;
        TextArray queries, langs, countries, accounts;
        for (const SearchEvent& e : batch.rows()) {
            hours.add(hour_of(e.time));
            queries.add(e.query);
            langs.add(e.lang);
            countries.add(e.country);
            results.add(static_cast<std::int64_t>(e.results));
            if (e.account.empty())
                accounts.add_null();
            else
                accounts.add(e.account);
        }
        auto rows = db_.prepare(
            "INSERT INTO searches (hour, query, lang, country, results, account)"
            " SELECT * FROM unnest(CAST(?1 AS BIGINT[]), CAST(?2 AS TEXT[]), CAST(?3 AS TEXT[]),"
            " CAST(?4 AS TEXT[]), CAST(?5 AS BIGINT[]), CAST(?6 AS TEXT[]))");
        if (!rows)
            return std::unexpected(rows.error());
        rows->bind(1, hours.text()).bind(2, queries.text()).bind(3, langs.text());
        rows->bind(4, countries.text()).bind(5, results.text()).bind(6, accounts.text());
        if (auto ok = rows->run(); !ok)
            return ok;
    }
    // The daily volume of every search, Sec-GPC / DNT ones too: one row per (day, lang, country).
    std::map<std::tuple<std::int64_t, std::string, std::string>,
             std::pair<std::int64_t, std::int64_t>>
        volume = batch.volume_only;
    IntArray days, searches, zeros, bounded, key_days, keys;
    TextArray queries, langs, countries, key_queries, key_langs, key_countries;
    for (const auto& [key, c] : batch.cells) {
        const auto& [day, query, lang, country] = key;
        days.add(day);
        queries.add(query);
        langs.add(lang);
        countries.add(country);
        searches.add(c.searches);
        zeros.add(c.zero);
        bounded.add(c.bounded);
        auto& [n, z] = volume[{day, lang, country}];
        n += c.searches;
        z += c.zero;
        for (std::uint64_t k : c.keys) {
            key_days.add(day);
            key_queries.add(query);
            key_langs.add(lang);
            key_countries.add(country);
            keys.add(std::bit_cast<std::int64_t>(k));
        }
    }
    if (!batch.cells.empty()) {
        auto cells = db_.prepare(
            "INSERT INTO daily_terms (day, query, lang, country, searches, zero_results, searchers,"
            " bounded) SELECT d, q, l, c, s, z, 0, b FROM unnest(CAST(?1 AS BIGINT[]),"
            " CAST(?2 AS TEXT[]), CAST(?3 AS TEXT[]), CAST(?4 AS TEXT[]), CAST(?5 AS BIGINT[]),"
            " CAST(?6 AS BIGINT[]), CAST(?7 AS BIGINT[])) AS t (d, q, l, c, s, z, b)"
            " ON CONFLICT (day, query, lang, country) DO UPDATE SET"
            " searches = daily_terms.searches + excluded.searches,"
            " zero_results = daily_terms.zero_results + excluded.zero_results,"
            " bounded = daily_terms.bounded + excluded.bounded");
        if (!cells)
            return std::unexpected(cells.error());
        cells->bind(1, days.text()).bind(2, queries.text()).bind(3, langs.text());
        cells->bind(4, countries.text()).bind(5, searches.text()).bind(6, zeros.text());
        cells->bind(7, bounded.text());
        if (auto ok = cells->run(); !ok)
            return ok;
    }
    if (!volume.empty()) {
        IntArray v_days, v_searches, v_zeros;
        TextArray v_langs, v_countries;
        for (const auto& [key, counts] : volume) {
            v_days.add(std::get<0>(key));
            v_langs.add(std::get<1>(key));
            v_countries.add(std::get<2>(key));
            v_searches.add(counts.first);
            v_zeros.add(counts.second);
        }
        auto volumes = db_.prepare(
            "INSERT INTO daily_volume (day, lang, country, searches, zero_results)"
            " SELECT * FROM unnest(CAST(?1 AS BIGINT[]), CAST(?2 AS TEXT[]), CAST(?3 AS TEXT[]),"
            " CAST(?4 AS BIGINT[]), CAST(?5 AS BIGINT[]))"
            " ON CONFLICT (day, lang, country) DO UPDATE SET"
            " searches = daily_volume.searches + excluded.searches,"
            " zero_results = daily_volume.zero_results + excluded.zero_results");
        if (!volumes)
            return std::unexpected(volumes.error());
        volumes->bind(1, v_days.text()).bind(2, v_langs.text()).bind(3, v_countries.text());
        volumes->bind(4, v_searches.text()).bind(5, v_zeros.text());
        if (auto ok = volumes->run(); !ok)
            return ok;
    }
    if (keys.text().size() <= 2)
        return {};
    // Every server keys a network the same way (the day's shared secret), so the keys of all
    // servers together are the day's distinct searchers: one network through two servers is one
    // key. A cell's count is the number of its keys, never lowered: after a crash of the
    // database emptied the keys (an UNLOGGED table), counting starts again below the stored
    // count, an undercount, never an overcount.
    auto insert = db_.prepare(
        "INSERT INTO searcher_keys (day, query, lang, country, searcher)"
        " SELECT * FROM unnest(CAST(?1 AS BIGINT[]), CAST(?2 AS TEXT[]), CAST(?3 AS TEXT[]),"
        " CAST(?4 AS TEXT[]), CAST(?5 AS BIGINT[])) ON CONFLICT DO NOTHING");
    auto count = db_.prepare(
        "UPDATE daily_terms d SET searchers = GREATEST(d.searchers, k.n) FROM"
        " (SELECT day, query, lang, country, count(*) AS n FROM searcher_keys"
        " WHERE (day, query, lang, country) IN (SELECT * FROM unnest(CAST(?1 AS BIGINT[]),"
        " CAST(?2 AS TEXT[]), CAST(?3 AS TEXT[]), CAST(?4 AS TEXT[])))"
        " GROUP BY day, query, lang, country) AS k"
        " WHERE d.day = k.day AND d.query = k.query AND d.lang = k.lang AND d.country = k.country");
    if (!insert)
        return std::unexpected(insert.error());
    if (!count)
        return std::unexpected(count.error());
    insert->bind(1, key_days.text()).bind(2, key_queries.text()).bind(3, key_langs.text());
    insert->bind(4, key_countries.text()).bind(5, keys.text());
    if (auto ok = insert->run(); !ok)
        return ok;
    count->bind(1, days.text()).bind(2, queries.text()).bind(3, langs.text());
    count->bind(4, countries.text());
    return count->run();
}

namespace {

Expected<std::optional<std::int64_t>> read_state(Database& db, std::string_view name) {
    auto q = db.prepare("SELECT value FROM search_log_state WHERE name = ?");
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, name);
    auto row = q->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{q->int64(0)};
}

Expected<void> write_state(Database& db, std::string_view name, std::int64_t value) {
    auto q = db.prepare("INSERT INTO search_log_state (name, value) VALUES (?, ?)"
                        " ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, name).bind(2, value);
    return q->run();
}

/// The first day whose cells below the thresholds are still kept for public trends: the open
/// period, the latest complete one until it is released, and the one before it (its release's
/// "period before"); never a day past retention_days. Without trends: `today` (none kept).
Expected<std::int64_t> trend_keep_from(Database& db, std::int64_t now,
                                       const RetentionOptions& options) {
    const std::int64_t today = day_of(now);
    if (options.trend_days <= 0)
        return today;
    const TrendRequest latest = latest_period(now, options.trend_days);
    auto released = has_release(db, latest, DpOptions{options.trend_epsilon, options.trend_delta});
    if (!released)
        return std::unexpected(released.error());
    std::int64_t from = *released ? latest.from_day : latest.from_day - options.trend_days;
    // A raw row of `now - retention_days` is the oldest text kept; so is a cell's.
    from = std::max(from, day_of(now - std::int64_t{options.retention_days} * 86400));
    return std::min(from, today);
}

} // namespace

Expected<FoldReport> SearchLog::fold(std::int64_t now, const RetentionOptions& options) {
    FoldReport report;
    const std::int64_t today = day_of(now);
    auto merged_before = read_state(db_, "merged_before");
    auto folded_on = read_state(db_, "folded_on");
    auto kept_from = read_state(db_, "kept_from");
    if (!merged_before)
        return std::unexpected(merged_before.error());
    if (!folded_on)
        return std::unexpected(folded_on.error());
    if (!kept_from)
        return std::unexpected(kept_from.error());
    auto keep_from = trend_keep_from(db_, now, options);
    if (!keep_from)
        return std::unexpected(keep_from.error());
    // Whatever else is due: a secret made for a closed day (by a server whose clock is behind,
    // before secrets_from was recorded) goes now, not at the next day's fold.
    if (db_.postgres())
        if (auto ok = forget_closed_days(today); !ok)
            return std::unexpected(ok.error());
    if (*merged_before && **merged_before >= today && *folded_on && **folded_on >= today &&
        *kept_from && **kept_from == *keep_from)
        return report; // nothing closed and nothing released since the last fold
    report.due = true;
    const auto k = static_cast<std::int64_t>(options.k);
    const auto k_distinct = static_cast<std::int64_t>(options.k_distinct);

    // 1. The closed days' cells above the thresholds go into the monthly aggregates, once.
    if (!*merged_before || **merged_before < today) {
        auto tx = Transaction::begin(db_);
        if (!tx)
            return std::unexpected(tx.error());
        // Read again under the write lock: another process (mixi-search purge) may have merged
        // these days since.
        merged_before = read_state(db_, "merged_before");
        if (!merged_before)
            return std::unexpected(merged_before.error());
        std::int64_t from = 0;
        if (*merged_before) {
            from = **merged_before;
        } else {
            // First fold of this store: monthly rows written before folding existed also
            // counted text below the thresholds; make them again from the days.
            if (auto ok = db_.exec("DELETE FROM monthly_terms; UPDATE daily_terms SET"
                                   " merged_searches = 0, merged_zero = 0");
                !ok)
                return std::unexpected(ok.error());
            auto oldest = db_.scalar("SELECT coalesce(min(day), " + std::to_string(today) +
                                     ") FROM daily_terms");
            if (!oldest)
                return std::unexpected(oldest.error());
            from = *oldest;
        }
        // Only what is not merged yet: a day is merged again after a late write to it, and
        // its cells merged before then add only what that write added.
        auto merge = db_.prepare(
            "INSERT INTO monthly_terms (month, query, lang, country, searches, zero_results,"
            " searchers) SELECT ?1, query, lang, country, searches - merged_searches,"
            " zero_results - merged_zero, searchers FROM daily_terms WHERE day = ?2"
            " AND searchers >= ?3 AND searches >= ?4 AND searches > merged_searches"
            " ON CONFLICT (month, query, lang, country) DO UPDATE SET"
            " searches = monthly_terms.searches + excluded.searches,"
            " zero_results = monthly_terms.zero_results + excluded.zero_results,"
            " searchers = CASE WHEN excluded.searchers > monthly_terms.searchers"
            " THEN excluded.searchers ELSE monthly_terms.searchers END");
        auto mark = db_.prepare(
            "UPDATE daily_terms SET merged_searches = searches, merged_zero = zero_results"
            " WHERE day = ?1 AND searchers >= ?2 AND searches >= ?3 AND searches > "
            "merged_searches");
        if (!merge)
            return std::unexpected(merge.error());
        if (!mark)
            return std::unexpected(mark.error());
        for (std::int64_t day = from; day < today; ++day) {
            merge->bind(1, month_of(day)).bind(2, day).bind(3, k_distinct).bind(4, k);
            if (auto ok = merge->run(); !ok)
                return std::unexpected(ok.error());
            auto n = db_.changes();
            if (!n)
                return std::unexpected(n.error());
            report.merged += *n;
            if (*n == 0)
                continue;
            mark->bind(1, day).bind(2, k_distinct).bind(3, k);
            if (auto ok = mark->run(); !ok)
                return std::unexpected(ok.error());
        }
        if (auto ok = write_state(db_, "merged_before", std::max(today, from)); !ok)
            return std::unexpected(ok.error());
        if (auto ok = tx->commit(); !ok)
            return std::unexpected(ok.error());
    }

    // 2. The closed days' cells below the thresholds lose their text (the daily volume has
    // counted them since they were stored), except those public trends still need. Small
    // batches, each its own transaction.
    auto sweep = db_.prepare(
        "DELETE FROM daily_terms WHERE (day, query, lang, country) IN"
        " (SELECT day, query, lang, country FROM daily_terms WHERE day < ?1"
        " AND (searchers < ?2 OR searches < ?3) AND (day < ?4 OR bounded = 0) LIMIT ?5)");
    if (!sweep)
        return std::unexpected(sweep.error());
    for (;;) {
        sweep->bind(1, today).bind(2, k_distinct).bind(3, k).bind(4, *keep_from);
        sweep->bind(5, std::int64_t{options.batch_rows});
        if (auto ok = sweep->run(); !ok)
            return std::unexpected(ok.error());
        auto n = db_.changes();
        if (!n)
            return std::unexpected(n.error());
        report.folded += *n;
        if (*n < options.batch_rows)
            break;
    }
    // Recorded last: a fold cut short is due again.
    if (auto ok = write_state(db_, "kept_from", *keep_from); !ok)
        return std::unexpected(ok.error());
    if (auto ok = write_state(db_, "folded_on", today); !ok)
        return std::unexpected(ok.error());
    return report;
}

Expected<PurgeReport> SearchLog::purge(std::int64_t now, const RetentionOptions& options) {
    PurgeReport report;
    auto folded = fold(now, options);
    if (!folded)
        return std::unexpected(folded.error());
    report.folded = folded->folded;
    const std::int64_t row_cutoff = now - std::int64_t{options.retention_days} * 86400;
    // An aggregate's day is kept whole while any of it is within the period.
    const std::int64_t day_cutoff =
        (now - std::int64_t{options.aggregate_retention_days} * 86400) / 86400;
    auto rows = db_.prepare("DELETE FROM searches WHERE id IN (SELECT id FROM searches"
                            " WHERE hour < ? ORDER BY hour LIMIT ?)");
    if (!rows)
        return std::unexpected(rows.error());
    auto cells = db_.prepare("DELETE FROM daily_terms WHERE (day, query, lang, country) IN"
                             " (SELECT day, query, lang, country FROM daily_terms WHERE day < ?"
                             " LIMIT ?)");
    if (!cells)
        return std::unexpected(cells.error());
    // Small batches, each its own transaction: a searcher's write waits at most one batch.
    for (;;) {
        rows->bind(1, row_cutoff).bind(2, std::int64_t{options.batch_rows});
        if (auto ok = rows->run(); !ok)
            return std::unexpected(ok.error());
        auto n = db_.changes();
        if (!n)
            return std::unexpected(n.error());
        report.rows += *n;
        if (*n < options.batch_rows)
            break;
    }
    if (auto ok = db_.exec("DELETE FROM daily_volume WHERE day < " + std::to_string(day_cutoff));
        !ok)
        return std::unexpected(ok.error());
    // A month goes as soon as any of its days has expired (reports read the rest by day).
    std::int64_t cutoff_month = month_of(day_cutoff);
    if (first_day_of_month(cutoff_month) < day_cutoff)
        ++cutoff_month;
    if (auto ok =
            db_.exec("DELETE FROM monthly_terms WHERE month < " + std::to_string(cutoff_month));
        !ok)
        return std::unexpected(ok.error());
    for (;;) {
        cells->bind(1, day_cutoff).bind(2, std::int64_t{options.batch_rows});
        if (auto ok = cells->run(); !ok)
            return std::unexpected(ok.error());
        auto n = db_.changes();
        if (!n)
            return std::unexpected(n.error());
        report.aggregates += *n;
        if (*n < options.batch_rows)
            break;
    }
    return report;
}

Expected<std::vector<LoggedSearch>> SearchLog::account_history(std::string_view account) {
    auto q = db_.prepare("SELECT id, hour, query, lang, country, results FROM searches"
                         " WHERE account = ? ORDER BY hour, id");
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, account);
    std::vector<LoggedSearch> out;
    if (auto ok = q->each([&] {
            out.push_back(
                {q->int64(0), q->int64(1), q->text(2), q->text(3), q->text(4), q->int64(5)});
        });
        !ok)
        return std::unexpected(ok.error());
    return out;
}

namespace {

/// Rows the last delete removed, once they are gone from the file and its -wal too (SQLite), or
/// their space reclaimed (PostgreSQL).
Expected<std::int64_t> erased(Database& db) {
    auto n = db.changes();
    if (!n)
        return n;
    if (auto ok = db.erase_deleted("searches"); !ok)
        return std::unexpected(ok.error());
    return n;
}

} // namespace

Expected<std::int64_t> SearchLog::delete_account(std::string_view account,
                                                 std::optional<std::int64_t> from,
                                                 std::optional<std::int64_t> to) {
    auto del = db_.prepare("DELETE FROM searches WHERE account = ? AND hour >= ? AND hour < ?");
    if (!del)
        return std::unexpected(del.error());
    // A range selects the hours it overlaps: rows keep only the hour.
    const std::int64_t lo = from ? hour_of(*from) : INT64_MIN;
    del->bind(1, account).bind(2, lo).bind(3, to.value_or(INT64_MAX));
    if (auto ok = del->run(); !ok)
        return std::unexpected(ok.error());
    return erased(db_);
}

Expected<std::int64_t> SearchLog::delete_entry(std::string_view account, std::int64_t id) {
    auto del = db_.prepare("DELETE FROM searches WHERE account = ? AND id = ?");
    if (!del)
        return std::unexpected(del.error());
    del->bind(1, account).bind(2, id);
    if (auto ok = del->run(); !ok)
        return std::unexpected(ok.error());
    return erased(db_);
}

std::string export_json(std::string_view account, const std::vector<LoggedSearch>& history) {
    boost::json::array searches;
    for (const auto& h : history)
        searches.push_back(boost::json::object{{"id", h.id},
                                               {"hour", format_date(h.hour)},
                                               {"query", h.query},
                                               {"lang", h.lang},
                                               {"country", h.country},
                                               {"results", h.results}});
    return boost::json::serialize(
        boost::json::object{{"account", account}, {"searches", std::move(searches)}});
}

Expected<std::int64_t> SearchLog::raw_rows() {
    return db_.scalar("SELECT count(*) FROM searches");
}

Expected<std::int64_t> SearchLog::oldest_raw_hour() {
    return db_.scalar("SELECT coalesce(min(hour), 0) FROM searches");
}

} // namespace mixi::analytics
