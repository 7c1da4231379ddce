#include "config/config.h"

#include "common/database_url.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <toml++/toml.h>

namespace mixi::config {

namespace {

using Ms = std::chrono::milliseconds;

/// One setting: how to set it from text and how to print it as a TOML value.
struct Setting {
    const char* key;
    std::function<bool(Config&, const std::string&)> set;
    std::function<std::string(const Config&)> print;
};

template <class T> bool parse_number(const std::string& s, T& out) {
    if constexpr (std::is_floating_point_v<T>) {
        try {
            std::size_t used = 0;
            out = static_cast<T>(std::stod(s, &used));
            return used == s.size();
        } catch (...) {
            return false;
        }
    } else {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && p == s.data() + s.size();
    }
}

std::string quoted(const std::string& s) {
    std::ostringstream out;
    out << toml::value<std::string>(s);
    return out.str();
}

/// A number as text that reads back as the same value: the shortest form for a double (so 1e-07
/// stays 1e-07, where std::to_string's six decimals would make it 0).
template <class T> std::string number_text(T value) {
    std::array<char, 64> buffer;
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return ec == std::errc() ? std::string(buffer.data(), end) : std::string();
}

template <class T, class Field> Setting number(const char* key, Field field) {
    return {key, [field](Config& c, const std::string& v) { return parse_number<T>(v, field(c)); },
            [field](const Config& c) { return number_text(field(c)); }};
}

template <class Field> Setting millis(const char* key, Field field) {
    return {key,
            [field](Config& c, const std::string& v) {
                long long ms = 0;
                if (!parse_number(v, ms) || ms < 0)
                    return false;
                field(c) = Ms(ms);
                return true;
            },
            [field](const Config& c) { return std::to_string(field(c).count()); }};
}

template <class Field> Setting text(const char* key, Field field) {
    return {key,
            [field](Config& c, const std::string& v) {
                field(c) = v;
                return true;
            },
            [field](const Config& c) { return quoted(std::string(field(c))); }};
}

template <class Field> Setting path(const char* key, Field field) {
    return {key,
            [field](Config& c, const std::string& v) {
                field(c) = v;
                return true;
            },
            [field](const Config& c) { return quoted(field(c).string()); }};
}

template <class Field> Setting boolean(const char* key, Field field) {
    return {key,
            [field](Config& c, const std::string& v) {
                if (v != "true" && v != "false")
                    return false;
                field(c) = v == "true";
                return true;
            },
            [field](const Config& c) { return std::string(field(c) ? "true" : "false"); }};
}

/// A secret: set like text, printed as "(hidden)" when set.
template <class Field> Setting secret(const char* key, Field field) {
    return {key,
            [field](Config& c, const std::string& v) {
                field(c) = v;
                return true;
            },
            [field](const Config& c) { return quoted(field(c).empty() ? "" : "(hidden)"); }};
}

/// A list: a TOML array of strings, or comma-separated text from the environment or a flag.
template <class Field> Setting list(const char* key, Field field) {
    return {key,
            [field](Config& c, const std::string& v) {
                field(c).clear();
                std::istringstream in(v);
                std::string item;
                while (std::getline(in, item, ','))
                    if (!item.empty())
                        field(c).push_back(item);
                return true;
            },
            [field](const Config& c) {
                std::string out = "[";
                for (std::size_t i = 0; i < field(c).size(); ++i)
                    out += (i ? ", " : "") + quoted(field(c)[i]);
                return out + "]";
            }};
}

const std::vector<Setting>& settings() {
    static const std::vector<Setting> all = {
        text(
            "server.address", [](auto& c) -> auto& { return c.address; }),
        number<std::uint16_t>(
            "server.port", [](auto& c) -> auto& { return c.port; }),
        number<unsigned>(
            "server.threads", [](auto& c) -> auto& { return c.threads; }),
        path(
            "server.index", [](auto& c) -> auto& { return c.index; }),
        path(
            "server.web_root", [](auto& c) -> auto& { return c.web_root; }),
        list(
            "server.cors_origins", [](auto& c) -> auto& { return c.cors_origins; }),
        list(
            "server.trusted_proxies", [](auto& c) -> auto& { return c.trusted_proxies; }),
        {"server.forwarded_header",
         [](Config& c, const std::string& v) {
             if (v != "x-forwarded-for" && v != "forwarded")
                 return false;
             c.forwarded_header = v;
             return true;
         },
         [](const Config& c) { return quoted(c.forwarded_header); }},
        path(
            "server.data_dir", [](auto& c) -> auto& { return c.data_dir; }),
        boolean(
            "server.access_log", [](auto& c) -> auto& { return c.access_log; }),
        millis(
            "server.reopen_interval_ms", [](auto& c) -> auto& { return c.reopen_interval; }),
        list(
            "shards.list", [](auto& c) -> auto& { return c.shards; }),
        number<unsigned>(
            "shards.timeout_ms", [](auto& c) -> auto& { return c.search.remote_timeout_ms; }),
        number<unsigned>(
            "shards.connect_timeout_ms",
            [](auto& c) -> auto& { return c.search.remote_connect_timeout_ms; }),
        boolean(
            "shards.allow_partial", [](auto& c) -> auto& { return c.search.allow_partial; }),
        path(
            "shards.spelling_index", [](auto& c) -> auto& { return c.search.spelling_index; }),
        number<std::size_t>(
            "limits.header_bytes", [](auto& c) -> auto& { return c.limits.header_bytes; }),
        number<std::size_t>(
            "limits.body_bytes", [](auto& c) -> auto& { return c.limits.body_bytes; }),
        number<std::size_t>(
            "limits.target_bytes", [](auto& c) -> auto& { return c.limits.target_bytes; }),
        number<std::size_t>(
            "limits.query_bytes", [](auto& c) -> auto& { return c.limits.query_bytes; }),
        millis(
            "limits.read_timeout_ms", [](auto& c) -> auto& { return c.limits.read_timeout; }),
        millis(
            "limits.idle_timeout_ms", [](auto& c) -> auto& { return c.limits.idle_timeout; }),
        number<std::size_t>(
            "limits.max_connections", [](auto& c) -> auto& { return c.limits.max_connections; }),
        number<std::size_t>(
            "limits.connections_per_client",
            [](auto& c) -> auto& { return c.limits.connections_per_client; }),
        number<std::size_t>(
            "limits.requests_per_connection",
            [](auto& c) -> auto& { return c.limits.requests_per_connection; }),
        millis(
            "limits.shutdown_deadline_ms",
            [](auto& c) -> auto& { return c.limits.shutdown_deadline; }),
        number<double>(
            "limits.rate_per_second", [](auto& c) -> auto& { return c.limits.rate_per_second; }),
        number<double>(
            "limits.rate_burst", [](auto& c) -> auto& { return c.limits.rate_burst; }),
        number<double>(
            "search.k1", [](auto& c) -> auto& { return c.search.k1; }),
        number<double>(
            "search.b", [](auto& c) -> auto& { return c.search.b; }),
        number<double>(
            "search.exact_weight", [](auto& c) -> auto& { return c.search.exact_weight; }),
        number<double>(
            "search.bigram_weight", [](auto& c) -> auto& { return c.search.bigram_weight; }),
        number<double>(
            "search.synonym_weight", [](auto& c) -> auto& { return c.search.synonym_weight; }),
        number<double>(
            "search.typo_weight", [](auto& c) -> auto& { return c.search.typo_weight; }),
        number<unsigned>(
            "search.typo_rare", [](auto& c) -> auto& { return c.search.typo_rare; }),
        number<unsigned>(
            "search.typo_ratio", [](auto& c) -> auto& { return c.search.typo_ratio; }),
        number<unsigned>(
            "search.prefix_postings", [](auto& c) -> auto& { return c.search.prefix_postings; }),
        number<double>(
            "search.proximity_weight", [](auto& c) -> auto& { return c.search.proximity_weight; }),
        number<unsigned>(
            "search.proximity_window", [](auto& c) -> auto& { return c.search.proximity_window; }),
        number<unsigned>(
            "search.prf_docs", [](auto& c) -> auto& { return c.search.prf_docs; }),
        number<unsigned>(
            "search.prf_terms", [](auto& c) -> auto& { return c.search.prf_terms; }),
        number<double>(
            "search.prf_weight", [](auto& c) -> auto& { return c.search.prf_weight; }),
        number<unsigned>(
            "search.max_per_page", [](auto& c) -> auto& { return c.search.max_per_page; }),
        number<std::uint64_t>(
            "search.spelling_below", [](auto& c) -> auto& { return c.search.spelling_below; }),
        number<std::size_t>(
            "search.snippet_bytes", [](auto& c) -> auto& { return c.search.snippet_bytes; }),
        number<double>(
            "ranking.popularity_weight",
            [](auto& c) -> auto& { return c.search.ranking.popularity_weight; }),
        number<double>(
            "ranking.region_weight",
            [](auto& c) -> auto& { return c.search.ranking.region_weight; }),
        number<double>(
            "ranking.saturation", [](auto& c) -> auto& { return c.search.ranking.saturation; }),
        number<double>(
            "ranking.language_weight",
            [](auto& c) -> auto& { return c.search.ranking.language_weight; }),
        number<double>(
            "ranking.half_life_days", [](auto& c) -> auto& { return c.half_life_days; }),
        millis(
            "ranking.refresh_interval_ms",
            [](auto& c) -> auto& { return c.popularity_refresh_interval; }),
        {"analytics.database",
         [](Config& c, const std::string& v) {
             c.analytics_database = v;
             return true;
         },
         [](const Config& c) { return quoted(printable_database(c.analytics_database)); }},
        number<std::uint64_t>(
            "analytics.max_held_events",
            [](auto& c) -> auto& { return c.analytics_max_held_events; }),
        millis(
            "analytics.flush_interval_ms",
            [](auto& c) -> auto& { return c.analytics_flush_interval; }),
        number<int>(
            "analytics.retention_days", [](auto& c) -> auto& { return c.retention_days; }),
        number<int>(
            "analytics.aggregate_retention_days",
            [](auto& c) -> auto& { return c.aggregate_retention_days; }),
        number<int>(
            "analytics.view_retention_days",
            [](auto& c) -> auto& { return c.view_retention_days; }),
        millis(
            "analytics.purge_interval_ms", [](auto& c) -> auto& { return c.purge_interval; }),
        number<std::uint64_t>(
            "analytics.report_k", [](auto& c) -> auto& { return c.report_k; }),
        number<std::uint64_t>(
            "analytics.report_k_distinct", [](auto& c) -> auto& { return c.report_k_distinct; }),
        boolean(
            "trends.enabled", [](auto& c) -> auto& { return c.trends.enabled; }),
        number<double>(
            "trends.epsilon", [](auto& c) -> auto& { return c.trends.epsilon; }),
        number<double>(
            "trends.delta", [](auto& c) -> auto& { return c.trends.delta; }),
        number<int>(
            "trends.days", [](auto& c) -> auto& { return c.trends.days; }),
        number<std::size_t>(
            "trends.top", [](auto& c) -> auto& { return c.trends.top; }),
        path(
            "geoip.database", [](auto& c) -> auto& { return c.geoip.database; }),
        {"geoip.level",
         [](Config& c, const std::string& v) {
             if (v != "country" && v != "continent")
                 return false;
             c.geoip.level = v;
             return true;
         },
         [](const Config& c) { return quoted(c.geoip.level); }},
        boolean(
            "geoip.ignore_errors", [](auto& c) -> auto& { return c.geoip.ignore_errors; }),
        secret(
            "auth.account_secret", [](auto& c) -> auto& { return c.auth.account_secret; }),
        {"auth.admin_keys",
         [](Config& c, const std::string& v) {
             c.auth.admin_keys.clear();
             std::istringstream in(v);
             std::string key;
             while (std::getline(in, key, ','))
                 if (!key.empty())
                     c.auth.admin_keys.push_back(key);
             return true;
         },
         [](const Config& c) {
             return std::string(c.auth.admin_keys.empty() ? "[]" : "[\"(hidden)\"]");
         }},
        path(
            "auth.admin_key_file", [](auto& c) -> auto& { return c.auth.admin_key_file; }),
        path(
            "auth.account_secret_file",
            [](auto& c) -> auto& { return c.auth.account_secret_file; }),
    };
    return all;
}

const Setting* find_setting(const std::string& key) {
    for (const Setting& s : settings())
        if (key == s.key)
            return &s;
    return nullptr;
}

/// The TOML file as dotted keys and values in text form.
Expected<std::map<std::string, std::string>> flatten_file(const std::filesystem::path& path) {
    toml::table table;
    try {
        table = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << path.string() << ":" << e.source().begin.line << ": " << e.description();
        return fail(ErrorCode::invalid_argument, msg.str());
    }
    std::map<std::string, std::string> out;
    for (const auto& [section, node] : table) {
        const toml::table* inner = node.as_table();
        if (!inner)
            return fail(ErrorCode::invalid_argument,
                        path.string() + ": \"" + std::string(section.str()) +
                            "\" must be a table ([server], [limits], [search], [ranking], "
                            "[shards], [analytics], [trends], [geoip], [auth])");
        for (const auto& [name, value] : *inner) {
            const std::string key = std::string(section.str()) + "." + std::string(name.str());
            if (auto s = value.value<std::string>(); s && value.is_string()) {
                // The keys' one list written as text would be split at its commas.
                if (key == "auth.admin_keys" && s->find(',') != std::string::npos)
                    return fail(ErrorCode::invalid_argument,
                                path.string() + ": auth.admin_keys: an admin key may not contain "
                                                "a comma (write the keys as an array of strings)");
                out[key] = *s;
            } else if (auto b = value.as_boolean())
                out[key] = b->get() ? "true" : "false";
            else if (auto i = value.as_integer())
                out[key] = std::to_string(i->get());
            else if (auto f = value.as_floating_point())
                out[key] = number_text(f->get());
            else if (auto a = value.as_array()) {
                std::string joined;
                std::size_t position = 0;
                for (const auto& element : *a) {
                    ++position;
                    auto s = element.value<std::string>();
                    if (!s)
                        return fail(ErrorCode::invalid_argument,
                                    path.string() + ": " + key + " must be an array of strings");
                    // Lists travel as comma-separated text: a comma inside an element would
                    // split it in two. The element is not shown (it may be an admin key).
                    if (s->find(',') != std::string::npos)
                        return fail(
                            ErrorCode::invalid_argument,
                            path.string() + ": " + key + ": element " + std::to_string(position) +
                                " may not contain a comma (a value of this list never holds one)");
                    joined += (joined.empty() ? "" : ",") + *s;
                }
                out[key] = joined;
            } else {
                return fail(ErrorCode::invalid_argument,
                            path.string() + ": " + key + " has an unsupported type");
            }
        }
    }
    return out;
}

/// Sets each key of `values` (pairs of dotted key and text) in order.
template <class Values>
Expected<void> apply(Config& config, const Values& values, const std::string& origin,
                     bool ignore_unknown) {
    for (const auto& [key, value] : values) {
        const Setting* s = find_setting(key);
        if (!s) {
            if (ignore_unknown)
                continue;
            return fail(ErrorCode::invalid_argument, origin + ": unknown setting \"" + key + "\"");
        }
        if (!s->set(config, value))
            return fail(ErrorCode::invalid_argument,
                        origin + ": invalid value \"" + value + "\" for " + key);
    }
    return {};
}

/// MIXI_LIMITS_READ_TIMEOUT_MS -> limits.read_timeout_ms: the first underscore after the prefix
/// separates the section. Other variables are not ours.
std::map<std::string, std::string> from_environment(const std::map<std::string, std::string>& env) {
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : env) {
        if (!name.starts_with("MIXI_"))
            continue;
        std::string key;
        for (char c : name.substr(5))
            key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto underscore = key.find('_');
        if (underscore == std::string::npos)
            continue;
        key[underscore] = '.';
        out[key] = value;
    }
    return out;
}

/// A warning when a secret file may be read by others than its owner.
void check_secret_file_mode(const char* key, const std::filesystem::path& file,
                            std::vector<std::string>& warnings) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::perms mode = fs::status(file, ec).permissions();
    if (ec)
        return;
    const fs::perms readable = fs::perms::group_read | fs::perms::others_read;
    if ((mode & readable) == fs::perms::none)
        return;
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & fs::perms::mask));
    warnings.push_back(
        std::string(key) + ": " + file.string() + " holds a secret but can be read by " +
        ((mode & fs::perms::others_read) != fs::perms::none ? "everyone" : "its group") +
        " (mode " + octal +
        "); let only the user the server runs as read it (chown it to that user, chmod 600)");
}

Expected<void> read_admin_key_file(AuthConfig& auth, std::vector<std::string>& warnings) {
    if (auth.admin_key_file.empty())
        return {};
    std::ifstream in(auth.admin_key_file);
    if (!in)
        return fail(ErrorCode::invalid_argument,
                    "auth.admin_key_file: cannot read " + auth.admin_key_file.string());
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (line.empty() || line.starts_with('#'))
            continue;
        // One key per line: a comma is not a separator here, and a key holding one could not
        // be given in the environment or on the command line either. The line is not shown.
        if (line.find(',') != std::string::npos)
            return fail(ErrorCode::invalid_argument,
                        "auth.admin_key_file: " + auth.admin_key_file.string() + ":" +
                            std::to_string(number) +
                            ": an admin key may not contain a comma (one key per line)");
        auth.admin_keys.push_back(line);
    }
    check_secret_file_mode("auth.admin_key_file", auth.admin_key_file, warnings);
    return {};
}

Expected<void> read_account_secret_file(AuthConfig& auth, std::vector<std::string>& warnings) {
    if (auth.account_secret_file.empty())
        return {};
    if (!auth.account_secret.empty())
        return fail(ErrorCode::invalid_argument,
                    "auth.account_secret_file: set auth.account_secret or "
                    "auth.account_secret_file, not both");
    std::ifstream in(auth.account_secret_file);
    if (!in)
        return fail(ErrorCode::invalid_argument,
                    "auth.account_secret_file: cannot read " + auth.account_secret_file.string());
    std::string secret;
    std::getline(in, secret);
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' '))
        secret.pop_back();
    if (secret.empty())
        return fail(ErrorCode::invalid_argument,
                    "auth.account_secret_file: " + auth.account_secret_file.string() +
                        " is empty; its first line is the secret");
    auth.account_secret = std::move(secret);
    check_secret_file_mode("auth.account_secret_file", auth.account_secret_file, warnings);
    return {};
}

/// "key must be ... (is value)": the error validate() returns.
template <class T>
std::unexpected<Error> invalid(const char* key, const std::string& rule, const T& value) {
    std::string shown;
    if constexpr (std::is_arithmetic_v<T>)
        shown = number_text(value);
    else
        shown = std::to_string(value.count());
    return fail(ErrorCode::invalid_argument, std::string(key) + " " + rule + " (is " + shown + ")");
}

} // namespace

Expected<Config> load(const Sources& sources) {
    Config config;
    if (!sources.file.empty()) {
        auto values = flatten_file(sources.file);
        if (!values)
            return std::unexpected(values.error());
        if (auto r = apply(config, *values, sources.file.string(), false); !r)
            return std::unexpected(r.error());
        // A configuration file that holds a secret is a secret file too.
        for (const char* key : {"auth.account_secret", "auth.admin_keys"})
            if (auto it = values->find(key); it != values->end() && !it->second.empty()) {
                check_secret_file_mode("the configuration file", sources.file, config.warnings);
                break;
            }
    }
    if (auto r = apply(config, from_environment(sources.env), "environment", true); !r)
        return std::unexpected(r.error());
    if (auto r = apply(config, sources.overrides, "command line", false); !r)
        return std::unexpected(r.error());
    if (auto r = read_admin_key_file(config.auth, config.warnings); !r)
        return std::unexpected(r.error());
    if (auto r = read_account_secret_file(config.auth, config.warnings); !r)
        return std::unexpected(r.error());
    if (auto r = validate(config); !r)
        return std::unexpected(r.error());
    return config;
}

Expected<void> validate(const Config& config) {
    for (const auto& key : config.auth.admin_keys) {
        if (key.size() < 16)
            return fail(ErrorCode::invalid_argument,
                        "auth.admin_keys: each key must be at least 16 characters long");
        if (key.find(',') != std::string::npos)
            return fail(ErrorCode::invalid_argument,
                        "auth.admin_keys: an admin key may not contain a comma");
    }
    // The secret is not shown, only its length.
    if (const std::size_t size = config.auth.account_secret.size();
        size > 0 && size < min_account_secret_bytes)
        return fail(ErrorCode::invalid_argument,
                    "auth.account_secret must be at least " +
                        std::to_string(min_account_secret_bytes) + " bytes long (is " +
                        std::to_string(size) + " bytes); make one with: openssl rand -hex 32");
    const Limits& l = config.limits;
    if (l.rate_per_second < 0)
        return invalid("limits.rate_per_second", "must be >= 0", l.rate_per_second);
    if (l.rate_burst < 1)
        return invalid("limits.rate_burst", "must be >= 1", l.rate_burst);
    if (l.max_connections == 0)
        return invalid("limits.max_connections", "must be > 0", l.max_connections);
    if (l.requests_per_connection == 0)
        return invalid("limits.requests_per_connection", "must be > 0", l.requests_per_connection);
    const auto& s = config.search;
    if (!(s.synonym_weight >= 0))
        return invalid("search.synonym_weight", "must be >= 0", s.synonym_weight);
    if (!(s.typo_weight >= 0 && s.typo_weight <= 1))
        return invalid("search.typo_weight", "must be between 0 and 1", s.typo_weight);
    if (s.typo_ratio < 1)
        return invalid("search.typo_ratio", "must be >= 1", s.typo_ratio);
    if (s.prefix_postings < 1)
        return invalid("search.prefix_postings", "must be >= 1", s.prefix_postings);
    if (!(s.proximity_weight >= 0))
        return invalid("search.proximity_weight", "must be >= 0", s.proximity_weight);
    if (s.proximity_window > 1000)
        return invalid("search.proximity_window", "must be <= 1000", s.proximity_window);
    if (!(s.prf_weight >= 0))
        return invalid("search.prf_weight", "must be >= 0", s.prf_weight);
    if (s.prf_docs > 100)
        return invalid("search.prf_docs", "must be <= 100", s.prf_docs);
    if (s.prf_terms < 1 || s.prf_terms > 100)
        return invalid("search.prf_terms", "must be between 1 and 100", s.prf_terms);
    const auto& r = config.search.ranking;
    for (const auto& [key, weight] : {std::pair{"ranking.popularity_weight", r.popularity_weight},
                                      {"ranking.region_weight", r.region_weight},
                                      {"ranking.language_weight", r.language_weight}})
        if (weight < 0)
            return invalid(key, "must be >= 0", weight);
    if (!(r.saturation > 0))
        return invalid("ranking.saturation", "must be > 0", r.saturation);
    if (!(config.half_life_days > 0))
        return invalid("ranking.half_life_days", "must be > 0", config.half_life_days);
    if (const std::string& db = config.analytics_database;
        db.find("://") == std::string::npos && db.find("password=") != std::string::npos)
        // Not printed: a libpq key=value string would otherwise show its password as a path.
        return fail(ErrorCode::invalid_argument,
                    "analytics.database: a key=value connection string is not accepted; use a "
                    "postgresql:// URI (its password is never printed)");
    if (const std::string& db = config.analytics_database;
        !db.empty() && db.find("://") != std::string::npos && !is_postgres_url(db))
        return fail(ErrorCode::invalid_argument,
                    "analytics.database: \"" + printable_database(db) +
                        "\" is neither a file path nor a postgresql:// URI");
    if (config.analytics_flush_interval.count() == 0)
        return invalid("analytics.flush_interval_ms", "must be > 0",
                       config.analytics_flush_interval);
    if (config.purge_interval.count() == 0)
        return invalid("analytics.purge_interval_ms", "must be > 0", config.purge_interval);
    // At 1 a report would show a term one searcher typed once: the thresholds are what keeps
    // one person's search out of reports, stored aggregates and public completions.
    if (config.report_k < min_report_k)
        return invalid("analytics.report_k", "must be >= " + number_text(min_report_k),
                       config.report_k);
    if (config.report_k_distinct < min_report_k)
        return invalid("analytics.report_k_distinct", "must be >= " + number_text(min_report_k),
                       config.report_k_distinct);
    if (config.retention_days < 1)
        return invalid("analytics.retention_days", "must be >= 1", config.retention_days);
    if (config.aggregate_retention_days < config.retention_days)
        return invalid("analytics.aggregate_retention_days",
                       "must be >= analytics.retention_days = " +
                           number_text(config.retention_days),
                       config.aggregate_retention_days);
    if (config.view_retention_days < 1)
        return invalid("analytics.view_retention_days", "must be >= 1", config.view_retention_days);
    const TrendsConfig& t = config.trends;
    if (!(t.epsilon > 0))
        return invalid("trends.epsilon", "must be > 0", t.epsilon);
    if (!(t.delta > 0 && t.delta < 1))
        return invalid("trends.delta", "must be between 0 and 1", t.delta);
    if (t.days < 1 || t.days > 366)
        return invalid("trends.days", "must be 1 to 366", t.days);
    if (t.top < 1 || t.top > 1000)
        return invalid("trends.top", "must be 1 to 1000", t.top);
    return {};
}

std::string to_toml(const Config& config) {
    std::string out, section;
    for (const Setting& s : settings()) {
        const std::string key = s.key;
        const auto dot = key.find('.');
        if (key.substr(0, dot) != section) {
            section = key.substr(0, dot);
            out += (out.empty() ? "[" : "\n[") + section + "]\n";
        }
        out += key.substr(dot + 1) + " = " + s.print(config) + "\n";
    }
    return out;
}

} // namespace mixi::config
