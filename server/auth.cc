#include "server/auth.h"

#include <charconv>
#include <limits>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace mixi::server {

namespace {

std::string hmac_hex(std::string_view secret, std::string_view message) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 0xf];
    }
    return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool valid_account(std::string_view a) {
    if (a.empty() || a.size() > 64)
        return false;
    for (char c : a)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    return true;
}

} // namespace

std::string sign_account_token(std::string_view account, std::int64_t expiry,
                               std::string_view secret) {
    const std::string signed_part = "v1." + std::string(account) + "." + std::to_string(expiry);
    return signed_part + "." + hmac_hex(secret, signed_part);
}

Expected<std::string> verify_account_token(std::string_view token, std::string_view secret,
                                           std::int64_t now) {
    auto malformed = [] {
        return fail(ErrorCode::invalid_argument,
                    "the account token is malformed (expected v1.ACCOUNT.EXPIRY.SIGNATURE)");
    };
    if (!token.starts_with("v1.") || token.size() > 256)
        return malformed();
    const auto mac_dot = token.rfind('.');
    const auto expiry_dot = token.rfind('.', mac_dot - 1);
    if (expiry_dot == std::string_view::npos || expiry_dot <= 2)
        return malformed();
    const std::string_view account = token.substr(3, expiry_dot - 3);
    const std::string_view expiry_text = token.substr(expiry_dot + 1, mac_dot - expiry_dot - 1);
    const std::string_view mac = token.substr(mac_dot + 1);
    std::int64_t expiry = 0;
    const auto [end, ec] =
        std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
    if (!valid_account(account) || ec != std::errc() ||
        end != expiry_text.data() + expiry_text.size())
        return malformed();
    if (!equal_constant_time(mac, hmac_hex(secret, token.substr(0, mac_dot))))
        return fail(ErrorCode::invalid_argument, "the account token's signature is not valid");
    if (expiry <= now)
        return fail(ErrorCode::invalid_argument, "the account token has expired");
    if (now <= std::numeric_limits<std::int64_t>::max() - max_account_token_lifetime_seconds &&
        expiry > now + max_account_token_lifetime_seconds)
        return fail(ErrorCode::invalid_argument,
                    "the account token expires more than 30 days from now; sign tokens that "
                    "live at most 30 days");
    return std::string(account);
}

bool admin_key_matches(std::string_view key, const std::vector<std::string>& keys) {
    // Compare digests, so that neither the length nor the content of a key shows in the time
    // taken; and compare with every key, so the time does not say which one matched.
    auto digest = [](std::string_view s) {
        std::string d(EVP_MAX_MD_SIZE, '\0');
        unsigned int n = 0;
        EVP_Digest(s.data(), s.size(), reinterpret_cast<unsigned char*>(d.data()), &n, EVP_sha256(),
                   nullptr);
        d.resize(n);
        return d;
    };
    const std::string mine = digest(key);
    bool found = false;
    for (const auto& k : keys)
        found =
            (!k.empty() && CRYPTO_memcmp(mine.data(), digest(k).data(), mine.size()) == 0) || found;
    return found && !key.empty();
}

} // namespace mixi::server
