// connector_config.cpp — loads and checks [connector.NAME]: the type, the
// keys that type accepts (unknown keys are errors), URLs (https, or http to
// loopback only), secret files (must exist and be private to their owner;
// read again when the connector starts) and rate limits.
#include "connectors/connector_config.hpp"

#include "http/credentials.hpp"
#include "config/toml_reader.hpp"

namespace reclaim {
namespace {

std::string url_key(const reader &r, const toml::table &t, const std::string &prefix, std::string_view key,
                    std::string fallback) {
  auto v = r.str(t, prefix, key).value_or(std::move(fallback));
  if (v.empty()) return v;
  try {
    http::check_url(v);
  } catch (const std::exception &e) {
    r.fail(t.get(key) ? t.get(key)->source() : t.source(), reader::join(prefix, key), e.what());
  }
  return v;
}

std::string secret_key(const reader &r, const toml::table &t, const std::string &prefix, std::string_view key) {
  auto v = r.str(t, prefix, key).value_or("");
  if (v.empty()) return v;
  try {
    (void)http::read_secret_file(v);
  } catch (const std::exception &e) {
    r.fail(t.get(key)->source(), reader::join(prefix, key), e.what());
  }
  return v;
}

rate_limit load_limit(const reader &r, const toml::table &t, const std::string &prefix, const std::string &what) {
  rate_limit l;
  if (auto n = r.number(t, prefix, what + "_limit")) {
    if (*n <= 0) r.fail(t.get(what + "_limit")->source(), prefix + "." + what + "_limit", "must be positive");
    l.count = *n;
  }
  if (auto w = r.duration(t, prefix, what + "_window")) {
    if (w->count() <= 0) r.fail(t.get(what + "_window")->source(), prefix + "." + what + "_window", "must be positive");
    l.window = *w;
  }
  if (auto b = r.number(t, prefix, what + "_burst")) l.burst = *b;
  return l;
}

void load_http(const reader &r, const toml::table &t, const std::string &prefix, connector_settings &c) {
  c.http.ca_file = r.str(t, prefix, "ca_file").value_or("");
  c.http.proxy = r.str(t, prefix, "proxy").value_or("");
  if (auto d = r.duration(t, prefix, "connect_timeout")) c.http.connect_timeout = *d;
  if (auto d = r.duration(t, prefix, "timeout")) c.http.timeout = *d;
  if (auto n = r.integer(t, prefix, "max_response_bytes")) {
    if (*n < 1024) r.fail(t.get("max_response_bytes")->source(), prefix + ".max_response_bytes", "must be at least 1024");
    c.http.max_response_bytes = static_cast<size_t>(*n);
  }
  if (auto n = r.integer(t, prefix, "max_concurrent")) {
    if (*n < 1 || *n > 64) r.fail(t.get("max_concurrent")->source(), prefix + ".max_concurrent", "must be 1..64");
    c.http.max_concurrent = static_cast<int>(*n);
  }
  c.reads = load_limit(r, t, prefix, "read");
  c.writes = load_limit(r, t, prefix, "write");
  c.requests = load_limit(r, t, prefix, "request");
}

void load_graph(const reader &r, const toml::table &t, const std::string &prefix, connector_settings &c) {
  c.tenant = r.str(t, prefix, "tenant").value_or("");
  c.client_id = r.str(t, prefix, "client_id").value_or("");
  if (c.tenant.empty()) r.fail(t.source(), prefix + ".tenant", "is required");
  if (c.client_id.empty()) r.fail(t.source(), prefix + ".client_id", "is required");
  c.base_url = url_key(r, t, prefix, "base_url", "https://graph.microsoft.com/v1.0");
  c.token_url = url_key(r, t, prefix, "token_url",
                        "https://login.microsoftonline.com/" + c.tenant + "/oauth2/v2.0/token");
  c.scope = r.str(t, prefix, "scope").value_or("https://graph.microsoft.com/.default");
  c.client_secret_file = secret_key(r, t, prefix, "client_secret_file");
  c.certificate_file = r.str(t, prefix, "certificate_file").value_or("");
  c.private_key_file = secret_key(r, t, prefix, "private_key_file");
  const bool cert = !c.certificate_file.empty() && !c.private_key_file.empty();
  if (c.client_secret_file.empty() == !cert)
    r.fail(t.source(), prefix, "needs exactly one credential: client_secret_file, or certificate_file with private_key_file");
  c.group_licences = r.str(t, prefix, "group_licences").value_or("fail");
  if (c.group_licences != "fail" && c.group_licences != "remove_member")
    r.fail(t.get("group_licences")->source(), prefix + ".group_licences", "must be \"fail\" or \"remove_member\"");
  if (auto n = r.integer(t, prefix, "batch_size")) {
    if (*n < 1 || *n > 20) r.fail(t.get("batch_size")->source(), prefix + ".batch_size", "must be 1..20 (Graph $batch limit)");
    c.batch_size = static_cast<int>(*n);
  }
  if (const auto *s = r.table(t, prefix, "skus"))
    for (auto &&[k, v] : *s) c.skus[std::string(k.str())] = *r.str(*s, prefix + ".skus", k.str());
}

void load_google(const reader &r, const toml::table &t, const std::string &prefix, connector_settings &c) {
  c.base_url = url_key(r, t, prefix, "base_url", "https://licensing.googleapis.com/apps/licensing/v1");
  c.token_url = url_key(r, t, prefix, "token_url", "https://oauth2.googleapis.com/token");
  c.scope = r.str(t, prefix, "scope").value_or("https://www.googleapis.com/auth/apps.licensing");
  c.service_account_file = secret_key(r, t, prefix, "service_account_file");
  c.admin_subject = r.str(t, prefix, "admin_subject").value_or("");
  c.product_id = r.str(t, prefix, "product_id").value_or("");
  if (c.service_account_file.empty()) r.fail(t.source(), prefix + ".service_account_file", "is required");
  if (c.admin_subject.empty()) r.fail(t.source(), prefix + ".admin_subject", "is required (the admin to impersonate)");
  if (c.product_id.empty()) r.fail(t.source(), prefix + ".product_id", "is required (e.g. Google-Apps)");
  if (const auto *s = r.table(t, prefix, "skus"))
    for (auto &&[k, v] : *s) c.skus[std::string(k.str())] = *r.str(*s, prefix + ".skus", k.str());
}

} // namespace

std::map<std::string, connector_settings> load_connectors(const reader &r, const toml::table &section) {
  std::map<std::string, connector_settings> out;
  for (auto &&[name, node] : section) {
    const auto prefix = fmt::format("connector.{}", name.str());
    const auto *t = node.as_table();
    if (t == nullptr) r.fail(node.source(), prefix, "must be a table");
    if (name.str() == "local") r.fail(node.source(), prefix, "\"local\" is built in and takes no settings");
    connector_settings c;
    c.name = std::string(name.str());
    c.origin = r.origin(t->source());
    c.type = r.str(*t, prefix, "type").value_or("");
    c.user_attribute = r.str(*t, prefix, "user_attribute").value_or("");
    if (c.type == "msgraph") {
      r.only_keys(*t, prefix, {"type", "tenant", "client_id", "client_secret_file", "certificate_file",
                               "private_key_file", "scope", "base_url", "token_url", "group_licences", "batch_size",
                               "skus", "user_attribute", "ca_file", "proxy", "connect_timeout", "timeout",
                               "max_response_bytes", "max_concurrent", "read_limit", "read_window", "read_burst",
                               "write_limit", "write_window", "write_burst", "request_limit", "request_window",
                               "request_burst"});
      load_graph(r, *t, prefix, c);
    } else if (c.type == "google") {
      r.only_keys(*t, prefix, {"type", "service_account_file", "admin_subject", "product_id", "scope", "base_url",
                               "token_url", "skus", "user_attribute", "ca_file", "proxy", "connect_timeout", "timeout",
                               "max_response_bytes", "max_concurrent", "read_limit", "read_window", "read_burst",
                               "write_limit", "write_window", "write_burst", "request_limit", "request_window",
                               "request_burst"});
      load_google(r, *t, prefix, c);
    } else if (c.type == "scim") {
      r.only_keys(*t, prefix, {"type", "base_url", "token_file", "revoke", "match_by", "user_attribute", "ca_file", "proxy",
                               "connect_timeout", "timeout", "max_response_bytes", "max_concurrent", "read_limit",
                               "read_window", "read_burst", "write_limit", "write_window", "write_burst",
                               "request_limit", "request_window", "request_burst"});
      c.base_url = url_key(r, *t, prefix, "base_url", "");
      if (c.base_url.empty()) r.fail(t->source(), prefix + ".base_url", "is required");
      c.token_file = secret_key(r, *t, prefix, "token_file");
      if (c.token_file.empty()) r.fail(t->source(), prefix + ".token_file", "is required");
      c.revoke = r.str(*t, prefix, "revoke").value_or("deactivate");
      if (c.revoke != "deactivate" && c.revoke != "delete")
        r.fail(t->get("revoke")->source(), prefix + ".revoke", "must be \"deactivate\" or \"delete\"");
      c.match_by = r.str(*t, prefix, "match_by").value_or("userName");
      if (c.match_by != "userName" && c.match_by != "externalId" && c.match_by != "email")
        r.fail(t->get("match_by")->source(), prefix + ".match_by",
               fmt::format("\"{}\" is not \"userName\", \"externalId\" or \"email\"", c.match_by));
    } else if (c.type == "webhook") {
      r.only_keys(*t, prefix, {"type", "url", "secret_file", "targets", "ca_file", "proxy", "connect_timeout",
                               "timeout", "max_response_bytes", "max_concurrent", "write_limit", "write_window",
                               "write_burst"});
      c.url = url_key(r, *t, prefix, "url", "");
      if (c.url.empty()) r.fail(t->source(), prefix + ".url", "is required");
      c.secret_file = secret_key(r, *t, prefix, "secret_file");
      if (c.secret_file.empty()) r.fail(t->source(), prefix + ".secret_file", "is required (HMAC-SHA256 key)");
      c.targets = r.strings(*t, prefix, "targets").value_or(std::vector<std::string>{});
    } else {
      r.fail(t->get("type") ? t->get("type")->source() : t->source(), prefix + ".type",
             fmt::format("\"{}\" is not msgraph, google, scim or webhook", c.type));
    }
    load_http(r, *t, prefix, c);
    // Google's documented quota (licensing v1 limits: "QPS quota 1") counts
    // reads and writes together, per service account.
    if (c.type == "google" && c.requests.count <= 0) c.requests = {1, std::chrono::seconds(1), 1};
    // Graph's documented identity budgets (throttling limits, per app and
    // tenant): 3,000 writes per 2 min 30 s, and 3,500 resource units per
    // 10 s for the smallest tenants (GET user with $select costs 1).
    if (c.type == "msgraph" && c.writes.count <= 0) c.writes = {3000, std::chrono::seconds(150), c.writes.burst};
    if (c.type == "msgraph" && c.reads.count <= 0) c.reads = {3500, std::chrono::seconds(10), c.reads.burst};
    out[c.name] = std::move(c);
  }
  return out;
}

} // namespace reclaim
