// saml_endpoint.cpp — a refusal is answered in plain text (no SAML, so an
// attacker learns no more than the reason's name) with 400/403, logged with
// the reason code, and records nothing; a valid Terminate is submitted
// before the response is written, so a Success means it is journalled.
#include "saml_endpoint.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>

namespace reclaim::scimd {
namespace {

[[noreturn]] void fail(const std::string &file, const toml::source_region &where, const std::string &key,
                       const std::string &problem) {
  throw config_error(fmt::format("{}:{}:{}: {}: {}", file, where.begin.line, where.begin.column, key, problem));
}

std::string text_of(const std::string &file, const toml::node &n, const std::string &key) {
  const auto s = n.value<std::string>();
  if (!s || s->empty()) fail(file, n.source(), key, "must be a non-empty string");
  return *s;
}

http_response plain(int status, const std::string &text) {
  http_response r;
  r.status = status;
  r.headers["Content-Type"] = "text/plain; charset=utf-8";
  r.body = text + "\n";
  return r;
}

std::string media_type(std::string ct) {
  ct = ct.substr(0, ct.find(';'));
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  ct.erase(0, ct.find_first_not_of(' '));
  ct.erase(ct.find_last_not_of(' ') + 1);
  return ct;
}

// application/x-www-form-urlencoded: the value of name, '+' as space, then
// percent-decoded by libcurl; nullopt when the field is absent.
std::optional<std::string> form_field(const std::string &body, const std::string &name) {
  size_t pos = 0;
  while (pos <= body.size()) {
    const size_t end = std::min(body.find('&', pos), body.size());
    const std::string pair = body.substr(pos, end - pos);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) {
      std::string v = pair.substr(eq + 1);
      std::replace(v.begin(), v.end(), '+', ' ');
      int len = 0;
      char *raw = curl_easy_unescape(nullptr, v.c_str(), static_cast<int>(v.size()), &len);
      if (raw == nullptr) throw std::bad_alloc();
      std::string out(raw, static_cast<size_t>(len));
      curl_free(raw);
      return out;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::string random_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string id = "_";
  for (unsigned char c : b) id += fmt::format("{:02x}", c);
  return id;
}

struct refusal : std::runtime_error {
  int status;
  std::string code;
  refusal(int s, std::string c, const std::string &detail) : std::runtime_error(detail), status(s), code(std::move(c)) {}
};

} // namespace

std::optional<saml_settings> load_saml_settings(const std::string &path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error &e) {
    throw config_error(fmt::format("{}:{}:{}: syntax error: {}", path, e.source().begin.line,
                                   e.source().begin.column, e.description()));
  }
  const auto *node = root.at_path("scim_server.saml").node();
  if (node == nullptr) return std::nullopt;
  if (!node->is_table()) fail(path, node->source(), "scim_server.saml", "must be a table");
  saml_settings s;
  bool enabled = true;
  for (auto &&[k, v] : *node->as_table()) {
    const std::string key = "scim_server.saml." + std::string(k.str());
    if (k == "enabled") {
      const auto b = v.value<bool>();
      if (!b) fail(path, v.source(), key, "must be true or false");
      enabled = *b;
    } else if (k == "path") {
      s.path = text_of(path, v, key);
      if (s.path.front() != '/' || s.path.starts_with("/scim/v2") || s.path == "/hr/v1/workers")
        fail(path, v.source(), key, "must start with / and not be a SCIM or HR endpoint");
    } else if (k == "destination") {
      s.endpoint.endpoint_url = text_of(path, v, key);
    } else if (k == "idp_metadata") {
      s.endpoint.metadata_file = text_of(path, v, key);
    } else if (k == "sp_entity_id") {
      s.endpoint.sp_entity_id = text_of(path, v, key);
    } else if (k == "max_skew_seconds") {
      const auto n = v.value<int64_t>();
      if (!n || *n < 1 || *n > 86400) fail(path, v.source(), key, "must be between 1 and 86400");
      s.endpoint.max_skew = std::chrono::seconds(*n);
    } else if (k == "sp_key") {
      s.endpoint.sp_key_file = text_of(path, v, key);
    } else if (k == "sp_cert") {
      s.endpoint.sp_cert_file = text_of(path, v, key);
    } else if (k == "terminate_state") {
      s.endpoint.terminate_state = text_of(path, v, key);
      static const char *ok[] = {"terminated", "leave", "contract_ended", "deleted"};
      if (std::none_of(std::begin(ok), std::end(ok), [&](const char *o) { return s.endpoint.terminate_state == o; }))
        fail(path, v.source(), key, "must be terminated, leave, contract_ended or deleted");
    } else if (k == "subject") {
      s.subject = text_of(path, v, key);
      if (s.subject != "nameid" && s.subject != "userName" && s.subject != "externalId")
        fail(path, v.source(), key, "must be nameid, userName or externalId");
    } else {
      fail(path, k.source(), key, "unknown key");
    }
  }
  if (!enabled) return std::nullopt;
  const auto where = node->source();
  if (s.endpoint.endpoint_url.empty()) fail(path, where, "scim_server.saml.destination", "is required");
  if (s.endpoint.metadata_file.empty()) fail(path, where, "scim_server.saml.idp_metadata", "is required");
  if (s.endpoint.sp_entity_id.empty()) fail(path, where, "scim_server.saml.sp_entity_id", "is required");
  if (!s.endpoint.sp_cert_file.empty() && s.endpoint.sp_key_file.empty())
    fail(path, where, "scim_server.saml.sp_cert", "needs sp_key");
  return s;
}

saml_endpoint::saml_endpoint(saml_settings settings, const scimd_config &cfg, engine_lib &engine)
    : settings_(std::move(settings)), cfg_(cfg), engine_(engine), replay_(cfg.state_dir) {
  saml::init_xmlsec();
  trust_ = saml::load_trust(settings_.endpoint, replay_.function());
  if (!settings_.endpoint.sp_key_file.empty())
    key_ = saml::signing_key::load(settings_.endpoint.sp_key_file, settings_.endpoint.sp_cert_file);
  if (settings_.subject != "nameid") lookup_ = std::make_unique<resource_store>(cfg.state_dir);
}

std::string saml_endpoint::subject_of(const saml::verified_request &v) {
  if (settings_.subject == "nameid") return v.name.value;
  std::lock_guard lock(lookup_mu_);
  const auto found = lookup_->find_indexed(resource_kind::user, settings_.subject, v.name.value);
  if (!found || found->size() != 1)
    throw refusal(403, "unknown_subject",
                  fmt::format("{} SCIM Users have {} equal to the NameID", found ? found->size() : 0, settings_.subject));
  const auto &user = found->front().resource;
  if (cfg_.mapping.subject_key != "id") {
    const auto flat = flatten(cfg_.mapping, user);
    if (auto it = flat.find(cfg_.mapping.subject_key); it != flat.end() && !it->second.empty() && !it->second.front().empty())
      return it->second.front();
  }
  return found->front().id;
}

http_response saml_endpoint::serve(const http_request &req) {
  if (req.method != "POST") {
    auto r = plain(405, "use POST");
    r.headers["Allow"] = "POST";
    return r;
  }
  const auto now = std::chrono::system_clock::now();
  const std::string type = media_type(req.header("content-type"));
  saml::verified_request v;
  if (type == "text/xml" || type == "application/xml") {
    v = saml::verify_manage_name_id(req.body, trust_, now);
  } else if (type == "application/x-www-form-urlencoded") {
    const auto field = form_field(req.body, "SAMLRequest");
    if (!field) throw refusal(400, "missing_field", "no SAMLRequest form field");
    v = saml::verify_manage_name_id_post(*field, trust_, now);
  } else {
    return plain(415, "Content-Type must be text/xml (SOAP) or application/x-www-form-urlencoded (HTTP-POST)");
  }
  try {
    return record(v, now);
  } catch (...) {
    replay_.forget(v.id);
    throw;
  }
}

http_response saml_endpoint::record(const saml::verified_request &v, saml::time_point now) {
  mapped_event ev;
  ev.subject_id = subject_of(v);
  ev.state = settings_.endpoint.terminate_state;
  ev.previous_state = "none";
  ev.time_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(v.issue_instant.time_since_epoch()).count();
  ev.idempotency_key = "saml/" + v.issuer + "/" + v.id;
  ev.attributes["samlIssuer"] = {v.issuer};
  ev.attributes["samlNameID"] = {v.name.value};
  if (!v.name.format.empty()) ev.attributes["samlNameIDFormat"] = {v.name.format};
  ev.attributes["samlRequestID"] = {v.id};
  engine_.submit(ev, "saml", v.issuer);
  std::fprintf(stderr, "reclaim-scimd: saml: %s from %s: %s -> subject %s\n", v.id.c_str(), v.issuer.c_str(),
               ev.state.c_str(), ev.subject_id.c_str());
  http_response r;
  r.status = 200;
  r.headers["Content-Type"] = "text/xml; charset=utf-8";
  r.body = saml::manage_name_id_response(v, "Success", settings_.endpoint.sp_entity_id, random_id(), now,
                                         key_ ? &*key_ : nullptr);
  return r;
}

http_response saml_endpoint::handle(const http_request &req) {
  auto refuse = [&](int status, const std::string &code, const std::string &detail) {
    std::fprintf(stderr, "reclaim-scimd: saml: request from %s refused: %s: %s\n", req.peer.c_str(), code.c_str(),
                 detail.c_str());
    return plain(status, "request refused (" + code + "); nothing recorded");
  };
  try {
    return serve(req);
  } catch (const saml::saml_error &e) {
    return refuse(saml::http_status(e.code()), saml::reason_name(e.code()), e.what());
  } catch (const refusal &e) {
    return refuse(e.status, e.code, e.what());
  } catch (const engine_error &e) {
    auto r = refuse(503, "engine", e.what());
    r.headers["Retry-After"] = "5";
    return r;
  } catch (const std::exception &e) {
    return refuse(503, "internal", e.what());
  } catch (...) {
    return refuse(500, "internal", "unknown exception");
  }
}

} // namespace reclaim::scimd
