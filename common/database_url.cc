#include "common/database_url.h"

#include <algorithm>
#include <vector>

namespace mixi {

bool is_postgres_url(std::string_view database) {
    return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

namespace {

/// The passwords in a URI: user:PASSWORD@host, and the values of password=... parameters.
std::vector<std::string> passwords(std::string_view uri) {
    std::vector<std::string> out;
    const std::size_t scheme = uri.find("://");
    if (scheme == std::string_view::npos)
        return out;
    const std::size_t scheme_end = scheme + 3;
    std::size_t authority_end = uri.find_first_of("/?", scheme_end);
    if (authority_end == std::string_view::npos)
        authority_end = uri.size();
    const std::size_t at = uri.rfind('@', authority_end);
    if (at != std::string_view::npos && at >= scheme_end) {
        const std::size_t colon = uri.find(':', scheme_end);
        if (colon != std::string_view::npos && colon < at && at > colon + 1)
            out.emplace_back(uri.substr(colon + 1, at - colon - 1));
    }
    for (std::size_t p = uri.find('?'); p != std::string_view::npos; p = uri.find('&', p + 1)) {
        const std::size_t name = p + 1;
        if (uri.substr(name, 9) != "password=")
            continue;
        const std::size_t value = name + 9;
        const std::size_t end = std::min(uri.find('&', value), uri.size());
        if (end > value)
            out.emplace_back(uri.substr(value, end - value));
    }
    return out;
}

} // namespace

std::string hide_database_passwords(std::string text, std::string_view database) {
    for (const std::string& secret : passwords(database))
        for (std::size_t p = text.find(secret); p != std::string::npos;
             p = text.find(secret, p + 8))
            text.replace(p, secret.size(), "(hidden)");
    return text;
}

std::string printable_database(std::string_view database) {
    if (database.find("://") == std::string_view::npos)
        return std::string(database); // a file path
    std::string out(database);
    // user:password@host: the userinfo ends at the last '@' before the path.
    const std::size_t scheme_end = out.find("://") + 3;
    std::size_t authority_end = out.find_first_of("/?", scheme_end);
    if (authority_end == std::string::npos)
        authority_end = out.size();
    const std::size_t at = out.rfind('@', authority_end);
    if (at != std::string::npos && at >= scheme_end) {
        const std::size_t colon = out.find(':', scheme_end);
        if (colon != std::string::npos && colon < at)
            out.replace(colon + 1, at - colon - 1, "(hidden)");
    }
    // ...?password=secret&...: the value up to the next '&'.
    for (std::size_t p = out.find('?'); p != std::string::npos; p = out.find('&', p + 1)) {
        const std::size_t name = p + 1;
        if (out.compare(name, 9, "password=") != 0)
            continue;
        const std::size_t value = name + 9;
        std::size_t end = out.find('&', value);
        if (end == std::string::npos)
            end = out.size();
        out.replace(value, end - value, "(hidden)");
    }
    return out;
}

} // namespace mixi
