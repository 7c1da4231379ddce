// Per-client token buckets for the public endpoints, in memory only: a client address is a key
// here for as long as its bucket is not full again, and is never written anywhere.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace mixi::server {

/// Who counts as one client for the rate limit and the connection cap: an IPv4 address, or the
/// /64 network of an IPv6 address ("2001:db8:1:2::/64"), since a host is usually given a whole
/// /64 and can rotate through it at will. An IPv4-mapped IPv6 address is its IPv4 address.
std::string client_key(const boost::asio::ip::address& address);

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    /// `rate` requests per second on average, bursts of up to `burst`; rate 0 turns it off.
    RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

    /// Takes one token for `client`: nullopt when allowed, else the seconds to wait.
    std::optional<int> take(const std::string& client, Clock::time_point now = Clock::now());
    /// Returns the token a take() for `client` took, for an attempt that turned out not to
    /// count (the admin key was right): only failures use up the bucket.
    void give_back(const std::string& client);

  private:
    struct Bucket {
        double tokens;
        Clock::time_point last;
    };
    double rate_, burst_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    Clock::time_point last_sweep_{};
};

} // namespace mixi::server
