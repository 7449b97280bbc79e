// vendor_api.hpp — what every HTTP connector shares: a bearer-token call
// that follows the instance's rate limits, refreshes the token once on 401,
// pauses the limiter on 429/503 Retry-After, and turns every kind of failure
// into an action outcome (transient or permanent) with a clear message.
// Connectors throw action_failure inside; execute() turns it into a result.
#pragma once

#include "dispatch/connector.hpp"
#include "connectors/connector_config.hpp"
#include "http/credentials.hpp"
#include "http/http_client.hpp"
#include "http/rate_limiter.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace reclaim {

class action_failure : public std::runtime_error {
public:
  action_failure(connector_result::outcome what, const std::string &message,
                 std::optional<std::chrono::milliseconds> retry_after = std::nullopt)
      : std::runtime_error(message), what_(what), retry_after_(retry_after) {}
  connector_result result() const { return {what_, what(), "{}", retry_after_}; }
  connector_result::outcome outcome() const { return what_; }

private:
  connector_result::outcome what_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

[[noreturn]] void fail_transient(const std::string &message,
                                 std::optional<std::chrono::milliseconds> retry_after = std::nullopt);
[[noreturn]] void fail_permanent(const std::string &message);

// Runs f, turning action_failure, transport errors, refused credentials and
// URLs into a connector_result.
connector_result guarded(const std::function<connector_result()> &f);

// The value of a journalled attribute (lower-cased name) or the subject id
// when attribute is ""; permanent failure when the person has none.
std::string subject_key(const action_row &a, const std::string &attribute);

// Parses a vendor body (http::parse_json): a discarded value when it is not
// JSON; a body nested deeper than http::max_json_depth is a transient
// failure naming `what`.
nlohmann::json parse_answer(const std::string &body, const std::string &what);
// Parses a vendor body as a JSON object; a body that is not one is a
// transient failure quoting its start (a proxy's error page, a cut answer).
nlohmann::json parse_object(const std::string &body, const std::string &what);
// An error body for a message: the parsed JSON, or a discarded value when
// it is not JSON or too deep (the caller then quotes the raw body with
// http::printable_prefix).
nlohmann::json parse_error_body(const std::string &body);

// value percent-encoded as one URL path segment. "", "." and ".." are a
// permanent failure naming `what`: libcurl removes dot segments, so
// /users/.. would reach /  (another resource) instead of a user.
std::string path_segment(const std::string &value, const std::string &what);

class vendor_api {
public:
  vendor_api(const connector_settings &s, std::shared_ptr<http::token_cache> tokens);

  // Sends r with the bearer token (when there is a token cache) after taking
  // `writes` write tokens (or `reads` read tokens when writes == 0), and as
  // many from the shared request bucket when the instance has one. 401: one
  // fresh token, one more try. 429/503: pauses the limiter by Retry-After
  // and halves its rate; a 2xx/3xx lets the rate grow back (AIMD).
  http::response call(http::request r, int writes, int reads = 1);
  // The failure an unexpected status means: 429/5xx transient (with
  // Retry-After), everything else permanent; `detail` is the vendor's message.
  [[noreturn]] void fail_status(const http::response &resp, const std::string &what, const std::string &detail);

  // The vendor throttled one request inside a batch: everyone waits.
  void pause(bool writes, std::chrono::milliseconds d);
  // The vendor refused a request for its rate (e.g. an inner 429 of a
  // $batch whose outer answer was 200): the bucket's rate is halved.
  void throttled(bool writes);
  // The token source (built after the client, as it uses it).
  void set_tokens(std::shared_ptr<http::token_cache> t) { tokens_ = std::move(t); }
  const connector_settings &settings() const { return s_; }
  http::client &client() { return client_; }

private:
  const connector_settings s_;
  http::client client_;
  std::shared_ptr<http::token_cache> tokens_;
  http::rate_limiter reads_, writes_;
  http::rate_limiter requests_; // shared by reads and writes; unlimited unless settings().requests is set
};

} // namespace reclaim
