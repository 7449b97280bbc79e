// lifecycle_mapping.cpp — before/after SCIM User → lifecycle event. Names are
// looked up case-insensitively (RFC 7643 §2.1) and booleans sent as strings
// ("False", Entra without aadOptscim062020) count as booleans.
#include "lifecycle_mapping.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <openssl/evp.h>

namespace reclaim::scimd {
namespace {

using json = nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const json *member(const json &obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (iequals(it.key(), name) && !it.value().is_null()) return &it.value();
  return nullptr;
}

std::optional<bool> as_bool(const json *v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) {
    const auto &s = v->get_ref<const std::string &>();
    if (iequals(s, "true")) return true;
    if (iequals(s, "false")) return false;
  }
  return std::nullopt;
}

std::string scalar_text(const json &v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return {};
}

// manager arrives as {"value": id}, as a bare string, or (Entra) as an array
// of one such object.
std::string manager_id(const json &v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object())
    if (const auto *id = member(v, "value")) return scalar_text(*id);
  if (v.is_array() && !v.empty()) return manager_id(v.front());
  return {};
}

bool is_away(const std::string &s) {
  return s == "leave" || s == "terminated" || s == "contract_ended" || s == "deleted";
}

std::string version_of(const json &r) {
  if (const auto *meta = member(r, "meta"))
    if (const auto *v = member(*meta, "version"); v != nullptr && v->is_string()) {
      std::string s = v->get<std::string>();
      if (s.starts_with("W/")) s.erase(0, 2);
      s.erase(std::remove(s.begin(), s.end(), '"'), s.end());
      return s;
    }
  return "0";
}

// The content of a resource without meta: two versions that differ only in
// meta are the same change.
std::string content_digest(const json &r) {
  json copy = r;
  if (copy.is_object()) copy.erase("meta");
  const std::string text = copy.dump();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 6 && i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::string subject_of(const mapping_config &cfg, const json &r, const std::map<std::string, std::vector<std::string>> &flat) {
  std::string id = r.contains("id") ? scalar_text(r["id"]) : "";
  if (cfg.subject_key != "id") {
    auto it = flat.find(cfg.subject_key);
    if (it != flat.end() && !it->second.empty() && !it->second.front().empty()) return it->second.front();
  }
  return id;
}

} // namespace

std::optional<std::int64_t> parse_date_ms(const std::string &text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return std::nullopt;
  std::size_t pos = 10;
  std::int64_t offset_s = 0;
  if (pos < text.size()) {
    int n2 = 0;
    if ((text[pos] != 'T' && text[pos] != 't') ||
        std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &n2) != 3 || n2 != 8)
      return std::nullopt;
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    }
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
      ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      int oh = 0, om = 0, n3 = 0;
      if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d%n", &oh, &om, &n3) != 2 || n3 != 5 || oh > 14 || om > 59)
        return std::nullopt;
      offset_s = (text[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
      pos += 6;
    } else {
      return std::nullopt;
    }
    if (pos != text.size() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || y < 1970 || y > 9999) return std::nullopt;
  const auto days = sys_days{ymd}.time_since_epoch().count();
  const std::int64_t secs = static_cast<std::int64_t>(days) * 86400 + h * 3600 + mi * 60 + s - offset_s;
  if (secs <= 0) return std::nullopt;
  return secs * 1000;
}

std::map<std::string, std::vector<std::string>> flatten(const mapping_config &cfg, const json &user) {
  std::map<std::string, std::vector<std::string>> out;
  auto put = [&](const std::string &name, const json *v) {
    if (v == nullptr) return;
    std::string text = scalar_text(*v);
    if (!text.empty()) out[name].push_back(std::move(text));
  };
  for (const char *name : {"userName", "externalId", "displayName", "title", "userType", "nickName",
                           "preferredLanguage", "locale", "timezone"})
    put(name, member(user, name));
  if (const auto *name = member(user, "name")) {
    put("givenName", member(*name, "givenName"));
    put("familyName", member(*name, "familyName"));
  }
  if (const auto *emails = member(user, "emails"); emails != nullptr && emails->is_array())
    for (const auto &e : *emails) put("emails", member(e, "value"));
  // The enterprise extension; Entra also sends its attributes top-level when
  // its attribute map is not customised, so both places count.
  const json *ent = member(user, enterprise_urn);
  for (const char *name : {"employeeNumber", "department", "costCenter", "organization", "division"}) {
    const json *v = ent != nullptr ? member(*ent, name) : nullptr;
    put(name, v != nullptr ? v : member(user, name));
  }
  const json *mgr = ent != nullptr ? member(*ent, "manager") : nullptr;
  if (mgr == nullptr) mgr = member(user, "manager");
  if (mgr != nullptr)
    if (auto id = manager_id(*mgr); !id.empty()) out["manager"].push_back(id);
  if (const auto *lc = member(user, lifecycle_urn)) {
    for (const char *name : {"state", "effectiveDate", "contractEndDate"})
      put(std::string("lifecycle.") + name, member(*lc, name));
    if (auto hold = as_bool(member(*lc, "legalHold"))) {
      out["lifecycle.legalHold"].push_back(*hold ? "true" : "false");
      if (*hold && !cfg.hold_attribute.empty()) out[cfg.hold_attribute].push_back(cfg.hold_value);
    }
  }
  if (auto active = as_bool(member(user, "active"))) out["active"].push_back(*active ? "true" : "false");
  return out;
}

std::string resting_state(const mapping_config &cfg, const json &user) {
  const bool active = as_bool(member(user, "active")).value_or(true);
  std::string lc_state;
  if (const auto *lc = member(user, lifecycle_urn))
    if (const auto *s = member(*lc, "state"); s != nullptr && s->is_string()) lc_state = s->get<std::string>();
  std::transform(lc_state.begin(), lc_state.end(), lc_state.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (active) return "active";
  if (lc_state == "leave" || lc_state == "terminated" || lc_state == "contract_ended") return lc_state;
  return cfg.inactive_state;
}

std::optional<mapped_event> map_change(const mapping_config &cfg, const std::optional<json> &before,
                                       const std::optional<json> &after) {
  if (!before && !after) return std::nullopt;
  mapped_event ev;
  const json &current = after ? *after : *before;
  ev.attributes = flatten(cfg, current);
  ev.subject_id = subject_of(cfg, current, ev.attributes);
  if (auto it = ev.attributes.find("userName"); it != ev.attributes.end()) ev.subject_name = it->second.front();
  const std::string id = current.contains("id") ? scalar_text(current["id"]) : "";
  if (id.empty() || ev.subject_id.empty()) return std::nullopt;

  if (!after) {
    ev.previous_state = resting_state(cfg, *before);
    ev.state = "deleted";
    ev.idempotency_key = "scim/" + id + "/deleted/" + version_of(*before);
    return ev;
  }
  const std::string now = resting_state(cfg, *after);
  const std::string key = "scim/" + id + "/v" + version_of(*after) + "/" + content_digest(*after);
  ev.idempotency_key = key;
  if (!before) {
    ev.previous_state = "none";
    ev.state = now;
    return ev;
  }
  const std::string was = resting_state(cfg, *before);
  ev.previous_state = was;
  if (now != was) {
    ev.state = (now == "active" && is_away(was)) ? "reactivated" : now;
    return ev;
  }
  const auto old_flat = flatten(cfg, *before);
  auto values = [](const std::map<std::string, std::vector<std::string>> &m, const std::string &k) {
    auto it = m.find(k);
    return it == m.end() ? std::vector<std::string>{} : it->second;
  };
  if (now == "active") {
    for (const auto &a : cfg.transfer_attributes)
      if (values(old_flat, a) != values(ev.attributes, a)) {
        ev.state = "transferred";
        return ev;
      }
    const auto end_now = values(ev.attributes, "lifecycle.contractEndDate");
    if (!end_now.empty() && end_now != values(old_flat, "lifecycle.contractEndDate")) {
      if (auto ms = parse_date_ms(end_now.front())) {
        ev.state = "contract_ended";
        ev.time_unix_ms = *ms;
        return ev;
      }
    }
  }
  // A hold set or lifted, in any state: an event whose state does not
  // change (as the LDAP intake journals it), so the planner sees the hold.
  const std::string hold_key = cfg.hold_attribute.empty() ? "lifecycle.legalHold" : cfg.hold_attribute;
  if (!cfg.hold_attribute.empty() && values(old_flat, hold_key) != values(ev.attributes, hold_key)) {
    ev.state = now;
    return ev;
  }
  return std::nullopt;
}

} // namespace reclaim::scimd
