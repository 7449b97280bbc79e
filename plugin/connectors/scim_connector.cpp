// scim_connector.cpp — read, decide, write, and on a lost answer or a 412
// read again: a person already inactive (or gone) is "already done"
// without a write; an ETag mismatch means someone else changed the User
// since we read it, so we read it again (once) before writing.
#include "connectors/scim_connector.hpp"

#include <fmt/format.h>

namespace reclaim {
namespace {

using json = nlohmann::json;
using outcome = connector_result::outcome;

bool wants_delete(const action_row &a, const connector_settings &s) {
  return a.kind == action_kind::revoke_access && s.revoke == "delete";
}

std::optional<bool> wanted_active(action_kind k) {
  switch (k) {
  case action_kind::suspend_access:
  case action_kind::revoke_access:
  case action_kind::reclaim_licence: return false;
  case action_kind::resume_access:
  case action_kind::grant_access:
  case action_kind::assign_licence: return true;
  default: return std::nullopt;
  }
}

// The search filter for match_by (RFC 7644 §3.4.2.2); the value is a JSON
// string literal, as the filter grammar's compValue is.
std::string search_filter(const std::string &match_by, const std::string &value) {
  const auto literal = json(value).dump();
  if (match_by == "externalId") return "externalId eq " + literal;
  if (match_by == "email") return "emails[value eq " + literal + "]";
  return "userName eq " + literal;
}

} // namespace

scim_connector::scim_connector(const connector_settings &s) : api_(s, nullptr) {
  const auto token = http::read_secret_file(s.token_file);
  // A static bearer token: "refreshing" re-reads nothing, so a second 401
  // is reported as a refused credential.
  api_.set_tokens(std::make_shared<http::token_cache>(
      [token] { return http::access_token{token, std::chrono::hours(24 * 365)}; }));
}

void scim_connector::fail(const http::response &r, const std::string &what) {
  const auto body = parse_error_body(r.body);
  const auto detail = body.is_discarded() ? std::nullopt : scim::parse_error(body);
  api_.fail_status(r, what, detail ? http::printable_prefix(*detail, 200) : http::printable_prefix(r.body, 160));
}

std::optional<scim::user> scim_connector::find(const std::string &key) {
  const auto &match_by = api_.settings().match_by;
  const auto url = fmt::format("{}/Users?filter={}", api_.settings().base_url,
                               http::url_escape(search_filter(match_by, key)));
  const auto r = api_.call({"GET", url, {{"Accept", scim::media_type}}, ""}, 0);
  if (r.status == 404) return std::nullopt; // some providers answer an empty filter with 404
  if (r.status != 200) fail(r, "SCIM search for " + key);
  const auto users = scim::parse_list(parse_object(r.body, "SCIM search for " + key));
  if (users.size() > 1) fail_permanent(fmt::format("{} SCIM users have {} {}", users.size(), match_by, key));
  if (users.empty()) return std::nullopt;
  return users.front();
}

std::pair<scim::user, std::string> scim_connector::get(const std::string &id) {
  const auto r = api_.call({"GET", api_.settings().base_url + "/Users/" + path_segment(id, "the SCIM user id"),
                            {{"Accept", scim::media_type}}, ""}, 0);
  if (r.status != 200) fail(r, "SCIM GET User " + id);
  auto u = scim::parse_user(parse_object(r.body, "SCIM GET User " + id));
  auto etag = r.header("etag");
  return {u, etag.empty() ? u.version : etag};
}

connector_result scim_connector::write(const action_row &a, const scim::user &u, const std::string &etag,
                                       bool to_delete, bool active) {
  http::request r{to_delete ? "DELETE" : "PATCH", api_.settings().base_url + "/Users/" + path_segment(u.id, "the SCIM user id"),
                  {{"Accept", scim::media_type}}, ""};
  if (!to_delete) {
    r.headers.emplace_back("Content-Type", scim::media_type);
    r.body = scim::patch_active(active).dump();
  }
  if (!etag.empty()) r.headers.emplace_back("If-Match", etag);
  const auto resp = api_.call(r, 1);
  const json before{{"id", u.id}, {"active", u.active}};
  if (resp.status == 200 || resp.status == 204)
    return {outcome::done, to_delete ? "SCIM user deleted" : fmt::format("SCIM user active={}", active), before.dump()};
  if (resp.status == 404 && !active) return {outcome::already_done, "SCIM user is gone", "{}"};
  if (resp.status == 412) fail_transient("SCIM ETag mismatch (412): the user changed since it was read");
  fail(resp, fmt::format("SCIM {} User {}", r.method, u.id));
  (void)a;
}

connector_result scim_connector::act(const action_row &a) {
  const auto active = wanted_active(a.kind);
  if (!active)
    fail_permanent(fmt::format("the scim connector does not perform {}", action_kind_name(a.kind)));
  const auto name = subject_key(a, api_.settings().user_attribute);
  const auto found = find(name);
  if (!found) {
    if (!*active) return {outcome::already_done, "no SCIM user " + name + " at the service provider", "{}"};
    fail_permanent("no SCIM user " + name + " at the service provider to reactivate");
  }
  const bool to_delete = wants_delete(a, api_.settings());
  for (int round = 0;; ++round) {
    auto [u, etag] = get(found->id);
    if (!to_delete && u.active == *active)
      return {outcome::already_done, fmt::format("SCIM user already active={}", *active), "{}"};
    try {
      return write(a, u, etag, to_delete, *active);
    } catch (const action_failure &e) {
      if (round == 0 && std::string(e.what()).find("(412)") != std::string::npos) continue; // read again, once
      throw;
    } catch (const http::transport_error &e) {
      if (!e.maybe_applied()) throw;
      // The answer was lost: read again before anything is retried.
      const auto again = find(name);
      if (to_delete && !again) return {outcome::done, "SCIM user deleted (answer lost; confirmed by reading again)", "{}"};
      if (again && !to_delete && get(again->id).first.active == *active)
        return {outcome::done, fmt::format("SCIM user active={} (answer lost; confirmed by reading again)", *active),
                json{{"id", u.id}, {"active", u.active}}.dump()};
      throw;
    }
  }
}

connector_result scim_connector::execute(const action_row &a, const application &) {
  return guarded([&] {
    try {
      return act(a);
    } catch (const scim::protocol_error &e) {
      fail_transient(std::string("SCIM answer: ") + e.what());
    }
  });
}

} // namespace reclaim
