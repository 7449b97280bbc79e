// policy_loader.cpp — loads and cross-checks the policy sections of
// reclaim.toml: [[application]], [tiers.*], [[policy.rule]], [policy]
// (role matrix, contract end dates, HR effective dates), [legal_hold],
// [guard], [scheduler]. A rule that names
// an unknown application, SKU, state or action, a bad duration, or two rules
// that would both plan the same action for the same transition are errors
// naming the item.
#include "config/policy_loader.hpp"

#include "ldap/ldap_entry.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace reclaim {
namespace {

delay_spec parse_delay(const reader &r, const toml::table &t, std::string_view prefix) {
  delay_spec d;
  const auto text = r.str(t, prefix, "delay");
  if (!text) return d;
  if (*text == "immediate") d.how = delay_spec::kind::immediate;
  else if (*text == "staged") d.how = delay_spec::kind::staged;
  else if (*text == "tier") d.how = delay_spec::kind::tier_default;
  else {
    d.how = delay_spec::kind::after;
    d.after = *r.duration(t, prefix, "delay");
  }
  return d;
}

// restore_within = "always" | "never" | an ISO 8601 duration.
restore_spec parse_restore(const reader &r, const toml::table &t, std::string_view prefix) {
  restore_spec spec;
  const auto text = r.str(t, prefix, "restore_within");
  if (!text) return spec;
  if (*text == "always") spec.how = restore_spec::kind::always;
  else if (*text == "never") spec.how = restore_spec::kind::never;
  else {
    const auto d = parse_duration(*text);
    if (!d || d->count() < 0)
      r.fail(t.get("restore_within")->source(), fmt::format("{}.restore_within", prefix),
             fmt::format("\"{}\" is not \"always\", \"never\" or an ISO 8601 duration such as P7D", *text));
    spec.how = restore_spec::kind::within;
    spec.within = *d;
  }
  return spec;
}

void load_application(const reader &r, const toml::table &t, size_t i, policy_config &out) {
  const auto prefix = fmt::format("application[{}]", i);
  r.only_keys(t, prefix, {"id", "name", "tier", "connector", "owner", "dry_run", "require_approval",
                          "reclaim_deletes_data", "skus", "restore_within"});
  application app;
  const auto id = r.str(t, prefix, "id");
  if (!id || id->empty()) r.fail(t.source(), prefix + ".id", "is required");
  if (out.find_app(*id)) r.fail(t.get("id")->source(), prefix + ".id", fmt::format("duplicate application \"{}\"", *id));
  app.id = *id;
  app.name = r.str(t, prefix, "name").value_or(*id);
  if (auto v = r.str(t, prefix, "tier")) {
    if (*v == "critical") app.risk = tier::critical;
    else if (*v == "standard") app.risk = tier::standard;
    else if (*v == "low") app.risk = tier::low;
    else r.fail(t.get("tier")->source(), prefix + ".tier", fmt::format("\"{}\" is not critical, standard or low", *v));
  }
  app.connector = r.str(t, prefix, "connector").value_or("local");
  if (app.connector != "local" && !out.connector_names.count(app.connector)) {
    std::vector<std::string> known{"local"};
    known.insert(known.end(), out.connector_names.begin(), out.connector_names.end());
    r.fail(t.get("connector")->source(), prefix + ".connector",
           fmt::format("unknown connector \"{}\" (available: {})", app.connector, fmt::join(known, ", ")));
  }
  app.owner = r.str(t, prefix, "owner").value_or("");
  app.dry_run = r.boolean(t, prefix, "dry_run").value_or(false);
  app.require_approval = r.boolean(t, prefix, "require_approval").value_or(false);
  app.restore = parse_restore(r, t, prefix);
  app.reclaim_deletes_data = r.boolean(t, prefix, "reclaim_deletes_data").value_or(true);
  if (const auto *n = t.get("skus")) {
    const auto *arr = n->as_array();
    if (arr == nullptr) r.fail(n->source(), prefix + ".skus", "must be an array of tables");
    size_t j = 0;
    for (const auto &item : *arr) {
      const auto sp = fmt::format("{}.skus[{}]", prefix, j++);
      const auto *st = item.as_table();
      if (st == nullptr) r.fail(item.source(), sp, "must be a table { id, monthly_cost, currency }");
      r.only_keys(*st, sp, {"id", "monthly_cost", "currency"});
      sku s;
      auto sid = r.str(*st, sp, "id");
      if (!sid || sid->empty()) r.fail(st->source(), sp + ".id", "is required");
      if (app.find_sku(*sid)) r.fail(st->source(), sp + ".id", fmt::format("duplicate SKU \"{}\"", *sid));
      s.id = *sid;
      s.monthly_cost = r.number(*st, sp, "monthly_cost").value_or(0);
      if (s.monthly_cost < 0) r.fail(st->get("monthly_cost")->source(), sp + ".monthly_cost", "must not be negative");
      s.currency = r.str(*st, sp, "currency").value_or("EUR");
      if (s.currency.size() != 3) r.fail(st->source(), sp + ".currency", "must be an ISO 4217 code such as EUR");
      app.skus.push_back(std::move(s));
    }
  }
  out.applications.push_back(std::move(app));
}

std::set<state> parse_states(const reader &r, const toml::table &t, std::string_view prefix,
                             std::string_view key, bool required) {
  std::set<state> out;
  auto names = r.strings(t, prefix, key);
  if (!names) {
    if (required) r.fail(t.source(), reader::join(prefix, key), "is required");
    return out;
  }
  for (const auto &n : *names) {
    if (n == "*") return {};
    const auto s = parse_state(n);
    if (!s || *s == state::none)
      r.fail(t.get(key)->source(), reader::join(prefix, key), fmt::format("unknown state \"{}\"", n));
    out.insert(*s);
  }
  return out;
}

action_template load_action(const reader &r, const toml::table &t, std::string_view prefix,
                            const policy_config &cfg, const std::vector<std::string> &apps) {
  r.only_keys(t, prefix, {"action", "delay", "to_sku", "target", "deletes_data"});
  action_template a;
  const auto name = r.str(t, prefix, "action");
  if (!name) r.fail(t.source(), reader::join(prefix, "action"), "is required");
  const auto kind = parse_action_kind(*name);
  if (!kind || *kind == action_kind::resume_access || *kind == action_kind::grant_access ||
      *kind == action_kind::assign_licence)
    r.fail(t.get("action")->source(), reader::join(prefix, "action"),
           fmt::format("unknown action \"{}\" (expected suspend_access, revoke_access, reclaim_licence, "
                       "downgrade_licence, transfer_ownership or notify)", *name));
  a.kind = *kind;
  a.delay = parse_delay(r, t, prefix);
  if (a.kind == action_kind::downgrade_licence) {
    auto to = r.str(t, prefix, "to_sku");
    if (!to) r.fail(t.source(), reader::join(prefix, "to_sku"), "is required for downgrade_licence");
    for (const auto &id : apps)
      if (!cfg.find_app(id)->find_sku(*to))
        r.fail(t.get("to_sku")->source(), reader::join(prefix, "to_sku"),
               fmt::format("application \"{}\" has no SKU \"{}\"", id, *to));
    a.to_sku = *to;
  } else if (t.get("to_sku")) {
    r.fail(t.get("to_sku")->source(), reader::join(prefix, "to_sku"), "only downgrade_licence takes to_sku");
  }
  if (a.kind == action_kind::notify) {
    a.target = r.str(t, prefix, "target").value_or("owner");
    static const std::set<std::string> targets{"finance", "itsm", "manager", "owner"};
    if (!targets.count(a.target))
      r.fail(t.get("target")->source(), reader::join(prefix, "target"),
             fmt::format("unknown notify target \"{}\" (finance, itsm, manager, owner)", a.target));
  }
  if (auto d = r.boolean(t, prefix, "deletes_data")) {
    if (a.kind != action_kind::reclaim_licence && a.kind != action_kind::downgrade_licence &&
        a.kind != action_kind::transfer_ownership)
      r.fail(t.get("deletes_data")->source(), reader::join(prefix, "deletes_data"),
             fmt::format("only reclaim_licence, downgrade_licence and transfer_ownership take deletes_data "
                         "({} never waits for a legal hold)", action_kind_name(a.kind)));
    a.deletes_data = *d;
  }
  return a;
}

void load_rule(const reader &r, const toml::table &t, size_t i, policy_config &cfg) {
  const auto prefix = fmt::format("policy.rule[{}]", i);
  r.only_keys(t, prefix, {"name", "from", "to", "where", "applications", "actions", "restore_within"});
  policy_rule rule;
  rule.origin = r.origin(t.source());
  rule.name = r.str(t, prefix, "name").value_or(prefix);
  rule.restore = parse_restore(r, t, prefix);
  rule.from = parse_states(r, t, prefix, "from", false);
  rule.to = parse_states(r, t, prefix, "to", true);
  if (rule.to.empty()) r.fail(t.get("to")->source(), prefix + ".to", "must name states (\"*\" is not allowed here)");
  if (const auto *w = r.table(t, prefix, "where")) {
    for (auto &&[k, v] : *w) {
      auto values = r.strings(*w, prefix + ".where", k.str());
      for (auto &s : *values) s = ldap::lower_ascii(s);
      rule.where[ldap::lower_ascii(k.str())] = *values;
    }
  }
  auto apps = r.strings(t, prefix, "applications");
  if (!apps) r.fail(t.source(), prefix + ".applications", "is required (\"*\" means every application)");
  for (const auto &a : *apps) {
    if (a == "*") {
      for (const auto &app : cfg.applications) rule.applications.push_back(app.id);
    } else if (!cfg.find_app(a)) {
      r.fail(t.get("applications")->source(), prefix + ".applications", fmt::format("unknown application \"{}\"", a));
    } else {
      rule.applications.push_back(a);
    }
  }
  const auto *acts = t.get("actions");
  if (acts == nullptr || !acts->is_array() || acts->as_array()->empty())
    r.fail(t.source(), prefix + ".actions", "is required: an array of { action = \"…\" } tables");
  size_t j = 0;
  for (const auto &item : *acts->as_array()) {
    const auto ap = fmt::format("{}.actions[{}]", prefix, j++);
    if (!item.is_table()) r.fail(item.source(), ap, "must be a table { action = \"…\" }");
    rule.actions.push_back(load_action(r, *item.as_table(), ap, cfg, rule.applications));
  }
  cfg.rules.push_back(std::move(rule));
}

bool intersects(const std::set<state> &a, const std::set<state> &b) {
  if (a.empty() || b.empty()) return true; // empty means any
  return std::any_of(a.begin(), a.end(), [&](state s) { return b.count(s) > 0; });
}

// Filters exclude each other only when they test one attribute for
// disjoint values; otherwise one person may match both.
bool disjoint(const std::map<std::string, std::vector<std::string>> &a,
              const std::map<std::string, std::vector<std::string>> &b) {
  for (const auto &[attr, values] : a) {
    auto it = b.find(attr);
    if (it == b.end()) continue;
    const bool shared = std::any_of(values.begin(), values.end(), [&](const std::string &v) {
      return std::find(it->second.begin(), it->second.end(), v) != it->second.end();
    });
    if (!shared) return true;
  }
  return false;
}

// Two rules overlap when one transition of one person could match both and
// both plan the same action for the same application: which delay or
// target would apply is then ambiguous, so the config is refused.
void check_overlaps(const policy_config &cfg) {
  for (size_t i = 0; i < cfg.rules.size(); ++i)
    for (size_t j = i + 1; j < cfg.rules.size(); ++j) {
      const auto &a = cfg.rules[i], &b = cfg.rules[j];
      if (disjoint(a.where, b.where) || !intersects(a.to, b.to) || !intersects(a.from, b.from)) continue;
      for (const auto &app : a.applications) {
        if (std::find(b.applications.begin(), b.applications.end(), app) == b.applications.end()) continue;
        for (const auto &x : a.actions)
          for (const auto &y : b.actions)
            if (x.kind == y.kind && x.target == y.target)
              throw config_error(fmt::format(
                  "{}: policy rules \"{}\" and \"{}\" ({}) overlap: both plan {} for application "
                  "\"{}\" on the same transition; narrow `from`, `to` or `where` so they exclude each other",
                  a.origin, a.name, b.name, b.origin, action_kind_name(x.kind), app));
      }
    }
}

// An LDAP attribute description: a letter, then letters, digits, hyphens.
std::string attribute_name(const reader &r, const toml::table &t, std::string_view prefix, std::string_view key) {
  auto v = r.str(t, prefix, key).value_or("");
  if (!v.empty() && (!std::isalpha(static_cast<unsigned char>(v[0])) ||
                     v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") !=
                         std::string::npos))
    r.fail(t.get(key)->source(), reader::join(prefix, key), fmt::format("\"{}\" is not an attribute name", v));
  return v;
}

date_format load_date_format(const reader &r, const toml::table &t) {
  const auto v = r.str(t, "policy", "effective_date_format");
  if (!v || *v == "generalized_time") return date_format::generalized_time;
  if (*v == "iso8601") return date_format::iso8601;
  if (*v == "days_since_epoch") return date_format::days_since_epoch;
  r.fail(t.get("effective_date_format")->source(), "policy.effective_date_format",
         fmt::format("\"{}\" is not generalized_time, iso8601 or days_since_epoch", *v));
}

void load_legal_hold(const reader &r, const toml::table &t, hold_signal_config &h) {
  r.only_keys(t, "legal_hold", {"attribute", "value"});
  h.attribute = attribute_name(r, t, "legal_hold", "attribute");
  if (h.attribute.empty()) r.fail(t.source(), "legal_hold.attribute", "is required");
  const auto v = r.str(t, "legal_hold", "value");
  if (!v || v->empty()) r.fail(t.source(), "legal_hold.value", "is required (the value that means \"on hold\")");
  h.value = ldap::lower_ascii(*v);
}

zone load_zone(const reader &r, const toml::table &t, const std::string &text) {
  if (auto z = parse_zone(text)) return *z;
  r.fail(t.get("time_zone")->source(), "policy.time_zone",
         fmt::format("\"{}\" is not UTC, a fixed offset such as +01:00, or a time-zone name of this "
                     "system's tzdata such as Europe/Berlin", text));
}

void load_tiers(const reader &r, const toml::table &t, policy_config &cfg) {
  r.only_keys(t, "tiers", {"critical", "standard", "low"});
  const char *names[] = {"critical", "standard", "low"};
  for (int i = 0; i < 3; ++i) {
    const auto *tt = r.table(t, "tiers", names[i]);
    if (tt == nullptr) continue;
    const auto prefix = fmt::format("tiers.{}", names[i]);
    r.only_keys(*tt, prefix, {"delay", "grace"});
    auto d = parse_delay(r, *tt, prefix);
    if (d.how == delay_spec::kind::tier_default)
      r.fail(tt->source(), prefix + ".delay", "must be immediate, staged or a duration");
    cfg.tiers[i].how = d.how;
    if (d.how == delay_spec::kind::after) cfg.tiers[i].grace = d.after;
    if (auto g = r.duration(*tt, prefix, "grace")) cfg.tiers[i].grace = *g;
  }
}

void load_policy_table(const reader &r, const toml::table &t, policy_config &cfg) {
  r.only_keys(t, "policy", {"rule", "role_attribute", "entitlements", "end_date_attribute", "time_zone",
                                "time_zone_attribute", "effective_date_attribute", "effective_date_format",
                                "restore_within"});
  cfg.role_attribute = r.str(t, "policy", "role_attribute").value_or("");
  if (const auto *e = r.table(t, "policy", "entitlements")) {
    if (cfg.role_attribute.empty())
      r.fail(e->source(), "policy.entitlements", "needs policy.role_attribute");
    for (auto &&[k, v] : *e) {
      auto apps = r.strings(*e, "policy.entitlements", k.str());
      for (const auto &a : *apps)
        if (!cfg.find_app(a))
          r.fail(v.source(), fmt::format("policy.entitlements.{}", k.str()), fmt::format("unknown application \"{}\"", a));
      cfg.entitlements[std::string(k.str())] = {apps->begin(), apps->end()};
    }
  }
  cfg.end_date_attribute = r.str(t, "policy", "end_date_attribute").value_or("");
  if (auto tz = r.str(t, "policy", "time_zone")) cfg.time_zone = load_zone(r, t, *tz);
  cfg.time_zone_attribute = r.str(t, "policy", "time_zone_attribute").value_or("");
  if (const auto spec = parse_restore(r, t, "policy"); spec.how != restore_spec::kind::inherit) cfg.restore = spec;
  cfg.effective_date_attribute = attribute_name(r, t, "policy", "effective_date_attribute");
  cfg.effective_date_format = load_date_format(r, t);
  if (t.get("effective_date_format") && cfg.effective_date_attribute.empty())
    r.fail(t.get("effective_date_format")->source(), "policy.effective_date_format",
           "needs policy.effective_date_attribute");
  if (const auto *n = t.get("rule")) {
    const auto *arr = n->as_array();
    if (arr == nullptr || !arr->is_array_of_tables())
      r.fail(n->source(), "policy.rule", "must be written as [[policy.rule]] tables");
    size_t i = 0;
    for (const auto &item : *arr) load_rule(r, *item.as_table(), i++, cfg);
  }
}

void load_guard(const reader &r, const toml::table &t, guard_config &g) {
  r.only_keys(t, "guard", {"window", "max_events", "max_percent", "percent_min_population", "approval_cost_above"});
  if (auto v = r.integer(t, "guard", "percent_min_population")) {
    if (*v < 0) r.fail(t.get("percent_min_population")->source(), "guard.percent_min_population", "must not be negative");
    g.percent_min_population = *v;
  }
  if (auto v = r.duration(t, "guard", "window")) {
    if (v->count() <= 0) r.fail(t.get("window")->source(), "guard.window", "must be longer than zero");
    g.window = *v;
  }
  if (auto v = r.integer(t, "guard", "max_events")) {
    if (*v < 0) r.fail(t.get("max_events")->source(), "guard.max_events", "must not be negative");
    g.max_events = *v;
  }
  if (auto v = r.number(t, "guard", "max_percent")) {
    if (*v < 0 || *v > 100) r.fail(t.get("max_percent")->source(), "guard.max_percent", "must be between 0 and 100");
    g.max_percent = *v;
  }
  if (auto v = r.number(t, "guard", "approval_cost_above")) {
    if (*v < 0) r.fail(t.get("approval_cost_above")->source(), "guard.approval_cost_above", "must not be negative");
    g.approval_cost_above = *v;
  }
}

void load_scheduler(const reader &r, const toml::table &t, scheduler_config &s) {
  r.only_keys(t, "scheduler", {"in_process", "workers", "max_attempts", "retry_initial", "retry_max",
                               "batch_times", "time_zone", "poll_interval"});
  s.in_process = r.boolean(t, "scheduler", "in_process").value_or(true);
  if (auto v = r.integer(t, "scheduler", "workers")) {
    if (*v < 1 || *v > 64) r.fail(t.get("workers")->source(), "scheduler.workers", "must be 1..64");
    s.workers = static_cast<int>(*v);
  }
  if (auto v = r.integer(t, "scheduler", "max_attempts")) {
    if (*v < 1 || *v > 100) r.fail(t.get("max_attempts")->source(), "scheduler.max_attempts", "must be 1..100");
    s.max_attempts = static_cast<int>(*v);
  }
  if (auto v = r.duration(t, "scheduler", "retry_initial")) s.retry_initial = *v;
  if (auto v = r.duration(t, "scheduler", "retry_max")) s.retry_max = *v;
  if (auto v = r.duration(t, "scheduler", "poll_interval")) s.poll = *v;
  if (auto tz = r.str(t, "scheduler", "time_zone")) {
    if (auto z = parse_zone(*tz)) s.time_zone = *z;
    else r.fail(t.get("time_zone")->source(), "scheduler.time_zone",
                fmt::format("\"{}\" is not UTC, a fixed offset such as +01:00, or a time-zone name of this "
                            "system's tzdata such as Europe/Berlin", *tz));
  }
  if (r.strings(t, "scheduler", "batch_times")) {
    s.batch_times.clear();
    // Each element is checked where it stands, so the error names its line.
    for (const auto &item : *t.get("batch_times")->as_array()) {
      const auto &text = item.as_string()->get();
      std::string why;
      auto parsed = parse_release_schedule(text, &why);
      if (!parsed)
        r.fail(item.source(), "scheduler.batch_times",
               fmt::format("\"{}\" is neither a time of day HH:MM nor a cron expression: {}", text, why));
      s.batch_times.push_back(std::move(*parsed));
    }
  }
  if (s.batch_times.empty())
    r.fail(t.get("batch_times")->source(), "scheduler.batch_times", "must name at least one time");
}

} // namespace

void load_policy(const reader &r, const toml::table &root, policy_config &cfg) {
  if (const auto *e = root.get("engine"); e && e->is_table()) {
    if (auto mode = r.str(*e->as_table(), "engine", "mode")) {
      if (*mode == "dry_run") cfg.dry_run = true;
      else if (*mode == "enforce") cfg.dry_run = false;
      else r.fail(e->as_table()->get("mode")->source(), "engine.mode",
                  fmt::format("\"{}\" is not dry_run or enforce", *mode));
    }
  }
  if (const auto *n = root.get("application")) {
    const auto *arr = n->as_array();
    if (arr == nullptr || !arr->is_array_of_tables())
      r.fail(n->source(), "application", "must be written as [[application]] tables");
    size_t i = 0;
    for (const auto &item : *arr) load_application(r, *item.as_table(), i++, cfg);
  }
  if (const auto *t = r.table(root, "", "tiers")) load_tiers(r, *t, cfg);
  if (const auto *t = r.table(root, "", "policy")) load_policy_table(r, *t, cfg);
  if (const auto *t = r.table(root, "", "legal_hold")) load_legal_hold(r, *t, cfg.legal_hold);
  if (const auto *t = r.table(root, "", "guard")) load_guard(r, *t, cfg.guard);
  if (const auto *t = r.table(root, "", "scheduler")) load_scheduler(r, *t, cfg.scheduler);
  check_overlaps(cfg);
}

} // namespace reclaim
