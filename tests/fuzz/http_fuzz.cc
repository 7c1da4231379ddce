// HTTP requests to the application (server/app.h) from arbitrary bytes: the bytes are parsed
// with the server's parser and limits, as a connection would deliver them (several pipelined
// requests allowed), and each request is answered by App::handle against a small index built
// from data/sample.ndjson, with GeoIP, the analytics service, an account secret and an admin
// key attached. Nothing crashes or hangs; no answer is a 500; the route name is never the raw
// target; the only cookie ever set is lang=.
#include "fuzz_util.h"
#include "indexer/index_writer.h"
#include "server/analytics_service.h"
#include "server/app.h"
#include "server/auth.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

using namespace mixi;
namespace fs = std::filesystem;
namespace http = boost::beast::http;

namespace {

const fs::path source_dir = MIXI_SOURCE_DIR;

struct World {
    fs::path dir;
    server::Metrics metrics;
    std::optional<server::GeoIp> geoip;
    std::unique_ptr<server::AnalyticsService> analytics;
    std::optional<server::App> app;
};

[[noreturn]] void die(const std::string& what) {
    std::cerr << "http_fuzz setup: " << what << "\n";
    std::exit(1);
}

// Built once and never destroyed: the analytics thread runs until the process ends.
World& world() {
    static World* w = [] {
        auto* w = new World;
        std::string templ = (fs::temp_directory_path() / "mixi-http-fuzz-XXXXXX").string();
        if (!mkdtemp(templ.data()))
            die("cannot make a temporary folder");
        w->dir = templ;
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(world().dir, ec);
        });
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(indexer::open_source(source_dir / "data/sample.ndjson"));
        if (auto built = indexer::build_index(w->dir / "index", std::move(sources), {}); !built)
            die(built.error().message);

        server::ServerConfig config;
        config.index = w->dir / "index";
        config.data_dir = w->dir / "var";
        config.web_root = source_dir / "web";
        config.access_log = false;
        config.cors_origins = {"https://example.com"};
        config.trusted_proxies = {"127.0.0.0/8"};
        config.auth.account_secret = "fuzz secret";
        config.auth.admin_keys = {"fuzz-admin-key"};
        config.limits.rate_per_second = 0;

        server::Services services;
        services.trusted_proxies = *server::parse_networks(config.trusted_proxies);
        auto geoip =
            server::GeoIp::open(source_dir / "tests/fixtures/geoip/GeoIP2-Country-Test.mmdb");
        if (!geoip)
            die(geoip.error().message);
        w->geoip.emplace(std::move(*geoip));
        services.geoip = &*w->geoip;
        server::AnalyticsOptions analytics;
        analytics.store = config.data_dir;
        analytics.index_dir = config.index;
        analytics.flush_interval = std::chrono::milliseconds(1000);
        auto started = server::AnalyticsService::start(std::move(analytics));
        if (!started)
            die(started.error().message);
        w->analytics = std::move(*started);
        services.analytics = w->analytics.get();
        w->app.emplace(std::move(config), w->metrics);
        w->app->attach(std::move(services));
        return w;
    }();
    return *w;
}

bool fixed_route_name(const std::string& name) {
    if (name == "static" || name == "unknown")
        return true;
    // A route's path pattern: "{id}" stands for what the user typed.
    return name.starts_with("/") && name.find('?') == std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)world();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World& w = world();
    const server::Limits limits;
    boost::beast::flat_buffer buffer;
    buffer.commit(boost::asio::buffer_copy(buffer.prepare(size), boost::asio::buffer(data, size)));
    const auto peer = boost::asio::ip::make_address("127.0.0.1");
    for (int requests = 0; requests < 8 && buffer.size() > 0; ++requests) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
        parser.body_limit(limits.body_bytes);
        boost::beast::error_code ec;
        while (buffer.size() > 0 && !parser.is_done()) {
            const std::size_t used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            if (ec == http::error::need_more)
                ec = {};
            if (ec || used == 0)
                break;
        }
        if (!parser.is_done()) {
            // The end of the input ends the stream: a body that runs to EOF is complete.
            if (!ec && buffer.size() == 0) {
                parser.put_eof(ec);
                if (ec || !parser.is_done())
                    return 0;
            } else {
                return 0;
            }
        }
        server::Request request = parser.release();
        std::string route;
        server::Response response = w.app->handle(request, route, peer);
        fuzz::check(fixed_route_name(route), "a route name that is not a fixed name");
        fuzz::check(response.result_int() >= 200 && response.result_int() < 600,
                    "an answer without a valid status");
        if (response.result() == http::status::internal_server_error) {
            std::cerr << request.method_string() << " " << request.target() << " -> "
                      << response.body() << "\n";
            fuzz::check(false, "an internal server error");
        }
        for (const auto& field : response.base())
            if (field.name() == http::field::set_cookie)
                fuzz::check(field.value().starts_with("lang="), "a cookie other than lang=");
        if (!request.keep_alive())
            break;
    }
    return 0;
}
