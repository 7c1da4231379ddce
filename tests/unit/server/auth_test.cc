#include "server/auth.h"

#include <gtest/gtest.h>
#include <limits>

namespace mixi::server {
namespace {

const std::string secret = "correct horse battery staple";

TEST(AccountToken, SignedTokensVerifyUntilTheyExpire) {
    const std::string token = sign_account_token("user_42", 2000, secret);
    EXPECT_TRUE(token.starts_with("v1.user_42.2000."));
    auto ok = verify_account_token(token, secret, 1999);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(*ok, "user_42");
    auto expired = verify_account_token(token, secret, 2000);
    ASSERT_FALSE(expired);
    EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST(AccountToken, TamperedOrMalformedTokensAreRefused) {
    const std::string token = sign_account_token("user_42", 2000, secret);
    auto other_secret = verify_account_token(token, "another secret", 1000);
    ASSERT_FALSE(other_secret);
    EXPECT_NE(other_secret.error().message.find("signature"), std::string::npos);
    // Another account or a later expiry with the same signature.
    std::string changed = token;
    changed.replace(3, 7, "user_43");
    EXPECT_FALSE(verify_account_token(changed, secret, 1000));
    changed = token;
    changed.replace(11, 4, "9999");
    EXPECT_FALSE(verify_account_token(changed, secret, 1000));
    for (const char* bad : {"", "v1", "v1.", "v1..2000.ab", "v2.user.2000.ab", "v1.user.soon.ab",
                            "v1.us er.2000.ab", "v1.user.2000", "garbage"}) {
        auto r = verify_account_token(bad, secret, 1000);
        EXPECT_FALSE(r) << bad;
    }
}

TEST(AccountToken, ExpiryMoreThanThirtyDaysAheadIsRefused) {
    const std::int64_t now = 1'700'000'000, days30 = 30 * 24 * 3600;
    auto ok =
        verify_account_token(sign_account_token("user_42", now + days30, secret), secret, now);
    ASSERT_TRUE(ok) << ok.error().message;
    for (std::int64_t expiry :
         {now + days30 + 1, now + 365 * 24 * 3600, std::numeric_limits<std::int64_t>::max()}) {
        auto refused =
            verify_account_token(sign_account_token("user_42", expiry, secret), secret, now);
        ASSERT_FALSE(refused) << expiry;
        EXPECT_NE(refused.error().message.find("30 days"), std::string::npos)
            << refused.error().message;
    }
}

TEST(AdminKeys, OnlyConfiguredKeysMatch) {
    const std::vector<std::string> keys = {"0123456789abcdef-admin", "fedcba9876543210-other"};
    EXPECT_TRUE(admin_key_matches("0123456789abcdef-admin", keys));
    EXPECT_TRUE(admin_key_matches("fedcba9876543210-other", keys));
    EXPECT_FALSE(admin_key_matches("0123456789abcdef-admi", keys));
    EXPECT_FALSE(admin_key_matches("", keys));
    EXPECT_FALSE(admin_key_matches("anything", {}));
    EXPECT_FALSE(admin_key_matches("", {""}));
}

} // namespace
} // namespace mixi::server
