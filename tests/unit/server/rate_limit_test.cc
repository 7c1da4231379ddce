#include "server/rate_limit.h"

#include <gtest/gtest.h>

namespace mixi::server {
namespace {

using boost::asio::ip::make_address;
using namespace std::chrono_literals;

TEST(ClientKey, AnIPv4AddressOrAnIPv6Slash64) {
    EXPECT_EQ(client_key(make_address("192.0.2.7")), "192.0.2.7");
    EXPECT_EQ(client_key(make_address("::ffff:192.0.2.7")), "192.0.2.7");
    EXPECT_EQ(client_key(make_address("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
    EXPECT_EQ(client_key(make_address("2001:db8:1:2::1")),
              client_key(make_address("2001:db8:1:2:ffff:ffff:ffff:ffff")));
    EXPECT_NE(client_key(make_address("2001:db8:1:2::1")),
              client_key(make_address("2001:db8:1:3::1")));
    EXPECT_EQ(client_key(make_address("::1")), "::/64");
    EXPECT_EQ(client_key(make_address("fe80::1%1")), "fe80::/64");
}

TEST(RateLimiter, BurstThenRefillPerKey) {
    RateLimiter limiter(1, 2);
    const auto t = RateLimiter::Clock::now();
    EXPECT_FALSE(limiter.take("a", t));
    EXPECT_FALSE(limiter.take("a", t));
    EXPECT_EQ(limiter.take("a", t), 1);
    EXPECT_FALSE(limiter.take("b", t)); // another client has its own bucket
    EXPECT_FALSE(limiter.take("a", t + 1s));
    RateLimiter off(0, 1);
    for (int i = 0; i < 10; ++i)
        EXPECT_FALSE(off.take("a", t));
}

} // namespace
} // namespace mixi::server
