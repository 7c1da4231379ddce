#include "server/client_address.h"
#include "server/geoip.h"

#include <gtest/gtest.h>

namespace mixi::server {
namespace {

namespace fs = std::filesystem;
using boost::asio::ip::make_address;

const fs::path fixtures = fs::path(MIXI_SOURCE_DIR) / "tests/fixtures/geoip";

TEST(GeoIp, CountriesAndContinentsOfIPv4AndIPv6Addresses) {
    auto db = GeoIp::open(fixtures / "GeoIP2-Country-Test.mmdb");
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(db->region(make_address("2001:218::1"), RegionLevel::country), "JP");
    EXPECT_EQ(db->region(make_address("2001:218::1"), RegionLevel::continent), "AS");
    EXPECT_EQ(db->region(make_address("81.2.69.142"), RegionLevel::country), "GB");
    EXPECT_EQ(db->region(make_address("81.2.69.142"), RegionLevel::continent), "EU");
    EXPECT_EQ(db->region(make_address("216.160.83.56"), RegionLevel::country), "US");
    // The same IPv4 address seen through an IPv6 socket.
    EXPECT_EQ(db->region(make_address("::ffff:81.2.69.142"), RegionLevel::country), "GB");
    // Not in the database: unknown, never a guess.
    EXPECT_EQ(db->region(make_address("127.0.0.1"), RegionLevel::country), "ZZ");
    EXPECT_EQ(db->region(make_address("::1"), RegionLevel::continent), "ZZ");
}

TEST(GeoIp, CityDatabasesAnswerWithTheCountryOnly) {
    auto db = GeoIp::open(fixtures / "GeoIP2-City-Test.mmdb");
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(db->region(make_address("81.2.69.142"), RegionLevel::country), "GB");
}

TEST(GeoIp, MissingFileIsAClearError) {
    auto db = GeoIp::open(fixtures / "absent.mmdb");
    ASSERT_FALSE(db);
    EXPECT_NE(db.error().message.find("absent.mmdb"), std::string::npos) << db.error().message;
}

TEST(GeoIp, BrokenDatabasesFailToOpenOrAnswerZZButNeverCrash) {
    std::size_t refused = 0, files = 0;
    for (const auto& entry : fs::directory_iterator(fixtures / "bad")) {
        ++files;
        auto db = GeoIp::open(entry.path());
        if (!db) {
            ++refused;
            EXPECT_NE(db.error().message.find(entry.path().filename().string()), std::string::npos)
                << db.error().message;
            continue;
        }
        // Opened: every lookup still gives a well-formed code.
        for (const char* a : {"1.1.1.1", "81.2.69.142", "2001:218::1", "::1", "255.255.255.255"})
            for (auto level : {RegionLevel::country, RegionLevel::continent}) {
                const std::string r = db->region(make_address(a), level);
                EXPECT_EQ(r.size(), 2u) << entry.path() << " " << a;
            }
    }
    EXPECT_GE(files, 20u);
    EXPECT_GE(refused, files / 2) << "most broken databases should be refused at start-up";
}

TEST(ClientAddress, NetworksAndPrefixes) {
    auto n = parse_network("10.0.0.0/8");
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->contains(make_address("10.200.3.4")));
    EXPECT_FALSE(n->contains(make_address("11.0.0.1")));
    EXPECT_FALSE(n->contains(make_address("::1")));
    auto one = parse_network("::1");
    ASSERT_TRUE(one);
    EXPECT_TRUE(one->contains(make_address("::1")));
    EXPECT_FALSE(one->contains(make_address("::2")));
    auto v6 = parse_network("2001:db8::/33");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->contains(make_address("2001:db8:7fff::1")));
    EXPECT_FALSE(v6->contains(make_address("2001:db8:8000::1")));
    EXPECT_FALSE(parse_network("10.0.0.0/33"));
    EXPECT_FALSE(parse_network("example.org"));
    EXPECT_FALSE(parse_network("10.0.0.0/x"));
}

/// The client `client_address` finds in a request with one line of `header`.
std::string client_with(const boost::asio::ip::address& peer, ForwardedHeader header,
                        const std::string& value, const std::vector<Network>& trusted) {
    boost::beast::http::fields fields;
    if (!value.empty())
        fields.insert(header == ForwardedHeader::forwarded ? "Forwarded" : "X-Forwarded-For",
                      value);
    return client_address(peer, fields, header, trusted).to_string();
}

TEST(ClientAddress, ForwardedHeadersAreBelievedOnlyFromTrustedProxies) {
    const std::vector<Network> trusted = *parse_networks({"127.0.0.1", "10.0.0.0/8"});
    const auto proxy = make_address("127.0.0.1");
    const auto stranger = make_address("192.0.2.7");
    const auto xff = ForwardedHeader::x_forwarded_for;
    // A client that is not a proxy cannot claim another address.
    EXPECT_EQ(client_with(stranger, xff, "81.2.69.142", trusted), "192.0.2.7");
    // Through a trusted proxy: the rightmost address that is not a trusted proxy.
    EXPECT_EQ(client_with(proxy, xff, "81.2.69.142", trusted), "81.2.69.142");
    EXPECT_EQ(client_with(proxy, xff, "1.2.3.4, 81.2.69.142, 10.1.1.1", trusted), "81.2.69.142");
    EXPECT_EQ(client_with(proxy, xff, "[2001:218::1]:443", trusted), "2001:218::1");
    EXPECT_EQ(client_with(proxy, xff, "81.2.69.142:5555", trusted), "81.2.69.142");
    EXPECT_EQ(client_with(proxy, xff, "::ffff:81.2.69.142", trusted), "81.2.69.142");
    // Every hop a trusted proxy: the leftmost.
    EXPECT_EQ(client_with(proxy, xff, "10.0.0.1, 10.0.0.2", trusted), "10.0.0.1");
    // RFC 7239 Forwarded, when the proxies are configured to write it.
    EXPECT_EQ(client_with(proxy, ForwardedHeader::forwarded,
                          "for=192.0.2.60;proto=http, for=\"[2001:218::1]:80\"", trusted),
              "2001:218::1");
    // Garbage names no client: the proxy itself is the client.
    EXPECT_EQ(client_with(proxy, xff, "not-an-address", trusted), "127.0.0.1");
    EXPECT_EQ(client_with(proxy, xff, "[2001:218::1]x", trusted), "127.0.0.1");
    EXPECT_EQ(client_with(proxy, xff, "[81.2.69.142]", trusted), "127.0.0.1");
    EXPECT_EQ(client_with(proxy, xff, "\"81.2.69.142", trusted), "127.0.0.1");
    EXPECT_EQ(client_with(proxy, xff, "", trusted), "127.0.0.1");
}

TEST(ClientAddress, HeaderSettingNames) {
    EXPECT_EQ(forwarded_header_named("x-forwarded-for"), ForwardedHeader::x_forwarded_for);
    EXPECT_EQ(forwarded_header_named("forwarded"), ForwardedHeader::forwarded);
    EXPECT_FALSE(forwarded_header_named("X-Real-IP"));
}

} // namespace
} // namespace mixi::server
