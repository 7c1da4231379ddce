// The HTTP application: a routing table of (verb, path) -> handler, error mapping, CORS and
// static files. Knows nothing about sockets: `handle` takes a request and returns a response,
// so it runs the same under the server and in tests.
#pragma once

#include "common/error.h"
#include "query/searcher.h"
#include "server/client_address.h"
#include "server/geoip.h"
#include "server/metrics.h"
#include "server/options.h"
#include "server/rate_limit.h"

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mixi::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// The decoded query parameters of a request; each name at most once unless repeatable.
struct Params {
    std::multimap<std::string, std::string> values;
    /// The single value of `name`, or `fallback`.
    std::string get(const std::string& name, const std::string& fallback = "") const;
    /// Every value of `name`, comma-separated values split.
    std::vector<std::string> all(const std::string& name) const;
};

class App;

/// What a handler sees: the request, its parameters, the application, and the address the
/// request came from (for the region lookup only; never stored or logged).
struct Context {
    const Request& request;
    const Params& params;
    App& app;
    boost::asio::ip::address peer;
};

class AnalyticsService;

/// What the application uses besides the index; attached once, before serving.
struct Services {
    const GeoIp* geoip = nullptr; ///< none: every region is "ZZ"
    RegionLevel level = RegionLevel::country;
    std::vector<Network> trusted_proxies;
    AnalyticsService* analytics = nullptr; ///< none: /v1/views answers 503, no views, no log
};

using Handler = std::function<Response(Context&)>;

struct Route {
    http::verb verb;
    std::string path;
    std::vector<std::string> params;     ///< the parameters the route accepts; others are 400
    std::vector<std::string> repeatable; ///< those of them that may be given more than once
    Handler handler;
};

class App {
  public:
    App(ServerConfig config, Metrics& metrics);

    /// Answers one request and names its route for logs and metrics: the matched path,
    /// "static", or "unknown", never the raw target, so nothing a user typed reaches a log.
    /// Never throws.
    Response handle(const Request& request, std::string& route_name,
                    const boost::asio::ip::address& peer = {});

    void attach(Services services) { services_ = std::move(services); }
    const Services& services() const { return services_; }
    /// The client of a request: the peer, or the client a trusted proxy names. For the region
    /// lookup and the daily searcher key only; never stored.
    boost::asio::ip::address client_of(const Context& ctx) const;
    std::string region_of(const Context& ctx) const;

    /// The route name of a request that is not handled (refused before routing).
    std::string route_name(const Request& request) const;

    /// This thread's searcher, reopened when the index changed (checked at most every
    /// `reopen_interval`, and at once after index_changed()). Xapian objects take no locks, so
    /// each thread has its own.
    Expected<query::Searcher*> searcher();
    /// This server changed the index (an admin deletion): every thread reopens before its next
    /// search.
    void index_changed() { index_changes_.fetch_add(1); }

    const ServerConfig& config() const { return config_; }
    Metrics& metrics() { return metrics_; }

    /// A JSON error body {"error":{"code","message"}} with `status`.
    Response error(const Request& request, http::status status, std::string_view code,
                   std::string_view message) const;
    /// The status an error from a library maps to.
    static http::status status_of(ErrorCode code);
    /// Adds the headers every response carries (CORS, nosniff, no referrer, server).
    void decorate(const Request& request, Response& response) const;
    /// A JSON response.
    Response json(const Request& request, http::status status, std::string body) const;

  private:
    Response route(const Request& request, std::string& route_name,
                   const boost::asio::ip::address& peer);
    std::string name_of(http::verb method, std::string_view path) const;
    Response serve_static(const Request& request, std::string_view path);

    ServerConfig config_;
    Metrics& metrics_;
    std::vector<Route> routes_;
    Services services_;
    std::atomic<std::uint64_t> index_changes_{0};
    RateLimiter limiter_;
};

} // namespace mixi::server
