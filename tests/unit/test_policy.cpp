// test_policy.cpp — plugin/policy: the pure planning functions, table by
// table: which rules match a transition (from, to, where), when an action
// becomes due (immediate, a duration, staged to the next batch time, each
// tier's default), every action kind a rule can plan, "*" applications, the
// role matrix of a transfer, contract end dates in the configured offset,
// and the restore kind of each action.
#include "config/config.hpp"
#include "policy/rules.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using reclaim::action_kind;
using reclaim::delay_spec;
using reclaim::state;
using reclaim::time_point;
using reclaim::unit::temp_dir;

namespace {

time_point at(const char *utc) {
  const auto t = reclaim::parse_utc(utc);
  BOOST_TEST_REQUIRE(t.has_value(), utc);
  return *t;
}

std::string when(std::optional<time_point> t) { return t ? reclaim::format_utc(*t) : "none"; }

const std::string apps = R"toml(
[[application]]
id = "m365"
tier = "critical"
skus = [ { id = "M365_E5", monthly_cost = 57.0 }, { id = "M365_E1", monthly_cost = 10.0 } ]

[[application]]
id = "github"
tier = "critical"
skus = [ { id = "GHE", monthly_cost = 21.0 } ]

[[application]]
id = "figma"
tier = "standard"
skus = [ { id = "FIGMA_PRO", monthly_cost = 15.0 } ]

[[application]]
id = "sap"
tier = "standard"
skus = [ { id = "SAP_PRO", monthly_cost = 110.0 } ]

[[application]]
id = "wiki"
tier = "low"

[tiers.critical]
delay = "immediate"
[tiers.standard]
delay = "P30D"
[tiers.low]
delay = "staged"
grace = "P7D"
)toml";

std::string policy_section(const std::string &time_zone = "UTC", bool role_matrix = true) {
  std::string s = "\n[policy]\nend_date_attribute = \"shadowExpire\"\ntime_zone = \"" + time_zone + "\"\n";
  if (role_matrix)
    s += "role_attribute = \"departmentNumber\"\n"
         "entitlements = { \"100\" = [\"m365\", \"github\", \"figma\"], \"200\" = [\"m365\", \"sap\"], "
         "\"300\" = [\"m365\"] }\n";
  return s;
}

const std::string scheduler_section = "\n[scheduler]\nbatch_times = [\"14:00\", \"02:00\"]\n";

struct policy_env {
  temp_dir dir;
  reclaim::config cfg;
  explicit policy_env(const std::string &rules, const std::string &policy = policy_section(),
                      const std::string &scheduler = scheduler_section)
      : cfg(reclaim::unit::load_toml(dir, "[ldap]\nbase = \"dc=example,dc=com\"\n" + apps + policy + rules +
                                              scheduler)) {}
  const reclaim::application &app(const char *id) const {
    const auto *a = cfg.policy.find_app(id);
    BOOST_TEST_REQUIRE(a != nullptr, id);
    return *a;
  }
};

reclaim::plan_input input(state from, state to, time_point t, const std::string &attributes_json = "{}") {
  reclaim::event_record ev;
  ev.seq = 1;
  ev.subject_id = "u1";
  ev.subject_name = "uid=u1,ou=People,dc=example,dc=com";
  ev.previous = from;
  ev.current = to;
  ev.time = t;
  ev.attributes_json = attributes_json;
  return reclaim::plan_input_from(ev);
}

std::string rule_names(const std::vector<const reclaim::policy_rule *> &rules) {
  std::vector<std::string> names;
  for (const auto *r : rules) names.push_back(r->name);
  return fmt::format("{}", fmt::join(names, ","));
}

std::string app_set(const std::vector<reclaim::planned_action> &actions) {
  std::set<std::string> names;
  for (const auto &a : actions) names.insert(a.app);
  return fmt::format("{}", fmt::join(names, ","));
}

} // namespace

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(rules_match_on_from_to_and_where) {
  const policy_env env(R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated", "deleted"]
applications = ["m365"]
actions = [ { action = "revoke_access" } ]

[[policy.rule]]
name = "contract"
from = ["active"]
to = ["contract_ended"]
where = { employeeType = ["contractor"] }
applications = ["github"]
actions = [ { action = "revoke_access" } ]

[[policy.rule]]
name = "leave-100"
to = ["leave"]
where = { departmentNumber = ["100"], EmployeeType = ["staff", "Contractor"] }
applications = ["figma"]
actions = [ { action = "suspend_access" } ]

[[policy.rule]]
name = "from-leave"
from = ["leave"]
to = ["terminated"]
applications = ["sap"]
actions = [ { action = "reclaim_licence" } ]
)toml");
  const auto t = at("2027-01-10T10:00:00Z");
  struct row {
    const char *name;
    state from, to;
    const char *attrs;
    const char *expected;
  };
  const row cases[] = {
      {"termination from active", state::active, state::terminated, "{}", "leavers"},
      {"termination from leave", state::leave, state::terminated, "{}", "leavers,from-leave"},
      {"deletion of a new entry", state::none, state::deleted, "{}", "leavers"},
      {"contractor, value case differs", state::active, state::contract_ended,
       R"({"employeeType":["Contractor"]})", "contract"},
      {"attribute name case differs", state::active, state::contract_ended, R"({"EMPLOYEETYPE":"contractor"})",
       "contract"},
      {"not a contractor", state::active, state::contract_ended, R"({"employeeType":["staff"]})", ""},
      {"contractor, wrong from", state::leave, state::contract_ended, R"({"employeeType":["contractor"]})", ""},
      {"no attributes", state::active, state::contract_ended, "{}", ""},
      {"only the before-image matches", state::active, state::contract_ended,
       R"({"employeeType":["staff"],"before":{"employeeType":["contractor"]}})", ""},
      {"both where attributes", state::active, state::leave,
       R"({"departmentNumber":["100"],"employeeType":["staff"]})", "leave-100"},
      {"multi-valued, one matches", state::active, state::leave,
       R"({"departmentNumber":["200","100"],"employeeType":["contractor"]})", "leave-100"},
      {"where is AND", state::active, state::leave, R"({"departmentNumber":["100"]})", ""},
      {"wrong department", state::active, state::leave, R"({"departmentNumber":["200"],"employeeType":["staff"]})",
       ""},
      {"no rule for transfers", state::active, state::transferred, R"({"departmentNumber":["100"]})", ""},
      {"no rule for reactivation", state::terminated, state::reactivated, "{}", ""},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(rule_names(reclaim::matching_rules(env.cfg.policy, input(c.from, c.to, t, c.attrs))) ==
                 c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(due_times_by_delay_and_tier) {
  const policy_env env("");
  using k = delay_spec::kind;
  struct row {
    const char *name;
    const char *app;
    k how;
    std::chrono::milliseconds after;
    const char *base;
    const char *expected;
  };
  const row cases[] = {
      {"critical, immediate", "m365", k::immediate, 0ms, "2027-01-10T10:00:00Z", "2027-01-10T10:00:00.000Z"},
      {"critical, tier default (immediate)", "m365", k::tier_default, 0ms, "2027-01-10T10:00:00Z",
       "2027-01-10T10:00:00.000Z"},
      {"standard, tier default (P30D)", "figma", k::tier_default, 0ms, "2027-01-10T10:00:00Z",
       "2027-02-09T10:00:00.000Z"},
      {"standard, rule duration wins", "figma", k::after, 12h, "2027-01-10T10:00:00Z", "2027-01-10T22:00:00.000Z"},
      {"standard, immediate", "sap", k::immediate, 0ms, "2027-01-10T10:00:00Z", "2027-01-10T10:00:00.000Z"},
      {"low, tier default: grace then the next batch", "wiki", k::tier_default, 0ms, "2027-01-10T10:00:00Z",
       "2027-01-17T14:00:00.000Z"},
      {"low, after the afternoon batch", "wiki", k::tier_default, 0ms, "2027-01-10T15:00:00Z",
       "2027-01-18T02:00:00.000Z"},
      {"low, exactly at a batch time", "wiki", k::tier_default, 0ms, "2027-01-10T14:00:00Z",
       "2027-01-17T14:00:00.000Z"},
      {"low, just before midnight", "wiki", k::tier_default, 0ms, "2027-01-10T23:59:59Z",
       "2027-01-18T02:00:00.000Z"},
      {"low, a rule duration wins", "wiki", k::after, 24h, "2027-01-10T10:00:00Z", "2027-01-11T10:00:00.000Z"},
      {"low, immediate", "wiki", k::immediate, 0ms, "2027-01-10T10:00:00Z", "2027-01-10T10:00:00.000Z"},
      {"critical, staged: next batch", "m365", k::staged, 0ms, "2027-01-10T10:00:00Z", "2027-01-10T14:00:00.000Z"},
      {"critical, staged, after the last batch", "github", k::staged, 0ms, "2027-01-10T23:30:00Z",
       "2027-01-11T02:00:00.000Z"},
      {"critical, staged, early morning", "m365", k::staged, 0ms, "2027-01-10T01:00:00Z",
       "2027-01-10T02:00:00.000Z"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      delay_spec d;
      d.how = c.how;
      d.after = c.after;
      BOOST_TEST(reclaim::format_utc(reclaim::due_time(env.cfg.policy, env.app(c.app), d, at(c.base))) ==
                 c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(tier_defaults_are_configurable) {
  // A critical tier with a grace, a standard tier that acts at once, a low
  // tier with a plain duration.
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, R"toml(
[ldap]
base = "dc=example,dc=com"
[[application]]
id = "a"
tier = "critical"
[[application]]
id = "b"
tier = "standard"
[[application]]
id = "c"
tier = "low"
[tiers.critical]
delay = "PT1H"
[tiers.standard]
delay = "immediate"
[tiers.low]
delay = "P2D"
)toml");
  const auto base = at("2027-01-10T10:00:00Z");
  const delay_spec tier_default{};
  BOOST_TEST(when(reclaim::due_time(cfg.policy, *cfg.policy.find_app("a"), tier_default, base)) ==
             "2027-01-10T11:00:00.000Z");
  BOOST_TEST(when(reclaim::due_time(cfg.policy, *cfg.policy.find_app("b"), tier_default, base)) ==
             "2027-01-10T10:00:00.000Z");
  BOOST_TEST(when(reclaim::due_time(cfg.policy, *cfg.policy.find_app("c"), tier_default, base)) ==
             "2027-01-12T10:00:00.000Z");
}

// A due time past the end of time is held there, never wrapped round into
// the past (where the action would run at once).
BOOST_AUTO_TEST_CASE(due_times_saturate_instead_of_overflowing) {
  const policy_env env("", policy_section(), "");
  const auto end = reclaim::time_point::max();
  const auto near_end = end - std::chrono::hours(1);
  delay_spec after;
  after.how = delay_spec::kind::after;
  after.after = std::chrono::days(7);
  delay_spec staged;
  staged.how = delay_spec::kind::staged;
  for (const auto &app : env.cfg.policy.applications) {
    BOOST_TEST((reclaim::due_time(env.cfg.policy, app, after, near_end) == end));
    BOOST_TEST((reclaim::due_time(env.cfg.policy, app, staged, near_end) >= near_end));
    BOOST_TEST((reclaim::due_time(env.cfg.policy, app, delay_spec{}, end) >= end - std::chrono::hours(1)));
  }
}

// With no [scheduler] section at all, staged actions still wait for a
// batch time (the documented default, 02:00 UTC), not run at once.
BOOST_AUTO_TEST_CASE(staged_without_a_scheduler_section_uses_the_default_batch_time) {
  const policy_env env("", policy_section(), "");
  delay_spec staged;
  staged.how = delay_spec::kind::staged;
  BOOST_TEST(when(reclaim::due_time(env.cfg.policy, env.app("m365"), staged, at("2027-01-10T10:00:00Z"))) ==
             "2027-01-11T02:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(every_action_kind_is_planned) {
  const policy_env env(R"toml(
[[policy.rule]]
name = "all-kinds"
to = ["terminated"]
applications = ["m365"]
actions = [
  { action = "suspend_access", delay = "immediate" },
  { action = "revoke_access", delay = "PT1H" },
  { action = "reclaim_licence" },
  { action = "downgrade_licence", to_sku = "M365_E1", delay = "P7D" },
  { action = "transfer_ownership", delay = "staged" },
  { action = "notify", target = "finance", delay = "immediate" },
  { action = "notify" },
]
)toml");
  const auto t = at("2027-01-10T10:00:00Z");
  const auto planned = reclaim::plan_actions(env.cfg.policy, input(state::active, state::terminated, t));
  struct row {
    action_kind kind;
    const char *to_sku;
    const char *target;
    const char *due;
  };
  const row expected[] = {
      {action_kind::suspend_access, "", "", "2027-01-10T10:00:00.000Z"},
      {action_kind::revoke_access, "", "", "2027-01-10T11:00:00.000Z"},
      {action_kind::reclaim_licence, "", "", "2027-01-10T10:00:00.000Z"},
      {action_kind::downgrade_licence, "M365_E1", "", "2027-01-17T10:00:00.000Z"},
      {action_kind::transfer_ownership, "", "", "2027-01-10T14:00:00.000Z"},
      {action_kind::notify, "", "finance", "2027-01-10T10:00:00.000Z"},
      {action_kind::notify, "", "owner", "2027-01-10T10:00:00.000Z"},
  };
  BOOST_TEST_REQUIRE(planned.size() == std::size(expected));
  for (size_t i = 0; i < planned.size(); ++i) {
    BOOST_TEST_CONTEXT("action " << i << " " << reclaim::action_kind_name(expected[i].kind)) {
      const auto &p = planned[i];
      BOOST_TEST((p.kind == expected[i].kind));
      BOOST_TEST(p.app == "m365");
      BOOST_TEST(p.to_sku == expected[i].to_sku);
      BOOST_TEST(p.target == expected[i].target);
      BOOST_TEST(reclaim::format_utc(p.due) == expected[i].due);
      BOOST_TEST(p.rule == "all-kinds");
      BOOST_TEST(p.sku == ""); // every SKU of the application the person holds
    }
  }
}

BOOST_AUTO_TEST_CASE(star_means_every_application_with_its_tier_default) {
  const policy_env env(R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["*"]
actions = [ { action = "reclaim_licence" } ]
)toml");
  const auto planned =
      reclaim::plan_actions(env.cfg.policy, input(state::active, state::terminated, at("2027-01-10T10:00:00Z")));
  const std::pair<const char *, const char *> expected[] = {{"m365", "2027-01-10T10:00:00.000Z"},
                                                            {"github", "2027-01-10T10:00:00.000Z"},
                                                            {"figma", "2027-02-09T10:00:00.000Z"},
                                                            {"sap", "2027-02-09T10:00:00.000Z"},
                                                            {"wiki", "2027-01-17T14:00:00.000Z"}};
  BOOST_TEST_REQUIRE(planned.size() == std::size(expected));
  for (size_t i = 0; i < planned.size(); ++i) {
    BOOST_TEST_CONTEXT(expected[i].first) {
      BOOST_TEST(planned[i].app == expected[i].first);
      BOOST_TEST(reclaim::format_utc(planned[i].due) == expected[i].second);
    }
  }
}

BOOST_AUTO_TEST_CASE(transfer_loses_only_what_the_new_role_lacks) {
  const std::string transfer_rule = R"toml(
[[policy.rule]]
name = "transfer"
to = ["transferred"]
applications = ["*"]
actions = [ { action = "revoke_access", delay = "P14D" } ]
)toml";
  const policy_env env(transfer_rule);
  struct row {
    const char *name;
    const char *attrs;
    const char *lost;
  };
  const row cases[] = {
      {"100 -> 200", R"({"departmentNumber":["200"],"before":{"departmentNumber":["100"]}})", "figma,github"},
      {"200 -> 200", R"({"departmentNumber":["200"],"before":{"departmentNumber":["200"]}})", ""},
      {"200 -> 100", R"({"departmentNumber":["100"],"before":{"departmentNumber":["200"]}})", "sap"},
      {"100 -> 300", R"({"departmentNumber":"300","before":{"departmentNumber":"100"}})", "figma,github"},
      {"300 -> 100: gains only", R"({"departmentNumber":["100"],"before":{"departmentNumber":["300"]}})", ""},
      {"title change, same department",
       R"({"departmentNumber":["100"],"title":["Lead"],"before":{"departmentNumber":["100"],"title":["Dev"]}})", ""},
      {"to a department outside the matrix", R"({"departmentNumber":["999"],"before":{"departmentNumber":["100"]}})",
       "figma,github,m365"},
      {"leaves the department attribute", R"({"before":{"departmentNumber":["200"]}})", "m365,sap"},
      {"two old roles", R"({"departmentNumber":["300"],"before":{"departmentNumber":["100","200"]}})",
       "figma,github,sap"},
      {"attribute name case", R"({"DEPARTMENTNUMBER":["200"],"before":{"DepartmentNumber":["100"]}})",
       "figma,github"},
  };
  const auto t = at("2027-01-10T10:00:00Z");
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const auto planned = reclaim::plan_actions(env.cfg.policy, input(state::active, state::transferred, t, c.attrs));
      BOOST_TEST(app_set(planned) == c.lost);
      for (const auto &p : planned) BOOST_TEST(reclaim::format_utc(p.due) == "2027-01-24T10:00:00.000Z");
    }
  }
  // Without a role matrix the rule's applications all apply.
  const policy_env plain(transfer_rule, policy_section("UTC", false));
  const auto planned = reclaim::plan_actions(
      plain.cfg.policy, input(state::active, state::transferred, t,
                              R"({"departmentNumber":["200"],"before":{"departmentNumber":["100"]}})"));
  BOOST_TEST(app_set(planned) == "figma,github,m365,sap,wiki");
}

BOOST_AUTO_TEST_CASE(entitled_apps_by_role) {
  const policy_env env("");
  using attrs = std::map<std::string, std::vector<std::string>>;
  const auto names = [](const std::optional<std::set<std::string>> &s) {
    return s ? fmt::format("{}", fmt::join(*s, ",")) : std::string("nullopt");
  };
  BOOST_TEST(names(reclaim::entitled_apps(env.cfg.policy, attrs{{"departmentnumber", {"100"}}})) ==
             "figma,github,m365");
  BOOST_TEST(names(reclaim::entitled_apps(env.cfg.policy, attrs{{"departmentnumber", {"200", "300"}}})) ==
             "m365,sap");
  BOOST_TEST(names(reclaim::entitled_apps(env.cfg.policy, attrs{{"departmentnumber", {"999"}}})) == "");
  BOOST_TEST(names(reclaim::entitled_apps(env.cfg.policy, attrs{})) == "");
  const policy_env plain("", policy_section("UTC", false));
  BOOST_TEST(names(reclaim::entitled_apps(plain.cfg.policy, attrs{{"departmentnumber", {"100"}}})) == "nullopt");
}

BOOST_AUTO_TEST_CASE(contract_end_is_the_end_of_that_day_in_the_configured_offset) {
  const auto now = at("2027-01-10T10:00:00Z");
  const auto days = [](int y, unsigned m, unsigned d) {
    return std::to_string(
        std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}
            .time_since_epoch()
            .count());
  };
  struct row {
    const char *name;
    std::string zone;
    std::string attrs;
    const char *expected;
  };
  const row cases[] = {
      {"days since epoch, UTC", "UTC", R"({"shadowExpire":[")" + days(2027, 3, 15) + R"("]})",
       "2027-03-16T00:00:00.000Z"},
      {"days since epoch, +02:00", "+02:00", R"({"shadowExpire":[")" + days(2027, 3, 15) + R"("]})",
       "2027-03-15T22:00:00.000Z"},
      {"days since epoch, -05:30", "-05:30", R"({"shadowExpire":[")" + days(2027, 3, 15) + R"("]})",
       "2027-03-16T05:30:00.000Z"},
      {"generalizedTime", "UTC", R"({"shadowExpire":["20270315000000Z"]})", "2027-03-16T00:00:00.000Z"},
      {"generalizedTime, +01:00", "+01:00", R"({"shadowExpire":["20270315120000Z"]})", "2027-03-15T23:00:00.000Z"},
      {"attribute name case", "UTC", R"({"SHADOWEXPIRE":")" + days(2027, 3, 15) + R"("})",
       "2027-03-16T00:00:00.000Z"},
      {"today: the end of today", "UTC", R"({"shadowExpire":[")" + days(2027, 1, 10) + R"("]})",
       "2027-01-11T00:00:00.000Z"},
      {"today, but already over at +14:00", "+14:00", R"({"shadowExpire":[")" + days(2027, 1, 10) + R"("]})",
       "none"},
      {"yesterday", "UTC", R"({"shadowExpire":[")" + days(2027, 1, 9) + R"("]})", "none"},
      {"never (-1)", "UTC", R"({"shadowExpire":["-1"]})", "none"},
      {"prose", "UTC", R"({"shadowExpire":["tomorrow"]})", "none"},
      {"month 13", "UTC", R"({"shadowExpire":["20271345000000Z"]})", "none"},
      {"empty", "UTC", R"({"shadowExpire":[""]})", "none"},
      {"absent", "UTC", R"({"employeeType":["contractor"]})", "none"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const policy_env env("", policy_section(c.zone));
      BOOST_TEST(when(reclaim::contract_end(env.cfg.policy, input(state::none, state::active, now, c.attrs), now)) ==
                 c.expected);
    }
  }
  // No end_date_attribute configured: never a contract end.
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, "[ldap]\nbase = \"dc=example,dc=com\"\n");
  BOOST_TEST(when(reclaim::contract_end(cfg.policy,
                                        input(state::none, state::active, now,
                                              R"({"shadowExpire":[")" + days(2027, 3, 15) + R"("]})"),
                                        now)) == "none");
}

BOOST_AUTO_TEST_CASE(restore_kinds_and_data_actions) {
  struct row {
    action_kind kind;
    std::optional<action_kind> restore;
    bool touches_data;
  };
  const row cases[] = {
      {action_kind::suspend_access, action_kind::resume_access, false},
      {action_kind::revoke_access, action_kind::grant_access, false},
      {action_kind::reclaim_licence, action_kind::assign_licence, true},
      {action_kind::downgrade_licence, action_kind::assign_licence, false},
      {action_kind::transfer_ownership, std::nullopt, true},
      {action_kind::notify, std::nullopt, false},
      {action_kind::resume_access, std::nullopt, false},
      {action_kind::grant_access, std::nullopt, false},
      {action_kind::assign_licence, std::nullopt, false},
  };
  for (const auto &c : cases) {
    const auto name = reclaim::action_kind_name(c.kind);
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST((reclaim::restore_kind(c.kind) == c.restore));
      BOOST_TEST(reclaim::touches_data(c.kind) == c.touches_data);
      BOOST_TEST((reclaim::parse_action_kind(name) == c.kind));
    }
  }
  BOOST_TEST(!reclaim::parse_action_kind("Revoke_Access"));
  BOOST_TEST(!reclaim::parse_action_kind(""));
}

BOOST_AUTO_TEST_SUITE_END()
