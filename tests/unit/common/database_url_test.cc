#include "common/database_url.h"

#include <gtest/gtest.h>

namespace mixi {
namespace {

TEST(DatabaseUrl, PasswordsAreHiddenWhereverAMessageQuotesThem) {
    // libpq quotes the part of a URI it cannot parse, which may be the password.
    const std::string uri = "postgresql://mixi:pa%zzword@db.example/mixi?password=other-secret";
    const std::string message =
        "invalid percent-encoded token: \"pa%zzword\"; also other-secret and pa%zzword again";
    const std::string hidden = hide_database_passwords(message, uri);
    EXPECT_EQ(hidden.find("pa%zzword"), std::string::npos) << hidden;
    EXPECT_EQ(hidden.find("other-secret"), std::string::npos) << hidden;
    EXPECT_NE(hidden.find("invalid percent-encoded token: \"(hidden)\""), std::string::npos)
        << hidden;
    // Nothing to hide: a file path, a URI without a password.
    EXPECT_EQ(hide_database_passwords(message, "/var/lib/mixi-search/analytics.sqlite"), message);
    EXPECT_EQ(hide_database_passwords(message, "postgresql://mixi@db.example/mixi"), message);
    EXPECT_EQ(printable_database(uri),
              "postgresql://mixi:(hidden)@db.example/mixi?password=(hidden)");
}

} // namespace
} // namespace mixi
