// credentials.cpp — secret files, the OAuth 2.0 token request and the token
// cache (the mutex is held across the fetch on purpose: one refresh in
// flight, the other threads wait for its result).
#include "http/credentials.hpp"

#include "base/private_files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace reclaim::http {

std::string read_secret_file(const std::string &path) {
  const auto bytes = files::read_secret(path, max_secret_bytes);
  if (bytes.text().empty()) throw std::runtime_error(fmt::format("secret file {}: empty", path));
  return std::string(bytes.text());
}

std::shared_ptr<EVP_PKEY> read_private_key_file(const std::string &path) {
  const auto pem = files::read_secret(path, max_secret_bytes);
  return {files::parse_private_key_pem(pem.view(), "private key " + path), EVP_PKEY_free};
}

std::string read_public_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

access_token fetch_oauth_token(client &c, const std::string &url,
                               const std::vector<std::pair<std::string, std::string>> &form) {
  request r{"POST", url, {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
            form_encode(form)};
  const auto resp = c.perform(r);
  nlohmann::json body;
  try {
    body = parse_json(resp.body);
  } catch (const json_too_deep &e) {
    throw std::runtime_error(fmt::format("token endpoint {}: HTTP {} answer: {}", url, resp.status, e.what()));
  }
  if (resp.status == 200) {
    if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string())
      throw std::runtime_error(fmt::format("token endpoint {}: answer without access_token", url));
    access_token t{body["access_token"].get<std::string>(), std::chrono::seconds(3600)};
    if (body.contains("expires_in") && body["expires_in"].is_number_integer())
      t.expires_in = std::chrono::seconds(body["expires_in"].get<int64_t>());
    return t;
  }
  std::string why = fmt::format("HTTP {}", resp.status);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    why = printable_prefix(body["error"].get<std::string>(), 80);
    if (body.contains("error_description") && body["error_description"].is_string())
      why += ": " + printable_prefix(body["error_description"].get<std::string>(), 300);
  }
  if (resp.status == 400 || resp.status == 401)
    throw credential_error(fmt::format("credential refused by the token endpoint {}: {}", url, why));
  throw std::runtime_error(fmt::format("token endpoint {}: {}", url, why));
}

token_cache::token_cache(fetch_fn fetch, std::chrono::seconds refresh_margin, std::chrono::seconds refused_memory)
    : fetch_(std::move(fetch)), margin_(refresh_margin), refused_memory_(refused_memory) {}

std::string token_cache::get() {
  std::lock_guard lock(mu_);
  const auto t = clock::now();
  if (refused_ && t - refused_at_ < refused_memory_) throw credential_error(*refused_);
  if (!token_.empty() && t + margin_ < expires_) return token_;
  try {
    ++fetches_;
    auto fresh = fetch_();
    token_ = fresh.value;
    expires_ = clock::now() + fresh.expires_in;
    refused_.reset();
    return token_;
  } catch (const credential_error &e) {
    token_.clear();
    refused_ = e.what();
    refused_at_ = clock::now();
    throw;
  }
}

void token_cache::invalidate(const std::string &value) {
  std::lock_guard lock(mu_);
  if (token_ == value) token_.clear();
}

int token_cache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

} // namespace reclaim::http
