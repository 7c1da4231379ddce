// Who is asking: the peer address, or the client a trusted proxy names in X-Forwarded-For or
// Forwarded. Used only to look up a region; never stored.
#pragma once

#include "common/error.h"

#include <boost/asio/ip/address.hpp>
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

/// The client of a request that came from `peer`. When `peer` is a trusted proxy, the
/// rightmost address in `forwarded_for` (X-Forwarded-For), or else in `forwarded`
/// (RFC 7239 for=), that is not itself a trusted proxy; otherwise `peer`. Malformed headers
/// are ignored.
boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                        std::string_view forwarded_for, std::string_view forwarded,
                                        const std::vector<Network>& trusted);

} // namespace mixi::server
