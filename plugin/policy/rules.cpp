// rules.cpp — rules × applications → actions with due times. Tier
// defaults fill in what a rule leaves out: critical acts now, standard after
// its grace period, low is staged to the next release time of
// [scheduler].batch_times (release_schedule.cpp). Due times count from the
// HR effective time when the event carries one (never earlier than the
// change itself); a legal hold's scope is decided here too.
#include "policy/rules.hpp"

#include "ldap/ldap_entry.hpp"

#include <algorithm>
#include <charconv>
#include <date/tz.h>
#include <fmt/format.h>
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

namespace {

bool is_staged(const policy_config &cfg, const application &app, const delay_spec &d) {
  if (d.how == delay_spec::kind::staged) return true;
  return d.how == delay_spec::kind::tier_default &&
         cfg.tiers[static_cast<int>(app.risk)].how == delay_spec::kind::staged;
}

// Due from the effective time, but never before the change was made: a
// late HR update acts at once (a staged action at the next batch time).
time_point due_from(const policy_config &cfg, const application &app, const delay_spec &d, const plan_input &in) {
  if (!in.effective) return due_time(cfg, app, d, in.time);
  const time_point due = due_time(cfg, app, d, *in.effective);
  if (due >= in.time) return due;
  return is_staged(cfg, app, d) ? staged(cfg, in.time) : in.time;
}

} // namespace

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
        p.due = due_from(cfg, *app, a.delay, in);
        p.rule = rule->name;
        out.push_back(std::move(p));
      }
    }
  return out;
}

namespace {

// The person's own zone if the attribute holds a valid one, else the policy's.
const zone &zone_of(const policy_config &cfg, const plan_input &in, std::optional<zone> &own) {
  if (!cfg.time_zone_attribute.empty())
    if (auto tz = in.attrs.find(ldap::lower_ascii(cfg.time_zone_attribute)); tz != in.attrs.end() && !tz->second.empty())
      if ((own = parse_zone(tz->second.front()))) return *own;
  return cfg.time_zone;
}

} // namespace

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
  std::optional<zone> own;
  const time_point end = end_of_day(zone_of(cfg, in, own), day);
  if (end <= now) return std::nullopt;
  return end;
}

namespace {

// Reads the fixed-width fields of a date or time, left to right.
struct cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i == s.size(); }
  bool peek(char c) const { return i < s.size() && s[i] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i;
    return true;
  }
  bool digits(size_t n, int &out) {
    if (i + n > s.size()) return false;
    for (size_t k = 0; k < n; ++k)
      if (s[i + k] < '0' || s[i + k] > '9') return false;
    std::from_chars(s.data() + i, s.data() + i + n, out);
    i += n;
    return true;
  }
  // A decimal fraction after '.' or ',' (both allowed by generalizedTime
  // and ISO 8601), as a fraction of `unit`, truncated to milliseconds.
  std::optional<std::chrono::milliseconds> fraction(std::chrono::milliseconds unit) {
    if (!eat('.') && !eat(',')) return std::chrono::milliseconds(0);
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == from) return std::nullopt;
    double f = 0, scale = 0.1;
    for (size_t k = from; k < i && k < from + 9; ++k, scale /= 10) f += (s[k] - '0') * scale;
    return std::chrono::milliseconds(static_cast<int64_t>(f * static_cast<double>(unit.count())));
  }
};

struct local_fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::chrono::milliseconds fraction{0};
  bool has_time = false;
  std::optional<int> offset_minutes; // none: local time in the zone
};

// Local wall time in zone z as UTC (in a daylight-saving gap, the instant
// the gap ends).
time_point local_to_utc(const zone &z, std::chrono::sys_days day, std::chrono::milliseconds time_of_day) {
  if (z.tz == nullptr) return time_point{day} + time_of_day - std::chrono::minutes(z.offset_minutes);
  const date::local_time<std::chrono::milliseconds> local{
      std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()) + time_of_day};
  return std::chrono::time_point_cast<time_point::duration>(z.tz->to_sys(local, date::choose::earliest));
}

// ±HH[[:]MM]; `colon` says whether ISO's extended form is expected.
bool read_offset(cursor &c, local_fields &f, bool colon) {
  if (c.eat('Z') || c.eat('z')) {
    f.offset_minutes = 0;
    return true;
  }
  const bool plus = c.peek('+');
  if (!plus && !c.peek('-')) return true; // no offset: local time
  ++c.i;
  int h = 0, m = 0;
  if (!c.digits(2, h)) return false;
  if (!c.done()) {
    if (colon && !c.eat(':')) return false;
    if (!c.digits(2, m)) return false;
  }
  if (h > 14 || m > 59) return false;
  f.offset_minutes = (plus ? 1 : -1) * (h * 60 + m);
  return true;
}

// 20261201 | 2026120109[30[00]][.fff](Z|±HH[MM])? (RFC 4517 3.3.13; a
// fraction applies to the last unit written).
bool read_generalized(cursor &c, local_fields &f) {
  if (!c.digits(4, f.year) || !c.digits(2, f.month) || !c.digits(2, f.day)) return false;
  if (c.done()) return true;
  f.has_time = true;
  if (!c.digits(2, f.hour)) return false;
  std::chrono::milliseconds unit = std::chrono::hours(1);
  if (c.digits(2, f.minute)) {
    unit = std::chrono::minutes(1);
    if (c.digits(2, f.second)) unit = std::chrono::seconds(1);
  }
  const auto fr = c.fraction(unit);
  if (!fr) return false;
  f.fraction = *fr;
  return read_offset(c, f, false) && c.done();
}

// 2026-12-01 | 2026-12-01THH:MM[:SS[.fff]](Z|±HH:MM)?
bool read_iso(cursor &c, local_fields &f) {
  if (!c.digits(4, f.year) || !c.eat('-') || !c.digits(2, f.month) || !c.eat('-') || !c.digits(2, f.day))
    return false;
  if (c.done()) return true;
  if (!c.eat('T') && !c.eat('t') && !c.eat(' ')) return false;
  f.has_time = true;
  if (!c.digits(2, f.hour) || !c.eat(':') || !c.digits(2, f.minute)) return false;
  if (c.eat(':')) {
    if (!c.digits(2, f.second)) return false;
    const auto fr = c.fraction(std::chrono::seconds(1));
    if (!fr) return false;
    f.fraction = *fr;
  }
  return read_offset(c, f, true) && c.done();
}

std::string_view format_name(date_format f) {
  switch (f) {
  case date_format::generalized_time: return "generalizedTime";
  case date_format::iso8601: return "ISO 8601";
  case date_format::days_since_epoch: return "days-since-1970";
  }
  return "?";
}

} // namespace

effective_result parse_effective(std::string_view text, date_format format, const zone &z) {
  const auto bad = [&](std::string_view why) {
    return effective_result{std::nullopt, fmt::format("\"{}\" is not a {} time: {}", text, format_name(format), why)};
  };
  local_fields f;
  std::chrono::sys_days day{};
  if (format == date_format::days_since_epoch) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
      return bad("expected a whole number of days since 1970-01-01");
    if (n < 0) return bad("before 1970");
    if (n > 2'932'896) return bad("after the year 9999"); // 9999-12-31
    day = std::chrono::sys_days{std::chrono::days{n}};
  } else {
    cursor c{text};
    const bool read = format == date_format::iso8601 ? read_iso(c, f) : read_generalized(c, f);
    if (!read)
      return bad(format == date_format::iso8601 ? "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]"
                                                : "expected YYYYMMDD or YYYYMMDDHH[MM[SS]][.fff][Z|±HHMM]");
    if (f.year < min_utc_year || f.year > max_utc_year)
      return bad(fmt::format("the year {} is outside {}..{}", f.year, min_utc_year, max_utc_year));
    const std::chrono::year_month_day ymd{std::chrono::year{f.year}, std::chrono::month{static_cast<unsigned>(f.month)},
                                          std::chrono::day{static_cast<unsigned>(f.day)}};
    if (!ymd.ok()) return bad("no such date");
    if (f.hour > 23 || f.minute > 59 || f.second > 60) return bad("no such time of day");
    day = ymd;
  }
  const auto time_of_day = std::chrono::hours(f.hour) + std::chrono::minutes(f.minute) +
                           std::chrono::seconds(f.second) + f.fraction;
  if (f.offset_minutes)
    return {time_point{day} + time_of_day - std::chrono::minutes(*f.offset_minutes), ""};
  return {local_to_utc(z, day, time_of_day), ""};
}

effective_result effective_time(const policy_config &cfg, const plan_input &in) {
  if (cfg.effective_date_attribute.empty()) return {};
  const auto it = in.attrs.find(ldap::lower_ascii(cfg.effective_date_attribute));
  if (it == in.attrs.end() || it->second.empty()) return {};
  std::optional<zone> own;
  auto r = parse_effective(it->second.front(), cfg.effective_date_format, zone_of(cfg, in, own));
  if (!r.problem.empty()) r.problem = fmt::format("{}: {}", cfg.effective_date_attribute, r.problem);
  return r;
}

bool held_by_legal_hold(const policy_config &cfg, const application &app, action_kind kind,
                        const std::string &rule) {
  std::optional<bool> per_action;
  for (const auto &r : cfg.rules) {
    if (r.name != rule || std::find(r.applications.begin(), r.applications.end(), app.id) == r.applications.end())
      continue;
    for (const auto &a : r.actions)
      if (a.kind == kind && a.deletes_data) per_action = a.deletes_data;
    break;
  }
  switch (kind) {
  case action_kind::transfer_ownership: return per_action.value_or(true);
  case action_kind::reclaim_licence: return per_action.value_or(app.reclaim_deletes_data);
  case action_kind::downgrade_licence: return per_action.value_or(false);
  default: return false;
  }
}

hold_signal legal_hold_signal(const policy_config &cfg, const plan_input &in) {
  const auto &h = cfg.legal_hold;
  if (h.attribute.empty()) return hold_signal::none;
  const auto name = ldap::lower_ascii(h.attribute);
  const auto carries = [&](const std::map<std::string, std::vector<std::string>> &values) {
    const auto it = values.find(name);
    return it != values.end() && std::any_of(it->second.begin(), it->second.end(), [&](const std::string &v) {
             return ldap::lower_ascii(v) == h.value;
           });
  };
  if (carries(in.attrs)) return hold_signal::present;
  return carries(in.before) ? hold_signal::removed : hold_signal::none;
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
