// http_client.cpp — libcurl easy handles kept in a pool: a handle keeps its
// connection cache, so consecutive requests to one vendor reuse the TCP and
// TLS session (and HTTP/2 multiplexing where offered). A semaphore bounds the
// requests in flight per client (one client per connector instance, i.e.
// per vendor tenant).
#include "http/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#ifndef RECLAIM_VERSION_STRING
#define RECLAIM_VERSION_STRING "1.0.0"
#endif

namespace reclaim::http {
namespace {

std::once_flag curl_init;

struct sink {
  response *out;
  size_t cap;
  bool too_big = false;
};

size_t on_body(char *data, size_t size, size_t n, void *p) {
  auto *s = static_cast<sink *>(p);
  if (s->out->body.size() + size * n > s->cap) {
    s->too_big = true;
    return 0;
  }
  s->out->body.append(data, size * n);
  return size * n;
}

size_t on_header(char *data, size_t size, size_t n, void *p) {
  auto *s = static_cast<sink *>(p);
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) s->out->headers.clear(); // a new response (after 100-continue)
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  auto value = line.substr(colon + 1);
  const auto b = value.find_first_not_of(" \t");
  const auto e = value.find_last_not_of(" \t\r\n");
  s->out->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  return size * n;
}

bool loopback_host(std::string host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool tls_failure(CURLcode c) {
  return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_CERTPROBLEM ||
         c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

} // namespace

std::string response::header(const std::string &lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

namespace {

struct url_parts {
  bool parsed = false;
  std::string scheme, host;
};

url_parts split_url(const std::string &url) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURLU *u = curl_url();
  char *scheme = nullptr, *host = nullptr;
  url_parts p;
  p.parsed = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
  p.scheme = scheme ? scheme : "";
  p.host = host ? host : "";
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return p;
}

} // namespace

bool loopback_url(const std::string &url) {
  const auto p = split_url(url);
  return p.parsed && loopback_host(p.host);
}

nlohmann::json parse_json(const std::string &body) {
  using json = nlohmann::json;
  // The callback parser reports each container's depth as it opens, before
  // anything below it is read; throwing stops the parse there.
  const json::parser_callback_t limit = [](int depth, json::parse_event_t event, json &) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= max_json_depth)
      throw json_too_deep(fmt::format("JSON nested deeper than {} levels; refused", max_json_depth));
    return true;
  };
  return json::parse(body, limit, false);
}

std::string printable_prefix(const std::string &text, size_t max) {
  std::string out;
  for (const char ch : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) out += ch;
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

void check_url(const std::string &url) {
  const auto p = split_url(url);
  const std::string &s = p.scheme, &h = p.host;
  if (!p.parsed) throw url_refused(fmt::format("\"{}\" is not a valid URL", url));
  if (s == "https") return;
  if (s == "http" && loopback_host(h)) return;
  if (s == "http")
    throw url_refused(fmt::format("\"{}\": plain http:// is allowed only to loopback (127.0.0.0/8, ::1, "
                                  "localhost); use https://", url));
  throw url_refused(fmt::format("\"{}\": scheme \"{}\" is not https", url, s));
}

std::string user_agent() { return std::string("reclaim/") + RECLAIM_VERSION_STRING; }

std::string url_escape(const std::string &text) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  char *e = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>> &fields) {
  std::string out;
  for (const auto &[k, v] : fields) out += (out.empty() ? "" : "&") + url_escape(k) + "=" + url_escape(v);
  return out;
}

client::client(client_options o) : opts_(std::move(o)) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (opts_.max_concurrent < 1) opts_.max_concurrent = 1;
}

client::~client() {
  for (auto *h : idle_) curl_easy_cleanup(static_cast<CURL *>(h));
}

void *client::take_handle() {
  std::unique_lock lock(mu_);
  free_.wait(lock, [&] { return in_flight_ < opts_.max_concurrent; });
  ++in_flight_;
  if (!idle_.empty()) {
    auto *h = idle_.back();
    idle_.pop_back();
    return h;
  }
  return curl_easy_init();
}

void client::give_back(void *h) {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    curl_easy_reset(static_cast<CURL *>(h)); // keeps the connection cache
    idle_.push_back(h);
  }
  free_.notify_one();
}

response client::perform(const request &r) {
  check_url(r.url);
  auto *h = static_cast<CURL *>(take_handle());
  struct back {
    client *c;
    void *h;
    ~back() { c->give_back(h); }
  } guard{this, h};
  response out;
  sink s{&out, opts_.max_response_bytes};
  curl_slist *hdrs = nullptr;
  for (const auto &[k, v] : r.headers) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!r.body.empty() || r.method == "POST" || r.method == "PATCH" || r.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  // libcurl silently re-sends a request whose reused connection died before
  // any answer. For a write that may have been applied, that is a second
  // effect we never hear of; writes therefore go on a fresh connection, and
  // a lost answer reaches the connector, which reads state again.
  if (r.method != "GET" && r.method != "HEAD") curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent().c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!opts_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opts_.ca_file.c_str());
  // "" disables the environment's proxy. A loopback target never goes
  // through the proxy: it would carry the bearer token off the host (in
  // clear, for http://) to reach a server on this one.
  curl_easy_setopt(h, CURLOPT_PROXY, loopback_url(r.url) ? "" : opts_.proxy.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hdrs);
  if (rc != CURLE_OK) {
    long sent = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
    if (s.too_big)
      throw transport_error(fmt::format("{} {}: response larger than {} bytes; refused", r.method, r.url,
                                        opts_.max_response_bytes), true);
    if (tls_failure(rc))
      throw transport_error(fmt::format("{} {}: TLS certificate refused: {}", r.method, r.url, curl_easy_strerror(rc)),
                            false, true);
    throw transport_error(fmt::format("{} {}: {}{}", r.method, r.url, curl_easy_strerror(rc),
                                      sent > 0 ? " (after the request was sent)" : ""), sent > 0);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

} // namespace reclaim::http
