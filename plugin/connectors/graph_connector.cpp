// graph_connector.cpp — one pass per batch: read every person's licences
// (GET /users, in a $batch when there are several), decide per action what
// must be written (nothing: already done), write (assignLicense, PATCH
// accountEnabled, group membership), and map each inner answer to its
// action. When a write's answer is lost, the users are read again before
// anything is retried, so an effect is never applied twice.
#include "connectors/graph_connector.hpp"

#include "http/jwt.hpp"
#include "ldap/ldap_entry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace reclaim {

struct graph_connector::decision_slot {
  std::optional<connector_result> early; // no write needed (or impossible)
  std::vector<graph_connector::inner_request> writes;
  nlohmann::json before = nlohmann::json::object();
  std::string summary;
};

namespace {

using json = nlohmann::json;
using outcome = connector_result::outcome;

std::shared_ptr<http::token_cache> graph_tokens(const connector_settings &s, http::client &c) {
  std::vector<std::pair<std::string, std::string>> base{
      {"client_id", s.client_id}, {"scope", s.scope}, {"grant_type", "client_credentials"}};
  if (!s.client_secret_file.empty()) {
    base.emplace_back("client_secret", http::read_secret_file(s.client_secret_file));
    return std::make_shared<http::token_cache>([&c, url = s.token_url, base] {
      return http::fetch_oauth_token(c, url, base);
    });
  }
  const auto key = http::read_private_key_file(s.private_key_file);
  const auto x5t = http::cert_thumbprint_x5t(http::read_public_file(s.certificate_file));
  return std::make_shared<http::token_cache>([&c, s, base, key, x5t] {
    std::string jti;
    try {
      jti = http::base64url(http::random_bytes(16));
    } catch (const std::runtime_error &e) {
      fail_transient(std::string("certificate assertion: ") + e.what());
    }
    const auto t = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
    const json claims{{"aud", s.token_url}, {"iss", s.client_id}, {"sub", s.client_id}, {"nbf", t}, {"iat", t},
                      {"exp", t + 600}, {"jti", jti}};
    auto form = base;
    form.emplace_back("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    form.emplace_back("client_assertion", http::sign_rs256({{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", x5t}}, claims, *key));
    return http::fetch_oauth_token(c, s.token_url, form);
  });
}

// The vendor's words for a message: Graph's error code and message, else a
// bounded printable prefix of the body as received. A vendor body is never
// re-serialised (dump() recurses once per nesting level).
std::string graph_error(const json &body, const std::string &raw) {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto &e = body["error"];
    const auto text = [&](const char *k) { return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : ""; };
    const auto code = text("code");
    return fmt::format("{}: {}", http::printable_prefix(code.empty() ? "?" : code, 80),
                       http::printable_prefix(text("message"), 200));
  }
  if (!raw.empty()) return http::printable_prefix(raw, 200);
  if (body.is_string()) return http::printable_prefix(body.get<std::string>(), 200);
  if (body.is_null() || body.is_discarded()) return "";
  return fmt::format("a JSON {} without a Graph error object", body.type_name());
}

std::string graph_error(const graph_connector::inner_response &a) { return graph_error(a.body, a.raw); }

std::string graph_error(const std::string &raw) { return graph_error(parse_error_body(raw), raw); }

// The licences of a user as Graph reports them.
struct licence_view {
  std::string id;
  bool enabled = true;
  std::set<std::string> assigned;
  std::vector<std::pair<std::string, std::string>> states; // skuId, assignedByGroup ("" = direct)

  std::vector<std::string> groups_of(const std::string &sku) const {
    std::vector<std::string> g;
    for (const auto &[s, grp] : states)
      if (s == sku && !grp.empty()) g.push_back(grp);
    return g;
  }
  bool direct(const std::string &sku) const {
    bool any = false;
    for (const auto &[s, grp] : states) {
      if (s != sku) continue;
      any = true;
      if (grp.empty()) return true;
    }
    return !any; // no state reported: a direct assignment
  }
  bool member_of(const std::string &group) const {
    return std::any_of(states.begin(), states.end(), [&](auto &st) { return st.second == group; });
  }
};

licence_view view_of(const json &u) {
  licence_view v;
  if (!u.contains("id") || !u["id"].is_string()) fail_transient("Graph user answer without a string \"id\"");
  v.id = u["id"].get<std::string>();
  if (u.contains("accountEnabled") && u["accountEnabled"].is_boolean()) v.enabled = u["accountEnabled"].get<bool>();
  const auto arr = [&](const char *k) -> const json & {
    static const json empty = json::array();
    if (!u.contains(k) || u[k].is_null()) return empty;
    if (!u[k].is_array()) fail_transient(fmt::format("Graph user answer: \"{}\" is not an array", k));
    return u[k];
  };
  for (const auto &l : arr("assignedLicenses"))
    if (l.is_object() && l.contains("skuId") && l["skuId"].is_string()) v.assigned.insert(l["skuId"].get<std::string>());
    else fail_transient("Graph user answer: assignedLicenses[] entry without a string skuId");
  for (const auto &s : arr("licenseAssignmentStates")) {
    if (!s.is_object() || !s.contains("skuId") || !s["skuId"].is_string())
      fail_transient("Graph user answer: licenseAssignmentStates[] entry without a string skuId");
    const auto &g = s.contains("assignedByGroup") ? s["assignedByGroup"] : json();
    v.states.emplace_back(s["skuId"].get<std::string>(), g.is_string() ? g.get<std::string>() : "");
  }
  return v;
}

using decision_slot = graph_connector::decision_slot;

std::vector<std::string> targets(const action_row &a, const application &app, const connector_settings &s,
                                 const licence_view &v) {
  std::vector<std::string> t;
  if (!a.sku.empty()) t.push_back(s.vendor_sku(a.sku));
  else
    for (const auto &k : app.skus) t.push_back(s.vendor_sku(k.id));
  if (t.empty()) t.assign(v.assigned.begin(), v.assigned.end());
  return t;
}

json assign_body(const std::vector<std::string> &add, const std::vector<std::string> &remove) {
  json a = json::array();
  for (const auto &s : add) a.push_back({{"skuId", s}, {"disabledPlans", json::array()}});
  return {{"addLicenses", a}, {"removeLicenses", remove}};
}

// Removes `held` SKUs: direct copies with assignLicense (plus `add`), group
// copies per config. Fills d; false when refused.
void removal(decision_slot &d, const licence_view &v, const std::vector<std::string> &held, const std::vector<std::string> &add,
             const connector_settings &s) {
  std::vector<std::string> direct, groups;
  for (const auto &sku : held) {
    if (v.direct(sku)) direct.push_back(sku);
    for (const auto &g : v.groups_of(sku)) {
      if (s.group_licences != "remove_member") {
        d.early = connector_result{outcome::permanent,
                                   fmt::format("licence {} is inherited from group {}; cannot be removed directly "
                                               "(group_licences = \"remove_member\" removes the person from the group)",
                                               sku, g), "{}"};
        return;
      }
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
  }
  const auto id = path_segment(v.id, "the Graph user id");
  if (!direct.empty() || !add.empty())
    d.writes.push_back({"POST", "/users/" + id + "/assignLicense", assign_body(add, direct)});
  for (const auto &g : groups)
    d.writes.push_back({"DELETE", "/groups/" + path_segment(g, "the Graph group id") + "/members/" + id + "/$ref", nullptr});
  d.before = {{"user", v.id}, {"skus", direct}, {"groups", groups}, {"catalogue_skus", s.catalogue_skus(held)}};
  if (!add.empty()) d.before["added"] = add.front();
  d.summary = fmt::format("removed {}{}{}", fmt::join(direct, ", "), groups.empty() ? "" : "; left groups ",
                          fmt::join(groups, ", "));
}

decision_slot decide_restore(const action_row &a, const licence_view &v, const std::string &base_url) {
  decision_slot d;
  const auto image = json::parse(a.before_image.empty() ? "{}" : a.before_image, nullptr, false);
  std::vector<std::string> add, remove;
  if (image.is_object() && image.contains("skus") && image["skus"].is_array())
    for (const auto &s : image["skus"]) if (s.is_string() && !v.assigned.count(s.get<std::string>())) add.push_back(s.get<std::string>());
  if (image.is_object() && image.contains("added") && image["added"].is_string() && v.assigned.count(image["added"].get<std::string>()))
    remove.push_back(image["added"].get<std::string>());
  const auto id = path_segment(v.id, "the Graph user id");
  if (!add.empty() || !remove.empty())
    d.writes.push_back({"POST", "/users/" + id + "/assignLicense", assign_body(add, remove)});
  if (image.is_object() && image.contains("groups") && image["groups"].is_array())
    for (const auto &g : image["groups"])
      if (g.is_string() && !v.member_of(g.get<std::string>()))
        d.writes.push_back({"POST", "/groups/" + path_segment(g.get<std::string>(), "the Graph group id") + "/members/$ref",
                            json{{"@odata.id", base_url + "/directoryObjects/" + v.id}}});
  if (d.writes.empty()) d.early = connector_result{outcome::already_done, "licences already assigned", "{}"};
  d.summary = fmt::format("assigned {}", fmt::join(add, ", "));
  return d;
}

decision_slot decide(const action_row &a, const application &app, const connector_settings &s, const licence_view &v) {
  decision_slot d;
  const auto account = [&](bool enable) {
    if (v.enabled == enable) d.early = connector_result{outcome::already_done,
                                                        enable ? "account already enabled" : "account already disabled", "{}"};
    d.writes.push_back({"PATCH", "/users/" + path_segment(v.id, "the Graph user id"), json{{"accountEnabled", enable}}});
    d.before = {{"accountEnabled", v.enabled}};
    d.summary = enable ? "account enabled" : "account disabled";
  };
  switch (a.kind) {
  case action_kind::suspend_access:
  case action_kind::revoke_access: account(false); break;
  case action_kind::resume_access:
  case action_kind::grant_access: account(true); break;
  case action_kind::reclaim_licence: {
    std::vector<std::string> held;
    for (const auto &t : targets(a, app, s, v)) if (v.assigned.count(t)) held.push_back(t);
    if (held.empty()) d.early = connector_result{outcome::already_done, "no licence of this application assigned", "{}"};
    else removal(d, v, held, {}, s);
    break;
  }
  case action_kind::downgrade_licence: {
    const auto to = s.vendor_sku(a.to_sku);
    std::vector<std::string> held;
    for (const auto &t : targets(a, app, s, v)) if (t != to && v.assigned.count(t)) held.push_back(t);
    if (held.empty()) d.early = connector_result{outcome::already_done, v.assigned.count(to) ? "already on " + a.to_sku : "no licence assigned", "{}"};
    else removal(d, v, held, v.assigned.count(to) ? std::vector<std::string>{} : std::vector<std::string>{to}, s);
    break;
  }
  case action_kind::assign_licence: return decide_restore(a, v, s.base_url);
  case action_kind::transfer_ownership:
  case action_kind::notify:
    d.early = connector_result{outcome::permanent,
                               fmt::format("the msgraph connector does not perform {}; configure a webhook connector",
                                           action_kind_name(a.kind)), "{}"};
    break;
  }
  return d;
}

} // namespace

graph_connector::graph_connector(const connector_settings &s) : api_(s, nullptr) {
  api_.set_tokens(graph_tokens(s, api_.client()));
}

std::vector<graph_connector::inner_response> graph_connector::send(const std::vector<inner_request> &reqs, bool writes) {
  if (reqs.size() > 1) return send_batch(reqs, writes);
  std::vector<inner_response> out;
  for (const auto &q : reqs) {
    http::request r{q.method, api_.settings().base_url + q.url, {{"Accept", "application/json"}}, ""};
    if (!q.body.is_null()) {
      r.headers.emplace_back("Content-Type", "application/json");
      r.body = q.body.dump();
    }
    const auto resp = api_.call(r, writes ? 1 : 0);
    inner_response ir{resp.status, json(), resp.header("retry-after"), resp.body};
    if (!resp.body.empty()) {
      ir.body = parse_answer(resp.body, fmt::format("{} {}: HTTP {}", q.method, q.url, resp.status));
      if (ir.body.is_discarded())
        fail_transient(fmt::format("{} {}: HTTP {} answer is not JSON ({} bytes: \"{}\")", q.method, q.url, resp.status,
                                   resp.body.size(), http::printable_prefix(resp.body, 60)));
    }
    out.push_back(std::move(ir));
  }
  return out;
}

// POST /$batch in chunks of at most 20; inner answers come back in any order
// and are matched by id.
std::vector<graph_connector::inner_response> graph_connector::send_batch(const std::vector<inner_request> &reqs,
                                                                         bool writes) {
  std::vector<inner_response> out(reqs.size());
  for (size_t from = 0; from < reqs.size(); from += 20) {
    const size_t to = std::min(reqs.size(), from + 20);
    json body{{"requests", json::array()}};
    for (size_t i = from; i < to; ++i) {
      json r{{"id", std::to_string(i)}, {"method", reqs[i].method}, {"url", reqs[i].url}};
      if (!reqs[i].body.is_null()) {
        r["headers"] = {{"Content-Type", "application/json"}};
        r["body"] = reqs[i].body;
      }
      body["requests"].push_back(std::move(r));
    }
    const int n = static_cast<int>(to - from);
    const auto resp = api_.call({"POST", api_.settings().base_url + "/$batch",
                                 {{"Content-Type", "application/json"}, {"Accept", "application/json"}}, body.dump()},
                                writes ? n : 0, n);
    if (resp.status != 200) api_.fail_status(resp, "Graph $batch", graph_error(resp.body));
    const auto answer = parse_object(resp.body, "Graph $batch");
    if (!answer.contains("responses") || !answer["responses"].is_array())
      fail_transient("Graph $batch: answer without a \"responses\" array");
    for (const auto &r : answer["responses"]) {
      if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("status") ||
          !r["status"].is_number_integer())
        fail_transient("Graph $batch: a response without string id and integer status");
      size_t i = 0;
      try {
        i = std::stoul(r["id"].get<std::string>());
      } catch (const std::exception &) {
        fail_transient("Graph $batch: unknown response id " + http::printable_prefix(r["id"].get<std::string>(), 40));
      }
      if (i < from || i >= to)
        fail_transient("Graph $batch: unknown response id " + http::printable_prefix(r["id"].get<std::string>(), 40));
      out[i].status = r["status"].get<long>();
      out[i].body = r.contains("body") ? r["body"] : json();
      if (r.contains("headers") && r["headers"].is_object())
        for (const auto &[k, v] : r["headers"].items())
          if (ldap::lower_ascii(k) == "retry-after" && v.is_string()) out[i].retry_after = v.get<std::string>();
    }
  }
  return out;
}

// GET every open action's user; fills results for those that cannot go on.
std::vector<std::optional<json>> graph_connector::read_users(const std::vector<action_row> &actions,
                                                             std::vector<connector_result> &results,
                                                             const std::vector<bool> &open) {
  std::vector<inner_request> reqs;
  std::vector<size_t> owner;
  for (size_t i = 0; i < actions.size(); ++i) {
    if (!open[i]) continue;
    const auto r = guarded([&] {
      const auto key = path_segment(subject_key(actions[i], api_.settings().user_attribute), "the user key");
      reqs.push_back({"GET", "/users/" + key +
                                 "?$select=id,userPrincipalName,accountEnabled,assignedLicenses,licenseAssignmentStates",
                      nullptr});
      owner.push_back(i);
      return connector_result{};
    });
    if (r.what != outcome::done) results[i] = r;
  }
  std::vector<std::optional<json>> users(actions.size());
  const auto answers = send(reqs, false);
  for (size_t k = 0; k < answers.size(); ++k) {
    const auto &a = answers[k];
    const auto i = owner[k];
    if (a.status == 200 && a.body.is_object()) users[i] = a.body;
    else if (a.status == 404)
      results[i] = {outcome::permanent, fmt::format("user not found in the tenant: {}", graph_error(a)), "{}"};
    else if (a.status == 429 || a.status >= 500)
      results[i] = {outcome::transient, fmt::format("reading the user: HTTP {}: {}", a.status, graph_error(a)), "{}",
                    http::parse_retry_after(a.retry_after)};
    else
      results[i] = {a.status == 200 ? outcome::transient : outcome::permanent,
                    fmt::format("reading the user: HTTP {}: {}", a.status, graph_error(a)), "{}"};
  }
  return users;
}

std::vector<connector_result> graph_connector::execute_batch(const std::vector<action_row> &actions,
                                                             const std::vector<const application *> &apps) {
  const size_t n = actions.size();
  std::vector<connector_result> results(n, connector_result{outcome::transient, "not attempted", "{}"});
  std::vector<bool> open(n, true);
  std::vector<decision_slot> decisions(n);
  const auto all_open = [&](const connector_result &r) {
    for (size_t i = 0; i < n; ++i) if (open[i]) results[i] = r;
  };
  auto first = guarded([&] { read_and_decide(actions, apps, open, decisions, results); return connector_result{}; });
  if (first.what != outcome::done) { all_open(first); return results; }
  std::vector<inner_request> writes;
  std::vector<size_t> owner;
  for (size_t i = 0; i < n; ++i)
    if (open[i]) for (const auto &w : decisions[i].writes) { writes.push_back(w); owner.push_back(i); }
  if (writes.empty()) return results;
  std::vector<size_t> written;
  for (size_t i = 0; i < n; ++i) if (open[i]) written.push_back(i);
  std::vector<inner_response> answers;
  try {
    answers = send(writes, true);
  } catch (const http::transport_error &e) {
    all_open(guarded([&]() -> connector_result { throw; }));
    // The answer was lost after the request left: read again; what is now
    // in place is done, the rest is retried (nothing is applied twice).
    if (e.maybe_applied()) confirm(actions, apps, written, decisions, results, "the answer was lost");
    return results;
  } catch (...) {
    all_open(guarded([]() -> connector_result { throw; }));
    return results;
  }
  for (auto i : written) results[i] = {outcome::done, decisions[i].summary, decisions[i].before.dump()};
  std::vector<size_t> refused;
  bool throttled = false;
  for (size_t k = 0; k < answers.size(); ++k) {
    const auto &a = answers[k];
    auto &r = results[owner[k]];
    if (a.status >= 200 && a.status < 300) continue;
    const auto msg = fmt::format("{} {}: HTTP {}: {}", writes[k].method, writes[k].url, a.status, graph_error(a));
    if (a.status == 429 || a.status >= 500) {
      const auto ra = http::parse_retry_after(a.retry_after);
      if (ra) api_.pause(true, *ra);
      if (!throttled) api_.throttled(true); // once per batch: one crowded moment halves the rate once
      throttled = true;
      r = {outcome::transient, msg, "{}", ra};
    } else if (r.what != outcome::transient) {
      r = {outcome::permanent, msg, "{}"};
      refused.push_back(owner[k]);
    }
  }
  // A refused write (e.g. "does not have a corresponding license") may mean a
  // repeat of something already applied (a request resent by the transport):
  // if the state is what the action wants, it is done.
  if (!refused.empty()) confirm(actions, apps, refused, decisions, results, "the vendor refused a repeat");
  return results;
}

void graph_connector::read_and_decide(const std::vector<action_row> &actions,
                                      const std::vector<const application *> &apps, std::vector<bool> &open,
                                      std::vector<decision_slot> &decisions, std::vector<connector_result> &results) {
  const auto users = read_users(actions, results, open);
  for (size_t i = 0; i < actions.size(); ++i) {
    if (!open[i]) continue;
    if (!users[i]) { open[i] = false; continue; }
    const auto r = guarded([&] {
      decisions[i] = decide(actions[i], *apps[i], api_.settings(), view_of(*users[i]));
      return decisions[i].early.value_or(connector_result{});
    });
    if (r.what != outcome::done || decisions[i].early) { results[i] = r; open[i] = false; }
  }
}

void graph_connector::confirm(const std::vector<action_row> &actions, const std::vector<const application *> &apps,
                              const std::vector<size_t> &which, const std::vector<decision_slot> &decided,
                              std::vector<connector_result> &results, const std::string &why) {
  std::vector<bool> open(actions.size(), false);
  for (auto i : which) open[i] = true;
  auto again = decided;
  auto reread = results;
  const auto r = guarded([&] { read_and_decide(actions, apps, open, again, reread); return connector_result{}; });
  if (r.what != outcome::done) return;
  for (auto i : which)
    if (!open[i] && reread[i].what == outcome::already_done)
      results[i] = {outcome::done, fmt::format("{} ({}; confirmed by reading again)", decided[i].summary, why),
                    decided[i].before.dump()};
}

connector_result graph_connector::execute(const action_row &action, const application &app) {
  return execute_batch({action}, {&app}).front();
}

} // namespace reclaim
