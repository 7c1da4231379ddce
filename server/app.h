// The HTTP application: a routing table of (verb, path) -> handler, error mapping, CORS and
// static files. Knows nothing about sockets: `handle` takes a request and returns a response,
// so it runs the same under the server and in tests. Routes that block (SQLite, a wait for the
// analytics flush, an index write) are marked `Work::blocking`; `handle_async` runs them on a
// small worker pool of the App's own and delivers their response from there, so an I/O thread
// never waits for them.
#pragma once

#include "common/error.h"
#include "query/searcher.h"
#include "server/client_address.h"
#include "server/errors.h"
#include "server/geoip.h"
#include "server/metrics.h"
#include "server/options.h"
#include "server/rate_limit.h"

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>
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

/// Where a route's handler runs under `App::handle_async`.
enum class Work {
    io,       ///< on the calling (I/O) thread: memory and the index only
    blocking, ///< on the App's worker pool: SQLite, waits for a flush, index writes
};

struct Route {
    http::verb verb;
    std::string path;
    std::vector<std::string> params;     ///< the parameters the route accepts; others are 400
    std::vector<std::string> repeatable; ///< those of them that may be given more than once
    Handler handler;
    Work work = Work::io;
};

class App {
  public:
    /// An App serving the routes of handlers.h.
    App(ServerConfig config, Metrics& metrics);
    /// An App serving `routes` instead.
    App(ServerConfig config, Metrics& metrics, std::vector<Route> routes);
    /// Waits for the worker pool's requests to finish.
    ~App();

    /// Answers one request and names its route for logs and metrics: the matched path,
    /// "static", or "unknown", never the raw target, so nothing a user typed reaches a log.
    /// Every route runs on the calling thread. Never throws: an exception from a handler
    /// (Xapian's included) is logged, counted in /metrics and answered 500 `internal`.
    Response handle(const Request& request, std::string& route_name,
                    const boost::asio::ip::address& peer = {});

    /// Called once with the response and the route name of a request.
    using Done = std::function<void(Response, std::string route_name)>;
    /// Answers like `handle`, but a `Work::blocking` route runs on the worker pool and `done`
    /// is called there; everything else (routing, refusals, the other routes) runs on the
    /// calling thread and `done` is called before this returns. Never throws.
    void handle_async(Request request, const boost::asio::ip::address& peer, Done done);
    /// Waits for the requests on the worker pool to be answered; none may be started after.
    void finish_blocking_work();

    void attach(Services services) { services_ = std::move(services); }
    const Services& services() const { return services_; }
    /// The client of a request: the peer, or the client a trusted proxy names in the header of
    /// server.forwarded_header (client_address). For the region lookup, the rate limit and the
    /// daily searcher key only; never stored.
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
    /// Wrong admin keys per client (client_key of client_of): admin_guesses_allowed at once,
    /// then one every admin_guess_refill_seconds. The admin gate takes a token before it compares
    /// the key and gives it back when the key was right.
    RateLimiter& admin_guesses() { return admin_guesses_; }
    static constexpr double admin_guesses_allowed = 10;
    static constexpr double admin_guess_refill_seconds = 60;

    /// A JSON error body {"error":{"code","message"}} with the code and status of `kind` (one
    /// row of server/errors.h), and `message`, or the row's default message when it is empty.
    Response error(const Request& request, ApiError kind, std::string_view message = {}) const;
    /// Adds the headers every response carries (CORS, nosniff, no referrer, server).
    void decorate(const Request& request, Response& response) const;
    /// A JSON response.
    Response json(const Request& request, http::status status, std::string body) const;

  private:
    /// A request matched to its route and parameters, or refused before any handler ran.
    struct Routed {
        const Route* route = nullptr; ///< null: `refusal` is the answer
        Params params;
        bool head_as_get = false;
        Response refusal;
    };
    Routed route(const Request& request, std::string& route_name,
                 const boost::asio::ip::address& peer);
    /// Runs the handler of a matched request.
    Response call(const Request& request, Routed& routed, const boost::asio::ip::address& peer);
    /// `answer()`, or a 500 when it throws (logged and counted).
    template <class F>
    Response guarded(const Request& request, const std::string& route_name, F&& answer);
    std::string name_of(http::verb method, std::string_view path) const;
    Response serve_static(const Request& request, std::string_view path);

    ServerConfig config_;
    Metrics& metrics_;
    std::vector<Route> routes_;
    Services services_;
    std::atomic<std::uint64_t> index_changes_{0};
    ForwardedHeader forwarded_header_; ///< server.forwarded_header (validated by the config)
    RateLimiter limiter_;
    RateLimiter admin_guesses_{1 / admin_guess_refill_seconds, admin_guesses_allowed};
    boost::asio::thread_pool blocking_{2}; ///< for Work::blocking routes; last, stopped first
};

} // namespace mixi::server
