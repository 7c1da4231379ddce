// The analytics store's setting (analytics.database): a SQLite file path or a PostgreSQL URI.
// Only the shape of the text is known here; the stores are in analytics/.
#pragma once

#include <string>
#include <string_view>

namespace mixi {

/// True for a PostgreSQL connection URI: "postgresql://..." or "postgres://...".
bool is_postgres_url(std::string_view database);

/// The setting as it may be printed or logged: a URI's (any scheme's) password (user:PASSWORD@host,
/// or a password=... parameter) replaced by "(hidden)"; a file path as it is.
std::string printable_database(std::string_view database);
/// `text` (a message of the database client, which may quote a part of the URI it could not
/// parse) with every password `database` holds replaced by "(hidden)".
std::string hide_database_passwords(std::string text, std::string_view database);

} // namespace mixi
