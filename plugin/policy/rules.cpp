// rules.cpp — rules × applications → actions with due times. Tier
// defaults fill in what a rule leaves out: critical acts now, standard after
// its grace period, low is staged to the next release time of
// [scheduler].batch_times (release_schedule.cpp).
#include "policy/rules.hpp"

#include "ldap/ldap_entry.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

namespace reclaim {
namespace {

using json = nlohmann::json;

std::map<std::string, std::vector<std::string>> values_of(const json &obj) {
  std::map<std::string, std::vector<std::string>> out;
  if (!obj.is_object()) return out;
  for (const auto &[k, v] : obj.items()) {
    auto &dst = out[ldap::lower_ascii(k)];
    if (v.is_string()) dst.push_back(v.get<std::string>());
    else if (v.is_array())
      for (const auto &x : v)
        if (x.is_string()) dst.push_back(x.get<std::string>());
  }
  return out;
}

bool where_matches(const policy_rule &rule, const plan_input &in) {
  for (const auto &[attr, wanted] : rule.where) {
    auto it = in.attrs.find(attr);
    if (it == in.attrs.end()) return false;
    const bool any = std::any_of(it->second.begin(), it->second.end(), [&w = wanted](const std::string &v) {
      return std::find(w.begin(), w.end(), ldap::lower_ascii(v)) != w.end();
    });
    if (!any) return false;
  }
  return true;
}

} // namespace

plan_input plan_input_from(const event_record &ev) {
  plan_input in;
  in.event_seq = ev.seq;
  in.subject_id = ev.subject_id;
  in.from = ev.previous;
  in.to = ev.current;
  in.time = ev.time;
  const auto attrs = json::parse(ev.attributes_json, nullptr, false);
  if (attrs.is_object()) {
    in.attrs = values_of(attrs);
    in.attrs.erase("before");
    if (attrs.contains("before")) in.before = values_of(attrs["before"]);
  }
  return in;
}

std::vector<const policy_rule *> matching_rules(const policy_config &cfg, const plan_input &in) {
  std::vector<const policy_rule *> out;
  for (const auto &r : cfg.rules) {
    if (!r.to.count(in.to)) continue;
    if (!r.from.empty() && !r.from.count(in.from)) continue;
    if (!where_matches(r, in)) continue;
    out.push_back(&r);
  }
  return out;
}

namespace {
// base + d, held at the largest time instead of wrapping round (a wrapped
// due time would be in the past: the action would run at once).
time_point later(time_point base, std::chrono::milliseconds d) {
  if (d.count() > 0 && base > time_point::max() - d) return time_point::max();
  return base + d;
}

time_point staged(const policy_config &cfg, time_point t) {
  return next_release(cfg.scheduler.batch_times, cfg.scheduler.time_zone, t);
}
} // namespace

time_point due_time(const policy_config &cfg, const application &app, const delay_spec &d, time_point base) {
  const auto &tier_default = cfg.tiers[static_cast<int>(app.risk)];
  switch (d.how) {
  case delay_spec::kind::immediate: return base;
  case delay_spec::kind::after: return later(base, d.after);
  case delay_spec::kind::staged: return staged(cfg, later(base, tier_default.grace));
  case delay_spec::kind::tier_default: break;
  }
  switch (tier_default.how) {
  case delay_spec::kind::immediate: return base;
  case delay_spec::kind::staged: return staged(cfg, later(base, tier_default.grace));
  default: return later(base, tier_default.grace);
  }
}

std::optional<std::set<std::string>> entitled_apps(const policy_config &cfg,
                                                   const std::map<std::string, std::vector<std::string>> &attrs) {
  if (cfg.role_attribute.empty()) return std::nullopt;
  auto it = attrs.find(ldap::lower_ascii(cfg.role_attribute));
  if (it == attrs.end()) return std::set<std::string>{};
  std::set<std::string> apps;
  for (const auto &v : it->second)
    if (auto e = cfg.entitlements.find(v); e != cfg.entitlements.end()) apps.insert(e->second.begin(), e->second.end());
  return apps;
}

std::vector<planned_action> plan_actions(const policy_config &cfg, const plan_input &in) {
  std::optional<std::set<std::string>> only;
  if (in.to == state::transferred && !cfg.role_attribute.empty()) {
    const auto old_apps = entitled_apps(cfg, in.before).value_or(std::set<std::string>{});
    const auto new_apps = entitled_apps(cfg, in.attrs).value_or(std::set<std::string>{});
    std::set<std::string> lost;
    std::set_difference(old_apps.begin(), old_apps.end(), new_apps.begin(), new_apps.end(),
                        std::inserter(lost, lost.end()));
    only = std::move(lost);
  }
  const auto rules = matching_rules(cfg, in);
  size_t most = 0;
  for (const auto *rule : rules) // an upper bound, so out grows once
    most += std::min(only ? only->size() : std::numeric_limits<size_t>::max(), rule->applications.size()) * rule->actions.size();
  std::vector<planned_action> out;
  out.reserve(most);
  for (const auto *rule : rules)
    for (const auto &app_id : rule->applications) {
      if (only && !only->count(app_id)) continue;
      const auto *app = cfg.find_app(app_id);
      for (const auto &a : rule->actions) {
        planned_action p;
        p.app = app_id;
        p.kind = a.kind;
        p.to_sku = a.to_sku;
        p.target = a.target;
        p.due = due_time(cfg, *app, a.delay, in.time);
        p.rule = rule->name;
        out.push_back(std::move(p));
      }
    }
  return out;
}

std::optional<time_point> contract_end(const policy_config &cfg, const plan_input &in, time_point now) {
  if (cfg.end_date_attribute.empty()) return std::nullopt;
  auto it = in.attrs.find(ldap::lower_ascii(cfg.end_date_attribute));
  if (it == in.attrs.end() || it->second.empty()) return std::nullopt;
  const std::string &v = it->second.front();
  std::chrono::sys_days day{};
  int64_t days = 0;
  if (std::from_chars(v.data(), v.data() + v.size(), days).ec == std::errc{} &&
      v.find_first_not_of("-0123456789") == std::string::npos) {
    if (days < 0) return std::nullopt;
    day = std::chrono::sys_days{std::chrono::days{days}};
  } else if (v.size() >= 8) { // generalizedTime: YYYYMMDD…
    int y = 0, m = 0, d = 0;
    if (std::from_chars(v.data(), v.data() + 4, y).ec != std::errc{} ||
        std::from_chars(v.data() + 4, v.data() + 6, m).ec != std::errc{} ||
        std::from_chars(v.data() + 6, v.data() + 8, d).ec != std::errc{})
      return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                          std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    day = ymd;
  } else {
    return std::nullopt;
  }
  // The end of that day in the person's zone if known (and valid), else
  // in the configured one, as UTC.
  const zone *z = &cfg.time_zone;
  std::optional<zone> own;
  if (!cfg.time_zone_attribute.empty())
    if (auto tz = in.attrs.find(ldap::lower_ascii(cfg.time_zone_attribute)); tz != in.attrs.end() && !tz->second.empty())
      if ((own = parse_zone(tz->second.front()))) z = &*own;
  const time_point end = end_of_day(*z, day);
  if (end <= now) return std::nullopt;
  return end;
}

std::optional<action_kind> restore_kind(action_kind k) {
  switch (k) {
  case action_kind::suspend_access: return action_kind::resume_access;
  case action_kind::revoke_access: return action_kind::grant_access;
  case action_kind::reclaim_licence: return action_kind::assign_licence;
  case action_kind::downgrade_licence: return action_kind::assign_licence;
  default: return std::nullopt;
  }
}

} // namespace reclaim
