#include "common/database_url.h"

namespace mixi {

bool is_postgres_url(std::string_view database) {
    return database.starts_with("postgresql://") || database.starts_with("postgres://");
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
