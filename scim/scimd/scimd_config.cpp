// scimd_config.cpp — [scim_server] parsing. A tokens_file holds the same
// `tokens = [...]` array and must be a regular 0600/0400 file of ours: it
// grants write access to every person record.
#include "scimd_config.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

namespace reclaim::scimd {
namespace {

class reader {
public:
  explicit reader(std::string file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const toml::source_region &where, std::string_view key, std::string_view problem) const {
    throw config_error(fmt::format("{}:{}:{}: {}: {}", file_, where.begin.line, where.begin.column, key, problem));
  }
  void only_keys(const toml::table &t, std::string_view prefix, std::initializer_list<std::string_view> allowed) const {
    for (auto &&[k, v] : t) {
      bool ok = false;
      for (auto a : allowed) ok = ok || k.str() == a;
      if (!ok) fail(k.source(), fmt::format("{}.{}", prefix, k.str()),
                    fmt::format("unknown key (expected one of: {})", fmt::join(allowed, ", ")));
    }
  }
  const std::string &file() const { return file_; }

private:
  std::string file_;
};

std::string key_of(std::string_view prefix, std::string_view key) { return fmt::format("{}.{}", prefix, key); }

std::optional<std::string> str(const reader &r, const toml::table &t, std::string_view prefix, std::string_view key) {
  const auto *n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string()) r.fail(n->source(), key_of(prefix, key), "must be a string");
  return n->as_string()->get();
}

std::optional<std::int64_t> integer(const reader &r, const toml::table &t, std::string_view prefix, std::string_view key,
                                    std::int64_t lo, std::int64_t hi) {
  const auto *n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer()) r.fail(n->source(), key_of(prefix, key), "must be an integer");
  const auto v = n->as_integer()->get();
  if (v < lo || v > hi) r.fail(n->source(), key_of(prefix, key), fmt::format("must be between {} and {}", lo, hi));
  return v;
}

bool is_hex64(const std::string &s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

void parse_listen(const reader &r, const toml::node &n, const std::string &text, scimd_config &cfg) {
  // host:port, [v6]:port
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      r.fail(n.source(), "scim_server.listen", "expected host:port or [ipv6]:port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) r.fail(n.source(), "scim_server.listen", "expected host:port or [ipv6]:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned long p = 0;
  try {
    std::size_t used = 0;
    p = std::stoul(port, &used);
    if (used != port.size() || p > 65535) throw std::invalid_argument("port");
  } catch (const std::exception &) {
    r.fail(n.source(), "scim_server.listen", "port must be 0..65535");
  }
  unsigned char buf[16];
  bool loop = false;
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) loop = buf[0] == 127;
  else if (inet_pton(AF_INET6, host.c_str(), buf) == 1) loop = host == "::1";
  else r.fail(n.source(), "scim_server.listen", "the host must be an IP address (" + host + ")");
  cfg.listen_host = host;
  cfg.listen_port = static_cast<std::uint16_t>(p);
  cfg.loopback = loop;
}

void parse_tokens(const reader &r, const toml::node &n, std::string_view key, scimd_config &cfg) {
  const auto *arr = n.as_array();
  if (arr == nullptr) r.fail(n.source(), key, "must be an array of { token_sha256, role, name } tables");
  std::size_t i = 0;
  for (const auto &item : *arr) {
    const std::string k = fmt::format("{}[{}]", key, i++);
    const auto *t = item.as_table();
    if (t == nullptr) r.fail(item.source(), k, "must be a table { token_sha256, role, name }");
    r.only_keys(*t, k, {"token_sha256", "role", "name"});
    token_entry e;
    auto hex = str(r, *t, k, "token_sha256");
    if (!hex || !is_hex64(*hex)) r.fail(item.source(), k + ".token_sha256", "required: 64 hex digits (sha256sum of the token)");
    for (std::size_t b = 0; b < 32; ++b) e.sha256[b] = static_cast<unsigned char>(std::stoul(hex->substr(2 * b, 2), nullptr, 16));
    auto rl = str(r, *t, k, "role");
    if (rl == "provisioner") e.who = role::provisioner;
    else if (rl == "reader") e.who = role::reader;
    else if (rl == "hr") e.who = role::hr;
    else r.fail(item.source(), k + ".role", "required: \"provisioner\", \"reader\" or \"hr\"");
    e.name = str(r, *t, k, "name").value_or(k);
    cfg.tokens.push_back(e);
  }
}

void load_tokens_file(const reader &r, const toml::node &where, const std::string &path, scimd_config &cfg) {
  struct stat st{};
  if (lstat(path.c_str(), &st) != 0) r.fail(where.source(), "scim_server.tokens_file", "cannot stat " + path);
  if (!S_ISREG(st.st_mode)) r.fail(where.source(), "scim_server.tokens_file", path + " must be a regular file");
  if ((st.st_mode & 077) != 0 || st.st_uid != geteuid())
    r.fail(where.source(), "scim_server.tokens_file",
           fmt::format("{} must be owned by uid {} with mode 0600 or 0400 (chmod 600 {})", path, geteuid(), path));
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error &e) {
    throw config_error(fmt::format("{}:{}:{}: syntax error: {}", path, e.source().begin.line, e.source().begin.column,
                                   e.description()));
  }
  reader fr(path);
  fr.only_keys(t, "", {"tokens"});
  if (const auto *n = t.get("tokens")) parse_tokens(fr, *n, "tokens", cfg);
}

} // namespace

const char *role_name(role r) {
  switch (r) {
  case role::provisioner: return "provisioner";
  case role::reader: return "reader";
  case role::hr: return "hr";
  }
  return "?";
}

std::string token_sha256_hex(const std::string &token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

scimd_config load_config(const std::string &path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error &e) {
    throw config_error(fmt::format("{}:{}:{}: syntax error: {}", path, e.source().begin.line, e.source().begin.column,
                                   e.description()));
  }
  reader r(path);
  scimd_config cfg;
  cfg.config_path = path;
  if (const auto *engine = root["engine"].as_table())
    if (auto v = str(r, *engine, "engine", "state_dir")) cfg.state_dir = *v;
  if (const auto *hold = root["legal_hold"].as_table()) {
    cfg.mapping.hold_attribute = str(r, *hold, "legal_hold", "attribute").value_or("");
    cfg.mapping.hold_value = str(r, *hold, "legal_hold", "value").value_or("");
  }
  const auto *sn = root.get("scim_server");
  if (sn == nullptr) throw config_error(path + ": no [scim_server] section (docs/scim.md)");
  const auto *s = sn->as_table();
  if (s == nullptr) r.fail(sn->source(), "scim_server", "must be a table");
  const std::string p = "scim_server";
  r.only_keys(*s, p, {"enabled", "listen", "tls_cert", "tls_key", "client_ca", "tokens", "tokens_file", "subject_key",
                      "base_url", "mapping", "limits", "saml"});
  if (const auto *n = s->get("enabled")) {
    if (!n->is_boolean()) r.fail(n->source(), "scim_server.enabled", "must be true or false");
    cfg.enabled = n->as_boolean()->get();
  }
  if (const auto *n = s->get("listen")) {
    if (!n->is_string()) r.fail(n->source(), "scim_server.listen", "must be a string \"host:port\"");
    parse_listen(r, *n, n->as_string()->get(), cfg);
  }
  cfg.tls_cert = str(r, *s, p, "tls_cert").value_or("");
  cfg.tls_key = str(r, *s, p, "tls_key").value_or("");
  cfg.client_ca = str(r, *s, p, "client_ca").value_or("");
  cfg.base_url = str(r, *s, p, "base_url").value_or("");
  if (cfg.tls_cert.empty() != cfg.tls_key.empty())
    r.fail(s->source(), p, "tls_cert and tls_key go together");
  if (!cfg.client_ca.empty() && cfg.tls_cert.empty())
    r.fail(s->source(), "scim_server.client_ca", "mutual TLS needs tls_cert and tls_key");
  if (cfg.enabled && !cfg.tls() && !cfg.loopback)
    r.fail(s->get("listen") != nullptr ? s->get("listen")->source() : s->source(), "scim_server.listen",
           "plain HTTP is only allowed on a loopback address: set tls_cert and tls_key");
  if (const auto *n = s->get("tokens")) parse_tokens(r, *n, "scim_server.tokens", cfg);
  if (const auto *n = s->get("tokens_file")) {
    if (!n->is_string()) r.fail(n->source(), "scim_server.tokens_file", "must be a path");
    load_tokens_file(r, *n, n->as_string()->get(), cfg);
  }
  if (const auto *n = s->get("subject_key")) {
    const auto v = n->value<std::string>();
    if (!v || (*v != "id" && *v != "externalId" && *v != "userName" && *v != "employeeNumber"))
      r.fail(n->source(), "scim_server.subject_key", "one of \"id\", \"externalId\", \"userName\", \"employeeNumber\"");
    cfg.mapping.subject_key = *v;
  }
  if (const auto *n = s->get("mapping")) {
    const auto *m = n->as_table();
    if (m == nullptr) r.fail(n->source(), "scim_server.mapping", "must be a table");
    const std::string mp = "scim_server.mapping";
    r.only_keys(*m, mp, {"inactive_state", "transfer_attributes"});
    if (auto v = str(r, *m, mp, "inactive_state")) {
      if (*v != "terminated" && *v != "leave" && *v != "contract_ended")
        r.fail(m->get("inactive_state")->source(), mp + ".inactive_state",
               "one of \"terminated\", \"leave\", \"contract_ended\"");
      cfg.mapping.inactive_state = *v;
    }
    if (const auto *ta = m->get("transfer_attributes")) {
      const auto *arr = ta->as_array();
      if (arr == nullptr) r.fail(ta->source(), mp + ".transfer_attributes", "must be an array of attribute names");
      cfg.mapping.transfer_attributes.clear();
      for (const auto &item : *arr) {
        if (!item.is_string() || item.as_string()->get().empty())
          r.fail(item.source(), mp + ".transfer_attributes", "every element must be a non-empty string");
        cfg.mapping.transfer_attributes.push_back(item.as_string()->get());
      }
    }
  }
  if (const auto *n = s->get("limits")) {
    const auto *l = n->as_table();
    if (l == nullptr) r.fail(n->source(), "scim_server.limits", "must be a table");
    const std::string lp = "scim_server.limits";
    r.only_keys(*l, lp, {"max_body_bytes", "max_header_bytes", "header_timeout_ms", "body_timeout_ms", "idle_timeout_ms",
                         "drain_timeout_ms", "max_connections", "max_json_depth", "max_results", "threads"});
    auto &L = cfg.limits;
    if (auto v = integer(r, *l, lp, "max_body_bytes", 1024, 64 << 20)) L.max_body_bytes = static_cast<std::size_t>(*v);
    if (auto v = integer(r, *l, lp, "max_header_bytes", 1024, 1 << 20)) L.max_header_bytes = static_cast<std::size_t>(*v);
    if (auto v = integer(r, *l, lp, "header_timeout_ms", 10, 600000)) L.header_timeout = std::chrono::milliseconds(*v);
    if (auto v = integer(r, *l, lp, "body_timeout_ms", 10, 600000)) L.body_timeout = std::chrono::milliseconds(*v);
    if (auto v = integer(r, *l, lp, "idle_timeout_ms", 10, 3600000)) L.idle_timeout = std::chrono::milliseconds(*v);
    if (auto v = integer(r, *l, lp, "drain_timeout_ms", 0, 600000)) L.drain_timeout = std::chrono::milliseconds(*v);
    if (auto v = integer(r, *l, lp, "max_connections", 1, 100000)) L.max_connections = static_cast<std::size_t>(*v);
    if (auto v = integer(r, *l, lp, "max_json_depth", 4, 1000)) L.max_json_depth = static_cast<std::size_t>(*v);
    if (auto v = integer(r, *l, lp, "max_results", 1, 100000)) L.max_results = static_cast<std::size_t>(*v);
    if (auto v = integer(r, *l, lp, "threads", 1, 64)) L.threads = static_cast<unsigned>(*v);
  }
  if (cfg.enabled && cfg.tokens.empty())
    r.fail(s->source(), p, "no tokens: set tokens = [{ token_sha256, role, name }] or tokens_file");
  return cfg;
}

} // namespace reclaim::scimd
