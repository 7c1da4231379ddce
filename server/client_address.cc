#include "server/client_address.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace mixi::server {

namespace ip = boost::asio::ip;

namespace {

ip::address unmapped(const ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    return a;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool is_port(std::string_view s) {
    if (s.starts_with('_')) // an obfuscated port (RFC 7239 section 6.3)
        return s.size() > 1 && std::all_of(s.begin() + 1, s.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                          c == '-';
               });
    return !s.empty() && s.size() <= 5 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// An address as the forwarding headers write it: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1",
/// "[2001:db8::1]", "[2001:db8::1]:443", optionally double-quoted (Forwarded). Anything else
/// ("unknown", "_hidden", a host name, a bad port) is nullopt.
std::optional<ip::address> header_address(std::string_view s) {
    s = trim(s);
    if (s.starts_with('"') || s.ends_with('"')) {
        if (s.size() < 2 || !s.starts_with('"') || !s.ends_with('"'))
            return std::nullopt;
        s = s.substr(1, s.size() - 2);
    }
    std::string_view host = s;
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = s.substr(1, close - 1);
        const auto rest = s.substr(close + 1);
        if (!rest.empty() && !(rest.starts_with(':') && is_port(rest.substr(1))))
            return std::nullopt;
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
        host = s.substr(0, s.find(':')); // IPv4 with a port
        if (!is_port(s.substr(host.size() + 1)))
            return std::nullopt;
    }
    if (host.empty() || host.find('%') != std::string_view::npos) // no zone ids
        return std::nullopt;
    boost::system::error_code ec;
    const auto a = ip::make_address(std::string(host), ec);
    if (ec || (s.starts_with('[') && !a.is_v6()))
        return std::nullopt;
    return unmapped(a);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        const auto at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos)
            return out;
        s.remove_prefix(at + 1);
    }
}

bool trusted_peer(const ip::address& a, const std::vector<Network>& trusted) {
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const Network& n) { return n.contains(a); });
}

} // namespace

bool Network::contains(const ip::address& raw) const {
    const ip::address a = unmapped(raw);
    if (a.is_v4() != address.is_v4())
        return false;
    auto match = [&](const auto& x, const auto& y) {
        unsigned bits = prefix;
        for (std::size_t i = 0; i < x.size() && bits > 0; ++i) {
            const unsigned n = std::min(bits, 8u);
            const auto mask = static_cast<unsigned char>(0xff << (8 - n));
            if ((x[i] & mask) != (y[i] & mask))
                return false;
            bits -= n;
        }
        return true;
    };
    if (a.is_v4())
        return match(a.to_v4().to_bytes(), address.to_v4().to_bytes());
    return match(a.to_v6().to_bytes(), address.to_v6().to_bytes());
}

namespace {

std::unexpected<Error> invalid(std::string_view text, std::string_view why) {
    std::string message = "\"";
    message.append(text).append("\" ").append(why);
    return fail(ErrorCode::invalid_argument, std::move(message));
}

} // namespace

Expected<Network> parse_network(std::string_view text) {
    const auto slash = text.find('/');
    boost::system::error_code ec;
    const auto a = ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec)
        return invalid(text, "is not an address or network");
    Network n{unmapped(a), a.is_v4() ? 32u : 128u};
    if (slash != std::string_view::npos) {
        const auto bits = text.substr(slash + 1);
        unsigned p = 0;
        const auto [end, err] = std::from_chars(bits.data(), bits.data() + bits.size(), p);
        if (err != std::errc() || end != bits.data() + bits.size() || p > n.prefix)
            return invalid(text, "has an invalid prefix length");
        n.prefix = p;
    }
    return n;
}

Expected<std::vector<Network>> parse_networks(const std::vector<std::string>& texts) {
    std::vector<Network> out;
    for (const auto& t : texts) {
        auto n = parse_network(t);
        if (!n)
            return std::unexpected(n.error());
        out.push_back(*n);
    }
    return out;
}

std::optional<ForwardedHeader> forwarded_header_named(std::string_view name) {
    if (name == "x-forwarded-for")
        return ForwardedHeader::x_forwarded_for;
    if (name == "forwarded")
        return ForwardedHeader::forwarded;
    return std::nullopt;
}

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

/// The address of one Forwarded element ("for=1.2.3.4;proto=https"): its one for= parameter,
/// the name in any case. nullopt when it has none, more than one, or one that is no address.
std::optional<ip::address> forwarded_for(std::string_view element) {
    std::optional<std::string_view> value;
    for (auto pair : split(element, ';')) {
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || !equals_ignoring_case(trim(pair.substr(0, eq)), "for"))
            continue;
        if (value)
            return std::nullopt; // a parameter may occur once per element
        value = pair.substr(eq + 1);
    }
    return value ? header_address(*value) : std::nullopt;
}

} // namespace

ip::address client_address(const ip::address& peer, const boost::beast::http::fields& headers,
                           ForwardedHeader header, const std::vector<Network>& trusted) {
    const ip::address direct = unmapped(peer);
    if (!trusted_peer(direct, trusted))
        return direct;
    // Every field line of the header, in order, is one list (RFC 9110 section 5.3). A comma
    // splits it wherever it stands, inside quotes too: neither header has a legitimate comma
    // inside a value, and so a client's unbalanced quote cannot swallow a proxy's element.
    std::vector<std::optional<ip::address>> hops; // the nearest proxy's last
    // Field names compare case-insensitively in Beast.
    const auto [first, last] =
        headers.equal_range(header == ForwardedHeader::forwarded ? "Forwarded" : "X-Forwarded-For");
    for (auto line = first; line != last; ++line)
        for (auto element : split(line->value(), ',')) {
            if (trim(element).empty())
                continue; // an empty list element is no hop (RFC 9110 section 5.6.1)
            hops.push_back(header == ForwardedHeader::forwarded ? forwarded_for(element)
                                                                : header_address(element));
        }
    ip::address client = direct; // the last trusted address seen
    for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
        if (!*hop || !trusted_peer(**hop, trusted))
            return *hop ? **hop : client;
        client = **hop;
    }
    return client;
}

} // namespace mixi::server
