// test_scheduler.cpp — plugin/dispatch/scheduler and plugin/connectors/local_connector: only
// due actions run at a controlled time; transient failures are retried with
// exponential backoff and jitter and dead-lettered after max_attempts;
// permanent failures fail at once; legal holds and extensions defer what
// they cover; dry run never calls a connector; a crash mid-action is picked
// up again without a second effect; the local inventory is idempotent; and
// leave/return and rehire restore what was taken away.
#include "policy_fixture.hpp"
#include "config/config.hpp"
#include "store/journal.hpp"
#include "connectors/local_connector.hpp"
#include "policy/planner.hpp"
#include "dispatch/scheduler.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using reclaim::action_kind;
using reclaim::action_row;
using reclaim::connector_result;
using reclaim::state;
using reclaim::time_point;
using reclaim::unit::temp_dir;
using outcome = reclaim::connector_result::outcome;

namespace {

const char *const hr = "cn=hr-admin,dc=example,dc=com";

using reclaim::unit::apps_text;
using reclaim::unit::at;
using reclaim::unit::leave_rule;
using reclaim::unit::leavers_rule;

const time_point t0 = reclaim::from_unix_ms(1'799'575'200'000); // 2027-01-10T10:00:00Z

// One immediate action on m365.
const std::string one_action_rule = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["m365"]
actions = [ { action = "revoke_access", delay = "immediate" } ]
)toml";

struct options {
  std::string mode = "enforce";
  std::map<std::string, std::string> app_flags;
  std::string rules = leavers_rule + leave_rule;
  std::string guard;
  std::string scheduler = "max_attempts = 3\nretry_initial = \"PT30S\"\nretry_max = \"PT1M\"\n";
};

// A connector that answers from a script (the last answer repeats) and
// remembers what it was asked.
struct fake_connector : reclaim::connector {
  std::vector<outcome> script{outcome::done};
  bool throws = false;
  std::vector<action_row> calls;
  connector_result execute(const action_row &a, const reclaim::application &) override {
    calls.push_back(a);
    if (throws) throw std::runtime_error("connection reset by peer");
    const auto what = script[std::min(calls.size() - 1, script.size() - 1)];
    return {what, fmt::format("fake answer {}", calls.size()), R"({"fake":true})"};
  }
  size_t calls_for(const std::string &app) const {
    return static_cast<size_t>(std::count_if(calls.begin(), calls.end(), [&](const action_row &a) { return a.app == app; }));
  }
};

struct world {
  temp_dir dir;
  reclaim::unit::log_capture logs;
  reclaim::logger log = logs.make();
  reclaim::config cfg;
  std::unique_ptr<reclaim::journal> j;
  std::unique_ptr<reclaim::planner> p;
  std::unique_ptr<reclaim::scheduler> s;
  std::shared_ptr<fake_connector> fake;
  int counter = 0;

  // With a fake connector unless real_local.
  explicit world(const options &o = {}, bool real_local = false) {
    reclaim::set_fixed_now(t0);
    const std::string policy = "\n[policy]\nrole_attribute = \"departmentNumber\"\n"
                               "entitlements = { \"100\" = [\"m365\", \"github\", \"figma\"], "
                               "\"200\" = [\"m365\", \"sap\"], \"300\" = [\"m365\"] }\n";
    const auto text = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"{}\"\n{}{}{}{}{}\n[scheduler]\n"
                                  "batch_times = [\"02:00\", \"14:00\"]\n{}",
                                  (dir / "state").string(), o.mode, reclaim::unit::ldap_section,
                                  apps_text(o.app_flags), policy, o.rules,
                                  o.guard.empty() ? "" : "\n[guard]\n" + o.guard, o.scheduler);
    cfg = reclaim::unit::load_toml(dir, text);
    j = std::make_unique<reclaim::journal>(cfg.journal_path(), reclaim::sqlite::durability::normal);
    p = std::make_unique<reclaim::planner>(cfg, *j, log);
    s = std::make_unique<reclaim::scheduler>(cfg, log);
    if (!real_local) {
      fake = std::make_shared<fake_connector>();
      s->set_connector("local", fake);
    }
  }
  ~world() { reclaim::set_fixed_now(std::nullopt); }

  int64_t event(const std::string &subject, state from, state to, const std::string &attrs = "{}") {
    reclaim::event_record ev;
    ev.idempotency_key = fmt::format("{}/{}", subject, ++counter);
    ev.subject_id = subject;
    ev.subject_name = fmt::format("uid={},ou=People,dc=example,dc=com", subject);
    ev.source = "ldap";
    ev.previous = from;
    ev.current = to;
    ev.time = reclaim::now();
    ev.recorded = reclaim::now();
    ev.actor = hr;
    ev.attributes_json = attrs;
    BOOST_TEST_REQUIRE(j->append(ev));
    p->plan_pending();
    return ev.seq;
  }

  std::vector<action_row> actions(const std::string &status = "", int64_t plan_id = 0) {
    return p->store().actions(status, "", plan_id);
  }
  action_row action(int64_t id) {
    for (auto &a : actions())
      if (a.id == id) return a;
    BOOST_FAIL("no action " << id);
    return {};
  }
  std::string inventory(const std::string &subject) {
    std::vector<std::string> parts;
    for (const auto &a : reclaim::inventory_list(j->db(), subject))
      parts.push_back(a.sku.empty() ? fmt::format("{}:{}", a.app, a.status) : fmt::format("{}:{}", a.app, a.sku));
    return fmt::format("{}", fmt::join(parts, ","));
  }
};

std::string statuses(const std::vector<action_row> &actions) {
  std::map<std::string, int> n;
  for (const auto &a : actions) ++n[a.status];
  std::vector<std::string> parts;
  for (const auto &[st, c] : n) parts.push_back(fmt::format("{}={}", st, c));
  return fmt::format("{}", fmt::join(parts, ","));
}

std::string describe(const std::vector<action_row> &actions) {
  std::vector<std::string> parts;
  for (const auto &a : actions) parts.push_back(fmt::format("{}:{}", a.app, reclaim::action_kind_name(a.kind)));
  return fmt::format("{}", fmt::join(parts, ","));
}

} // namespace

BOOST_AUTO_TEST_SUITE(scheduler)

BOOST_AUTO_TEST_CASE(clock_constant_is_the_fixture_time) {
  BOOST_TEST(reclaim::format_utc(t0) == "2027-01-10T10:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(only_due_actions_run) {
  world w;
  w.event("u1", state::active, state::terminated);
  BOOST_TEST_REQUIRE(w.actions().size() == 20u);
  struct step {
    const char *at;
    size_t ran;
    const char *statuses;
  };
  const step steps[] = {
      // revoke_access and notify everywhere, reclaim_licence on the critical tier
      {"2027-01-10T10:00:00Z", 12, "done=12,pending=8"},
      {"2027-01-10T10:00:00Z", 0, "done=12,pending=8"},
      {"2027-01-17T09:59:59Z", 0, "done=12,pending=8"},
      // transfer_ownership after P7D
      {"2027-01-17T10:00:00Z", 5, "done=17,pending=3"},
      // the low tier's staged batch
      {"2027-01-17T14:00:00Z", 1, "done=18,pending=2"},
      // the standard tier's 30-day grace
      {"2027-02-09T10:00:00Z", 2, "done=20"},
  };
  size_t total = 0;
  for (const auto &st : steps) {
    BOOST_TEST_CONTEXT("at " << st.at) {
      BOOST_TEST(w.s->run_due(at(st.at)) == st.ran);
      total += st.ran;
      BOOST_TEST(w.fake->calls.size() == total);
      BOOST_TEST(statuses(w.actions()) == st.statuses);
    }
  }
  // Each ran once, under its own idempotency key.
  std::set<std::string> keys;
  for (const auto &c : w.fake->calls) keys.insert(c.idempotency_key);
  BOOST_TEST(keys.size() == 20u);
  BOOST_TEST(w.p->store().plans("", "")[0].status == "done");
  // max bounds a batch.
  w.event("u2", state::active, state::terminated);
  BOOST_TEST(w.s->run_due(t0, 3) == 3u);
}

BOOST_AUTO_TEST_CASE(backoff_is_exponential_capped_and_jittered) {
  options o;
  o.scheduler = "retry_initial = \"PT30S\"\nretry_max = \"PT1H\"\n";
  world w(o);
  for (int n = 1; n <= 12; ++n) {
    const double expected_ms = std::min(30'000.0 * std::pow(2.0, n - 1), 3'600'000.0);
    BOOST_TEST_CONTEXT("attempt " << n << ", nominal " << expected_ms << " ms") {
      double lo = 1e18, hi = 0;
      for (int i = 0; i < 400; ++i) {
        const auto b = static_cast<double>(w.s->backoff(n).count());
        lo = std::min(lo, b);
        hi = std::max(hi, b);
      }
      BOOST_TEST(lo >= expected_ms / 2 - 1);
      BOOST_TEST(hi <= expected_ms);
      // Jitter really spreads the retries over the interval.
      BOOST_TEST(lo < expected_ms * 0.6);
      BOOST_TEST(hi > expected_ms * 0.9);
    }
  }
}

BOOST_AUTO_TEST_CASE(transient_failures_retry_with_backoff_then_dead_letter) {
  options o;
  o.rules = one_action_rule;
  world w(o); // max_attempts 3, retry 30 s doubling, capped at 1 min
  w.fake->script = {outcome::transient};
  w.event("u1", state::active, state::terminated);
  const auto id = w.actions()[0].id;

  time_point t = t0;
  struct expectation {
    int attempts;
    std::chrono::milliseconds lo, hi; // next attempt after t
  };
  const expectation retries[] = {{1, 15s, 30s}, {2, 30s, 60s}};
  for (const auto &e : retries) {
    BOOST_TEST_CONTEXT("attempt " << e.attempts) {
      BOOST_TEST(w.s->run_due(t) == 1u);
      const auto a = w.action(id);
      BOOST_TEST(a.status == "pending");
      BOOST_TEST(a.attempts == e.attempts);
      BOOST_TEST((a.next_attempt >= t + e.lo && a.next_attempt <= t + e.hi),
                 reclaim::format_utc(a.next_attempt));
      BOOST_TEST(a.outcome.find(fmt::format("attempt {} failed", e.attempts)) != std::string::npos, a.outcome);
      // Not before its time.
      BOOST_TEST(w.s->run_due(a.next_attempt - 1ms) == 0u);
      t = a.next_attempt;
    }
  }
  BOOST_TEST(!w.logs.contains("ALERT"));
  BOOST_TEST(w.s->run_due(t) == 1u);
  const auto dead = w.action(id);
  BOOST_TEST(dead.status == "dead");
  BOOST_TEST(dead.attempts == 3);
  BOOST_TEST(dead.outcome.find("dead-lettered after 3 attempts") != std::string::npos, dead.outcome);
  BOOST_TEST(w.logs.contains("ALERT"));
  BOOST_TEST(w.logs.contains("dead-lettered"));
  BOOST_TEST(w.fake->calls.size() == 3u);
  // Every retry used the same idempotency key.
  for (const auto &c : w.fake->calls) BOOST_TEST(c.idempotency_key == dead.idempotency_key);
  BOOST_TEST(w.s->run_due(at("2030-01-01T00:00:00Z")) == 0u);
}

BOOST_AUTO_TEST_CASE(outcomes_by_connector_answer) {
  struct row {
    const char *name;
    std::vector<outcome> script;
    bool throws;
    const char *status;
    size_t calls;
    const char *alert; // "" when none
    const char *plan;  // the plan's status once its one action is finished
  };
  const row cases[] = {
      {"done", {outcome::done}, false, "done", 1, "", "done"},
      {"already done", {outcome::already_done}, false, "already_done", 1, "", "done"},
      {"permanent", {outcome::permanent}, false, "failed", 1, "failed permanently", "failed"},
      {"transient then done", {outcome::transient, outcome::transient, outcome::done}, false, "done", 3, "", "done"},
      {"exception counts as transient", {outcome::done}, true, "dead", 3, "dead-lettered", "failed"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      options o;
      o.rules = one_action_rule;
      world w(o);
      w.fake->script = c.script;
      w.fake->throws = c.throws;
      w.event("u1", state::active, state::terminated);
      const auto id = w.actions()[0].id;
      for (int i = 0; i < 5; ++i) w.s->run_due(t0 + std::chrono::hours(i)); // past every retry time
      const auto a = w.action(id);
      BOOST_TEST(a.status == c.status);
      BOOST_TEST(w.fake->calls.size() == c.calls);
      if (std::string(c.alert).empty()) BOOST_TEST(!w.logs.contains("ALERT"));
      else BOOST_TEST(w.logs.contains(c.alert));
      if (c.throws) BOOST_TEST(a.outcome.find("connection reset by peer") != std::string::npos, a.outcome);
      const auto plan = w.p->store().plans("", "")[0];
      BOOST_TEST(plan.status == c.plan);
      if (std::string(c.plan) == "failed") BOOST_TEST(plan.reason.find("1 of 1 actions failed") != std::string::npos, plan.reason);
    }
  }
}

// A plan some of whose actions failed is not "done": an operator reading
// `plans list` must not believe every licence went.
BOOST_AUTO_TEST_CASE(a_plan_with_a_failed_action_reports_it) {
  world w;
  w.fake->script = {outcome::done, outcome::permanent};
  w.event("u1", state::active, state::terminated, R"({"departmentNumber":["100"]})");
  for (int i = 0; i < 24 * 40; ++i) w.s->run_due(t0 + std::chrono::hours(i));
  const auto plan = w.p->store().plans("", "")[0];
  const auto all = w.actions("", plan.id);
  const auto failed = std::count_if(all.begin(), all.end(), [](const action_row &a) { return a.status == "failed"; });
  BOOST_TEST_REQUIRE(failed >= 1, statuses(all));
  BOOST_TEST(plan.status == "done_with_failures", statuses(all));
  BOOST_TEST(plan.reason.find(fmt::format("{} of {} actions failed", failed, all.size())) != std::string::npos,
             plan.reason);
}

BOOST_AUTO_TEST_CASE(legal_hold_lets_access_go_and_keeps_data_actions_waiting) {
  options o;
  o.rules = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["m365"]
actions = [
  { action = "revoke_access", delay = "immediate" },
  { action = "reclaim_licence", delay = "immediate" },
  { action = "transfer_ownership", delay = "immediate" },
  { action = "notify", target = "itsm", delay = "immediate" },
]
)toml";
  world w(o);
  w.p->store().add_hold({"u1", "litigation 2027-17", "cn=legal,dc=example,dc=com", t0});
  w.event("u1", state::active, state::terminated);
  BOOST_TEST(w.s->run_due(t0) == 4u);
  const auto after = w.actions();
  for (const auto &a : after) {
    BOOST_TEST_CONTEXT(reclaim::action_kind_name(a.kind)) {
      if (a.kind == action_kind::reclaim_licence || a.kind == action_kind::transfer_ownership) {
        BOOST_TEST(a.status == "on_hold");
        BOOST_TEST(a.outcome.find("legal hold") != std::string::npos, a.outcome);
        BOOST_TEST(a.outcome.find("litigation 2027-17") != std::string::npos, a.outcome);
        BOOST_TEST(a.attempts == 0);
      } else {
        BOOST_TEST(a.status == "done");
      }
    }
  }
  BOOST_TEST(describe(w.fake->calls) == "m365:revoke_access,m365:notify");
  // While the hold is on nothing more runs, however late, and the plan stays open.
  BOOST_TEST(w.s->run_due(at("2028-01-01T00:00:00Z")) == 0u);
  BOOST_TEST(w.p->store().plans("", "")[0].status == "active");
  // Lifting the hold makes them pending again; then they run.
  BOOST_TEST(w.p->store().remove_hold("u1"));
  BOOST_TEST(!w.p->store().remove_hold("u1"));
  BOOST_TEST(statuses(w.actions()) == "done=2,pending=2");
  BOOST_TEST(w.s->run_due(at("2027-03-01T00:00:00Z")) == 2u);
  BOOST_TEST(statuses(w.actions()) == "done=4");
  BOOST_TEST(w.fake->calls.size() == 4u);
  BOOST_TEST(w.p->store().plans("", "")[0].status == "done");
}

BOOST_AUTO_TEST_CASE(extension_defers_until_expiry_then_runs) {
  options o;
  o.rules = one_action_rule + R"toml(
[[policy.rule]]
name = "github-leavers"
to = ["terminated"]
applications = ["github"]
actions = [ { action = "revoke_access", delay = "immediate" } ]
)toml";
  world w(o);
  const auto expires = at("2027-01-15T17:00:00Z");
  const auto ext = w.p->store().add_extension({0, "u1", "m365", "cn=manager,dc=example,dc=com", "handover", expires, t0});
  BOOST_TEST(ext > 0);
  w.event("u1", state::active, state::terminated);
  BOOST_TEST(w.s->run_due(t0) == 2u);
  BOOST_TEST(describe(w.fake->calls) == "github:revoke_access");
  action_row m365;
  for (const auto &a : w.actions())
    if (a.app == "m365") m365 = a;
  BOOST_TEST(m365.status == "pending");
  BOOST_TEST((m365.due == expires));
  BOOST_TEST(m365.attempts == 0);
  BOOST_TEST(m365.outcome.find("extended until 2027-01-15T17:00:00.000Z") != std::string::npos, m365.outcome);
  BOOST_TEST(m365.outcome.find("cn=manager,dc=example,dc=com") != std::string::npos, m365.outcome);
  BOOST_TEST(w.s->run_due(expires - 1ms) == 0u);
  BOOST_TEST(w.s->run_due(expires) == 1u);
  BOOST_TEST(describe(w.fake->calls) == "github:revoke_access,m365:revoke_access");
  BOOST_TEST(w.action(m365.id).status == "done");
  BOOST_TEST(w.action(m365.id).attempts == 1);
  // A removed extension no longer defers.
  BOOST_TEST(w.p->store().remove_extension(ext));
  BOOST_TEST(!w.p->store().remove_extension(ext));
}

BOOST_AUTO_TEST_CASE(dry_run_never_calls_a_connector) {
  {
    options o;
    o.mode = "dry_run";
    world w(o);
    w.event("u1", state::active, state::terminated);
    w.event("u2", state::active, state::leave);
    BOOST_TEST(w.s->run_due(at("2030-01-01T00:00:00Z")) == 0u);
    BOOST_TEST(w.fake->calls.empty());
    BOOST_TEST(statuses(w.actions()) == "dry_run=30");
  }
  {
    options o;
    o.app_flags["figma"] = "dry_run = true";
    world w(o);
    w.event("u1", state::active, state::terminated);
    BOOST_TEST(w.s->run_due(at("2030-01-01T00:00:00Z")) == 16u);
    BOOST_TEST(w.fake->calls.size() == 16u);
    BOOST_TEST(w.fake->calls_for("figma") == 0u);
    BOOST_TEST(statuses(w.actions()) == "done=16,dry_run=4");
  }
}

BOOST_AUTO_TEST_CASE(held_plans_run_only_after_approval) {
  options o;
  o.rules = one_action_rule;
  o.guard = "max_events = 1\n";
  world w(o);
  w.event("u1", state::active, state::terminated);
  w.event("u2", state::active, state::terminated);
  BOOST_TEST(w.s->run_due(at("2030-01-01T00:00:00Z")) == 1u);
  BOOST_TEST(describe(w.fake->calls) == "m365:revoke_access");
  BOOST_TEST(w.fake->calls[0].subject_id == "u1");
  const auto held = w.p->store().plans("held", "");
  BOOST_TEST_REQUIRE(held.size() == 1u);
  w.p->approve(held[0].id, "cn=Bob,dc=example,dc=com");
  BOOST_TEST(w.s->run_due(at("2030-01-01T00:00:00Z")) == 1u);
  BOOST_TEST(w.fake->calls.size() == 2u);
  BOOST_TEST(w.fake->calls[1].subject_id == "u2");
  // An executed plan cannot be approved (or rejected) again.
  BOOST_TEST(w.p->store().plan(held[0].id)->status == "done");
  BOOST_CHECK_THROW(w.p->approve(held[0].id, "cn=Carol,dc=example,dc=com"), reclaim::approval_error);
  BOOST_CHECK_THROW(w.p->reject(held[0].id, "cn=Carol,dc=example,dc=com", "late"), reclaim::approval_error);
}

BOOST_AUTO_TEST_CASE(running_actions_are_requeued_after_a_crash) {
  options o;
  o.rules = one_action_rule;
  world w(o);
  w.event("u1", state::active, state::terminated);
  // Another dispatcher claimed it and died before recording the outcome.
  const auto claimed = w.p->store().claim_due(t0);
  BOOST_TEST_REQUIRE(claimed.has_value());
  BOOST_TEST(w.action(claimed->id).status == "running");
  BOOST_TEST(w.s->run_due(t0) == 0u); // a running action is nobody else's to take
  BOOST_TEST(w.s->requeue_running() == 1);
  BOOST_TEST(w.s->requeue_running() == 0);
  const auto requeued = w.action(claimed->id);
  BOOST_TEST(requeued.status == "pending");
  BOOST_TEST(requeued.outcome == "requeued after restart");
  BOOST_TEST(w.s->run_due(t0) == 1u);
  BOOST_TEST(w.action(claimed->id).status == "done");
  BOOST_TEST(w.fake->calls.size() == 1u);
}

BOOST_AUTO_TEST_CASE(crash_after_the_effect_replays_as_already_done) {
  options o;
  o.rules = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["m365"]
actions = [ { action = "reclaim_licence", delay = "immediate" } ]
)toml";
  world w(o, true);
  reclaim::local_connector inventory(w.j->db());
  inventory.assign("u1", "m365", "M365_E5");
  inventory.grant("u1", "m365");
  w.event("u1", state::active, state::terminated);
  // The dispatcher claims the action, the connector acts, then the process dies.
  const auto claimed = w.p->store().claim_due(t0);
  BOOST_TEST_REQUIRE(claimed.has_value());
  const auto first = inventory.execute(*claimed, *w.cfg.policy.find_app("m365"));
  BOOST_TEST((first.what == outcome::done));
  BOOST_TEST(w.inventory("u1") == "m365:active");
  // After the restart the action is picked up again and not repeated.
  BOOST_TEST(w.s->requeue_running() == 1);
  BOOST_TEST(w.s->run_due(t0) == 1u);
  const auto a = w.action(claimed->id);
  BOOST_TEST(a.status == "already_done");
  BOOST_TEST(a.outcome.find("already applied") != std::string::npos, a.outcome);
  BOOST_TEST(a.before_image == first.before_image);
  BOOST_TEST(w.inventory("u1") == "m365:active");
}

BOOST_AUTO_TEST_CASE(local_connector_is_idempotent_per_action) {
  options o;
  o.rules = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["m365"]
actions = [
  { action = "revoke_access", delay = "immediate" },
  { action = "reclaim_licence", delay = "immediate" },
  { action = "notify", target = "finance", delay = "immediate" },
]
)toml";
  world w(o, true);
  reclaim::local_connector inv(w.j->db());
  inv.assign("u1", "m365", "M365_E5");
  inv.assign("u1", "m365", "M365_E1");
  inv.grant("u1", "m365");
  inv.assign("u2", "m365", "M365_E5");
  w.event("u1", state::active, state::terminated);
  const auto actions = w.actions();
  BOOST_TEST_REQUIRE(actions.size() == 3u);
  const auto &app = *w.cfg.policy.find_app("m365");
  struct row {
    size_t index;
    const char *first_message;
    const char *inventory_after;
  };
  const row cases[] = {
      {0, "access active -> revoked", "m365:revoked,m365:M365_E1,m365:M365_E5"},
      {1, "reclaimed M365_E1, M365_E5", "m365:revoked"},
      {2, "notify queued for finance", "m365:revoked"},
  };
  for (const auto &c : cases) {
    const auto &a = actions[c.index];
    BOOST_TEST_CONTEXT(reclaim::action_kind_name(a.kind)) {
      const auto first = inv.execute(a, app);
      BOOST_TEST((first.what == outcome::done));
      BOOST_TEST(first.message == c.first_message);
      BOOST_TEST(w.inventory("u1") == c.inventory_after);
      const auto second = inv.execute(a, app);
      BOOST_TEST((second.what == outcome::already_done));
      BOOST_TEST(second.message.find("already applied") != std::string::npos, second.message);
      BOOST_TEST(second.before_image == first.before_image);
      BOOST_TEST(w.inventory("u1") == c.inventory_after);
    }
  }
  BOOST_TEST(actions[1].before_image.empty()); // the store's copy is written by the scheduler, not here
  // Someone else's licence is untouched.
  BOOST_TEST(w.inventory("u2") == "m365:M365_E5");
  // One outbox message for the notification, however often it ran.
  auto &st = w.j->db().cached("SELECT count(*) FROM outbox");
  BOOST_TEST_REQUIRE(st.step());
  BOOST_TEST(st.integer(0) == 1);
  st.reset();
  // A new action (new key) for an effect already in place is already done.
  auto again = actions[0];
  again.idempotency_key += "/replanned";
  const auto r = inv.execute(again, app);
  BOOST_TEST((r.what == outcome::already_done));
  BOOST_TEST(r.message == "access already revoked");
}

BOOST_AUTO_TEST_CASE(leave_then_return_resumes_access_and_keeps_licences) {
  world w({}, true);
  reclaim::local_connector inv(w.j->db());
  for (const char *app : {"m365", "figma", "sap"}) inv.grant("u1", app);
  inv.assign("u1", "m365", "M365_E5");
  inv.assign("u1", "figma", "FIGMA_PRO");
  w.event("u1", state::active, state::leave, R"({"departmentNumber":["100"]})");
  w.s->run_due(t0);
  BOOST_TEST(w.inventory("u1") == "figma:suspended,figma:FIGMA_PRO,m365:suspended,m365:M365_E5,sap:suspended");
  reclaim::set_fixed_now(at("2027-02-15T09:00:00Z"));
  w.event("u1", state::leave, state::reactivated, R"({"departmentNumber":["100"]})");
  const auto plans = w.p->store().plans("", "u1");
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  BOOST_TEST(plans[1].kind == "restore");
  // Suspends that found access ran (m365, figma, sap); department 100 is
  // entitled to m365 and figma, so sap stays suspended.
  BOOST_TEST(describe(w.actions("", plans[1].id)) == "m365:resume_access,figma:resume_access");
  BOOST_TEST(w.s->run_due(at("2027-02-15T09:00:00Z")) == 2u);
  BOOST_TEST(w.inventory("u1") == "figma:active,figma:FIGMA_PRO,m365:active,m365:M365_E5,sap:suspended");
  // The 90-day reclaims were cancelled: nothing more ever runs.
  BOOST_TEST(w.s->run_due(at("2028-01-01T00:00:00Z")) == 0u);
  BOOST_TEST(w.inventory("u1") == "figma:active,figma:FIGMA_PRO,m365:active,m365:M365_E5,sap:suspended");
  BOOST_TEST(w.p->store().plans("", "u1")[1].status == "done");
}

BOOST_AUTO_TEST_CASE(rehire_after_the_grace_restores_what_the_new_role_holds) {
  world w({}, true);
  reclaim::local_connector inv(w.j->db());
  for (const char *app : {"m365", "github", "figma"}) inv.grant("u1", app);
  inv.assign("u1", "m365", "M365_E5");
  inv.assign("u1", "github", "GHE");
  inv.assign("u1", "figma", "FIGMA_PRO");
  w.event("u1", state::active, state::terminated, R"({"departmentNumber":["100"]})");
  // Everything runs, grace periods included.
  w.s->run_due(at("2027-03-01T00:00:00Z"));
  BOOST_TEST(w.inventory("u1") == "figma:revoked,github:revoked,m365:revoked");
  // Rehired into department 200 (m365, sap): m365 comes back with its licence.
  reclaim::set_fixed_now(at("2027-03-02T08:00:00Z"));
  w.event("u1", state::terminated, state::reactivated, R"({"departmentNumber":["200"]})");
  const auto plans = w.p->store().plans("", "u1");
  BOOST_TEST_REQUIRE(plans.size() == 2u);
  BOOST_TEST(describe(w.actions("", plans[1].id)) == "m365:grant_access,m365:assign_licence");
  BOOST_TEST(w.s->run_due(at("2027-03-02T08:00:00Z")) == 2u);
  BOOST_TEST(w.inventory("u1") == "figma:revoked,github:revoked,m365:active,m365:M365_E5");
  // Leaving again plans m365 anew (its earlier actions are restored).
  reclaim::set_fixed_now(at("2027-06-01T08:00:00Z"));
  w.event("u1", state::active, state::terminated, R"({"departmentNumber":["200"]})");
  const auto third = w.p->store().plans("", "u1");
  BOOST_TEST_REQUIRE(third.size() == 3u);
  const auto again = w.actions("", third[2].id);
  BOOST_TEST(std::count_if(again.begin(), again.end(), [](const action_row &a) {
               return a.app == "m365" && a.kind == action_kind::revoke_access;
             }) == 1);
}

BOOST_AUTO_TEST_CASE(downgrade_then_restore_puts_the_old_sku_back) {
  options o;
  o.rules = R"toml(
[[policy.rule]]
name = "downgrade"
to = ["leave"]
applications = ["m365"]
actions = [ { action = "downgrade_licence", to_sku = "M365_E1", delay = "immediate" } ]
)toml";
  world w(o, true);
  reclaim::local_connector inv(w.j->db());
  inv.assign("u1", "m365", "M365_E5");
  w.event("u1", state::active, state::leave, R"({"departmentNumber":["300"]})");
  BOOST_TEST(w.s->run_due(t0) == 1u);
  BOOST_TEST(w.inventory("u1") == "m365:M365_E1");
  w.event("u1", state::leave, state::reactivated, R"({"departmentNumber":["300"]})");
  BOOST_TEST(w.s->run_due(t0) == 1u);
  BOOST_TEST(w.inventory("u1") == "m365:M365_E5");
}

BOOST_AUTO_TEST_SUITE_END()
