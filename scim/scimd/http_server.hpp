// http_server.hpp — the HTTP/1.1 (and HTTPS) listener of reclaim-scimd on
// Boost.Beast: keep-alive, header and body size limits, header/body/idle
// timeouts per connection, a cap on concurrent connections, and a drain on
// stop (no new connections; requests in flight finish, bounded). The
// handler is called on the I/O threads and must not throw (a throw is a 500).
#pragma once

#include "scimd_config.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace reclaim::scimd {

struct http_request {
  std::string method;
  std::string target; // path and query, as sent
  std::map<std::string, std::string> headers; // names lower-case
  std::string body;
  std::string peer; // "ip:port"
  std::string header(const std::string &lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct http_response {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
};

using http_handler = std::function<http_response(const http_request &)>;
// Builds the body of a response the server makes itself (413, 431, 503, ...).
using error_responder = std::function<http_response(int status, const std::string &detail)>;

class http_server {
public:
  // Binds and listens at once (throws std::runtime_error naming the address).
  http_server(const scimd_config &cfg, http_handler handler, error_responder errors);
  ~http_server();
  http_server(const http_server &) = delete;
  http_server &operator=(const http_server &) = delete;

  std::uint16_t port() const; // the bound port (listen port 0 picks one)
  // Serves on cfg.limits.threads threads until stop(); then drains.
  void run();
  // From any thread or a signal watcher: stop accepting, let requests in
  // flight finish (up to drain_timeout), close idle connections. run()
  // returns when every connection is gone.
  void stop();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace reclaim::scimd
