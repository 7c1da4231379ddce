// A small HTTP/1.1 client for the server integration tests: plain POSIX sockets (so a test can
// send anything, byte by byte if it likes) and Boost.Beast's response parser. Every read has a
// timeout, so a misbehaving server fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <regex>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace mixi::testing {

namespace http = boost::beast::http;
using HttpResponse = http::response<http::string_body>;
using Millis = std::chrono::milliseconds;

/// Checks that every response must pass, whatever its status: no cookie but the language the
/// user picked (lang=<tag>, one year, or cleared), and nosniff.
inline void check_every_response(const HttpResponse& res, std::string_view what) {
    static const std::regex lang_cookie(
        R"(lang=([A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*; Path=/; Max-Age=31536000|; Path=/; Max-Age=0); SameSite=Lax)");
    for (auto it = res.find(http::field::set_cookie);
         it != res.end() && it->name() == http::field::set_cookie; ++it)
        EXPECT_TRUE(std::regex_match(std::string(it->value()), lang_cookie))
            << what << " -> " << res.result_int() << " sets a cookie: " << it->value();
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff")
        << what << " -> " << res.result_int() << " lacks X-Content-Type-Options: nosniff";
}

/// Percent-encodes everything but unreserved characters (Boost.URL).
inline std::string url_encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars);
}

/// One TCP connection to 127.0.0.1:port; with `from`, from that loopback address (127.0.0.2 is
/// another client to the server than 127.0.0.1). Requests on it are keep-alive unless said
/// otherwise.
class HttpClient {
  public:
    explicit HttpClient(std::uint16_t port, const char* from = nullptr) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        if (from && ::inet_pton(AF_INET, from, &local.sin_addr) == 1 &&
            ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            connect_errno_ = errno;
            ::close(fd_);
            fd_ = -1;
            return;
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            connect_errno_ = errno;
            ::close(fd_);
            fd_ = -1;
            return;
        }
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~HttpClient() { close(); }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    HttpClient(HttpClient&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), connect_errno_(o.connect_errno_),
          pending_(std::move(o.pending_)), last_error_(std::move(o.last_error_)) {}

    HttpClient& operator=(HttpClient&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            connect_errno_ = o.connect_errno_;
            pending_ = std::move(o.pending_);
            last_error_ = std::move(o.last_error_);
        }
        return *this;
    }

    bool connected() const { return fd_ >= 0; }
    int connect_errno() const { return connect_errno_; }
    int fd() const { return fd_; }
    /// Why the last read_response returned nothing.
    const std::string& last_error() const { return last_error_; }

    void close() {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

    /// Writes all of `bytes`; false when the connection is gone.
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            if (fd_ < 0)
                return false;
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Reads one complete response (nothing when the connection closes first, the response is
    /// malformed or incomplete, or `timeout` passes). Runs check_every_response on it.
    std::optional<HttpResponse> read_response(Millis timeout = Millis(5000), bool head = false,
                                              std::string_view what = "response") {
        last_error_.clear();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.body_limit(64 * 1024 * 1024);
        if (head)
            parser.skip(true);
        for (;;) {
            if (!pending_.empty()) {
                boost::beast::error_code ec;
                const std::size_t used =
                    parser.put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
                pending_.erase(0, used);
                if (ec && ec != http::error::need_more) {
                    last_error_ = "malformed response: " + ec.message();
                    return std::nullopt;
                }
                if (parser.is_done())
                    break;
                if (used > 0 && !ec)
                    continue; // the parser may take more from what is buffered
            }
            const std::string more = read_some(deadline);
            if (more.empty()) {
                if (parser.got_some() && !parser.is_done()) {
                    boost::beast::error_code ec;
                    parser.put_eof(ec);
                    if (!ec && parser.is_done())
                        break;
                    last_error_ = "incomplete response (" + last_error_ + ")";
                }
                return std::nullopt;
            }
            pending_ += more;
        }
        HttpResponse res = parser.release();
        check_every_response(res, what);
        return res;
    }

    /// Sends a request and reads its response. Always holds a response, so `->` is safe: when
    /// nothing (complete) came back it is one with status 0 and the reason as its body.
    std::optional<HttpResponse>
    request(std::string_view method, std::string_view target,
            const std::vector<std::pair<std::string, std::string>>& headers = {},
            std::string_view body = {}, Millis timeout = Millis(5000)) {
        std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
        req += "Host: 127.0.0.1\r\nUser-Agent: mixi-integration-test\r\n";
        for (const auto& [k, v] : headers)
            req += k + ": " + v + "\r\n";
        if (!body.empty() || method == "POST" || method == "PUT")
            req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        req += "\r\n";
        req += body;
        std::optional<HttpResponse> res;
        if (!send(req))
            last_error_ = "cannot send";
        else
            res = read_response(timeout, method == "HEAD",
                                std::string(method) + " " + std::string(target).substr(0, 200));
        if (!res) {
            res.emplace();
            res->result(0);
            res->body() = "no response to " + std::string(method) + " " +
                          std::string(target).substr(0, 200) + ": " + last_error_;
        }
        return res;
    }

    std::optional<HttpResponse>
    get(std::string_view target,
        const std::vector<std::pair<std::string, std::string>>& headers = {},
        Millis timeout = Millis(5000)) {
        return request("GET", target, headers, {}, timeout);
    }

    /// Waits for the server to close the connection (reading and dropping anything it sends
    /// first). The time it took, or nothing when it stayed open for `timeout`.
    std::optional<Millis> wait_closed(Millis timeout) {
        const auto start = std::chrono::steady_clock::now();
        const auto deadline = start + timeout;
        pending_.clear();
        for (;;) {
            const std::string more = read_some(deadline);
            if (more.empty()) {
                if (last_error_ == "timeout")
                    return std::nullopt;
                return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
            }
        }
    }

    /// True when the server has closed its side (EOF or reset) by now; reads nothing else.
    bool peer_closed() {
        if (fd_ < 0)
            return true;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0)
            return false;
        char c;
        const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n <= 0;
    }

  private:
    /// Some bytes, or "" on EOF, error or deadline (reason in last_error_).
    std::string read_some(std::chrono::steady_clock::time_point deadline) {
        if (fd_ < 0) {
            last_error_ = "not connected";
            return {};
        }
        for (;;) {
            const auto left =
                std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                last_error_ = "timeout";
                return {};
            }
            pollfd p{fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0) {
                last_error_ = "timeout";
                return {};
            }
            char buf[16384];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0) {
                last_error_ = "eof";
                return {};
            }
            if (n < 0) {
                last_error_ = std::string("recv: ") + std::strerror(errno);
                return {};
            }
            return std::string(buf, static_cast<std::size_t>(n));
        }
    }

    int fd_ = -1;
    int connect_errno_ = 0;
    std::string pending_;
    std::string last_error_;
};

/// The body as JSON (null, and a test failure, when it is not JSON).
inline boost::json::value json_body(const HttpResponse& res) {
    boost::system::error_code ec;
    auto v = boost::json::parse(res.body(), ec);
    if (ec) {
        ADD_FAILURE() << "not JSON (" << ec.message() << "): " << res.body();
        return nullptr;
    }
    return v;
}

/// Expects `res` to be an error with `status` and the body {"error":{"code","message"}}.
/// Returns the code ("" when the body is wrong).
inline std::string expect_error(const std::optional<HttpResponse>& res, unsigned status,
                                std::string_view what) {
    if (!res || res->result_int() == 0) {
        ADD_FAILURE() << what << ": " << (res ? res->body() : "no response");
        return {};
    }
    EXPECT_EQ(res->result_int(), status) << what << ": " << res->body();
    EXPECT_TRUE(res->base()[http::field::content_type].starts_with("application/json"))
        << what << ": content type " << res->base()[http::field::content_type];
    const auto v = json_body(*res);
    const auto* obj = v.if_object();
    const auto* err = obj && obj->contains("error") ? obj->at("error").if_object() : nullptr;
    if (!err || !err->contains("code") || !err->contains("message") ||
        !err->at("code").is_string() || !err->at("message").is_string()) {
        ADD_FAILURE() << what
                      << ": body is not {\"error\":{\"code\",\"message\"}}: " << res->body();
        return {};
    }
    EXPECT_FALSE(err->at("message").as_string().empty()) << what;
    const std::string code(err->at("code").as_string());
    EXPECT_FALSE(code.empty()) << what;
    return code;
}

} // namespace mixi::testing
