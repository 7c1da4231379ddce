// Who is asking: the peer address, or the client a trusted proxy names in the forwarding header
// it is configured to write (X-Forwarded-For or Forwarded). Used only in memory; never stored.
#pragma once

#include "common/error.h"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mixi::server {

/// An address or a CIDR network ("10.0.0.0/8", "::1").
struct Network {
    boost::asio::ip::address address;
    unsigned prefix = 0;
    bool contains(const boost::asio::ip::address& a) const;
};

Expected<Network> parse_network(std::string_view text);
Expected<std::vector<Network>> parse_networks(const std::vector<std::string>& texts);

/// The header the trusted proxies write (server.forwarded_header); the other one is never read.
enum class ForwardedHeader {
    x_forwarded_for, ///< X-Forwarded-For: 203.0.113.7, 10.0.0.2
    forwarded,       ///< RFC 7239 Forwarded: for=203.0.113.7;proto=https, for=10.0.0.2
};

/// The header of a setting's value, "x-forwarded-for" or "forwarded" (nullopt for others).
std::optional<ForwardedHeader> forwarded_header_named(std::string_view name);

/// The client of a request that came from `peer` with `headers`. From a peer that is not a
/// trusted proxy, the peer itself. From a trusted proxy, the hops of `header` (every field line
/// of it, in order, as one list) are walked from the right, the proxy nearest this server
/// writing the last one: the first hop that is not itself a trusted proxy is the client. A hop
/// that is not an address ("unknown", an obfuscated "_name", garbage, a Forwarded element
/// without one for=) stops the walk: what is left of it was written by someone no trusted proxy
/// vouches for, so the client is the trusted proxy that wrote it (the last trusted address
/// seen, or the peer). When every hop is a trusted proxy, the leftmost is the client.
boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                        const boost::beast::http::fields& headers,
                                        ForwardedHeader header,
                                        const std::vector<Network>& trusted);

} // namespace mixi::server
