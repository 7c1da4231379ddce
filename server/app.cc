#include "server/app.h"

#include "server/handlers.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cxxabi.h>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <typeinfo>
#include <xapian/error.h>

namespace mixi::server {

namespace urls = boost::urls;
namespace json = boost::json;
namespace fs = std::filesystem;

std::string Params::get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
}

std::vector<std::string> Params::all(const std::string& name) const {
    std::vector<std::string> out;
    auto [lo, hi] = values.equal_range(name);
    for (auto it = lo; it != hi; ++it) {
        std::istringstream in(it->second);
        std::string part;
        while (std::getline(in, part, ','))
            if (!part.empty())
                out.push_back(part);
    }
    return out;
}

App::App(ServerConfig config, Metrics& metrics) : App(std::move(config), metrics, routes()) {}

App::App(ServerConfig config, Metrics& metrics, std::vector<Route> routes)
    : config_(std::move(config)), metrics_(metrics), routes_(std::move(routes)),
      forwarded_header_(forwarded_header_named(config_.forwarded_header)
                            .value_or(ForwardedHeader::x_forwarded_for)),
      limiter_(config_.limits.rate_per_second, config_.limits.rate_burst) {}

App::~App() {
    finish_blocking_work();
}

void App::finish_blocking_work() {
    blocking_.join();
}

Response App::json(const Request& request, http::status status, std::string body) const {
    Response res{status, request.version()};
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(request.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response App::error(const Request& request, ApiError kind, std::string_view message) const {
    const HttpError& row = http_error(kind);
    json::object err;
    err["code"] = row.code;
    err["message"] = message.empty() ? row.message : message;
    json::object body;
    body["error"] = std::move(err);
    return json(request, row.status, json::serialize(body));
}

Expected<query::Searcher*> App::searcher() {
    struct PerThread {
        const App* owner = nullptr;
        std::optional<query::Searcher> searcher;
        std::chrono::steady_clock::time_point checked;
        std::uint64_t changes = 0; ///< index_changes_ when last checked
    };
    thread_local PerThread mine;
    const auto now = std::chrono::steady_clock::now();
    if (mine.owner != this || !mine.searcher) {
        const query::SearchOptions options = search_options(config_);
        auto opened = config_.shards.empty()
                          ? query::Searcher::open(config_.index, options)
                          : query::Searcher::open_shards(config_.shards, options);
        if (!opened)
            return std::unexpected(opened.error());
        mine.owner = this;
        mine.searcher.emplace(std::move(*opened));
        mine.checked = now;
        mine.changes = index_changes_.load();
    } else if (now - mine.checked >= config_.reopen_interval ||
               mine.changes != index_changes_.load()) {
        mine.checked = now;
        mine.changes = index_changes_.load();
        auto changed = mine.searcher->reopen();
        if (!changed) {
            mine.searcher.reset(); // try a fresh open next time
            return std::unexpected(changed.error());
        }
        if (*changed)
            metrics_.reopened();
    }
    metrics_.index_seen(mine.searcher->document_count(), mine.searcher->revision());
    return &*mine.searcher;
}

std::string App::route_name(const Request& request) const {
    auto url = urls::parse_origin_form(request.target());
    return url ? name_of(request.method(), url->path()) : "unknown";
}

namespace {

/// Whether `path` fits `pattern`, where a segment "{name}" matches any one non-empty segment
/// (captured into `captures` when given).
bool match_path(std::string_view pattern, std::string_view path,
                std::multimap<std::string, std::string>* captures = nullptr) {
    if (pattern.find('{') == std::string_view::npos)
        return pattern == path;
    while (!pattern.empty() && !path.empty()) {
        const auto p_end = pattern.find('/', 1), s_end = path.find('/', 1);
        const std::string_view p = pattern.substr(0, p_end), seg = path.substr(0, s_end);
        if (p.size() > 3 && p.substr(0, 2) == "/{" && p.back() == '}') {
            if (seg.size() < 2)
                return false;
            if (captures)
                captures->emplace(std::string(p.substr(2, p.size() - 3)),
                                  std::string(seg.substr(1)));
        } else if (p != seg) {
            return false;
        }
        pattern.remove_prefix(p.size());
        path.remove_prefix(seg.size());
    }
    return pattern.empty() && path.empty();
}

} // namespace

std::string App::name_of(http::verb method, std::string_view path) const {
    for (const auto& r : routes_)
        if (match_path(r.path, path))
            return r.path;
    return method == http::verb::get || method == http::verb::head ? "static" : "unknown";
}

namespace {

/// The readable name of an exception's type ("std::bad_alloc").
std::string type_name(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? name.get() : type.name();
}

} // namespace

template <class F>
Response App::guarded(const Request& request, const std::string& route_name, F&& answer) {
    // Only the route and the exception's type are logged: an exception's message may carry what
    // the user typed.
    std::string type;
    try {
        return answer();
    } catch (const Xapian::Error& e) {
        type = "Xapian::" + std::string(e.get_type());
    } catch (const std::exception& e) {
        type = type_name(typeid(e));
    } catch (...) {
        type = "an exception of unknown type";
    }
    metrics_.handler_exception();
    std::clog << "mixi-search: error: " + route_name + " threw " + type + "; answered 500\n";
    return error(request, ApiError::internal);
}

Response App::handle(const Request& request, std::string& route_name,
                     const boost::asio::ip::address& peer) {
    route_name = "unknown";
    Response res = guarded(request, route_name, [&] {
        Routed routed = route(request, route_name, peer);
        return routed.route ? call(request, routed, peer) : std::move(routed.refusal);
    });
    decorate(request, res);
    return res;
}

void App::handle_async(Request request, const boost::asio::ip::address& peer, Done done) {
    std::string route_name = "unknown";
    std::optional<Routed> routed;
    Response res = guarded(request, route_name, [&] {
        routed.emplace(route(request, route_name, peer));
        if (!routed->route)
            return std::move(routed->refusal);
        if (routed->route->work == Work::blocking)
            return Response{};
        return call(request, *routed, peer);
    });
    if (routed && routed->route && routed->route->work == Work::blocking) {
        // The request, its parameters and the callback move to the worker: nothing refers to
        // the caller's stack once this returns.
        boost::asio::post(
            blocking_, [this, request = std::move(request), routed = std::move(*routed), peer,
                        route_name = std::move(route_name), done = std::move(done)]() mutable {
                Response res =
                    guarded(request, route_name, [&] { return call(request, routed, peer); });
                decorate(request, res);
                done(std::move(res), std::move(route_name));
            });
        return;
    }
    decorate(request, res);
    done(std::move(res), std::move(route_name));
}

Response App::call(const Request& request, Routed& routed, const boost::asio::ip::address& peer) {
    Context ctx{request, routed.params, *this, peer};
    Response res = routed.route->handler(ctx);
    if (routed.head_as_get)
        res.body().clear(); // keeps Content-Length of the GET answer
    return res;
}

void App::decorate(const Request& request, Response& res) const {
    res.set(http::field::server, "mixi-search");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    const auto origin = request[http::field::origin];
    if (origin.empty())
        return;
    res.set(http::field::vary, "Origin");
    if (std::find(config_.cors_origins.begin(), config_.cors_origins.end(), origin) !=
        config_.cors_origins.end())
        res.set(http::field::access_control_allow_origin, origin);
}

boost::asio::ip::address App::client_of(const Context& ctx) const {
    return client_address(ctx.peer, ctx.request, forwarded_header_, services_.trusted_proxies);
}

std::string App::region_of(const Context& ctx) const {
    if (!services_.geoip)
        return "ZZ";
    return services_.geoip->region(client_of(ctx), services_.level);
}

App::Routed App::route(const Request& request, std::string& route_name,
                       const boost::asio::ip::address& peer) {
    const auto refuse = [](Response res) {
        Routed refused;
        refused.refusal = std::move(res);
        return refused;
    };
    const auto target = request.target();
    if (target.size() > config_.limits.target_bytes)
        return refuse(error(request, ApiError::uri_too_long,
                            "the request target is longer than " +
                                std::to_string(config_.limits.target_bytes) + " bytes"));
    auto url = urls::parse_origin_form(target);
    if (!url)
        return refuse(error(request, ApiError::bad_request,
                            "the request target is not a valid URL path and query"));
    const std::string path = url->path();
    route_name = name_of(request.method(), path);

    if (request.method() == http::verb::options) {
        std::string methods = "GET, HEAD, OPTIONS";
        for (const Route& r : routes_)
            if (match_path(r.path, path) && r.verb != http::verb::get)
                methods = std::string(http::to_string(r.verb)) + ", OPTIONS";
        Response res{http::status::no_content, request.version()};
        res.keep_alive(request.keep_alive());
        res.set(http::field::allow, methods);
        if (!request[http::field::origin].empty()) {
            res.set(http::field::access_control_allow_methods, methods);
            res.set(http::field::access_control_allow_headers, "Content-Type, Authorization");
            res.set(http::field::access_control_max_age, "600");
        }
        return refuse(std::move(res));
    }

    std::string allowed;
    for (const Route& r : routes_) {
        if (!match_path(r.path, path))
            continue;
        const bool head_as_get = request.method() == http::verb::head && r.verb == http::verb::get;
        if (r.verb != request.method() && !head_as_get) {
            allowed += (allowed.empty() ? "" : ", ") + std::string(http::to_string(r.verb));
            if (r.verb == http::verb::get)
                allowed += ", HEAD";
            continue;
        }
        Routed routed;
        Params& params = routed.params;
        for (const auto& p : url->params(urls::encoding_opts{true})) {
            if (std::find(r.params.begin(), r.params.end(), p.key) == r.params.end())
                return refuse(error(request, ApiError::unknown_parameter,
                                    "unknown parameter \"" + p.key + "\" for " + r.path));
            if (params.values.contains(p.key) &&
                std::find(r.repeatable.begin(), r.repeatable.end(), p.key) == r.repeatable.end())
                return refuse(error(request, ApiError::invalid_argument,
                                    "parameter \"" + p.key + "\" is given more than once"));
            params.values.emplace(p.key, p.has_value ? p.value : "");
        }
        match_path(r.path, path, &params.values); // "{id}" segments, after the checks above
        // The public API is rate-limited per client, an IPv6 client by its /64 (monitoring and
        // the admin API are not).
        if (r.path.starts_with("/v1/") && !r.path.starts_with("/v1/admin/"))
            if (auto wait =
                    limiter_.take(client_key(client_of(Context{request, params, *this, peer})))) {
                auto res = error(request, ApiError::rate_limited);
                res.set(http::field::retry_after, std::to_string(*wait));
                return refuse(std::move(res));
            }
        routed.route = &r;
        routed.head_as_get = head_as_get;
        return routed;
    }
    if (!allowed.empty()) {
        auto res = error(request, ApiError::method_not_allowed,
                         std::string(request.method_string()) + " is not allowed on " + path);
        res.set(http::field::allow, allowed);
        return refuse(std::move(res));
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
        auto res = error(request, ApiError::method_not_allowed,
                         "only GET and HEAD are allowed on static files");
        res.set(http::field::allow, "GET, HEAD");
        return refuse(std::move(res));
    }
    return refuse(serve_static(request, path));
}

namespace {

std::string_view content_type(const fs::path& file) {
    const std::string ext = file.extension().string();
    if (ext == ".html")
        return "text/html; charset=utf-8";
    if (ext == ".css")
        return "text/css; charset=utf-8";
    if (ext == ".js")
        return "text/javascript; charset=utf-8";
    if (ext == ".json")
        return "application/json";
    if (ext == ".svg")
        return "image/svg+xml";
    if (ext == ".png")
        return "image/png";
    if (ext == ".ico")
        return "image/x-icon";
    if (ext == ".xml")
        return "application/opensearchdescription+xml";
    if (ext == ".txt")
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

} // namespace

Response App::serve_static(const Request& request, std::string_view path) {
    auto not_found = [&] { return error(request, ApiError::not_found); };
    // Only plain relative segments: no "..", no hidden files, no NUL or backslash.
    std::string relative;
    std::istringstream segments{std::string(path)};
    std::string segment;
    while (std::getline(segments, segment, '/')) {
        if (segment.empty())
            continue;
        if (segment[0] == '.' || segment.find('\\') != std::string::npos ||
            segment.find('\0') != std::string::npos)
            return not_found();
        relative += (relative.empty() ? "" : "/") + segment;
    }
    std::error_code ec;
    const fs::path root = fs::canonical(config_.web_root, ec);
    if (ec)
        return not_found();
    fs::path file = root / relative;
    if (fs::is_directory(file, ec))
        file /= "index.html";
    else if (!file.has_extension() && fs::is_regular_file(fs::path(file) += ".html", ec))
        file += ".html"; // /reports is reports.html
    // Symbolic links must not lead out of the web root either.
    const fs::path real = fs::canonical(file, ec);
    if (ec || !fs::is_regular_file(real, ec))
        return not_found();
    const auto [mismatch, _] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
    if (mismatch != root.end())
        return not_found();
    std::ifstream in(real, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    Response res{http::status::ok, request.version()};
    res.set(http::field::content_type, content_type(real));
    res.set(http::field::cache_control, "no-cache");
    if (real.extension() == ".html")
        res.set("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    res.keep_alive(request.keep_alive());
    res.body() = bytes.str();
    res.prepare_payload();
    if (request.method() == http::verb::head)
        res.body().clear();
    return res;
}

} // namespace mixi::server
