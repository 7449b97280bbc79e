// test_planner.cpp — plugin/policy/planner with the journal and the plan store:
// events become plans exactly once, duplicates are not planned twice, leave
// and return, reactivation (cancel what is pending, restore what ran,
// limited to the current role), contract end dates, the mass-revocation
// guard at its boundaries, approvals under the two-person rule, cost and
// per-application approval requirements, dry run, and preview.
#include "policy_fixture.hpp"
#include "config/config.hpp"
#include "store/journal.hpp"
#include "connectors/local_connector.hpp"
#include "policy/costs.hpp"
#include "policy/planner.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using reclaim::action_kind;
using reclaim::action_row;
using reclaim::plan_row;
using reclaim::state;
using reclaim::time_point;
using reclaim::unit::temp_dir;

namespace {

const char *const hr = "cn=hr-admin,dc=example,dc=com";

using reclaim::unit::apps_text;
using reclaim::unit::at;
using reclaim::unit::leave_rule;
using reclaim::unit::leavers_rule;

// Only m365, so guard tests plan one action per departure.
const std::string small_leavers_rule = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated", "deleted", "contract_ended"]
applications = ["m365"]
actions = [ { action = "revoke_access", delay = "immediate" } ]
)toml";

struct options {
  std::string mode = "enforce";
  std::map<std::string, std::string> app_flags;
  std::string rules = leavers_rule + leave_rule;
  std::string time_zone = "UTC";
  bool role_matrix = true;
  std::string guard;
  std::string policy_extra; // more [policy] keys
};

struct world {
  temp_dir dir;
  reclaim::unit::log_capture logs;
  reclaim::logger log = logs.make();
  reclaim::config cfg;
  std::unique_ptr<reclaim::journal> j;
  std::unique_ptr<reclaim::planner> p;
  int counter = 0;

  explicit world(const options &o = {}) {
    reclaim::set_fixed_now(at("2027-01-10T10:00:00Z"));
    cfg = load(o);
    j = std::make_unique<reclaim::journal>(cfg.journal_path(), reclaim::sqlite::durability::normal);
    p = std::make_unique<reclaim::planner>(cfg, *j, log);
  }
  // Loads a configuration for this world's state directory.
  reclaim::config load(const options &o) const {
    std::string policy = "\n[policy]\nend_date_attribute = \"shadowExpire\"\ntime_zone_attribute = \"tz\"\n"
                         "time_zone = \"" + o.time_zone + "\"\n";
    if (o.role_matrix)
      policy += "role_attribute = \"departmentNumber\"\nentitlements = { \"100\" = [\"m365\", \"github\", \"figma\"], "
                "\"200\" = [\"m365\", \"sap\"], \"300\" = [\"m365\"] }\n";
    policy += o.policy_extra;
    const auto text = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"{}\"\n{}{}{}{}{}\n[scheduler]\n"
                                  "batch_times = [\"02:00\", \"14:00\"]\n",
                                  (dir / "state").string(), o.mode, reclaim::unit::ldap_section,
                                  apps_text(o.app_flags), policy, o.rules,
                                  o.guard.empty() ? "" : "\n[guard]\n" + o.guard);
    return reclaim::unit::load_toml(dir, text);
  }
  ~world() { reclaim::set_fixed_now(std::nullopt); }

  int64_t event(const std::string &subject, state from, state to, const std::string &attrs = "{}",
                const std::string &actor = hr) {
    reclaim::event_record ev;
    ev.idempotency_key = fmt::format("{}/{}", subject, ++counter);
    ev.subject_id = subject;
    ev.subject_name = fmt::format("uid={},ou=People,dc=example,dc=com", subject);
    ev.source = "ldap";
    ev.previous = from;
    ev.current = to;
    ev.time = reclaim::now();
    ev.recorded = reclaim::now();
    ev.actor = actor;
    ev.attributes_json = attrs;
    BOOST_TEST_REQUIRE(j->append(ev));
    return ev.seq;
  }

  void people(int n, const std::string &prefix = "p") {
    for (int i = 0; i < n; ++i)
      j->put_subject({fmt::format("{}{}", prefix, i), fmt::format("uid={}{}", prefix, i), state::active, "", "", "", ""});
  }

  std::vector<plan_row> plans(const std::string &subject = "") { return p->store().plans("", subject); }
  std::vector<action_row> actions(int64_t plan_id = 0, const std::string &status = "") {
    return p->store().actions(status, "", plan_id);
  }
  // Marks an action executed, as the scheduler would.
  void ran(const action_row &a, const std::string &before_image = "{}") {
    p->store().finish(a.id, "done", "ran in the test", before_image);
  }
};

void set_now(const char *utc) { reclaim::set_fixed_now(at(utc)); }

std::string statuses(const std::vector<action_row> &actions) {
  std::map<std::string, int> n;
  for (const auto &a : actions) ++n[a.status];
  std::vector<std::string> parts;
  for (const auto &[s, c] : n) parts.push_back(fmt::format("{}={}", s, c));
  return fmt::format("{}", fmt::join(parts, ","));
}

std::string describe(const std::vector<action_row> &actions) {
  std::vector<std::string> parts;
  for (const auto &a : actions) parts.push_back(fmt::format("{}:{}", a.app, reclaim::action_kind_name(a.kind)));
  return fmt::format("{}", fmt::join(parts, ","));
}

} // namespace

BOOST_AUTO_TEST_SUITE(planner)

BOOST_AUTO_TEST_CASE(termination_becomes_one_plan_with_timed_actions) {
  world w;
  w.event("u1", state::active, state::terminated, R"({"employeeType":["terminated"]})");
  BOOST_TEST(w.p->plan_pending() == 1u);
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 1u);
  const auto &plan = plans[0];
  BOOST_TEST(plan.kind == "reclaim");
  BOOST_TEST(plan.status == "active");
  BOOST_TEST(plan.subject_id == "u1");
  BOOST_TEST(plan.from_state == "active");
  BOOST_TEST(plan.to_state == "terminated");
  BOOST_TEST(plan.requested_by == hr);
  BOOST_TEST(!plan.dry_run);
  const auto actions = w.actions(plan.id);
  BOOST_TEST_REQUIRE(actions.size() == 20u); // 5 applications x 4 actions
  std::set<std::string> keys;
  for (const auto &a : actions) {
    BOOST_TEST_CONTEXT(a.app << " " << reclaim::action_kind_name(a.kind)) {
      BOOST_TEST(a.status == "pending");
      BOOST_TEST(a.rule == "leavers");
      BOOST_TEST(a.attempts == 0);
      BOOST_TEST(!a.idempotency_key.empty());
      keys.insert(a.idempotency_key);
      std::string due;
      if (a.kind == action_kind::revoke_access || a.kind == action_kind::notify) due = "2027-01-10T10:00:00.000Z";
      else if (a.kind == action_kind::transfer_ownership) due = "2027-01-17T10:00:00.000Z";
      else if (a.app == "m365" || a.app == "github") due = "2027-01-10T10:00:00.000Z";
      else if (a.app == "wiki") due = "2027-01-17T14:00:00.000Z";
      else due = "2027-02-09T10:00:00.000Z";
      BOOST_TEST(reclaim::format_utc(a.due) == due);
      if (a.kind == action_kind::notify) BOOST_TEST(a.target == "finance");
    }
  }
  BOOST_TEST(keys.size() == actions.size());
}

BOOST_AUTO_TEST_CASE(each_event_is_planned_exactly_once) {
  world w;
  w.event("u1", state::active, state::terminated);
  w.event("u2", state::active, state::leave);
  BOOST_TEST(w.p->plan_pending() == 2u);
  const auto plans = w.plans();
  const auto actions = w.actions();
  BOOST_TEST(plans.size() == 2u);
  BOOST_TEST(w.p->plan_pending() == 0u);
  // A second planner over the same store (a restart) plans nothing again.
  reclaim::planner again(w.cfg, *w.j, w.log);
  BOOST_TEST(again.plan_pending() == 0u);
  BOOST_TEST(w.plans().size() == plans.size());
  BOOST_TEST(w.actions().size() == actions.size());
  BOOST_TEST(w.p->store().planned_upto() == 2);
  // Events that match no rule advance the cursor too.
  w.event("u3", state::none, state::active);
  BOOST_TEST(w.p->plan_pending() == 1u);
  BOOST_TEST(w.plans().size() == 2u);
  BOOST_TEST(w.p->store().planned_upto() == 3);
}

BOOST_AUTO_TEST_CASE(termination_then_deletion_plans_each_action_once) {
  options o;
  o.rules = leavers_rule + R"toml(
[[policy.rule]]
name = "deleted-entries"
to = ["deleted"]
applications = ["m365"]
actions = [ { action = "notify", target = "itsm", delay = "immediate" } ]
)toml";
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.event("u1", state::terminated, state::deleted);
  BOOST_TEST(w.p->plan_pending() == 2u);
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  BOOST_TEST(w.actions(plans[0].id).size() == 20u);
  // The deletion adds only what the termination did not plan.
  BOOST_TEST(describe(w.actions(plans[1].id)) == "m365:notify");
  // Executed actions count as planned too.
  for (const auto &a : w.actions(plans[0].id)) w.ran(a);
  w.event("u1", state::deleted, state::deleted);
  w.p->plan_pending();
  BOOST_TEST(w.plans().size() == 2u);
}

BOOST_AUTO_TEST_CASE(leave_suspends_now_and_reclaims_after_90_days) {
  world w;
  w.event("u1", state::active, state::leave, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 1u);
  for (const auto &a : w.actions(plans[0].id)) {
    BOOST_TEST_CONTEXT(a.app << " " << reclaim::action_kind_name(a.kind)) {
      BOOST_TEST(a.status == "pending");
      if (a.kind == action_kind::suspend_access) BOOST_TEST(reclaim::format_utc(a.due) == "2027-01-10T10:00:00.000Z");
      else {
        BOOST_TEST((a.kind == action_kind::reclaim_licence));
        BOOST_TEST(reclaim::format_utc(a.due) == "2027-04-10T10:00:00.000Z");
      }
    }
  }
  // Nothing ran yet: the return cancels everything, and there is nothing to restore.
  set_now("2027-01-20T09:00:00Z");
  w.event("u1", state::leave, state::reactivated, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  BOOST_TEST(w.plans().size() == 1u);
  const auto after = w.actions(plans[0].id);
  BOOST_TEST(statuses(after) == "cancelled=10");
  for (const auto &a : after) BOOST_TEST(a.outcome.find("reactivated") != std::string::npos, a.outcome);
}

BOOST_AUTO_TEST_CASE(return_from_leave_cancels_pending_and_resumes_what_was_suspended) {
  world w;
  w.event("u1", state::active, state::leave, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  for (const auto &a : w.actions(0, "pending"))
    if (a.kind == action_kind::suspend_access) w.ran(a, R"({"access":"active"})");
  set_now("2027-02-01T08:00:00Z");
  w.event("u1", state::leave, state::reactivated, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  // The reclaims due after 90 days are cancelled, recorded with why.
  const auto first = w.actions(plans[0].id);
  for (const auto &a : first)
    BOOST_TEST(a.status == (a.kind == action_kind::suspend_access ? "done" : "cancelled"));
  const auto &restore = plans[1];
  BOOST_TEST(restore.kind == "restore");
  BOOST_TEST(restore.status == "active");
  BOOST_TEST(restore.to_state == "reactivated");
  const auto resumes = w.actions(restore.id);
  // Department 100 holds m365, github and figma: only those come back.
  BOOST_TEST(describe(resumes) == "m365:resume_access,github:resume_access,figma:resume_access");
  for (const auto &a : resumes) {
    BOOST_TEST(a.status == "pending");
    BOOST_TEST(reclaim::format_utc(a.due) == "2027-02-01T08:00:00.000Z");
    BOOST_TEST(a.before_image == R"({"access":"active"})");
    BOOST_TEST(a.restores > 0);
  }
}

BOOST_AUTO_TEST_CASE(reactivation_after_actions_ran_restores_only_what_the_role_holds) {
  world w;
  w.event("u1", state::active, state::terminated, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  const auto plan_id = w.plans()[0].id;
  // The immediate ones ran; the rest still waits.
  for (const auto &a : w.actions(plan_id))
    if (a.due <= reclaim::now()) w.ran(a, a.kind == action_kind::reclaim_licence ? R"({"skus":["X"]})" : "{}");
  set_now("2027-01-12T10:00:00Z"); // inside the 30-day grace of the standard tier
  w.event("u1", state::terminated, state::reactivated, R"({"departmentNumber":["300"]})");
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  const auto original = w.actions(plan_id);
  BOOST_TEST(statuses(original) == "cancelled=8,done=12");
  // Department 300 holds m365 only: github's access and licence stay away;
  // notify and transfer_ownership have nothing to restore.
  const auto restores = w.actions(plans[1].id);
  BOOST_TEST(describe(restores) == "m365:grant_access,m365:assign_licence");
  for (const auto &r : restores) {
    const auto it = std::find_if(original.begin(), original.end(), [&](const action_row &a) { return a.id == r.restores; });
    BOOST_TEST_REQUIRE((it != original.end()));
    BOOST_TEST(it->app == "m365");
    BOOST_TEST((reclaim::restore_kind(it->kind) == r.kind));
    BOOST_TEST(r.before_image == it->before_image);
  }
}

// A rehire planned while one of the termination's actions is being executed
// (a worker holds it "running") must not miss it: that action can no longer
// be cancelled, so the reactivation is planned once it has finished, and
// its effect is restored then.
BOOST_AUTO_TEST_CASE(reactivation_waits_for_an_action_in_flight_then_restores_it) {
  options o;
  o.role_matrix = false;
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.p->plan_pending();
  const auto plan_id = w.plans()[0].id;
  action_row revoke;
  for (const auto &a : w.actions(plan_id))
    if (a.kind == action_kind::revoke_access && a.app == "github") revoke = a;
  BOOST_TEST_REQUIRE(revoke.id > 0);
  w.j->db().exec(fmt::format("UPDATE actions SET status = 'running' WHERE id = {}", revoke.id).c_str());
  const auto rehire = w.event("u1", state::terminated, state::reactivated);
  w.p->plan_pending();
  BOOST_TEST(w.plans().size() == 1u, "no restore plan while github's revoke is running");
  BOOST_TEST(w.p->store().planned_upto() == rehire - 1);
  w.ran(revoke);
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  BOOST_TEST(describe(w.actions(plans[1].id)) == "github:grant_access");
  BOOST_TEST(w.p->store().planned_upto() == rehire);
}

// A dispatcher that died mid-action leaves it "running"; planning goes on
// after a while rather than stopping for good.
BOOST_AUTO_TEST_CASE(an_action_left_running_delays_a_reactivation_only_for_a_while) {
  world w;
  w.event("u1", state::active, state::terminated, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  w.j->db().exec("UPDATE actions SET status = 'running' WHERE kind = 'revoke_access'");
  const auto rehire = w.event("u1", state::terminated, state::reactivated, R"({"departmentNumber":["100"]})");
  w.p->plan_pending();
  BOOST_TEST(w.p->store().planned_upto() == rehire - 1);
  set_now("2027-01-10T10:06:00Z"); // in_flight_wait (5 min) after the rehire
  w.p->plan_pending();
  BOOST_TEST(w.p->store().planned_upto() == rehire);
}

BOOST_AUTO_TEST_CASE(reactivation_without_a_role_matrix_restores_everything_that_ran) {
  options o;
  o.role_matrix = false;
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.p->plan_pending();
  for (const auto &a : w.actions())
    if (a.kind == action_kind::revoke_access) w.ran(a);
  w.event("u1", state::terminated, state::reactivated);
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  BOOST_TEST(describe(w.actions(plans[1].id)) ==
             "m365:grant_access,github:grant_access,figma:grant_access,sap:grant_access,wiki:grant_access");
}

BOOST_AUTO_TEST_CASE(future_contract_end_schedules_a_contract_plan) {
  const auto days = [](int y, unsigned m, unsigned d) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}
        .time_since_epoch()
        .count();
  };
  struct row {
    const char *name;
    const char *zone;
    std::string end;
    const char *expected_end; // "" when no contract plan
    const char *own_zone = "";  // the person's "tz" attribute
  };
  const row cases[] = {
      {"UTC", "UTC", std::to_string(days(2027, 3, 15)), "2027-03-16T00:00:00.000Z"},
      {"+02:00", "+02:00", std::to_string(days(2027, 3, 15)), "2027-03-15T22:00:00.000Z"},
      {"-08:00", "-08:00", std::to_string(days(2027, 3, 15)), "2027-03-16T08:00:00.000Z"},
      {"generalizedTime", "UTC", "20270315000000Z", "2027-03-16T00:00:00.000Z"},
      {"in the past", "UTC", std::to_string(days(2026, 12, 31)), ""},
      {"Europe/Berlin, winter", "Europe/Berlin", std::to_string(days(2027, 3, 15)), "2027-03-15T23:00:00.000Z"},
      {"Europe/Berlin, summer", "Europe/Berlin", std::to_string(days(2027, 7, 15)), "2027-07-15T22:00:00.000Z"},
      {"the person's own zone", "UTC", std::to_string(days(2027, 3, 15)), "2027-03-16T04:00:00.000Z",
       "America/New_York"},
      {"own fixed offset", "Europe/Berlin", std::to_string(days(2027, 3, 15)), "2027-03-15T19:30:00.000Z", "+04:30"},
      {"unknown own zone: the configured one", "UTC", std::to_string(days(2027, 3, 15)), "2027-03-16T00:00:00.000Z",
       "Mars/Olympus"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      options o;
      o.time_zone = c.zone;
      world w(o);
      const auto attrs = *c.own_zone
                             ? fmt::format(R"({{"employeeType":["contractor"],"shadowExpire":["{}"],"tz":["{}"]}})", c.end,
                                           c.own_zone)
                             : fmt::format(R"({{"employeeType":["contractor"],"shadowExpire":["{}"]}})", c.end);
      w.event("c1", state::none, state::active, attrs);
      w.p->plan_pending();
      const auto plans = w.plans();
      if (std::string(c.expected_end).empty()) {
        BOOST_TEST(plans.empty());
        continue;
      }
      BOOST_TEST_REQUIRE(plans.size() == 1u);
      BOOST_TEST(plans[0].kind == "contract");
      BOOST_TEST(plans[0].to_state == "contract_ended");
      BOOST_TEST(plans[0].status == "active");
      const auto end = reclaim::parse_utc(std::string(c.expected_end).substr(0, 19) + "Z");
      BOOST_TEST_REQUIRE(end.has_value());
      const auto actions = w.actions(plans[0].id);
      BOOST_TEST(actions.size() == 20u);
      for (const auto &a : actions) {
        if (a.kind == action_kind::revoke_access) BOOST_TEST(reclaim::format_utc(a.due) == c.expected_end);
        if (a.kind == action_kind::transfer_ownership) BOOST_TEST((a.due == *end + std::chrono::days(7)));
        if (a.kind == action_kind::reclaim_licence && a.app == "figma")
          BOOST_TEST((a.due == *end + std::chrono::days(30)));
      }
      // Another change of the same person (same end date) plans nothing new.
      w.event("c1", state::active, state::active, attrs);
      w.p->plan_pending();
      BOOST_TEST(w.plans().size() == 1u);
      // Nor does the contract_ended event on the day.
      reclaim::set_fixed_now(*end);
      w.event("c1", state::active, state::contract_ended, attrs);
      w.p->plan_pending();
      BOOST_TEST(w.plans().size() == 1u);
      BOOST_TEST(w.actions().size() == 20u);
    }
  }
}

BOOST_AUTO_TEST_CASE(guard_max_events_boundary) {
  for (int n : {1, 2, 5}) {
    BOOST_TEST_CONTEXT("max_events = " << n) {
      options o;
      o.rules = small_leavers_rule + leave_rule;
      o.guard = fmt::format("window = \"PT1H\"\nmax_events = {}\n", n);
      world w(o);
      w.people(20);
      for (int i = 0; i < n; ++i) w.event(fmt::format("p{}", i), state::active, state::terminated);
      // A leave is not a departure: neither counted nor held.
      w.event("p19", state::active, state::leave);
      w.p->plan_pending();
      auto plans = w.plans();
      BOOST_TEST_REQUIRE(plans.size() == static_cast<size_t>(n + 1));
      for (const auto &p : plans) BOOST_TEST(p.status == "active");
      BOOST_TEST(!w.logs.contains("ALERT"));
      // The (n+1)-th departure in the window is held, and so are its actions.
      set_now("2027-01-10T10:30:00Z");
      w.event(fmt::format("p{}", n), state::active, state::deleted);
      w.p->plan_pending();
      plans = w.plans();
      BOOST_TEST_REQUIRE(plans.size() == static_cast<size_t>(n + 2));
      const auto &held = plans.back();
      BOOST_TEST(held.status == "held");
      BOOST_TEST(held.reason.find("mass-revocation guard") != std::string::npos, held.reason);
      BOOST_TEST(statuses(w.actions(held.id)) == "held=1");
      BOOST_TEST(w.logs.contains("ALERT guard tripped"));
      // Once the window has passed, departures plan normally again.
      set_now("2027-01-10T11:31:00Z");
      w.event(fmt::format("p{}", n + 1), state::active, state::terminated);
      w.p->plan_pending();
      BOOST_TEST(w.plans().back().status == "active");
    }
  }
}

BOOST_AUTO_TEST_CASE(guard_max_percent_boundary_and_minimum_population) {
  struct row {
    const char *name;
    int population;
    int departures;
    const char *last_status;
  };
  // max_percent 10, judged from 50 people up.
  const row cases[] = {
      {"49 people: percentage not judged", 49, 10, "active"},
      {"50 people, 5 departures = 10%", 50, 5, "active"},
      {"50 people, 6 departures = 12%", 50, 6, "held"},
      {"100 people, 10 departures", 100, 10, "active"},
      {"100 people, 11 departures", 100, 11, "held"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      options o;
      o.rules = small_leavers_rule;
      o.guard = "window = \"PT1H\"\nmax_percent = 10.0\npercent_min_population = 50\n";
      world w(o);
      w.people(c.population);
      for (int i = 0; i < c.departures; ++i) w.event(fmt::format("p{}", i), state::active, state::terminated);
      w.p->plan_pending();
      const auto plans = w.plans();
      BOOST_TEST_REQUIRE(plans.size() == static_cast<size_t>(c.departures));
      for (size_t i = 0; i + 1 < plans.size(); ++i) BOOST_TEST(plans[i].status == "active");
      BOOST_TEST(plans.back().status == c.last_status);
    }
  }
}

BOOST_AUTO_TEST_CASE(approval_of_a_held_plan_needs_a_second_person) {
  options o;
  o.rules = small_leavers_rule;
  o.guard = "max_events = 1\n";
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.event("u2", state::active, state::terminated, "{}", "cn=Mallory,dc=example,dc=com");
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  BOOST_TEST(plans[0].status == "active");
  const auto id = plans[1].id;
  BOOST_TEST(plans[1].status == "held");
  BOOST_TEST(plans[1].requested_by == "cn=Mallory,dc=example,dc=com");

  struct refusal {
    const char *name;
    int64_t plan;
    const char *approver;
    const char *message;
  };
  const refusal refused[] = {
      {"the requester", id, "cn=Mallory,dc=example,dc=com", "two-person rule"},
      {"the requester, other case", id, "CN=mallory,DC=example,DC=com", "two-person rule"},
      {"no name", id, "", "approver name is required"},
      {"unknown plan", 9999, "cn=Bob,dc=example,dc=com", "no plan 9999"},
      {"an active plan", plans[0].id, "cn=Bob,dc=example,dc=com", "only held or awaiting_approval"},
  };
  for (const auto &r : refused) {
    BOOST_TEST_CONTEXT(r.name) {
      BOOST_CHECK_EXCEPTION(w.p->approve(r.plan, r.approver), reclaim::approval_error,
                            [&](const reclaim::approval_error &e) {
                              const bool ok = std::string(e.what()).find(r.message) != std::string::npos;
                              if (!ok) BOOST_TEST_MESSAGE("message: " << e.what());
                              return ok;
                            });
      BOOST_TEST(w.p->store().plan(id)->status == "held");
      BOOST_TEST(statuses(w.actions(id)) == "held=1");
    }
  }

  w.p->approve(id, "cn=Bob,dc=example,dc=com");
  const auto approved = w.p->store().plan(id);
  BOOST_TEST(approved->status == "active");
  BOOST_TEST(approved->approved_by == "cn=Bob,dc=example,dc=com");
  BOOST_TEST(statuses(w.actions(id)) == "pending=1");
  // Approving (or rejecting) it again is an error; nothing changes.
  BOOST_CHECK_THROW(w.p->approve(id, "cn=Carol,dc=example,dc=com"), reclaim::approval_error);
  BOOST_CHECK_THROW(w.p->reject(id, "cn=Carol,dc=example,dc=com", "too late"), reclaim::approval_error);
  BOOST_TEST(w.p->store().plan(id)->approved_by == "cn=Bob,dc=example,dc=com");
  BOOST_TEST(statuses(w.actions(id)) == "pending=1");
}

// The same DN written with other spacing is the same person.
BOOST_AUTO_TEST_CASE(two_person_rule_compares_dns_not_spellings) {
  options o;
  o.rules = small_leavers_rule;
  o.guard = "max_events = 1\n";
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.event("u2", state::active, state::terminated, "{}", "cn=Mallory,dc=example,dc=com");
  w.p->plan_pending();
  const auto id = w.plans().back().id;
  BOOST_TEST_REQUIRE(w.p->store().plan(id)->status == "held");
  BOOST_CHECK_THROW(w.p->approve(id, "cn=Mallory, dc=example, dc=com"), reclaim::approval_error);
}

BOOST_AUTO_TEST_CASE(rejection_cancels_the_held_actions) {
  options o;
  o.rules = small_leavers_rule;
  o.guard = "max_events = 1\n";
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.event("u2", state::active, state::terminated);
  w.p->plan_pending();
  const auto id = w.plans().back().id;
  BOOST_CHECK_THROW(w.p->reject(9999, "cn=Bob,dc=example,dc=com", "no"), reclaim::approval_error);
  BOOST_CHECK_THROW(w.p->reject(id, "", "no"), reclaim::approval_error);
  w.p->reject(id, "cn=Bob,dc=example,dc=com", "restructuring, not a leaver");
  const auto p = w.p->store().plan(id);
  BOOST_TEST(p->status == "rejected");
  BOOST_TEST(p->reason.find("restructuring") != std::string::npos);
  BOOST_TEST(statuses(w.actions(id)) == "cancelled=1");
  BOOST_CHECK_THROW(w.p->approve(id, "cn=Carol,dc=example,dc=com"), reclaim::approval_error);
  BOOST_TEST(statuses(w.actions(id)) == "cancelled=1");
}

BOOST_AUTO_TEST_CASE(plans_above_the_cost_threshold_await_approval) {
  struct row {
    const char *name;
    const char *threshold;
    const char *status;
  };
  const row cases[] = {
      {"below the cost", "100.0", "awaiting_approval"},
      {"at the cost exactly", "110.0", "active"},
      {"above the cost", "500.0", "active"},
      {"off", "0", "active"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      options o;
      o.rules = R"toml(
[[policy.rule]]
name = "licences"
to = ["terminated"]
applications = ["sap", "figma"]
actions = [ { action = "reclaim_licence" } ]
)toml";
      o.guard = std::string("approval_cost_above = ") + c.threshold + "\n";
      world w(o);
      reclaim::local_connector inventory(w.j->db());
      inventory.assign("u1", "sap", "SAP_PRO");
      inventory.assign("u2", "sap", "SAP_PRO"); // someone else's licence does not count
      w.event("u1", state::active, state::terminated);
      w.p->plan_pending();
      const auto plans = w.plans();
      BOOST_TEST_REQUIRE(plans.size() == 1u);
      BOOST_TEST(plans[0].monthly_cost == 110.0);
      BOOST_TEST(plans[0].currency == "EUR");
      BOOST_TEST(plans[0].status == c.status);
      BOOST_TEST(statuses(w.actions(plans[0].id)) ==
                 (std::string(c.status) == "active" ? "pending=2" : "held=2"));
      if (std::string(c.status) == "awaiting_approval") {
        BOOST_TEST(plans[0].reason.find("110.00") != std::string::npos, plans[0].reason);
        w.p->approve(plans[0].id, "cn=finance-lead,dc=example,dc=com");
        BOOST_TEST(statuses(w.actions(plans[0].id)) == "pending=2");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(downgrade_cost_is_the_difference) {
  options o;
  o.rules = R"toml(
[[policy.rule]]
name = "downgrade"
to = ["transferred"]
applications = ["m365"]
actions = [ { action = "downgrade_licence", to_sku = "M365_E1", delay = "immediate" } ]
)toml";
  o.role_matrix = false;
  o.guard = "approval_cost_above = 40\n";
  world w(o);
  reclaim::local_connector inventory(w.j->db());
  inventory.assign("u1", "m365", "M365_E5");
  w.event("u1", state::active, state::transferred);
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 1u);
  BOOST_TEST(plans[0].monthly_cost == 47.0); // 57 - 10
  BOOST_TEST(plans[0].status == "awaiting_approval");
}

BOOST_AUTO_TEST_CASE(applications_that_require_approval) {
  options o;
  o.app_flags["sap"] = "require_approval = true";
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.event("u2", state::active, state::leave);
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  for (const auto &p : plans) {
    BOOST_TEST(p.status == "awaiting_approval");
    BOOST_TEST(p.reason.find("\"sap\"") != std::string::npos, p.reason);
    for (const auto &a : w.actions(p.id)) BOOST_TEST(a.status == "held");
  }
  // The requester cannot approve; another person can.
  BOOST_CHECK_THROW(w.p->approve(plans[0].id, hr), reclaim::approval_error);
  w.p->approve(plans[0].id, "cn=sap-owner,dc=example,dc=com");
  BOOST_TEST(statuses(w.actions(plans[0].id)) == "pending=20");
  BOOST_TEST(statuses(w.actions(plans[1].id)) == "held=10");
}

BOOST_AUTO_TEST_CASE(dry_run_records_plans_without_pending_actions) {
  {
    options o;
    o.mode = "dry_run";
    world w(o);
    w.event("u1", state::active, state::terminated);
    w.p->plan_pending();
    const auto plans = w.plans();
    BOOST_TEST_REQUIRE(plans.size() == 1u);
    BOOST_TEST(plans[0].dry_run);
    BOOST_TEST(plans[0].status == "active");
    const auto actions = w.actions(plans[0].id);
    BOOST_TEST(statuses(actions) == "dry_run=20");
    for (const auto &a : actions) BOOST_TEST(a.outcome.find("dry run") != std::string::npos);
    BOOST_TEST(!w.p->store().claim_due(at("2030-01-01T00:00:00Z")).has_value());
  }
  {
    options o;
    o.app_flags["wiki"] = "dry_run = true";
    o.app_flags["figma"] = "dry_run = false";
    world w(o);
    w.event("u1", state::active, state::terminated);
    w.p->plan_pending();
    const auto plans = w.plans();
    BOOST_TEST_REQUIRE(plans.size() == 1u);
    BOOST_TEST(plans[0].dry_run); // partly
    for (const auto &a : w.actions(plans[0].id))
      BOOST_TEST(a.status == (a.app == "wiki" ? "dry_run" : "pending"), a.app);
  }
  {
    // A held plan approved in global dry-run mode stays a dry run.
    options o;
    o.mode = "dry_run";
    o.rules = small_leavers_rule;
    o.guard = "max_events = 1\n";
    world w(o);
    w.event("u1", state::active, state::terminated);
    w.event("u2", state::active, state::terminated);
    w.p->plan_pending();
    const auto id = w.plans().back().id;
    BOOST_TEST_REQUIRE(w.p->store().plan(id)->status == "held");
    w.p->approve(id, "cn=Bob,dc=example,dc=com");
    BOOST_TEST(statuses(w.actions(id)) == "dry_run=1");
  }
}

BOOST_AUTO_TEST_CASE(preview_records_nothing) {
  world w;
  w.event("u2", state::active, state::terminated);
  w.p->plan_pending();
  const auto before_plans = w.plans().size();
  const auto before_actions = w.actions().size();
  const auto rows = w.p->preview("u1", state::active, state::leave, {{"departmentnumber", {"100"}}});
  BOOST_TEST(rows.size() == 10u);
  for (const auto &r : rows) BOOST_TEST(r.status == "would_run");
  // For someone already planned, the preview says so.
  const auto again = w.p->preview("u2", state::active, state::deleted, {});
  BOOST_TEST(again.size() == 20u);
  for (const auto &r : again) BOOST_TEST(r.status == "already_planned");
  BOOST_TEST(w.plans().size() == before_plans);
  BOOST_TEST(w.actions().size() == before_actions);
}

// Two rules a contractor's termination matches both (the config check does
// not see the overlap through `where`): the plan must still hold each
// action once per application. A config that refuses the pair is fine too.
BOOST_AUTO_TEST_CASE(a_plan_never_holds_the_same_action_twice) {
  options o;
  o.rules = R"toml(
[[policy.rule]]
name = "everyone"
to = ["terminated"]
applications = ["m365"]
actions = [ { action = "revoke_access", delay = "immediate" } ]

[[policy.rule]]
name = "contractors"
to = ["terminated"]
where = { employeeType = ["contractor"] }
applications = ["m365", "github"]
actions = [ { action = "revoke_access", delay = "immediate" } ]
)toml";
  std::unique_ptr<world> w;
  try {
    w = std::make_unique<world>(o);
  } catch (const reclaim::config_error &e) {
    BOOST_TEST_MESSAGE("refused by the config check: " << e.what());
    reclaim::set_fixed_now(std::nullopt);
    return;
  }
  w->event("u1", state::active, state::terminated, R"({"employeeType":["contractor"]})");
  w->p->plan_pending();
  BOOST_TEST(describe(w->actions()) == "m365:revoke_access,github:revoke_access");
}

// A new end date (here with a department change, the kind of modify that
// is journalled) replaces the old one: nothing may still fire on the old
// date, and the new date gets its plan.
BOOST_AUTO_TEST_CASE(a_changed_contract_end_date_moves_the_contract_plan) {
  const auto days = [](int y, unsigned m, unsigned d) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}
        .time_since_epoch()
        .count();
  };
  options o;
  o.rules = small_leavers_rule;
  world w(o);
  w.event("c1", state::none, state::active,
          fmt::format(R"({{"departmentNumber":["100"],"shadowExpire":["{}"]}})", days(2027, 3, 15)));
  w.p->plan_pending();
  BOOST_TEST_REQUIRE(w.actions().size() == 1u);
  BOOST_TEST(reclaim::format_utc(w.actions()[0].due) == "2027-03-16T00:00:00.000Z");
  set_now("2027-02-01T10:00:00Z");
  w.event("c1", state::active, state::transferred,
          fmt::format(R"({{"departmentNumber":["200"],"shadowExpire":["{}"],"before":{{"departmentNumber":["100"],"shadowExpire":["{}"]}}}})",
                      days(2027, 6, 30), days(2027, 3, 15)));
  w.p->plan_pending();
  std::vector<std::string> pending_dues;
  for (const auto &a : w.actions(0, "pending")) pending_dues.push_back(reclaim::format_utc(a.due));
  BOOST_TEST(fmt::format("{}", fmt::join(pending_dues, ",")) == "2027-07-01T00:00:00.000Z");
}

// Plans recorded in dry-run mode are not executions: once the site
// switches to enforce, the person's next departure event plans for real.
BOOST_AUTO_TEST_CASE(dry_run_actions_do_not_suppress_enforcement_later) {
  options dry;
  dry.mode = "dry_run";
  dry.rules = small_leavers_rule;
  world w(dry);
  w.event("u1", state::active, state::terminated);
  w.p->plan_pending();
  BOOST_TEST(statuses(w.actions()) == "dry_run=1");
  options enforce = dry;
  enforce.mode = "enforce";
  const auto cfg = w.load(enforce);
  reclaim::planner enforcing(cfg, *w.j, w.log);
  w.event("u1", state::terminated, state::deleted);
  enforcing.plan_pending();
  BOOST_TEST(statuses(w.actions()) == "dry_run=1,pending=1");
}

// Onboarding contractors with end dates is not a burst of departures: the
// guard must not hold their future contract plans nor raise an alert.
BOOST_AUTO_TEST_CASE(onboarding_contractors_does_not_trip_the_guard) {
  options o;
  o.rules = small_leavers_rule;
  o.guard = "window = \"PT1H\"\nmax_events = 2\n";
  world w(o);
  const auto end = std::chrono::sys_days{std::chrono::year{2027} / 6 / 30}.time_since_epoch().count();
  for (int i = 0; i < 5; ++i)
    w.event(fmt::format("c{}", i), state::none, state::active, fmt::format(R"({{"shadowExpire":["{}"]}})", end));
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 5u);
  for (const auto &p : plans) BOOST_TEST(p.status == "active", p.subject_id << ": " << p.reason);
  BOOST_TEST(!w.logs.contains("ALERT"));
}

// Switching a site from dry_run to enforce: the terminations recorded in
// the dry run are re-planned under the enforce config (same keys, due times
// from the events), the dry-run plans are superseded, a person who moved on
// is skipped, and a second run finds nothing more.
BOOST_AUTO_TEST_CASE(plans_enforce_replans_dry_run_plans_once) {
  options dry;
  dry.mode = "dry_run";
  world w(dry);
  w.event("u1", state::active, state::terminated, R"({"departmentNumber":["100"]})");
  w.event("u2", state::active, state::leave);
  w.event("u3", state::active, state::terminated);
  w.p->plan_pending();
  set_now("2027-01-12T09:00:00Z");
  w.event("u3", state::terminated, state::reactivated); // rehired during the dry run
  w.p->plan_pending();
  BOOST_TEST_REQUIRE(w.plans().size() == 3u);
  // Still dry_run: refused, nothing changed.
  BOOST_CHECK_THROW(w.p->promote_dry_run(at("2027-01-01T00:00:00Z"), "admin"), reclaim::approval_error);
  BOOST_TEST(statuses(w.actions()) == "dry_run=50");

  set_now("2027-01-20T10:00:00Z");
  options enforce = dry;
  enforce.mode = "enforce";
  const auto cfg = w.load(enforce);
  reclaim::planner enforcing(cfg, *w.j, w.log);
  const auto done = enforcing.promote_dry_run(at("2027-01-01T00:00:00Z"), "admin");
  BOOST_TEST_REQUIRE(done.size() == 3u);
  const auto old_plans = w.plans();
  BOOST_TEST_REQUIRE(old_plans.size() == 5u);
  // u1 and u2 re-planned; u3 skipped.
  BOOST_TEST(done[0].new_plan == old_plans[3].id);
  BOOST_TEST(done[0].outcome == "active");
  BOOST_TEST(done[1].new_plan == old_plans[4].id);
  BOOST_TEST(done[2].new_plan == 0);
  BOOST_TEST(done[2].outcome.find("skipped: uid=u3") == 0, done[2].outcome);
  BOOST_TEST(old_plans[0].status == "superseded");
  BOOST_TEST(old_plans[0].plan_key == fmt::format("event:1|superseded:{}", old_plans[0].id));
  BOOST_TEST(statuses(w.actions(old_plans[0].id)) == "superseded=20");
  BOOST_TEST(old_plans[2].status == "active"); // u3's dry run stays as it was
  BOOST_TEST(statuses(w.actions(old_plans[2].id)) == "dry_run=20");
  const auto &u1 = old_plans[3];
  BOOST_TEST(u1.plan_key == "event:1");
  BOOST_TEST(u1.subject_id == "u1");
  BOOST_TEST(!u1.dry_run);
  BOOST_TEST(u1.requested_by == "admin"); // so "admin" cannot approve it
  BOOST_TEST(statuses(w.actions(u1.id)) == "pending=20");
  for (const auto &a : w.actions(u1.id)) {
    // Due times count from the termination, not from the promotion.
    if (a.app == "figma" && a.kind == action_kind::reclaim_licence)
      BOOST_TEST(reclaim::format_utc(a.due) == "2027-02-09T10:00:00.000Z");
    if (a.app == "m365" && a.kind == action_kind::revoke_access)
      BOOST_TEST(reclaim::format_utc(a.due) == "2027-01-10T10:00:00.000Z");
  }
  // Due now: all of the 30 pending but the standard tier's 30-day reclaims
  // (figma, sap) and the leave's 90-day ones (5).
  BOOST_TEST(w.p->store().due_actions(reclaim::now(), SIZE_MAX).size() == 30u - 2u - 5u);
  // Nothing more to promote; the first run's plans are no candidates.
  BOOST_TEST(enforcing.promote_dry_run(at("2027-01-01T00:00:00Z"), "admin").size() == 1u); // u3, skipped again
  BOOST_TEST(w.plans().size() == 5u);
  // Only plans made since --since.
  BOOST_TEST(enforcing.promote_dry_run(at("2027-01-11T00:00:00Z"), "admin").empty());
}

// A promotion is one burst for the guard: more departures than it allows
// hold every re-plan (not only those past the limit) until a second person
// approves.
BOOST_AUTO_TEST_CASE(plans_enforce_goes_through_the_guard_as_one_burst) {
  options dry;
  dry.mode = "dry_run";
  dry.rules = small_leavers_rule;
  dry.guard = "window = \"PT1H\"\nmax_events = 2\n";
  world w(dry);
  w.people(20);
  for (int i = 0; i < 3; ++i) {
    set_now(fmt::format("2027-01-1{}T10:00:00Z", i).c_str()); // a day apart: the dry run trips nothing
    w.event(fmt::format("p{}", i), state::active, state::terminated);
    w.p->plan_pending();
  }
  for (const auto &p : w.plans()) BOOST_TEST_REQUIRE(p.status == "active");
  set_now("2027-01-20T10:00:00Z");
  options enforce = dry;
  enforce.mode = "enforce";
  const auto cfg = w.load(enforce);
  reclaim::planner enforcing(cfg, *w.j, w.log);
  const auto done = enforcing.promote_dry_run(at("2027-01-01T00:00:00Z"), "admin");
  BOOST_TEST_REQUIRE(done.size() == 3u);
  for (const auto &d : done) {
    BOOST_TEST(d.outcome == "held", d.dry_plan.subject_id);
    BOOST_TEST(statuses(w.actions(d.new_plan)) == "held=1");
  }
  BOOST_TEST(w.p->store().due_actions(at("2030-01-01T00:00:00Z"), SIZE_MAX).empty());
  BOOST_CHECK_THROW(enforcing.approve(done[0].new_plan, "admin"), reclaim::approval_error);
  enforcing.approve(done[0].new_plan, "cn=Bob,dc=example,dc=com");
  BOOST_TEST(statuses(w.actions(done[0].new_plan)) == "pending=1");
  // Two promoted within the limit pass.
  options dry2 = dry;
  world w2(dry2);
  w2.people(20);
  for (int i = 0; i < 2; ++i) {
    set_now(fmt::format("2027-01-1{}T10:00:00Z", i).c_str());
    w2.event(fmt::format("p{}", i), state::active, state::terminated);
    w2.p->plan_pending();
  }
  set_now("2027-01-20T10:00:00Z");
  const auto cfg2 = w2.load(enforce);
  reclaim::planner enforcing2(cfg2, *w2.j, w2.log);
  for (const auto &d : enforcing2.promote_dry_run(at("2027-01-01T00:00:00Z"), "admin"))
    BOOST_TEST(d.outcome == "active");
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------- timelines
// Sequences, as operators live them (issue 14): each row is a timeline of
// events and dispatcher runs for one person; after each step, what is open
// (pending or held, "app:kind@MM-DD" due dates) or, for a run, what ran.
// A new case is one row.

namespace {

const std::string timeline_rules = leave_rule + R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated", "deleted", "contract_ended"]
applications = ["m365", "figma"]
actions = [
  { action = "revoke_access", delay = "immediate" },
  { action = "reclaim_licence" },
  { action = "notify", target = "finance", delay = "immediate" },
]

[[policy.rule]]
name = "transfer"
to = ["transferred"]
applications = ["*"]
actions = [
  { action = "revoke_access", delay = "P14D" },
  { action = "reclaim_licence", delay = "P14D" },
]
)toml";

struct step {
  const char *at;     // UTC
  const char *what;   // a state (an event from the previous one), or "run": execute what is due
  const char *dept;   // departmentNumber with the event ("" none)
  const char *expect; // after an event: the open actions; after a run: what ran; "-" none
};

struct timeline {
  const char *name;
  std::string policy_extra;                        // [policy] keys
  std::map<std::string, std::string> app_flags;    // per-application keys
  std::vector<step> steps;
  std::string extra_rules = {};                    // more [[policy.rule]] tables
  bool role_matrix = true;                         // false: restores are not limited by role
};

std::string sorted_join(std::vector<std::string> v) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  return fmt::format("{}", fmt::join(v, " "));
}

std::string open_now(world &w) {
  std::vector<std::string> out;
  for (const auto &a : w.actions())
    if (a.status == "pending" || a.status == "held" || a.status == "on_hold")
      out.push_back(fmt::format("{}:{}@{}", a.app, reclaim::action_kind_name(a.kind), reclaim::format_utc(a.due).substr(5, 5)));
  return sorted_join(out);
}

std::string run_due(world &w) {
  std::vector<std::string> out;
  for (const auto &a : w.actions(0, "pending"))
    if (a.due <= reclaim::now()) {
      w.ran(a, a.kind == action_kind::reclaim_licence ? R"({"skus":["X"]})" : "{}");
      out.push_back(fmt::format("{}:{}", a.app, reclaim::action_kind_name(a.kind)));
    }
  return sorted_join(out);
}

void play(const timeline &t) {
  BOOST_TEST_CONTEXT(t.name) {
    options o;
    o.rules = timeline_rules + t.extra_rules;
    o.policy_extra = t.policy_extra;
    o.app_flags = t.app_flags;
    o.role_matrix = t.role_matrix;
    world w(o);
    state current = state::active;
    std::string dept = "100";
    int n = 0;
    for (const auto &s : t.steps) {
      ++n;
      set_now(s.at);
      std::string got;
      if (std::string_view(s.what) == "run") {
        got = run_due(w);
      } else {
        const auto to = reclaim::parse_state(s.what);
        BOOST_TEST_REQUIRE(to.has_value(), s.what);
        const std::string attrs = fmt::format(R"({{"departmentNumber":["{}"],"before":{{"departmentNumber":["{}"]}}}})",
                                              *s.dept ? s.dept : dept.c_str(), dept);
        w.event("u1", current, *to, attrs);
        w.p->plan_pending();
        current = *to;
        if (*s.dept) dept = s.dept;
        got = open_now(w);
      }
      BOOST_TEST(got == std::string(s.expect), "step " << n << " (" << s.at << " " << s.what << "): got\n  " << got
                                                          << "\nexpected\n  " << s.expect);
    }
  }
}

} // namespace

const std::string wiki_rule = R"toml(
[[policy.rule]]
name = "low-tier leavers"
to = ["terminated"]
applications = ["wiki"]
actions = [ { action = "revoke_access" } ]
)toml";

BOOST_AUTO_TEST_SUITE(timelines)

BOOST_AUTO_TEST_CASE(sequences_over_time) {
  const std::vector<timeline> rows = {
      {"terminate, rehire (restored), terminate again: everything is planned again",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-12T09:00:00Z", "reactivated", "", "figma:grant_access@01-12 m365:assign_licence@01-12 m365:grant_access@01-12"},
        {"2027-01-12T09:01:00Z", "run", "", "figma:grant_access m365:assign_licence m365:grant_access"},
        {"2027-03-01T10:00:00Z", "terminated", "",
         "figma:notify@03-01 figma:reclaim_licence@03-31 figma:revoke_access@03-01 m365:notify@03-01 "
         "m365:reclaim_licence@03-01 m365:revoke_access@03-01"}}},
      {"rehire before the restore ran, then terminated again: the restore is cancelled",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-10T11:00:00Z", "reactivated", "", "figma:grant_access@01-10 m365:assign_licence@01-10 m365:grant_access@01-10"},
        {"2027-01-10T11:00:30Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10"},
        {"2027-01-10T11:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"}}},
      {"transfer and transfer back inside the grace period: nothing is reclaimed",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "transferred", "300",
         "figma:reclaim_licence@01-24 figma:revoke_access@01-24 github:reclaim_licence@01-24 github:revoke_access@01-24"},
        {"2027-01-15T10:00:00Z", "transferred", "100", "-"},
        {"2027-01-25T10:00:00Z", "run", "", "-"}}},
      {"transfer, reclaimed, transfer back, transfer away again: reclaimed again",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "transferred", "300",
         "figma:reclaim_licence@01-24 figma:revoke_access@01-24 github:reclaim_licence@01-24 github:revoke_access@01-24"},
        {"2027-01-25T10:00:00Z", "run", "",
         "figma:reclaim_licence figma:revoke_access github:reclaim_licence github:revoke_access"},
        {"2027-02-01T10:00:00Z", "transferred", "100", "-"},
        {"2027-03-01T10:00:00Z", "transferred", "200",
         "figma:reclaim_licence@03-15 figma:revoke_access@03-15 github:reclaim_licence@03-15 github:revoke_access@03-15"}}},
      {"transfer then termination inside the grace period: the termination's times win where earlier",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "transferred", "300",
         "figma:reclaim_licence@01-24 figma:revoke_access@01-24 github:reclaim_licence@01-24 github:revoke_access@01-24"},
        {"2027-01-12T10:00:00Z", "terminated", "",
         "figma:notify@01-12 figma:reclaim_licence@01-24 figma:revoke_access@01-12 github:reclaim_licence@01-24 "
         "github:revoke_access@01-24 m365:notify@01-12 m365:reclaim_licence@01-12 m365:revoke_access@01-12"}}},
      {"restore_within P7D: a rehire 10 days after the reclaim gets nothing back, pending reclaims cancelled",
       "restore_within = \"P7D\"\n",
       {},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-20T10:00:00Z", "reactivated", "", "-"},
        {"2027-03-01T10:00:00Z", "terminated", "",
         "figma:notify@03-01 figma:reclaim_licence@03-31 figma:revoke_access@03-01 m365:notify@03-01 "
         "m365:reclaim_licence@03-01 m365:revoke_access@03-01"}}},
      {"restore_within P7D: a mistaken termination reverted after 2 days is restored",
       "restore_within = \"P7D\"\n",
       {},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-12T10:00:00Z", "reactivated", "", "figma:grant_access@01-12 m365:assign_licence@01-12 m365:grant_access@01-12"}}},
      {"figma restore_within never, the rest always: only m365 is granted back",
       "",
       {{"figma", "restore_within = \"never\""}},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-10T12:00:00Z", "reactivated", "", "m365:assign_licence@01-10 m365:grant_access@01-10"}}},
      {"rehire between the standard and the low due times, restore always: all that ran comes back",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10 wiki:revoke_access@01-17"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-17T14:00:00Z", "run", "", "wiki:revoke_access"},
        {"2027-01-20T10:00:00Z", "reactivated", "",
         "figma:grant_access@01-20 m365:assign_licence@01-20 m365:grant_access@01-20 wiki:grant_access@01-20"}},
       wiki_rule, false},
      {"rehire between the standard and the low due times, restore_within P7D: only the low tier's comes back",
       "restore_within = \"P7D\"\n",
       {},
       {{"2027-01-10T10:00:00Z", "terminated", "",
         "figma:notify@01-10 figma:reclaim_licence@02-09 figma:revoke_access@01-10 m365:notify@01-10 "
         "m365:reclaim_licence@01-10 m365:revoke_access@01-10 wiki:revoke_access@01-17"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:notify figma:revoke_access m365:notify m365:reclaim_licence m365:revoke_access"},
        {"2027-01-17T14:00:00Z", "run", "", "wiki:revoke_access"},
        {"2027-01-20T10:00:00Z", "reactivated", "", "wiki:grant_access@01-20"}},
       wiki_rule, false},
      {"leave, then terminated while on leave: the termination's earlier times win",
       "",
       {},
       {{"2027-01-10T10:00:00Z", "leave", "",
         "figma:reclaim_licence@04-10 figma:suspend_access@01-10 github:reclaim_licence@04-10 "
         "github:suspend_access@01-10 m365:reclaim_licence@04-10 m365:suspend_access@01-10 sap:reclaim_licence@04-10 "
         "sap:suspend_access@01-10 wiki:reclaim_licence@04-10 wiki:suspend_access@01-10"},
        {"2027-01-10T10:01:00Z", "run", "",
         "figma:suspend_access github:suspend_access m365:suspend_access sap:suspend_access wiki:suspend_access"},
        {"2027-02-01T10:00:00Z", "terminated", "",
         "figma:notify@02-01 figma:reclaim_licence@03-03 figma:revoke_access@02-01 github:reclaim_licence@04-10 "
         "m365:notify@02-01 m365:reclaim_licence@02-01 m365:revoke_access@02-01 sap:reclaim_licence@04-10 "
         "wiki:reclaim_licence@04-10"}}},
  };
  for (const auto &t : rows) play(t);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------ costs
// Issue 13: a plan's cost is what it is expected to reclaim, also for
// vendor applications (no local inventory), and what it really reclaimed
// comes from what the connector reports it removed; finance's notification
// names the SKU.

BOOST_AUTO_TEST_SUITE(costs)

BOOST_AUTO_TEST_CASE(notifications_name_the_skus_the_plan_reclaims) {
  options o;
  o.rules = leavers_rule;
  world w(o);
  reclaim::local_connector inventory(w.j->db());
  inventory.assign("u1", "m365", "M365_E5");
  inventory.assign("u1", "sap", "SAP_PRO");
  w.event("u1", state::active, state::terminated);
  w.p->plan_pending();
  const auto plans = w.plans();
  BOOST_TEST_REQUIRE(plans.size() == 1u);
  BOOST_TEST(plans[0].monthly_cost == 167.0); // E5 57 + SAP 110; nothing else is held
  std::map<std::string, std::string> notified;
  for (const auto &a : w.actions(plans[0].id))
    if (a.kind == action_kind::notify) notified[a.app] = a.sku;
  BOOST_TEST(notified["m365"] == "M365_E5");
  BOOST_TEST(notified["sap"] == "SAP_PRO");
  BOOST_TEST(notified["figma"] == ""); // the inventory says figma is not held
}

BOOST_AUTO_TEST_CASE(planned_and_reclaimed_cost_table) {
  reclaim::application app;
  app.id = "m365";
  app.connector = "graph";
  app.skus = {{"E3", 33.0, "EUR"}, {"E5", 57.0, "EUR"}};
  reclaim::application one = app;
  one.skus = {{"GHE", 21.0, "USD"}};
  struct row {
    const char *name;
    const reclaim::application *app;
    action_kind kind;
    const char *sku, *to_sku;
    std::vector<std::string> held;
    const char *status, *before;
    double planned, reclaimed;
  };
  const row rows[] = {
      {"named SKU", &app, action_kind::reclaim_licence, "E5", "", {}, "done", R"({"catalogue_skus":["E5"]})", 57, 57},
      {"held SKUs known", &app, action_kind::reclaim_licence, "", "", {"E3"}, "done", R"({"skus":["E3"]})", 33, 33},
      {"several SKUs, none known", &app, action_kind::reclaim_licence, "", "", {}, "done",
       R"({"catalogue_skus":["E3","E5"]})", 0, 90},
      {"the only SKU", &one, action_kind::reclaim_licence, "", "", {}, "done", R"({"catalogue_skus":["GHE"]})", 21, 21},
      {"failed: nothing reclaimed", &one, action_kind::reclaim_licence, "", "", {}, "failed", "{}", 21, 0},
      {"dead: nothing reclaimed", &one, action_kind::reclaim_licence, "", "", {}, "dead", "{}", 21, 0},
      {"already done: nothing reclaimed", &one, action_kind::reclaim_licence, "", "", {}, "already_done", "{}", 21, 0},
      {"vendor ids only: not costed", &app, action_kind::reclaim_licence, "E5", "", {}, "done",
       R"({"skus":["06ebc4ee-1bb5"]})", 57, 0},
      {"downgrade: the difference", &app, action_kind::downgrade_licence, "E5", "E3", {}, "done",
       R"({"catalogue_skus":["E5"],"added":"E3"})", 24, 24},
      {"a bad image", &app, action_kind::reclaim_licence, "E5", "", {}, "done", R"({"catalogue_skus":"E5"})", 57, 0},
      {"not JSON", &app, action_kind::reclaim_licence, "E5", "", {}, "done", "{\"catal", 57, 0},
      {"access is not a licence", &app, action_kind::revoke_access, "", "", {"E5"}, "done",
       R"({"catalogue_skus":["E5"]})", 0, 0},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      action_row a;
      a.app = r.app->id;
      a.kind = r.kind;
      a.sku = r.sku;
      a.to_sku = r.to_sku;
      a.status = r.status;
      a.before_image = r.before;
      std::string c1, c2;
      BOOST_TEST(reclaim::planned_cost(*r.app, a, r.held, c1) == r.planned);
      BOOST_TEST(reclaim::reclaimed_cost(*r.app, a, c2) == r.reclaimed);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
