// Dates as the site writes them: "2024", "2024-05", "2024-05-17", "2024-05-17T09:30:00Z",
// "2024-05-17T09:30:00+09:00".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mixi {

/// Seconds since the Unix epoch (UTC) of the start of the given date or time, or nothing when
/// `text` is not one of the accepted forms or names an impossible date.
std::optional<std::int64_t> parse_date(std::string_view text);

/// Seconds since the epoch of the moment just after the period `text` names ("2024" -> the
/// start of 2025), for inclusive upper bounds of date ranges.
std::optional<std::int64_t> parse_date_end(std::string_view text);

/// "YYYY-MM-DDTHH:MM:SSZ" for a time in seconds since the epoch.
std::string format_date(std::int64_t seconds);

} // namespace mixi
