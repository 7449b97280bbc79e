// credentials.hpp — secrets and OAuth 2.0 access tokens for connectors.
// Secrets come only from files that nobody but the owner can read (never
// from reclaim.toml, never logged). Tokens are cached until shortly before
// they expire and refreshed by one caller while the others wait; a
// credential the token endpoint refuses is remembered for a while, so a
// queue of actions fails fast instead of storming the endpoint.
#pragma once

#include "http/http_client.hpp"

#include <openssl/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace reclaim::http {

// The credential itself was refused (expired, revoked, wrong): permanent.
class credential_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

inline constexpr size_t max_secret_bytes = 1 << 20;

// Reads a secret file through files::read_secret (one open, no symbolic
// link, no FIFO, owned by this user, no group or other bits). Trailing
// newlines are dropped. Throws std::runtime_error naming the file.
std::string read_secret_file(const std::string &path);

// A PEM private key file read as read_secret_file does and parsed into a key
// object; its text is wiped. An encrypted key is refused, naming the file.
std::shared_ptr<EVP_PKEY> read_private_key_file(const std::string &path);

// Reads a file that is not secret (a certificate); throws naming it.
std::string read_public_file(const std::string &path);

struct access_token {
  std::string value;
  std::chrono::seconds expires_in{3600};
};

// POSTs a form to an OAuth 2.0 token endpoint. 200 → the token; 400/401
// (invalid_client, invalid_grant, …) → credential_error with the server's
// error and description; anything else → std::runtime_error (transient).
access_token fetch_oauth_token(client &c, const std::string &url,
                               const std::vector<std::pair<std::string, std::string>> &form);

class token_cache {
public:
  using fetch_fn = std::function<access_token()>;
  token_cache(fetch_fn fetch, std::chrono::seconds refresh_margin = std::chrono::seconds(120),
              std::chrono::seconds refused_memory = std::chrono::seconds(300));

  // A valid token; fetches one if none or if it expires within the margin.
  std::string get();
  // The API said 401 to this token: the next get() fetches a fresh one.
  void invalidate(const std::string &value);
  int fetches() const;

private:
  using clock = std::chrono::steady_clock;
  fetch_fn fetch_;
  std::chrono::seconds margin_, refused_memory_;
  mutable std::mutex mu_;
  std::string token_;
  clock::time_point expires_{};
  std::optional<std::string> refused_;
  clock::time_point refused_at_{};
  int fetches_ = 0;
};

} // namespace reclaim::http
