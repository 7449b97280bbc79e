// http_client.hpp — the one HTTP client the connectors use: libcurl with a
// pool of easy handles (each keeps its connections alive, so requests to a
// vendor reuse TLS sessions), HTTP/2 where the server offers it, TLS
// verification always on, plain http:// only to loopback, timeouts, proxy,
// a response size cap and a bound on concurrent requests per client; and
// the one way a vendor's JSON answer is read (with a nesting limit).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclaim::http {

struct client_options {
  std::string ca_file;   // "" = the system bundle
  std::string proxy;     // "" = none (curl's environment variables are ignored); never for loopback
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  size_t max_response_bytes = 4 * 1024 * 1024;
  int max_concurrent = 4;
};

struct request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct response {
  long status = 0;
  std::map<std::string, std::string> headers; // names lower-cased; last value wins
  std::string body;

  std::string header(const std::string &lower_name) const;
};

// A request that failed below HTTP. maybe_applied is true when the request
// may have reached the server (the answer was lost): the caller must read
// state again before repeating a write.
class transport_error : public std::runtime_error {
public:
  transport_error(const std::string &what, bool maybe_applied, bool tls_refused = false)
      : std::runtime_error(what), maybe_applied_(maybe_applied), tls_refused_(tls_refused) {}
  bool maybe_applied() const { return maybe_applied_; }
  // The server's certificate did not verify: retrying will not help.
  bool tls_refused() const { return tls_refused_; }

private:
  bool maybe_applied_;
  bool tls_refused_;
};

// A URL the client refuses to call (not https, and not loopback http).
class url_refused : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

// Throws url_refused unless url is https://, or http:// to 127.0.0.0/8,
// ::1 or localhost.
void check_url(const std::string &url);
// True when url's host is 127.0.0.0/8, ::1 or localhost (no proxy for those).
bool loopback_url(const std::string &url);

// The deepest nesting of arrays and objects accepted in a vendor's answer.
inline constexpr int max_json_depth = 64;

// A vendor answer nested deeper than max_json_depth.
class json_too_deep : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Parses a vendor's JSON answer; a discarded value when it is not JSON.
// Nesting is counted while parsing and a document deeper than
// max_json_depth is refused (json_too_deep) before it is built: a body of a
// million '[' would otherwise exhaust the stack of whatever walks or prints
// it. Every vendor body is read through this.
nlohmann::json parse_json(const std::string &body);

// At most `max` characters of text for a message: printable ASCII kept,
// other bytes as \xNN, "..." when cut. Vendor text is quoted only this way.
std::string printable_prefix(const std::string &text, size_t max = 120);

std::string user_agent();
std::string url_escape(const std::string &text);
std::string form_encode(const std::vector<std::pair<std::string, std::string>> &fields);

class client {
public:
  explicit client(client_options o);
  ~client();
  client(const client &) = delete;
  client &operator=(const client &) = delete;

  // Performs one request; waits for a free slot when max_concurrent are in
  // flight. Throws url_refused or transport_error.
  response perform(const request &r);
  const client_options &options() const { return opts_; }

private:
  void *take_handle();
  void give_back(void *h);
  client_options opts_;
  std::mutex mu_;
  std::condition_variable free_;
  int in_flight_ = 0;
  std::vector<void *> idle_;
};

} // namespace reclaim::http
