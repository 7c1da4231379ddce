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

TEST(RateLimiter, AGivenBackTokenIsNotCountedAndTheBucketRefillsAtItsRate) {
    // What the admin gate uses: ten failures at once, then one a minute.
    RateLimiter limiter(1.0 / 60, 10);
    const auto t = RateLimiter::Clock::now();
    for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(limiter.take("a", t)) << i;
        limiter.give_back("a"); // a success
    }
    for (int i = 0; i < 10; ++i)
        EXPECT_FALSE(limiter.take("a", t)) << i;
    const auto wait = limiter.take("a", t);
    ASSERT_TRUE(wait);
    EXPECT_GE(*wait, 59);
    EXPECT_LE(*wait, 60);
    const auto half = limiter.take("a", t + 30s);
    ASSERT_TRUE(half);
    EXPECT_GE(*half, 29);
    EXPECT_LE(*half, 31);
    EXPECT_FALSE(limiter.take("a", t + 61s)); // one more a minute
    EXPECT_TRUE(limiter.take("a", t + 62s));
    limiter.give_back("nobody"); // no bucket: nothing to give back, nothing kept
    EXPECT_FALSE(limiter.take("b", t + 61s));
}

} // namespace
} // namespace mixi::server
