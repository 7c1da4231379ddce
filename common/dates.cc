#include "common/dates.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace mixi {
namespace {

namespace chr = std::chrono;

struct Parsed {
    int year = 0;
    unsigned month = 1, day = 1;
    int precision = 0; // 1 year, 2 month, 3 day, 4 seconds
    std::int64_t seconds_of_day = 0;
    std::int64_t offset = 0; // seconds east of UTC
};

bool number(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size())
        return false;
    for (std::size_t i = pos; i < pos + len; ++i)
        if (s[i] < '0' || s[i] > '9')
            return false;
    std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return true;
}

std::optional<Parsed> parse(std::string_view s) {
    Parsed p;
    int v = 0;
    if (!number(s, 0, 4, p.year))
        return std::nullopt;
    p.precision = 1;
    if (s.size() == 4)
        return p;
    if (s[4] != '-' || !number(s, 5, 2, v) || v < 1 || v > 12)
        return std::nullopt;
    p.month = static_cast<unsigned>(v);
    p.precision = 2;
    if (s.size() == 7)
        return p;
    if (s[7] != '-' || !number(s, 8, 2, v))
        return std::nullopt;
    p.day = static_cast<unsigned>(v);
    const chr::year_month_day ymd{chr::year{p.year}, chr::month{p.month}, chr::day{p.day}};
    if (!ymd.ok())
        return std::nullopt;
    p.precision = 3;
    if (s.size() == 10)
        return p;
    if (s[10] != 'T' && s[10] != ' ')
        return std::nullopt;
    int h = 0, m = 0, sec = 0;
    if (!number(s, 11, 2, h) || s.size() < 16 || s[13] != ':' || !number(s, 14, 2, m))
        return std::nullopt;
    std::size_t pos = 16;
    if (pos < s.size() && s[pos] == ':') {
        if (!number(s, 17, 2, sec))
            return std::nullopt;
        pos = 19;
        if (pos < s.size() && s[pos] == '.') { // fractional seconds are ignored
            ++pos;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
                ++pos;
        }
    }
    if (h > 23 || m > 59 || sec > 60)
        return std::nullopt;
    p.seconds_of_day = h * 3600 + m * 60 + sec;
    p.precision = 4;
    const std::string_view zone = s.substr(pos);
    if (zone.empty() || zone == "Z")
        return p;
    int oh = 0, om = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !number(zone, 1, 2, oh) ||
        zone[3] != ':' || !number(zone, 4, 2, om))
        return std::nullopt;
    p.offset = (zone[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    return p;
}

std::int64_t to_seconds(int year, unsigned month, unsigned day) {
    const chr::sys_days d{chr::year{year} / chr::month{month} / chr::day{day}};
    return static_cast<std::int64_t>(d.time_since_epoch().count()) * 86400;
}

} // namespace

std::optional<std::int64_t> parse_date(std::string_view text) {
    const auto p = parse(text);
    if (!p)
        return std::nullopt;
    return to_seconds(p->year, p->month, p->day) + p->seconds_of_day - p->offset;
}

std::optional<std::int64_t> parse_date_end(std::string_view text) {
    const auto p = parse(text);
    if (!p)
        return std::nullopt;
    switch (p->precision) {
    case 1:
        return to_seconds(p->year + 1, 1, 1);
    case 2:
        return p->month == 12 ? to_seconds(p->year + 1, 1, 1)
                              : to_seconds(p->year, p->month + 1, 1);
    case 3:
        return to_seconds(p->year, p->month, p->day) + 86400;
    default:
        return to_seconds(p->year, p->month, p->day) + p->seconds_of_day - p->offset + 1;
    }
}

std::string format_date(std::int64_t seconds) {
    const chr::sys_seconds t{chr::seconds{seconds}};
    const auto days = chr::floor<chr::days>(t);
    const chr::year_month_day ymd{days};
    const chr::hh_mm_ss hms{t - days};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
                  static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return buf;
}

} // namespace mixi
