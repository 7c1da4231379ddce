#include "server/client_address.h"

#include <algorithm>
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

/// An address as headers write it: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1",
/// "[2001:db8::1]:443", optionally double-quoted (Forwarded).
std::optional<ip::address> header_address(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
        s = s.substr(1, s.size() - 2);
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        s = s.substr(1, close - 1);
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
        s = s.substr(0, s.find(':')); // IPv4 with a port
    }
    boost::system::error_code ec;
    const auto a = ip::make_address(std::string(s), ec);
    if (ec)
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

ip::address client_address(const ip::address& peer, std::string_view forwarded_for,
                           std::string_view forwarded, const std::vector<Network>& trusted) {
    const ip::address direct = unmapped(peer);
    if (!trusted_peer(direct, trusted))
        return direct;
    std::vector<ip::address> chain; // nearest proxy last
    if (!forwarded_for.empty()) {
        for (auto part : split(forwarded_for, ','))
            if (auto a = header_address(part))
                chain.push_back(*a);
    } else if (!forwarded.empty()) {
        for (auto element : split(forwarded, ','))
            for (auto pair : split(element, ';')) {
                pair = trim(pair);
                if (pair.size() > 4 && (pair.substr(0, 4) == "for=" || pair.substr(0, 4) == "For="))
                    if (auto a = header_address(pair.substr(4)))
                        chain.push_back(*a);
            }
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        if (!trusted_peer(*it, trusted))
            return *it;
    return chain.empty() ? direct : chain.front();
}

} // namespace mixi::server
