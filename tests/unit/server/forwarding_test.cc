// Who the client is behind trusted proxies, from the side of a client that writes forwarding
// headers of its own: App::client_of over requests as the client and the proxies wrote them
// together, with the configuration loaded as `serve` loads it.
#include "config/config.h"
#include "server/app.h"

#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mixi::server {
namespace {

using boost::asio::ip::make_address;
using Headers = std::vector<std::pair<std::string, std::string>>;

/// An App trusting the proxies 127.0.0.1 and 10.0.0.0/8, configured with `sets` on top.
class Forwarding : public ::testing::Test {
  protected:
    void configure(std::vector<std::pair<std::string, std::string>> sets = {}) {
        sets.insert(sets.begin(), {"server.trusted_proxies", "127.0.0.1,10.0.0.0/8"});
        config::Sources sources;
        sources.overrides = std::move(sets);
        auto config = config::load(sources);
        ASSERT_TRUE(config) << config.error().message;
        Services services;
        auto trusted = parse_networks(config->trusted_proxies);
        ASSERT_TRUE(trusted);
        services.trusted_proxies = std::move(*trusted);
        app_.emplace(std::move(*config), metrics_, std::vector<Route>{});
        app_->attach(std::move(services));
    }

    /// The client of a request with `headers` (each a field line, in order) from `peer`.
    std::string client(const Headers& headers, const std::string& peer = "127.0.0.1") {
        Request request{http::verb::get, "/v1/search?q=x", 11};
        for (const auto& [name, value] : headers)
            request.insert(name, value);
        const Params params;
        return app_->client_of(Context{request, params, *app_, make_address(peer)}).to_string();
    }

    Metrics metrics_;
    std::optional<App> app_;
};

TEST_F(Forwarding, EveryFieldLineOfTheHeaderIsOneList) {
    ASSERT_NO_FATAL_FAILURE(configure());
    // A proxy that adds its own line instead of appending to the client's (HAProxy's option
    // forwardfor): the client's line comes first, the proxy's last.
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66"}, {"X-Forwarded-For", "81.2.69.142"}}),
              "81.2.69.142");
    // A chain over several lines, a trusted proxy in the last one.
    EXPECT_EQ(
        client({{"X-Forwarded-For", "203.0.113.66"}, {"x-forwarded-for", "81.2.69.142, 10.0.0.2"}}),
        "81.2.69.142");
}

TEST_F(Forwarding, OnlyTheConfiguredHeaderIsRead) {
    // The default: X-Forwarded-For, as nginx's $proxy_add_x_forwarded_for writes it. A Forwarded
    // header is the client's own, with or without an X-Forwarded-For beside it.
    ASSERT_NO_FATAL_FAILURE(configure());
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66"}}), "127.0.0.1");
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66"}, {"X-Forwarded-For", "81.2.69.142"}}),
              "81.2.69.142");
    // A proxy that writes Forwarded: an X-Forwarded-For is the client's own.
    ASSERT_NO_FATAL_FAILURE(configure({{"server.forwarded_header", "forwarded"}}));
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66"}, {"Forwarded", "for=81.2.69.142"}}),
              "81.2.69.142");
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66"}}), "127.0.0.1");
    // Peers that are not trusted proxies are their own clients, whatever they send.
    EXPECT_EQ(client({{"Forwarded", "for=81.2.69.142"}}, "192.0.2.7"), "192.0.2.7");
}

TEST_F(Forwarding, AHopThatIsNoAddressStopsTheWalk) {
    ASSERT_NO_FATAL_FAILURE(configure());
    // "unknown" from the proxy 10.0.0.2: what is left of it is the client's own writing.
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66, unknown, 10.0.0.2"}}), "10.0.0.2");
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66, unknown"}}), "127.0.0.1");
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66, _hidden"}}), "127.0.0.1");
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66, not-an-address"}}), "127.0.0.1");
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66, 81.2.69.142:http"}}), "127.0.0.1");
    EXPECT_EQ(client({{"X-Forwarded-For", "203.0.113.66"}, {"X-Forwarded-For", "unknown"}}),
              "127.0.0.1");
    ASSERT_NO_FATAL_FAILURE(configure({{"server.forwarded_header", "forwarded"}}));
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66, for=unknown"}}), "127.0.0.1");
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66, for=\"_gazonk\";by=10.0.0.2"}}),
              "127.0.0.1");
    // An element without a for= is a hop that names no client.
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66, proto=https, for=10.0.0.3"}}), "10.0.0.3");
    // Two for= in one element are not believed either.
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66;for=81.2.69.142"}}), "127.0.0.1");
}

TEST_F(Forwarding, ForwardedParameterNamesInAnyCaseAndQuotedAddresses) {
    ASSERT_NO_FATAL_FAILURE(configure({{"server.forwarded_header", "forwarded"}}));
    EXPECT_EQ(client({{"Forwarded", "FOR=81.2.69.142"}}), "81.2.69.142");
    EXPECT_EQ(client({{"Forwarded", "proto=https;For=81.2.69.142;by=10.0.0.2"}}), "81.2.69.142");
    // Otherwise the client's own element, further left, would be taken for the proxy's.
    EXPECT_EQ(client({{"Forwarded", "for=203.0.113.66, FOR=81.2.69.142"}}), "81.2.69.142");
    EXPECT_EQ(client({{"Forwarded", "for=\"[2001:db8::1]:4711\""}}), "2001:db8::1");
    EXPECT_EQ(client({{"Forwarded", "for=\"[2001:db8::1]\";proto=https"}}), "2001:db8::1");
    EXPECT_EQ(client({{"Forwarded", "for=\"81.2.69.142:4711\""}}), "81.2.69.142");
    // A quote the client leaves open does not swallow the proxy's element.
    EXPECT_EQ(client({{"Forwarded", "for=\"203.0.113.66, for=81.2.69.142"}}), "81.2.69.142");
}

TEST_F(Forwarding, TheHeaderSettingTakesOneOfTwoNames) {
    for (const char* name : {"x-forwarded-for", "forwarded"}) {
        config::Sources sources;
        sources.overrides = {{"server.forwarded_header", name}};
        auto config = config::load(sources);
        ASSERT_TRUE(config) << config.error().message;
        const std::string toml = config::to_toml(*config);
        EXPECT_NE(toml.find("forwarded_header = '" + std::string(name) + "'"), std::string::npos)
            << toml;
    }
    for (const char* name : {"X-Real-IP", "both", ""}) {
        config::Sources sources;
        sources.overrides = {{"server.forwarded_header", name}};
        auto config = config::load(sources);
        ASSERT_FALSE(config) << name;
        EXPECT_NE(config.error().message.find("server.forwarded_header"), std::string::npos);
    }
}

} // namespace
} // namespace mixi::server
