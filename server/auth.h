// Credentials the server checks and never issues: account tokens the website signs for a
// signed-in searcher, and the admin keys of the admin API.
#pragma once

#include "common/error.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mixi::server {

/// The longest an account token may live: a token whose expiry is further ahead than this is
/// refused, so that a leaked token (or a signing bug on the website) cannot be used for years.
inline constexpr std::int64_t max_account_token_lifetime_seconds = 30 * 24 * 3600;

/// An account token: "v1.<account>.<expiry>.<mac>", where account is 1-64 characters of
/// [A-Za-z0-9_-], expiry is Unix seconds, and mac is the lower-case hex HMAC-SHA256 under the
/// shared secret of "v1.<account>.<expiry>". Returns the account id, or an error saying what is
/// wrong (malformed, bad signature, expired, expiry more than
/// max_account_token_lifetime_seconds after `now`).
Expected<std::string> verify_account_token(std::string_view token, std::string_view secret,
                                           std::int64_t now);

/// Makes a token (what the website's side does; used by the tests and the fuzz target).
std::string sign_account_token(std::string_view account, std::int64_t expiry,
                               std::string_view secret);

/// Whether `key` is one of `keys`, comparing in constant time.
bool admin_key_matches(std::string_view key, const std::vector<std::string>& keys);

} // namespace mixi::server
