// scim_service.cpp — routing and CRUD of reclaim-scimd. Protocol work
// (filters, PATCH, schemas, projection) is done by the scim/ pieces; this
// file does HTTP semantics (status, ETag, Location), the store and the
// engine. Every write holds mu_; PUT/PATCH queue on group_commit and wait
// for their batch, other writes drain it first and do BEGIN, write,
// reclaim_submit, COMMIT themselves.
#include "scim_service.hpp"

#include "scim/scim_error.hpp"
#include "scim/scim_filter.hpp"
#include "scim/scim_patch.hpp"
#include "scim/scim_schema.hpp"

#include <algorithm>
#include <ctime>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace reclaim::scimd {
namespace {

using json = nlohmann::json;
constexpr const char *list_urn = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
constexpr const char *search_urn = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
constexpr const char *prefix = "/scim/v2";

std::string url_decode(std::string_view s) {
  int n = 0;
  char *out = curl_easy_unescape(nullptr, s.data(), static_cast<int>(s.size()), &n);
  if (out == nullptr) throw std::bad_alloc();
  std::string r(out, static_cast<std::size_t>(n));
  curl_free(out);
  return r;
}

struct target_parts {
  std::string path;
  std::map<std::string, std::string> query; // names lower-case
};

target_parts split_target(const std::string &target) {
  target_parts t;
  const auto q = target.find('?');
  t.path = target.substr(0, q);
  if (q == std::string::npos) return t;
  std::string_view rest(target);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto item = rest.substr(0, amp);
    const auto eq = item.find('=');
    std::string name = url_decode(item.substr(0, eq));
    for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t.query[name] = eq == std::string_view::npos ? "" : url_decode(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return t;
}

std::string now_text() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(ts.tv_nsec / 1000000) % 1000);
  return buf;
}

std::string new_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string etag_of(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

// If-Match / If-None-Match: "*" or a list of (weak or strong) ETags.
bool etag_matches(const std::string &header, std::int64_t version) {
  const std::string want = std::to_string(version);
  std::string_view rest(header);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
    if (item == want) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

json without_meta(const json &r) {
  json c = r;
  if (c.is_object()) c.erase("meta");
  return c;
}

http_response json_response(int status, const json &body) {
  http_response r;
  r.status = status;
  r.headers["Content-Type"] = "application/scim+json; charset=utf-8";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

struct kind_info {
  resource_kind store_kind;
  scim::resource_kind scim_kind;
  const char *endpoint;      // "Users"
  const char *resource_type; // "User"
};
const kind_info users_info{resource_kind::user, scim::resource_kind::user, "Users", "User"};
const kind_info groups_info{resource_kind::group, scim::resource_kind::group, "Groups", "Group"};

std::size_t parse_count(const std::string &text, std::size_t fallback, const char *name) {
  if (text.empty()) return fallback;
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(name);
    return v < 0 ? 0 : static_cast<std::size_t>(v);
  } catch (const std::exception &) {
    throw scim::scim_error(400, "invalidValue", std::string(name) + " must be an integer");
  }
}

} // namespace

scim_service::scim_service(const scimd_config &cfg, resource_store &store, engine_lib *engine)
    : cfg_(cfg), store_(store), engine_(engine), commits_(std::make_unique<group_commit>(cfg.state_dir, engine)) {}

scim_service::~scim_service() = default;

http_response scim_service::error(int status, const std::string &scim_type, const std::string &detail) {
  return json_response(status, scim::error_body(status, scim_type, detail));
}

void scim_service::add_route(std::string path, role needed, route_handler handler) {
  routes_.push_back(route{std::move(path), needed, std::move(handler)});
}

std::optional<caller> scim_service::authenticate(const http_request &req) const {
  const std::string h = req.header("authorization");
  if (h.size() < 8 || !std::equal(h.begin(), h.begin() + 7, "bearer ", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      }))
    return std::nullopt;
  std::string_view token(h);
  token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32) return std::nullopt;
  // Every entry is compared, in constant time, whichever matches.
  const token_entry *found = nullptr;
  for (const auto &t : cfg_.tokens)
    if (CRYPTO_memcmp(md, t.sha256.data(), 32) == 0) found = &t;
  if (found == nullptr) return std::nullopt;
  return caller{found->who, found->name};
}

http_response scim_service::handle(const http_request &req) {
  auto who = authenticate(req);
  if (!who) {
    auto r = error(401, "", "a valid bearer token is required");
    r.headers["WWW-Authenticate"] = "Bearer realm=\"reclaim-scimd\"";
    return r;
  }
  try {
    return dispatch(req, *who);
  } catch (const scim::scim_error &e) {
    return error(e.status, e.scim_type, e.what());
  } catch (const uniqueness_error &e) {
    return error(409, "uniqueness", e.what());
  } catch (const engine_error &e) {
    std::fprintf(stderr, "reclaim-scimd: %s\n", e.what());
    auto r = error(503, "", "the lifecycle engine could not record the change; nothing was changed, retry later");
    r.headers["Retry-After"] = "5";
    return r;
  } catch (const store_error &e) {
    std::fprintf(stderr, "reclaim-scimd: store: %s\n", e.what());
    auto r = error(503, "", "the resource store failed; nothing was changed, retry later");
    r.headers["Retry-After"] = "5";
    return r;
  } catch (const json::exception &e) {
    return error(400, "invalidSyntax", std::string("bad JSON: ") + e.what());
  }
}

// RFC 7643 §4.2: a deleted User leaves every Group it was a member of. Runs
// inside the caller's transaction, under mu_.
void scim_service::drop_member(const std::string &user_id, const std::string &group_location) {
  for (auto &g : store_.all(resource_kind::group)) {
    auto members = g.resource.find("members");
    if (members == g.resource.end() || !members->is_array()) continue;
    const auto before = members->size();
    json kept = json::array();
    for (auto &m : *members)
      if (!(m.is_object() && m.value("value", "") == user_id)) kept.push_back(m);
    if (kept.size() == before) continue;
    if (kept.empty()) g.resource.erase("members");
    else g.resource["members"] = std::move(kept);
    ++g.version;
    json &meta = g.resource["meta"];
    meta["lastModified"] = now_text();
    meta["version"] = etag_of(g.version);
    meta["location"] = group_location + g.id;
    store_.update(resource_kind::group, g);
  }
}

http_response scim_service::dispatch(const http_request &req, const caller &who) {
  const auto t = split_target(req.target);
  const std::string &m = req.method;

  for (const auto &r : routes_)
    if (t.path == r.path) {
      if (who.who != r.needed) return error(403, "", "the token's role does not allow this endpoint");
      return r.handler(req, who);
    }

  if (!t.path.starts_with(prefix) || (t.path.size() > 8 && t.path[8] != '/'))
    return error(404, "", "no such endpoint");
  std::string rest = t.path.substr(std::char_traits<char>::length(prefix));
  if (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto slash = rest.find('/');
  const std::string collection = rest.substr(0, slash);
  const std::string id = slash == std::string::npos ? "" : url_decode(rest.substr(slash + 1));

  if (who.who == role::hr) return error(403, "", "the token's role (hr) may only post HR documents");
  const bool write = m != "GET" && m != "HEAD" && !(m == "POST" && id == ".search");
  if (write && who.who != role::provisioner)
    return error(403, "", std::string("the token's role (") + role_name(who.who) + ") may only read");

  const std::string base =
      !cfg_.base_url.empty() ? cfg_.base_url
                             : std::string(cfg_.tls() ? "https://" : "http://") +
                                   (req.header("host").empty() ? cfg_.listen_host : req.header("host")) + prefix;

  auto get_only = [&]() -> std::optional<http_response> {
    if (m != "GET") return error(405, "", "method not allowed");
    return std::nullopt;
  };
  if (collection == "ServiceProviderConfig") {
    if (auto e = get_only()) return *e;
    json doc = scim::service_provider_config(false, true, cfg_.limits.max_results);
    return json_response(200, doc);
  }
  if (collection == "Schemas") {
    if (auto e = get_only()) return *e;
    return json_response(200, id.empty() ? scim::schemas_document() : scim::schema(id));
  }
  if (collection == "ResourceTypes") {
    if (auto e = get_only()) return *e;
    json doc = scim::resource_types(base);
    if (id.empty()) return json_response(200, doc);
    for (const auto &r : doc.value("Resources", json::array()))
      if (r.value("id", "") == id || r.value("name", "") == id) return json_response(200, r);
    return error(404, "", "no such resource type");
  }
  if (collection == "Bulk") return error(501, "", "Bulk is not supported (see ServiceProviderConfig)");
  if (collection == "Me") return error(501, "", "/Me is not supported");
  const kind_info *kind = collection == "Users" ? &users_info : collection == "Groups" ? &groups_info : nullptr;
  if (kind == nullptr) return error(404, "", "no such endpoint");

  const std::string location_base = base + "/" + kind->endpoint + "/";
  const std::string actor = "scim:" + who.name;

  // ---- list and search
  if (id.empty() || id == ".search") {
    std::map<std::string, std::string> q = t.query;
    if (id == ".search") {
      if (m != "POST") return error(405, "", "method not allowed");
      const json body = scim::parse_body(req.body, cfg_.limits.max_json_depth);
      if (!body.is_object()) throw scim::scim_error(400, "invalidSyntax", "a SearchRequest must be an object");
      (void)search_urn;
      auto text = [](const json &v) -> std::string {
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number_integer()) return std::to_string(v.get<long long>());
        if (v.is_array()) {
          std::string s;
          for (const auto &x : v) s += (s.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : x.dump());
          return s;
        }
        throw scim::scim_error(400, "invalidValue", "SearchRequest member of the wrong type");
      };
      for (auto it = body.begin(); it != body.end(); ++it) {
        std::string k = it.key();
        for (auto &c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (k != "schemas") q[k] = text(it.value());
      }
    } else if (m == "POST") {
      // create: below
    } else if (m != "GET") {
      return error(405, "", "method not allowed");
    }
    if (m == "GET" || id == ".search") {
      const std::string filter_text = q.count("filter") ? q["filter"] : "";
      std::shared_ptr<const scim::filter> f;
      if (!filter_text.empty()) f = scim::filter::parse(filter_text, kind->scim_kind);
      std::vector<stored_resource> rows;
      {
        std::lock_guard lock(mu_);
        std::optional<std::vector<stored_resource>> hit;
        if (f)
          if (auto eq = f->simple_equality()) hit = store_.find_indexed(kind->store_kind, eq->first, eq->second);
        rows = hit ? std::move(*hit) : store_.all(kind->store_kind);
      }
      std::vector<const json *> matched;
      for (const auto &r : rows)
        if (!f || f->matches(r.resource)) matched.push_back(&r.resource);
      if (q.count("sortby") && !q["sortby"].empty()) {
        const std::string by = q["sortby"];
        const bool desc = q.count("sortorder") && (q["sortorder"] == "descending");
        // compare_by validates the path even with one element.
        if (!matched.empty()) (void)scim::compare_by(*matched.front(), *matched.front(), by, kind->scim_kind);
        std::stable_sort(matched.begin(), matched.end(), [&](const json *a, const json *b) {
          const int c = scim::compare_by(*a, *b, by, kind->scim_kind);
          return desc ? c > 0 : c < 0;
        });
      }
      std::size_t start = parse_count(q.count("startindex") ? q["startindex"] : "", 1, "startIndex");
      if (start < 1) start = 1;
      const std::size_t count =
          std::min(parse_count(q.count("count") ? q["count"] : "", cfg_.limits.max_results, "count"), cfg_.limits.max_results);
      json resources = json::array();
      const std::string attrs = q.count("attributes") ? q["attributes"] : "";
      const std::string excluded = q.count("excludedattributes") ? q["excludedattributes"] : "";
      for (std::size_t i = start - 1; i < matched.size() && resources.size() < count; ++i)
        resources.push_back(scim::project(*matched[i], kind->scim_kind, attrs, excluded));
      json body = {{"schemas", {list_urn}},
                   {"totalResults", matched.size()},
                   {"startIndex", start},
                   {"itemsPerPage", resources.size()},
                   {"Resources", std::move(resources)}};
      return json_response(200, body);
    }
    // ---- create
    const json body = scim::parse_body(req.body, cfg_.limits.max_json_depth);
    json resource = scim::normalise(body, kind->scim_kind);
    stored_resource s;
    s.id = new_id();
    s.version = 1;
    const std::string now = now_text();
    resource["id"] = s.id;
    resource["meta"] = {{"resourceType", kind->resource_type}, {"created", now}, {"lastModified", now},
                        {"version", etag_of(1)}, {"location", location_base + s.id}};
    s.resource = resource;
    {
      std::lock_guard lock(mu_);
      commits_->drain();
      store_.begin();
      try {
        store_.insert(kind->store_kind, s);
        if (kind->store_kind == resource_kind::user && engine_ != nullptr)
          if (auto ev = map_change(cfg_.mapping, std::nullopt, s.resource)) engine_->submit(*ev, "scim", actor);
        store_.commit();
      } catch (...) {
        store_.rollback();
        throw;
      }
    }
    auto r = json_response(201, scim::project(s.resource, kind->scim_kind, t.query.count("attributes") ? t.query.at("attributes") : "",
                                              t.query.count("excludedattributes") ? t.query.at("excludedattributes") : ""));
    r.headers["Location"] = location_base + s.id;
    r.headers["ETag"] = etag_of(1);
    return r;
  }

  // ---- one resource
  const std::string attrs = t.query.count("attributes") ? t.query.at("attributes") : "";
  const std::string excluded = t.query.count("excludedattributes") ? t.query.at("excludedattributes") : "";
  auto one = [&](int status, const stored_resource &s) {
    auto r = json_response(status, scim::project(s.resource, kind->scim_kind, attrs, excluded));
    r.headers["ETag"] = etag_of(s.version);
    r.headers["Location"] = location_base + s.id;
    return r;
  };
  auto not_found = [&] { return error(404, "", std::string(kind->resource_type) + " " + id + " not found"); };

  if (m == "GET") {
    std::optional<stored_resource> s;
    {
      std::lock_guard lock(mu_);
      s = store_.get(kind->store_kind, id);
    }
    if (!s) return not_found();
    if (auto inm = req.header("if-none-match"); !inm.empty() && etag_matches(inm, s->version)) {
      http_response r;
      r.status = 304;
      r.headers["ETag"] = etag_of(s->version);
      return r;
    }
    return one(200, *s);
  }
  if (m != "PUT" && m != "PATCH" && m != "DELETE") return error(405, "", "method not allowed");

  // Parse before taking the lock: a bad body costs nothing but its parse.
  json body;
  if (m != "DELETE") body = scim::parse_body(req.body, cfg_.limits.max_json_depth);
  const std::string if_match = req.header("if-match");

  std::unique_lock lock(mu_);
  auto viewed = commits_->view(kind->store_kind, id, store_);
  auto &before = viewed.resource;
  if (!before) return not_found();
  if (!if_match.empty() && !etag_matches(if_match, before->version))
    return error(412, "", "If-Match does not match the current version " + etag_of(before->version));

  if (m == "DELETE") {
    commits_->drain(); // the row is now as viewed: we hold mu_, only we queue
    store_.begin();
    try {
      store_.remove(kind->store_kind, id);
      if (kind->store_kind == resource_kind::user) drop_member(id, base + "/Groups/");
      if (kind->store_kind == resource_kind::user && engine_ != nullptr)
        if (auto ev = map_change(cfg_.mapping, before->resource, std::nullopt)) engine_->submit(*ev, "scim", actor);
      store_.commit();
    } catch (...) {
      store_.rollback();
      throw;
    }
    http_response r;
    r.status = 204;
    return r;
  }

  json next = m == "PUT" ? scim::normalise(body, kind->scim_kind) : scim::apply_patch(before->resource, body, kind->scim_kind);
  next["id"] = before->id;
  if (without_meta(next) == without_meta(before->resource)) { // nothing changed: no event
    if (viewed.queued) {
      // Answer only with a durable state: wait for the queued change.
      commits_->drain();
      if (commits_->view(kind->store_kind, id, store_).generation != viewed.generation)
        throw store_error("a concurrent change of the resource failed to commit");
    }
    return one(200, *before);
  }
  stored_resource after;
  after.id = before->id;
  after.version = before->version + 1;
  json meta = before->resource.value("meta", json::object());
  meta["lastModified"] = now_text();
  meta["version"] = etag_of(after.version);
  meta["location"] = location_base + after.id;
  next["meta"] = meta;
  after.resource = std::move(next);
  const auto user_name = [](const json &r) { return r.value("userName", std::string()); };
  if (kind->store_kind == resource_kind::group || user_name(after.resource) == user_name(before->resource)) {
    // Group commit: durable when the future is ready. A rename may clash
    // with another userName and so must not fail a batch: it takes the
    // synchronous path below.
    std::optional<mapped_event> ev;
    if (kind->store_kind == resource_kind::user && engine_ != nullptr)
      ev = map_change(cfg_.mapping, before->resource, after.resource);
    auto done = commits_->commit(viewed.generation, kind->store_kind, after, std::move(ev), actor);
    lock.unlock();
    done.get();
    return one(200, after);
  }
  commits_->drain();
  store_.begin();
  try {
    store_.update(kind->store_kind, after);
    if (kind->store_kind == resource_kind::user && engine_ != nullptr)
      if (auto ev = map_change(cfg_.mapping, before->resource, after.resource)) engine_->submit(*ev, "scim", actor);
    store_.commit();
  } catch (...) {
    store_.rollback();
    throw;
  }
  return one(200, after);
}

} // namespace reclaim::scimd
