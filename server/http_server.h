// The Boost.Beast server: an acceptor, one session per connection on its own strand, an
// io_context run by N threads, limits and timeouts from Limits, graceful stop on SIGTERM/SIGINT.
#pragma once

#include "server/app.h"

#include <functional>
#include <memory>
#include <string>

namespace mixi::server {

class HttpServer {
  public:
    HttpServer(ServerConfig config);
    ~HttpServer();

    /// Binds, calls `on_listening` with "http://ADDRESS:PORT" (the port actually bound), then
    /// serves until SIGTERM or SIGINT; in-flight requests get `shutdown_deadline` to finish.
    /// Returns an error when the address cannot be bound.
    Expected<void> run(const std::function<void(const std::string&)>& on_listening);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mixi::server
