// The routes through App::handle, in memory: an App over a small index of data/sample.ndjson
// and a real analytics data folder, requests built with Beast and answered without a socket.
// What needs a socket (limits, timeouts, shutdown, the access log) is in tests/integration.
#include "../prometheus_text.h"
#include "../temp_dir.h"
#include "analytics/database.h"
#include "indexer/index_writer.h"
#include "server/analytics_service.h"
#include "server/app.h"
#include "server/errors.h"
#include "server/handlers.h"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <set>
#include <stdexcept>
#include <thread>
#include <xapian/error.h>

namespace mixi::server {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

const fs::path source_dir = MIXI_SOURCE_DIR;
const std::string admin_key = "admin-key-0123456789abcdef";

/// The index of data/sample.ndjson, built once for the whole program.
const fs::path& sample_index() {
    static testing::TempDir dir;
    static const bool built = [] {
        std::vector<std::unique_ptr<indexer::Source>> sources;
        sources.push_back(indexer::open_source(source_dir / "data/sample.ndjson"));
        auto report = indexer::build_index(dir.path() / "index", std::move(sources), {});
        if (!report)
            throw std::runtime_error("sample index: " + report.error().message);
        return true;
    }();
    (void)built;
    return dir.path();
}

ServerConfig config_in(const fs::path& data_dir) {
    ServerConfig config;
    config.index = sample_index() / "index";
    config.data_dir = data_dir;
    config.web_root = source_dir / "web";
    config.access_log = false;
    config.limits.rate_per_second = 0;
    config.auth.admin_keys = {admin_key};
    return config;
}

/// An App as the server runs it, with the analytics service, over its own data folder.
class AppTest : public ::testing::Test {
  protected:
    void SetUp() override { start(config_in(data_.path())); }

    void start(ServerConfig config, std::vector<Route> extra = {}) {
        app_.reset();
        AnalyticsOptions options;
        options.store = config.data_dir;
        options.index_dir = config.index;
        options.flush_interval = 60s; // stored by the admin routes' sync(), not by a timer
        auto started = AnalyticsService::start(std::move(options));
        ASSERT_TRUE(started) << started.error().message;
        analytics_ = std::move(*started);
        std::vector<Route> all = routes();
        all.insert(all.end(), extra.begin(), extra.end());
        app_.emplace(std::move(config), metrics_, std::move(all));
        Services services;
        services.analytics = analytics_.get();
        app_->attach(std::move(services));
    }

    Response handle(http::verb verb, std::string target, std::string authorization = "") {
        Request request{verb, target, 11};
        if (!authorization.empty())
            request.set(http::field::authorization, authorization);
        return app_->handle(request, route_);
    }
    Response get(std::string target, std::string authorization = "") {
        return handle(http::verb::get, std::move(target), std::move(authorization));
    }

    testing::TempDir data_;
    Metrics metrics_;
    std::unique_ptr<AnalyticsService> analytics_;
    std::optional<App> app_;
    std::string route_; ///< the route name of the last request
};

json::value body_of(const Response& res) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    EXPECT_FALSE(ec) << res.body();
    return v;
}

/// Checks that `res` is the JSON error `code` with `status`.
void expect_error(const Response& res, unsigned status, std::string_view code) {
    EXPECT_EQ(res.result_int(), status) << res.body();
    EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
    EXPECT_EQ(res[http::field::cache_control], "no-store");
    const json::value v = body_of(res);
    ASSERT_TRUE(v.is_object() && v.as_object().contains("error")) << res.body();
    EXPECT_EQ(v.at("error").at("code").as_string(), code) << res.body();
    EXPECT_FALSE(v.at("error").at("message").as_string().empty()) << res.body();
}

using testing::metric;

TEST(HttpErrors, EveryCodeIsDistinctAndAnErrorStatus) {
    std::set<std::string_view> codes;
    for (const HttpError& row : http_errors) {
        EXPECT_TRUE(codes.insert(row.code).second) << row.code;
        EXPECT_GE(static_cast<unsigned>(row.status), 400u) << row.code;
        EXPECT_LT(static_cast<unsigned>(row.status), 600u) << row.code;
        EXPECT_FALSE(row.message.empty()) << row.code;
    }
    // A library error answers with the code of the same name.
    for (ErrorCode code : {ErrorCode::invalid_argument, ErrorCode::invalid_query,
                           ErrorCode::invalid_input, ErrorCode::not_found, ErrorCode::index_locked,
                           ErrorCode::index_unavailable, ErrorCode::io_error, ErrorCode::internal})
        EXPECT_EQ(http_error(api_error(code)).code, to_string(code));
}

TEST_F(AppTest, HealthzReportsTheIndexWithTheCommonHeaders) {
    const Response res = get("/healthz");
    ASSERT_EQ(res.result_int(), 200u) << res.body();
    EXPECT_EQ(route_, "/healthz");
    EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
    EXPECT_EQ(res[http::field::server], "mixi-search");
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
    const json::value v = body_of(res);
    EXPECT_EQ(v.at("status").as_string(), "ok");
    EXPECT_EQ(v.at("index").at("documents").to_number<int>(), 37) << v;
    EXPECT_GE(v.at("index").at("revision").to_number<int>(), 1) << v;
}

TEST_F(AppTest, SearchFindsHits) {
    const Response res = get("/v1/search?q=photography&per_page=3");
    ASSERT_EQ(res.result_int(), 200u) << res.body();
    EXPECT_EQ(route_, "/v1/search");
    const json::value v = body_of(res);
    const auto& hits = v.at("hits").as_array();
    ASSERT_FALSE(hits.empty()) << v;
    EXPECT_LE(hits.size(), 3u);
    EXPECT_GE(v.at("total").to_number<std::uint64_t>(), hits.size()) << v;
    for (const auto& h : hits)
        EXPECT_FALSE(h.at("id").as_string().empty()) << h;
}

TEST_F(AppTest, SearchRefusesBadParameters) {
    expect_error(get("/v1/search"), 400, "missing_parameter");
    expect_error(get("/v1/search?q=photo&per_page=many"), 400, "invalid_argument");
    expect_error(get("/v1/search?q=photo&sort=size"), 400, "invalid_argument");
    expect_error(get("/v1/search?q=photo&prefix=maybe"), 400, "invalid_argument");
    expect_error(get("/v1/search?q=photo&page=1&page=2"), 400, "invalid_argument");
    expect_error(get("/v1/search?q=photo&colour=red"), 400, "unknown_parameter");
    expect_error(get("/v1/search?q=" + std::string(2000, 'a')), 414, "query_too_long");
}

TEST_F(AppTest, ExplainNeedsTheAdminKey) {
    // Anyone: no score parts, so no view counts.
    const json::value plain = body_of(get("/v1/search?q=photography"));
    ASSERT_FALSE(plain.at("hits").as_array().empty()) << plain;
    for (const auto& h : plain.at("hits").as_array())
        EXPECT_FALSE(h.as_object().contains("explain")) << h;
    // Asking for them without the admin key is refused as the admin API refuses.
    const Response anonymous = get("/v1/search?q=photography&explain=1");
    expect_error(anonymous, 401, "unauthorized");
    EXPECT_EQ(anonymous[http::field::www_authenticate], "Bearer");
    expect_error(get("/v1/search?q=photography&explain=1", "Bearer wrong-key-0123456789abcdef"),
                 403, "forbidden");
    // The operator sees what each score is made of, the view counts included.
    const Response admin = get("/v1/search?q=photography&explain=1", "Bearer " + admin_key);
    ASSERT_EQ(admin.result_int(), 200u) << admin.body();
    const json::value v = body_of(admin);
    ASSERT_FALSE(v.at("hits").as_array().empty()) << v;
    for (const auto& h : v.at("hits").as_array()) {
        EXPECT_TRUE(h.at("explain").as_object().contains("views")) << h;
        EXPECT_TRUE(h.at("explain").as_object().contains("region_views")) << h;
    }
    // explain=0 is an ordinary search.
    EXPECT_EQ(get("/v1/search?q=photography&explain=0").result_int(), 200u);
    // Without admin keys nobody may.
    ServerConfig config = config_in(data_.path());
    config.auth.admin_keys.clear();
    start(std::move(config));
    expect_error(get("/v1/search?q=photography&explain=1", "Bearer " + admin_key), 403,
                 "admin_disabled");
}

TEST_F(AppTest, WrongAdminKeysAreRateLimitedPerClient) {
    auto admin_get = [&](const std::string& peer, const std::string& key) {
        Request request{http::verb::get, "/v1/admin/reports/popular", 11};
        request.set(http::field::authorization, "Bearer " + key);
        return app_->handle(request, route_, boost::asio::ip::make_address(peer));
    };
    const std::string wrong = "wrong-key-0123456789abcdef";
    // The right key, as often as an operator likes: only failures count.
    for (int i = 0; i < 15; ++i)
        ASSERT_EQ(admin_get("192.0.2.1", admin_key).result_int(), 200u) << i;
    // Ten wrong keys are answered as wrong keys, the eleventh is not even compared.
    for (int i = 0; i < 10; ++i)
        expect_error(admin_get("192.0.2.1", wrong), 403, "forbidden");
    const Response limited = admin_get("192.0.2.1", wrong);
    expect_error(limited, 429, "rate_limited");
    const int wait = std::stoi(std::string(limited[http::field::retry_after]));
    EXPECT_GT(wait, 0);
    EXPECT_LE(wait, 60);
    // Not even the right key gets through from there (else guessing would go on, reading 429
    // as "wrong"), and no request without a key counts.
    expect_error(admin_get("192.0.2.1", admin_key), 429, "rate_limited");
    // explain=1 is behind the same gate.
    Request explain{http::verb::get, "/v1/search?q=photography&explain=1", 11};
    explain.set(http::field::authorization, "Bearer " + admin_key);
    expect_error(app_->handle(explain, route_, boost::asio::ip::make_address("192.0.2.1")), 429,
                 "rate_limited");
    // Another client, and another IPv6 /64, are not held back; the same /64 is.
    EXPECT_EQ(admin_get("192.0.2.2", admin_key).result_int(), 200u);
    for (int i = 0; i < 10; ++i)
        expect_error(admin_get("2001:db8:1:2::" + std::to_string(i + 1), wrong), 403, "forbidden");
    expect_error(admin_get("2001:db8:1:2::ff", admin_key), 429, "rate_limited");
    EXPECT_EQ(admin_get("2001:db8:1:3::1", admin_key).result_int(), 200u);
}

TEST_F(AppTest, SuggestCompletesAPrefixUpToTheLimit) {
    const Response res = get("/v1/suggest?q=pho");
    ASSERT_EQ(res.result_int(), 200u) << res.body();
    const json::value v = body_of(res);
    std::vector<std::string> completions;
    for (const auto& c : v.at("completions").as_array())
        completions.emplace_back(c.as_string());
    ASSERT_GE(completions.size(), 2u) << v; // so that limit=1 has something to cut
    EXPECT_NE(std::find(completions.begin(), completions.end(), "photography"), completions.end());
    const json::value limited = body_of(get("/v1/suggest?q=pho&limit=1"));
    ASSERT_EQ(limited.at("completions").as_array().size(), 1u) << limited;
    EXPECT_EQ(limited.at("completions").at(0).as_string(), completions.front()) << limited;
    expect_error(get("/v1/suggest?q=pho&limit=-1"), 400, "invalid_argument");
}

TEST_F(AppTest, AnUnknownPathIsNotFound) {
    expect_error(get("/v1/nothing-here"), 404, "not_found");
    EXPECT_EQ(route_, "static");
    expect_error(handle(http::verb::delete_, "/v1/nothing-here"), 405, "method_not_allowed");
    EXPECT_EQ(route_, "unknown");
}

TEST_F(AppTest, AnotherMethodIsNotAllowed) {
    const Response res = handle(http::verb::post, "/v1/search?q=photo");
    expect_error(res, 405, "method_not_allowed");
    EXPECT_EQ(res[http::field::allow], "GET, HEAD");
    EXPECT_EQ(route_, "/v1/search");
}

TEST_F(AppTest, AdminRoutesNeedTheKey) {
    const std::string report = "/v1/admin/reports/popular";
    const Response without = get(report);
    expect_error(without, 401, "unauthorized");
    EXPECT_EQ(without[http::field::www_authenticate], "Bearer");
    expect_error(get(report, "Bearer wrong-key-0123456789abcdef"), 403, "forbidden");
    expect_error(handle(http::verb::delete_, "/v1/admin/documents/abc"), 401, "unauthorized");
    expect_error(get("/v1/admin/accounts/someone/export"), 401, "unauthorized");

    const Response json_report = get(report, "Bearer " + admin_key);
    ASSERT_EQ(json_report.result_int(), 200u) << json_report.body();
    EXPECT_EQ(route_, "/v1/admin/reports/{kind}");
    EXPECT_TRUE(body_of(json_report).is_object());
    const Response csv = get(report + "?format=csv", "Bearer " + admin_key);
    ASSERT_EQ(csv.result_int(), 200u) << csv.body();
    EXPECT_EQ(csv[http::field::content_type], "text/csv; charset=utf-8");
    EXPECT_EQ(csv[http::field::content_disposition], "attachment; filename=\"popular.csv\"");
    expect_error(get("/v1/admin/reports/everything", "Bearer " + admin_key), 404, "not_found");
    expect_error(get(report + "?top=0", "Bearer " + admin_key), 400, "invalid_argument");
    expect_error(get(report + "?format=xml", "Bearer " + admin_key), 400, "invalid_argument");

    const Response exported = get("/v1/admin/accounts/someone/export", "Bearer " + admin_key);
    EXPECT_EQ(exported.result_int(), 200u) << exported.body();
}

TEST_F(AppTest, AdminRoutesAreRefusedWithoutConfiguredKeys) {
    ServerConfig config = config_in(data_.path());
    config.auth.admin_keys.clear();
    start(std::move(config));
    expect_error(get("/v1/admin/reports/popular", "Bearer " + admin_key), 403, "admin_disabled");
}

TEST_F(AppTest, RateLimitCountsAnIPv6ClientByItsSlash64) {
    ServerConfig config = config_in(data_.path());
    config.limits.rate_per_second = 0.001; // no refill during the test
    config.limits.rate_burst = 2;
    start(std::move(config));
    auto search_from = [&](const std::string& peer) {
        std::string route;
        return app_
            ->handle(Request{http::verb::get, "/v1/search?q=photo", 11}, route,
                     boost::asio::ip::make_address(peer))
            .result_int();
    };
    // A client rotating through the addresses of its /64 is one client.
    EXPECT_EQ(search_from("2001:db8:1:2::1"), 200u);
    EXPECT_EQ(search_from("2001:db8:1:2::2"), 200u);
    EXPECT_EQ(search_from("2001:db8:1:2:ffff:ffff:ffff:ffff"), 429u);
    // The next /64 is another client; an IPv4 address is one client of its own.
    EXPECT_EQ(search_from("2001:db8:1:3::1"), 200u);
    EXPECT_EQ(search_from("192.0.2.1"), 200u);
    EXPECT_EQ(search_from("192.0.2.1"), 200u);
    EXPECT_EQ(search_from("::ffff:192.0.2.1"), 429u);
    EXPECT_EQ(search_from("192.0.2.2"), 200u);
}

TEST_F(AppTest, PrivacyDescribesWhatIsKept) {
    const Response res = get("/v1/privacy");
    ASSERT_EQ(res.result_int(), 200u) << res.body();
    const json::value v = body_of(res);
    EXPECT_EQ(v.at("search_log").at("retention_days").to_number<int>(),
              config_in(data_.path()).retention_days)
        << v;
    EXPECT_EQ(v.at("region").as_string(), "none") << v; // no GeoIP attached
    EXPECT_FALSE(v.at("signed_in_searches").as_bool()) << v;
}

Response throw_xapian(Context&) {
    throw Xapian::DatabaseCorruptError("a test corruption");
}
Response throw_std(Context&) {
    throw std::runtime_error("a test failure");
}

TEST_F(AppTest, AnExceptionFromAHandlerIsA500AndCounted) {
    start(config_in(data_.path()),
          {{http::verb::get, "/test/xapian", {}, {}, throw_xapian},
           {http::verb::get, "/test/std", {}, {}, throw_std},
           {http::verb::get, "/test/blocking", {}, {}, throw_xapian, Work::blocking}});
    EXPECT_EQ(metric(metrics_.render(), "mixi_handler_exceptions_total"), 0);
    const Response xapian = get("/test/xapian");
    expect_error(xapian, 500, "internal");
    EXPECT_EQ(xapian[http::field::server], "mixi-search"); // decorated like any answer
    EXPECT_EQ(route_, "/test/xapian");
    expect_error(get("/test/std"), 500, "internal");
    std::promise<Response> done;
    app_->handle_async(Request{http::verb::get, "/test/blocking", 11}, {},
                       [&](Response res, std::string) { done.set_value(std::move(res)); });
    expect_error(done.get_future().get(), 500, "internal");
    EXPECT_EQ(metric(metrics_.render(), "mixi_handler_exceptions_total"), 3);
    // The counter is shown on /metrics.
    EXPECT_EQ(metric(get("/metrics").body(), "mixi_handler_exceptions_total"), 3);
}

/// The thread `handle_async` answers `target` on.
std::thread::id answering_thread(App& app, const std::string& target) {
    Request request{http::verb::get, target, 11};
    request.set(http::field::authorization, "Bearer " + admin_key);
    std::promise<std::thread::id> answered;
    app.handle_async(std::move(request), {}, [&](Response res, std::string) {
        EXPECT_EQ(res.result_int(), 200u) << target << ": " << res.body();
        answered.set_value(std::this_thread::get_id());
    });
    auto future = answered.get_future();
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready) << target;
    return future.get();
}

// The caller of handle_async is an I/O thread: a route that runs SQLite or waits for the
// analytics flush must be answered elsewhere, the others right there.
TEST_F(AppTest, BlockingRoutesAreAnsweredOffTheCallingThread) {
    const auto caller = std::this_thread::get_id();
    EXPECT_EQ(answering_thread(*app_, "/healthz"), caller);
    EXPECT_EQ(answering_thread(*app_, "/v1/search?q=photo"), caller);
    EXPECT_NE(answering_thread(*app_, "/v1/admin/reports/popular"), caller);
    EXPECT_NE(answering_thread(*app_, "/v1/admin/accounts/someone/export"), caller);
    ServerConfig config = config_in(data_.path());
    config.trends.enabled = true;
    start(std::move(config));
    EXPECT_NE(answering_thread(*app_, "/v1/trends"), caller);
    for (const Route& r : routes()) {
        if (r.path.starts_with("/v1/admin/") || r.path == "/v1/trends") {
            EXPECT_EQ(r.work, Work::blocking) << r.path;
        }
    }
}

TEST(AnalyticsServiceClock, OneReadingPerSearchAndTheDayNeverGoesBack) {
    testing::TempDir data;
    const std::int64_t day = 20'000;
    std::atomic<std::int64_t> clock{day * 86400 + 23 * 3600};
    std::atomic<int> readings{0};
    AnalyticsOptions options;
    options.store = data.path();
    options.flush_interval = 60s; // flushed by sync() only
    options.now = [&] {
        ++readings;
        return clock.load();
    };
    auto service = AnalyticsService::start(std::move(options));
    ASSERT_TRUE(service) << service.error().message;
    auto search = [&](const std::string& query) {
        analytics::RawSearch s;
        s.query = query;
        s.lang = "en";
        s.results = 1;
        return s;
    };
    readings = 0;
    (*service)->log_search(search("lantern"), "81.2.69.142");
    EXPECT_EQ(readings, 1); // one reading: the search's time and its salt's day
    // The clock steps back a day: the search still counts in the newest day seen, with its salt.
    clock = (day - 1) * 86400 + 23 * 3600;
    (*service)->log_search(search("lantern"), "81.2.69.142");
    (*service)->log_search(search("compass"), "81.2.69.142");
    readings = 0;
    (*service)->sync();
    EXPECT_EQ(readings, 1); // one reading for the flush and the fold it may run
    service->reset();
    auto db = analytics::Database::open_in(data.path());
    ASSERT_TRUE(db);
    auto cells =
        db->prepare("SELECT day, query, searches, searchers FROM daily_terms ORDER BY query");
    ASSERT_TRUE(cells);
    ASSERT_TRUE(*cells->step());
    EXPECT_EQ(cells->int64(0), day);
    EXPECT_EQ(cells->text(1), "compass");
    ASSERT_TRUE(*cells->step());
    EXPECT_EQ(cells->int64(0), day);
    EXPECT_EQ(cells->text(1), "lantern");
    EXPECT_EQ(cells->int64(2), 2);
    EXPECT_EQ(cells->int64(3), 1); // one key: the salt of the day before was never made
    EXPECT_FALSE(*cells->step());
}

} // namespace
} // namespace mixi::server
