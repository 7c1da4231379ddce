// Account tokens (server/auth.h) on arbitrary bytes: verification never crashes, accepts only
// what sign_account_token would make, and a signed token of a valid account verifies back.
#include "fuzz_util.h"
#include "server/auth.h"

#include <cctype>
#include <string>

using namespace mixi;

namespace {
const std::string secret = "fuzz secret";
constexpr std::int64_t now = 1'700'000'000;

bool valid_account(std::string_view a) {
    if (a.empty() || a.size() > 64)
        return false;
    for (char c : a)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            return false;
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    auto verified = server::verify_account_token(text, secret, now);
    if (verified) {
        fuzz::check(valid_account(*verified), "accepted an invalid account id");
        fuzz::check(text.starts_with("v1." + *verified + "."), "accepted another account's token");
    }
    // The same bytes as the secret, and as an admin key.
    (void)server::verify_account_token(server::sign_account_token("user_1", now + 60, text), text,
                                       now);
    (void)server::admin_key_matches(text, {"fuzz-admin-key", std::string(text)});
    fuzz::check(!server::admin_key_matches(text, {}), "a key matched no keys");
    // Round trip: the input's first line as an account, the second as an expiry.
    const auto nl = text.find('\n');
    const std::string_view account = text.substr(0, nl);
    if (valid_account(account)) {
        std::int64_t expiry = now + 1;
        if (nl != std::string_view::npos && nl + 1 < text.size())
            expiry += static_cast<unsigned char>(text[nl + 1]) * 1000;
        const std::string token = server::sign_account_token(account, expiry, secret);
        auto back = server::verify_account_token(token, secret, now);
        fuzz::check(back && *back == account, "a signed token did not verify");
        fuzz::check(!server::verify_account_token(token, secret, expiry),
                    "an expired token verified");
        fuzz::check(!server::verify_account_token(token, "other", now),
                    "a token verified under another secret");
    }
    return 0;
}
