#include "server/http_server.h"

#include "server/analytics_service.h"
#include "server/rate_limit.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace mixi::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
class Session;
} // namespace

struct Shared {
    App& app;
    const Limits& limits;
    bool access_log;
    std::atomic<bool> stopping{false};
    /// Requests whose first bytes have arrived but that are not complete yet: a stop waits for
    /// them as it does for requests being answered.
    std::atomic<int> receiving{0};
    /// Every open session, so that a stop can close the idle ones.
    std::mutex sessions_mutex;
    std::unordered_set<Session*> sessions;
    /// Proxies, whose connections carry many clients: not capped per client.
    std::vector<Network> trusted_proxies;
    /// Open connections per client_key() of the peer, for limits.connections_per_client. A key
    /// is here only while its client has a connection open; it is never written anywhere.
    std::mutex clients_mutex;
    std::unordered_map<std::string, std::size_t> client_connections;
};

/// Why a new connection is answered 503 and closed instead of served.
enum class Refusal { none, server_full, client_full };

namespace {

// One connection: read a request (bounded in size and time), answer it, repeat while the
// client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
  public:
    /// `client` is the key this connection counts under in Shared::client_connections (empty:
    /// not counted); the session gives it back when it ends.
    Session(tcp::socket&& socket, Shared& shared, net::ip::address peer, Refusal refusal,
            std::string client)
        : stream_(std::move(socket)), peer_(peer), shared_(shared), refusal_(refusal),
          client_(std::move(client)) {
        shared_.app.metrics().connection_opened();
    }
    ~Session() {
        {
            std::lock_guard lock(shared_.sessions_mutex);
            shared_.sessions.erase(this);
        }
        if (!client_.empty()) {
            std::lock_guard lock(shared_.clients_mutex);
            const auto it = shared_.client_connections.find(client_);
            if (it != shared_.client_connections.end() && --it->second == 0)
                shared_.client_connections.erase(it);
        }
        set_receiving(false);
        shared_.app.metrics().connection_closed();
    }

    void start() {
        {
            std::lock_guard lock(shared_.sessions_mutex);
            shared_.sessions.insert(this);
        }
        // Run on the session's strand from the start.
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::begin, shared_from_this()));
    }

    /// On stop: a connection waiting for a next request that has not started to arrive is
    /// closed; one whose request is arriving or being answered finishes it first (and then
    /// closes, since the answer says Connection: close).
    void stop_if_idle() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            // Cancel, not close: a read that has already completed (its handler queued) still
            // delivers its bytes, and that request is answered.
            beast::error_code ec;
            if (self->idle_ && self->stream_.socket().available(ec) == 0)
                self->stream_.socket().cancel(ec);
        });
    }

  private:
    void begin() {
        if (refusal_ != Refusal::none) {
            // Too many connections: say so once and close, rather than leave the client hanging.
            Request req;
            req.version(11);
            auto res = shared_.app.error(req, ApiError::too_many_connections,
                                         refusal_ == Refusal::client_full
                                             ? "this client has too many open connections"
                                             : std::string_view{});
            res.set(http::field::retry_after, "1");
            res.keep_alive(false);
            shared_.app.decorate(req, res);
            shared_.app.metrics().request_started();
            in_flight_ = true;
            send(std::move(res), "unknown", Clock::now());
            return;
        }
        wait_for_request();
    }

    // Between requests the connection may idle for idle_timeout; once the first byte of a
    // request is there, the whole request must arrive within read_timeout, so a client that
    // trickles bytes cannot hold the connection.
    void wait_for_request() {
        if (buffer_.size() > 0)
            return read_request();
        // Stopping: no next request is waited for, but one the client already sent (before
        // the signal, while this connection's last answer was still being written) is answered.
        beast::error_code ec;
        if (shared_.stopping && stream_.socket().available(ec) == 0)
            return close();
        idle_ = true;
        stream_.expires_after(shared_.limits.idle_timeout);
        stream_.async_read_some(
            buffer_.prepare(4096),
            beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
    }

    void on_first_bytes(beast::error_code ec, std::size_t n) {
        idle_ = false;
        if (ec)
            return close();
        buffer_.commit(n);
        read_request();
    }

    void read_request() {
        set_receiving(true);
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_.limits.header_bytes));
        parser_->body_limit(shared_.limits.body_bytes);
        // Most requests arrive whole with their first bytes: parse what is buffered now, and
        // read (with the per-read timeout) only when the request is not complete yet.
        beast::error_code ec;
        while (buffer_.size() > 0 && !parser_->is_done()) {
            const std::size_t used = parser_->put(buffer_.data(), ec);
            buffer_.consume(used);
            if (ec == http::error::need_more)
                ec = {};
            if (ec || used == 0)
                break;
        }
        if (ec || parser_->is_done())
            return on_read(ec, 0);
        stream_.expires_after(shared_.limits.read_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        set_receiving(false);
        const auto started = Clock::now();
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::operation_aborted || ec == net::error::connection_reset ||
            ec == net::error::eof)
            return close();
        if (ec) {
            // A request we refuse to read further: answer, then close.
            Request req;
            req.version(11);
            ApiError kind = ApiError::bad_request;
            std::string message;
            if (ec == http::error::header_limit) {
                kind = ApiError::headers_too_large;
                message = "request headers are larger than " +
                          std::to_string(shared_.limits.header_bytes) + " bytes";
            } else if (ec == http::error::body_limit) {
                kind = ApiError::body_too_large;
                message = "request body is larger than " +
                          std::to_string(shared_.limits.body_bytes) + " bytes";
            }
            auto res = shared_.app.error(req, kind, message);
            res.keep_alive(false);
            shared_.app.decorate(req, res);
            shared_.app.metrics().request_started();
            in_flight_ = true;
            send(std::move(res), "unknown", started);
            return;
        }
        Request req = parser_->release();
        shared_.app.metrics().request_started();
        in_flight_ = true;
        if (shared_.access_log)
            method_ = std::string(req.method_string());
        // The last request a connection may carry is answered with `Connection: close`, and the
        // connection closes after it (as nginx's keepalive_requests): a proxy that keeps its
        // upstream connections open opens a new one, and no request is refused.
        const bool last = ++requests_ >= shared_.limits.requests_per_connection;
        // Most answers come back at once, on this strand. A blocking route's (SQLite, a wait
        // for the analytics flush) comes from the App's worker pool, and is brought back to
        // this strand; meanwhile this I/O thread serves other connections. The session reads
        // nothing more until it has answered.
        shared_.app.handle_async(
            std::move(req), peer_,
            [self = shared_from_this(), started, last](Response res, std::string route) {
                if (last)
                    res.keep_alive(false);
                net::dispatch(self->stream_.get_executor(), [self, started, res = std::move(res),
                                                             route = std::move(route)]() mutable {
                    self->answer(std::move(res), std::move(route), started);
                });
            });
    }

    void answer(Response&& res, std::string route, Clock::time_point started) {
        if (shared_.stopping)
            res.keep_alive(false);
        send(std::move(res), std::move(route), started);
    }

    void send(Response&& res, std::string route, Clock::time_point started) {
        response_.emplace(std::move(res));
        route_ = std::move(route);
        started_ = started;
        // Header and body go out as one contiguous buffer: one iovec for the kernel, and the
        // header's many small buffers are walked once here instead of on every partial write
        // (about a tenth of the CPU of a /healthz request).
        wire_.clear();
        http::serializer<false, http::string_body> serializer(*response_);
        beast::error_code ec;
        while (!ec && !serializer.is_done())
            serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
                for (const auto b : beast::buffers_range_ref(buffers))
                    wire_.append(static_cast<const char*>(b.data()), b.size());
                serializer.consume(beast::buffer_bytes(buffers));
            });
        if (ec)
            return on_write(ec, 0);
        stream_.expires_after(shared_.limits.read_timeout);
        net::async_write(stream_, net::buffer(wire_),
                         beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t bytes) {
        const auto elapsed = Clock::now() - started_;
        const unsigned status = response_->result_int();
        const bool keep_alive = response_->keep_alive();
        response_.reset();
        if (in_flight_) {
            in_flight_ = false;
            shared_.app.metrics().request_finished();
            shared_.app.metrics().record(route_, status, elapsed);
            if (shared_.access_log) {
                // Method, route, status, bytes, duration: no address, no query text. Written
                // whole, in one call: the lines of several I/O threads never interleave, and a
                // request costs one system call rather than one per field.
                const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
                char duration[32];
                const char* end = std::to_chars(duration, duration + sizeof duration, ms,
                                                std::chars_format::fixed, 3)
                                      .ptr;
                std::string line = method_.empty() ? "-" : method_;
                line.append(" ").append(route_);
                line.append(" ").append(std::to_string(status));
                line.append(" ").append(std::to_string(bytes));
                line.append(" ").append(std::string_view(duration, end)).append("ms\n");
                std::clog.write(line.data(), static_cast<std::streamsize>(line.size()));
            }
        }
        method_.clear();
        if (wire_.capacity() > 64 * 1024) // a large static file: do not keep its buffer
            std::string().swap(wire_);
        if (ec || !keep_alive || shared_.stopping)
            return close();
        wait_for_request();
    }

    void set_receiving(bool on) {
        if (on != receiving_)
            shared_.receiving.fetch_add(on ? 1 : -1);
        receiving_ = on;
    }

    void close() {
        set_receiving(false);
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    net::ip::address peer_; ///< kept only while the connection is open
    beast::flat_buffer buffer_;
    Shared& shared_;
    Refusal refusal_;
    std::string client_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<Response> response_;
    std::string wire_; ///< the response as sent; its capacity is kept for the next one
    std::string route_, method_;
    Clock::time_point started_;
    std::size_t requests_ = 0;
    bool in_flight_ = false;
    bool receiving_ = false;
    bool idle_ = false; ///< waiting for the first byte of a next request
};

} // namespace

struct HttpServer::Impl {
    ServerConfig config;
    std::optional<GeoIp> geoip;
    std::unique_ptr<AnalyticsService> analytics_service;
    Metrics metrics;
    App app;
    Shared shared;
    net::io_context ioc;
    // The acceptor is used from the accept loop and from the signal handler: one strand.
    net::strand<net::io_context::executor_type> accept_strand{ioc.get_executor()};
    tcp::acceptor acceptor{accept_strand};
    net::steady_timer accept_backoff{accept_strand};

    explicit Impl(ServerConfig c)
        : config(c), app(std::move(c), metrics),
          shared{app, config.limits, config.access_log, {}, {}, {}, {}, {}, {}, {}} {}

    /// GeoIP and page views, before the first request.
    Expected<void> start_services() {
        Services services;
        auto proxies = parse_networks(config.trusted_proxies);
        if (!proxies)
            return fail(ErrorCode::invalid_argument,
                        "server.trusted_proxies: " + proxies.error().message);
        services.trusted_proxies = std::move(*proxies);
        shared.trusted_proxies = services.trusted_proxies;
        services.level =
            config.geoip.level == "continent" ? RegionLevel::continent : RegionLevel::country;
        if (!config.geoip.database.empty()) {
            auto db = GeoIp::open(config.geoip.database);
            if (db) {
                geoip.emplace(std::move(*db));
                services.geoip = &*geoip;
            } else if (config.geoip.ignore_errors) {
                std::cerr << "mixi-search: " << db.error().message
                          << "; serving without regions (geoip.ignore_errors)\n";
            } else {
                return std::unexpected(db.error());
            }
        }
        AnalyticsOptions analytics;
        analytics.store = analytics_store(config);
        analytics.index_dir = config.index;
        analytics.flush_interval = config.analytics_flush_interval;
        analytics.max_held_events = config.analytics_max_held_events;
        analytics.data_dir = config.data_dir;
        analytics.refresh_interval = config.popularity_refresh_interval;
        analytics.popularity.half_life_days = config.half_life_days;
        analytics.retention = retention_options(config);
        analytics.view_retention_days = config.view_retention_days;
        analytics.purge_interval = config.purge_interval;
        analytics.report_k = config.report_k;
        analytics.report_k_distinct = config.report_k_distinct;
        auto started = AnalyticsService::start(std::move(analytics));
        if (!started)
            return std::unexpected(started.error());
        analytics_service = std::move(*started);
        services.analytics = analytics_service.get();
        app.attach(std::move(services));
        return {};
    }

    // Runs on accept_strand, as do its completions (the acceptor's executor).
    void accept() {
        acceptor.async_accept(net::make_strand(ioc),
                              beast::bind_front_handler(&Impl::on_accept, this));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!acceptor.is_open())
            return; // stopping
        if (ec) {
            // Out of descriptors or memory: wait a little instead of spinning.
            accept_backoff.expires_after(std::chrono::milliseconds(50));
            accept_backoff.async_wait([this](beast::error_code e) {
                if (!e)
                    accept();
            });
            return;
        }
        open_session(std::move(socket));
        accept_waiting();
        accept();
    }

    /// Takes the connections already waiting in the backlog too (the acceptor is non-blocking).
    /// One accept per completion would let a busy server take one new connection per pass
    /// through the io_context's queue, behind every ready request: under load a new client
    /// then waits in the backlog for many seconds.
    void accept_waiting() {
        for (int i = 0; i < 256; ++i) {
            beast::error_code ec;
            tcp::socket socket = acceptor.accept(net::make_strand(ioc), ec);
            if (ec)
                return; // none waiting (would_block), or an error the next async_accept sees
            open_session(std::move(socket));
        }
    }

    /// Serves a new connection, or refuses it when the server has limits.max_connections open
    /// or its client limits.connections_per_client. The client is the TCP peer (an IPv4
    /// address or an IPv6 /64): a forwarding header is only known once a request has been read.
    /// A trusted proxy's connections carry many clients and are not capped per client.
    void open_session(tcp::socket socket) {
        Refusal refusal = Refusal::none;
        if (static_cast<std::size_t>(metrics.connections()) >= config.limits.max_connections)
            refusal = Refusal::server_full;
        beast::error_code ec;
        const net::ip::address peer = socket.remote_endpoint(ec).address();
        std::string client;
        const std::size_t cap = config.limits.connections_per_client;
        if (cap > 0 && !ec &&
            std::none_of(shared.trusted_proxies.begin(), shared.trusted_proxies.end(),
                         [&](const Network& n) { return n.contains(peer); })) {
            client = client_key(peer);
            std::lock_guard lock(shared.clients_mutex);
            if (++shared.client_connections[client] > cap && refusal == Refusal::none)
                refusal = Refusal::client_full;
        }
        std::make_shared<Session>(std::move(socket), shared, peer, refusal, std::move(client))
            ->start();
    }
};

HttpServer::HttpServer(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
HttpServer::~HttpServer() = default;

Expected<void> HttpServer::run(const std::function<void(const std::string&)>& on_listening) {
    Impl& s = *impl_;
    if (auto ok = s.start_services(); !ok)
        return ok;
    beast::error_code ec;
    const auto address = net::ip::make_address(s.config.address, ec);
    if (ec)
        return fail(ErrorCode::invalid_argument, "invalid address \"" + s.config.address + "\"");
    const tcp::endpoint endpoint{address, s.config.port};
    s.acceptor.open(endpoint.protocol(), ec);
    if (!ec)
        s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
        s.acceptor.bind(endpoint, ec);
    if (!ec)
        s.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (!ec)
        s.acceptor.non_blocking(true, ec); // for accept_waiting()
    if (ec)
        return fail(ErrorCode::io_error, "cannot listen on " + s.config.address + ":" +
                                             std::to_string(s.config.port) + ": " + ec.message());
    const auto bound = s.acceptor.local_endpoint();
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    // SIGTERM / SIGINT: stop accepting, close idle connections (after a short grace), let
    // requests that are arriving or being answered finish (up to the deadline), then stop the
    // io_context. The handler is in place before the address is announced, so no signal can
    // arrive unhandled.
    net::signal_set signals(s.ioc, SIGINT, SIGTERM);
    net::steady_timer drain(s.ioc);
    net::steady_timer close_idle(s.ioc);
    constexpr auto idle_grace = std::chrono::milliseconds(100);
    Clock::time_point deadline;
    std::function<void()> wait_for_drain = [&] {
        const bool done = s.metrics.connections() == 0;
        if (done || Clock::now() >= deadline) {
            s.ioc.stop();
            return;
        }
        drain.expires_after(std::chrono::milliseconds(10));
        drain.async_wait([&](beast::error_code) { wait_for_drain(); });
    };
    signals.async_wait([&](beast::error_code, int) {
        s.shared.stopping = true;
        net::post(s.accept_strand, [&] {
            beast::error_code ignored;
            s.acceptor.close(ignored);
            s.accept_backoff.cancel();
        });
        // A request sent just before the signal may still be on its way through the network
        // stack (even over loopback, on a loaded machine): idle connections get a moment to
        // show its first bytes before they are closed.
        close_idle.expires_after(idle_grace);
        close_idle.async_wait([&](beast::error_code) {
            std::lock_guard lock(s.shared.sessions_mutex);
            for (Session* session : s.shared.sessions)
                session->stop_if_idle();
        });
        deadline = Clock::now() + s.config.limits.shutdown_deadline;
        wait_for_drain();
    });

    // Open the index once now, so /metrics shows it before the first search.
    (void)s.app.searcher();
    on_listening("http://" + host + ":" + std::to_string(bound.port()));
    net::dispatch(s.accept_strand, [&] { s.accept(); });

    unsigned threads = s.config.threads ? s.config.threads : std::thread::hardware_concurrency();
    threads = std::max(1u, threads);
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i)
        pool.emplace_back([&] { s.ioc.run(); });
    s.ioc.run();
    for (auto& t : pool)
        t.join();
    // Requests still on the worker pool use the analytics service: they finish first (their
    // answers are not sent, the I/O threads having stopped).
    s.app.finish_blocking_work();
    s.analytics_service.reset(); // the last flush, now that no request can count anything
    return {};
}

} // namespace mixi::server
