// test_guard_window.cpp — issue 14 parts 6 and 7: the guard's exact sliding
// window over departure times (plan store and planner, the alert's wording,
// changes recovered by catch-up judged at their own time, old per-minute
// stores upgraded), and release schedules (HH:MM and cron with "nW" and
// "day#n", next release in a zone across daylight-saving changes, bad
// expressions refused at load with file:line).
#include "policy_fixture.hpp"
#include "config/config.hpp"
#include "policy/planner.hpp"
#include "policy/release_schedule.hpp"
#include "policy/rules.hpp"
#include "store/journal.hpp"
#include "store/sqlite.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using reclaim::state;
using reclaim::time_point;
using reclaim::unit::at;
using reclaim::unit::temp_dir;

namespace {

const std::string one_app = R"toml(
[[application]]
id = "m365"
tier = "critical"

[[policy.rule]]
name = "leavers"
to = ["terminated", "deleted", "contract_ended"]
applications = ["m365"]
actions = [ { action = "revoke_access", delay = "immediate" } ]
)toml";

// A journal and planner under [guard] `guard`; events carry their own time.
struct world {
  temp_dir dir;
  reclaim::unit::log_capture logs;
  reclaim::logger log = logs.make();
  reclaim::config cfg;
  std::unique_ptr<reclaim::journal> j;
  std::unique_ptr<reclaim::planner> p;
  int counter = 0;

  explicit world(const std::string &guard) {
    reclaim::set_fixed_now(at("2027-01-10T10:00:00Z"));
    cfg = reclaim::unit::load_toml(
        dir, fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n{}{}\n[guard]\n{}",
                         (dir / "state").string(), reclaim::unit::ldap_section, one_app, guard));
    j = std::make_unique<reclaim::journal>(cfg.journal_path(), reclaim::sqlite::durability::normal);
    p = std::make_unique<reclaim::planner>(cfg, *j, log);
    for (int i = 0; i < 100; ++i)
      j->put_subject({fmt::format("p{}", i), fmt::format("uid=p{}", i), state::active, "", "", "", ""});
  }
  ~world() { reclaim::set_fixed_now(std::nullopt); }

  // A termination made at `when`, planned now (now is the fixed clock).
  reclaim::plan_row terminate(time_point when) {
    reclaim::event_record ev;
    ev.subject_id = fmt::format("p{}", counter++);
    ev.idempotency_key = ev.subject_id + "/1";
    ev.subject_name = "uid=" + ev.subject_id;
    ev.source = "ldap";
    ev.previous = state::active;
    ev.current = state::terminated;
    ev.time = when;
    ev.recorded = reclaim::now();
    ev.actor = "cn=hr-admin,dc=example,dc=com";
    BOOST_TEST_REQUIRE(j->append(ev));
    p->plan_pending();
    const auto plans = p->store().plans("", ev.subject_id);
    BOOST_TEST_REQUIRE(plans.size() == 1u);
    return plans[0];
  }
};

std::string load_error(const std::string &toml, std::string *file = nullptr) {
  temp_dir dir;
  if (file != nullptr) *file = (dir / "reclaim.toml").string();
  try {
    reclaim::unit::load_toml(dir, toml);
  } catch (const reclaim::config_error &e) {
    return e.what();
  }
  return "";
}

std::string scheduler_config(const std::string &lines) {
  return fmt::format("{}{}\n[scheduler]\n{}", reclaim::unit::ldap_section, one_app, lines);
}

} // namespace

BOOST_AUTO_TEST_SUITE(guard_window)

// Window PT6S, max_events 4: a burst one second apart, one departure exactly
// a window after the first, and a contract end 47 s after the burst. With
// whole-minute buckets the last was counted with the burst and held.
BOOST_AUTO_TEST_CASE(exact_six_second_window_table) {
  struct row {
    int offset_s;
    const char *status;
    int counted; // departures in (t - 6 s, t] the alert names; 0 when not held
  };
  const row rows[] = {{0, "active", 0}, {1, "active", 0}, {2, "active", 0}, {3, "active", 0},
                      {4, "held", 5},   {5, "held", 6},   {6, "held", 6},  // (0 s, 6 s]: the first has left
                      {53, "active", 0}};
  world w("window = \"PT6S\"\nmax_events = 4\n");
  const auto t = at("2027-01-10T10:00:00Z");
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("departure at t+" << r.offset_s << " s") {
      reclaim::set_fixed_now(t + std::chrono::seconds(r.offset_s));
      const auto plan = w.terminate(t + std::chrono::seconds(r.offset_s));
      BOOST_TEST(plan.status == r.status, plan.reason);
      if (r.counted > 0)
        BOOST_TEST(plan.reason.find(fmt::format("guard: {} departures in the last 6 s (", r.counted)) !=
                       std::string::npos,
                   plan.reason);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_alert_names_the_window_in_its_natural_unit) {
  const std::pair<const char *, const char *> cases[] = {
      {"PT6S", "in the last 6 s"},    {"PT1H", "in the last 1 h"},       {"PT90M", "in the last 90 min"},
      {"P2D", "in the last 2 d"},     {"PT1.5S", "in the last 1500 ms"}, {"PT2M", "in the last 2 min"}};
  for (const auto &[window, text] : cases) {
    BOOST_TEST_CONTEXT(window) {
      world w(fmt::format("window = \"{}\"\nmax_events = 1\n", window));
      w.terminate(reclaim::now());
      const auto held = w.terminate(reclaim::now());
      BOOST_TEST(held.status == "held");
      BOOST_TEST(held.reason.find(text) != std::string::npos, held.reason);
      BOOST_TEST(w.logs.contains(text));
    }
  }
}

// Decision (docs/policy.md): a change recovered by catch-up counts at the
// time it was made. A week of ordinary departures recovered at once is no
// burst; a burst made while the engine was not loaded is one.
BOOST_AUTO_TEST_CASE(catch_up_counts_changes_at_their_own_time) {
  world w("window = \"PT1H\"\nmax_events = 3\n");
  const auto now = reclaim::now();
  for (int i = 10; i > 0; --i) {
    const auto plan = w.terminate(now - std::chrono::hours(5 * i)); // one every 5 hours, recovered now
    BOOST_TEST(plan.status == "active", "a spread-out departure recovered by catch-up: " << plan.reason);
  }
  // Six terminations within a minute, two hours ago, recovered now.
  std::vector<std::string> statuses;
  for (int i = 0; i < 6; ++i) {
    const auto plan = w.terminate(now - 2h + std::chrono::seconds(10 * i));
    statuses.push_back(plan.status);
    if (plan.status == "held")
      BOOST_TEST(plan.reason.find(fmt::format("departures in the 1 h up to {} (when the change was made)",
                                              reclaim::format_utc(now - 2h + std::chrono::seconds(10 * i)))) !=
                     std::string::npos,
                 plan.reason);
  }
  BOOST_TEST((statuses == std::vector<std::string>{"active", "active", "active", "held", "held", "held"}));
  // A change stamped in the future (a skewed clock) counts now.
  const auto future = w.terminate(now + 24h);
  BOOST_TEST(future.status == "active", future.reason);
  BOOST_TEST(w.p->store().departures_between(now - 1ms, now) == 1);
}

BOOST_AUTO_TEST_CASE(store_counts_the_half_open_window_and_prunes) {
  world w("max_events = 1000\n");
  auto &s = w.p->store();
  const auto t = at("2027-01-10T10:00:00Z");
  for (int ms : {0, 1, 999, 1000, 59999, 60000}) s.count_departure(t + std::chrono::milliseconds(ms), 1h);
  BOOST_TEST(s.departures_between(t, t + 1000ms) == 3);   // 1, 999, 1000 — not 0
  BOOST_TEST(s.departures_between(t - 1ms, t) == 1);
  BOOST_TEST(s.departures_between(t + 999ms, t + 59999ms) == 2);
  BOOST_TEST(s.departures_between(t - 1h, t + 1h) == 6);
  // A departure two days later drops what no 1 h window (plus a day) reaches.
  s.count_departure(t + 50h, 1h);
  BOOST_TEST(s.departures_between(t - 1h, t + 1h) == 0);
  BOOST_TEST(s.departures_between(t, t + 50h) == 1);
}

// A store written by 0.3 (guard_minutes) opens, and its counts become
// departures at the end of their minute.
BOOST_AUTO_TEST_CASE(per_minute_store_is_upgraded) {
  temp_dir dir;
  const auto path = dir / "state.db";
  const int64_t minute = reclaim::to_unix_ms(at("2027-01-10T10:00:00Z")) / 60000;
  {
    reclaim::sqlite::database db(path, reclaim::sqlite::durability::normal);
    db.exec("CREATE TABLE guard_minutes(minute INTEGER PRIMARY KEY, departures INTEGER NOT NULL);");
    db.exec(fmt::format("INSERT INTO guard_minutes VALUES ({}, 3), ({}, 1), ({}, 250);", minute, minute + 1,
                        minute - 600)
                .c_str());
  }
  reclaim::sqlite::database db(path, reclaim::sqlite::durability::normal);
  reclaim::plan_store s(db);
  const auto t = at("2027-01-10T10:00:00Z");
  BOOST_TEST(s.departures_between(t, t + 59999ms) == 3);
  BOOST_TEST(s.departures_between(t + 59998ms, t + 60s) == 3);
  BOOST_TEST(s.departures_between(t + 60s, t + 2min) == 1);
  BOOST_TEST(s.departures_between(t - 11h, t) == 250);
  auto gone = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'guard_minutes'");
  BOOST_TEST_REQUIRE(gone.step());
  BOOST_TEST(gone.integer(0) == 0);
  reclaim::plan_store again(db); // opening once more changes nothing
  BOOST_TEST(again.departures_between(t - 11h, t + 2min) == 254);
}

BOOST_AUTO_TEST_CASE(zero_and_negative_windows_are_refused) {
  for (const char *window : {"PT0S", "P0D", "-PT6S", "PT-6S"}) {
    BOOST_TEST_CONTEXT(window) {
      std::string file;
      const auto toml = fmt::format("{}{}\n[guard]\nmax_events = 3\nwindow = \"{}\"\n", reclaim::unit::ldap_section,
                                    one_app, window);
      const auto message = load_error(toml, &file);
      const auto line = std::count(toml.begin(), toml.end(), '\n'); // the last line
      BOOST_TEST(message.rfind(fmt::format("{}:{}:", file, line), 0) == 0, message);
      BOOST_TEST(message.find("guard.window") != std::string::npos, message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(release_schedules)

BOOST_AUTO_TEST_CASE(next_release_table) {
  struct row {
    const char *expr, *zone, *now, *next;
  };
  const row rows[] = {
      {"0 2 * * *", "UTC", "2027-01-10T10:00:00Z", "2027-01-11T02:00:00Z"},
      {"02:00", "UTC", "2027-01-11T02:00:00Z", "2027-01-11T02:00:00Z"}, // at a release time: that one
      {"02:00", "UTC", "2027-01-11T02:00:00.001Z", "2027-01-12T02:00:00Z"},
      {"0 2 * * MON", "UTC", "2027-01-10T10:00:00Z", "2027-01-11T02:00:00Z"}, // a Sunday
      {"0 2 * * mon", "UTC", "2027-01-11T03:00:00Z", "2027-01-18T02:00:00Z"},
      {"0 2 * * 1", "UTC", "2027-01-11T03:00:00Z", "2027-01-18T02:00:00Z"},
      {"0 2 * * 0", "UTC", "2027-01-11T03:00:00Z", "2027-01-17T02:00:00Z"},
      {"0 2 * * 7", "UTC", "2027-01-11T03:00:00Z", "2027-01-17T02:00:00Z"},
      // First working day of the month: May 1 2027 is a Saturday, Aug 1 a Sunday.
      {"0 2 1W * *", "UTC", "2027-04-15T00:00:00Z", "2027-05-03T02:00:00Z"},
      {"0 2 1W * *", "UTC", "2027-07-10T00:00:00Z", "2027-08-02T02:00:00Z"},
      {"0 2 1W * *", "UTC", "2027-01-10T00:00:00Z", "2027-02-01T02:00:00Z"},
      {"0 2 15W * *", "UTC", "2027-05-01T00:00:00Z", "2027-05-14T02:00:00Z"}, // the 15th: a Saturday
      {"0 2 31W * *", "UTC", "2027-07-31T03:00:00Z", "2027-08-31T02:00:00Z"},
      {"0 2 * * MON#1", "UTC", "2027-01-10T10:00:00Z", "2027-02-01T02:00:00Z"},
      {"0 2 * * FRI#2", "UTC", "2027-01-01T00:00:00Z", "2027-01-08T02:00:00Z"},
      // Both day fields restricted: either matches (crontab(5)), not both.
      {"0 2 1-7 * FRI", "UTC", "2027-01-10T10:00:00Z", "2027-01-15T02:00:00Z"},
      {"0 2 1-7 * MON", "UTC", "2027-01-29T10:00:00Z", "2027-02-01T02:00:00Z"},
      {"*/15 * * * *", "UTC", "2027-01-10T10:07:00Z", "2027-01-10T10:15:00Z"},
      {"0,30 9-17/4 * * *", "UTC", "2027-01-10T13:31:00Z", "2027-01-10T17:00:00Z"},
      {"0 2 29 2 *", "UTC", "2027-03-01T00:00:00Z", "2028-02-29T02:00:00Z"},
      {"0 2 1 JAN,jul *", "UTC", "2027-01-10T00:00:00Z", "2027-07-01T02:00:00Z"},
      // Europe/Berlin: 2027-03-28 02:00 CET -> 03:00 CEST; 2027-10-31 03:00 CEST -> 02:00 CET.
      {"0 2 * * *", "Europe/Berlin", "2027-01-10T10:00:00Z", "2027-01-11T01:00:00Z"},
      {"0 2 * * *", "Europe/Berlin", "2027-07-01T10:00:00Z", "2027-07-02T00:00:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2027-03-27T12:00:00Z", "2027-03-28T01:00:00Z"}, // skipped: after the gap
      {"30 2 * * *", "Europe/Berlin", "2027-03-28T01:00:00.001Z", "2027-03-29T00:30:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2027-10-30T12:00:00Z", "2027-10-31T00:30:00Z"}, // repeated: the first
      {"30 2 * * *", "Europe/Berlin", "2027-10-31T00:45:00Z", "2027-11-01T01:30:00Z"}, // ... and only once
      {"0 9 * * MON-FRI", "Europe/Berlin", "2027-03-26T09:00:00Z", "2027-03-29T07:00:00Z"},
      {"0 9 * * MON-FRI", "Europe/Berlin", "2027-10-29T09:00:00Z", "2027-11-01T08:00:00Z"},
      {"0 2 * * *", "+05:30", "2027-01-10T10:00:00Z", "2027-01-10T20:30:00Z"},
      {"0 2 1W * *", "America/New_York", "2027-07-31T12:00:00Z", "2027-08-02T06:00:00Z"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.expr << " in " << r.zone << " from " << r.now) {
      std::string why;
      const auto s = reclaim::parse_release_schedule(r.expr, &why);
      BOOST_TEST_REQUIRE(s.has_value(), why);
      const auto z = reclaim::parse_zone(r.zone);
      BOOST_TEST_REQUIRE(z.has_value());
      const auto next = reclaim::next_release(*s, *z, at(r.now));
      BOOST_TEST_REQUIRE(next.has_value());
      BOOST_TEST(reclaim::format_utc(*next) == reclaim::format_utc(at(r.next)));
    }
  }
}

BOOST_AUTO_TEST_CASE(several_schedules_release_at_the_earliest) {
  std::vector<reclaim::release_schedule> all;
  for (const char *e : {"0 2 * * MON", "14:00", "0 2 1W * *"}) all.push_back(*reclaim::parse_release_schedule(e, nullptr));
  const reclaim::zone utc;
  BOOST_TEST(reclaim::format_utc(reclaim::next_release(all, utc, at("2027-01-10T10:00:00Z"))) ==
             "2027-01-10T14:00:00.000Z");
  BOOST_TEST(reclaim::format_utc(reclaim::next_release(all, utc, at("2027-01-10T15:00:00Z"))) ==
             "2027-01-11T02:00:00.000Z");
  // A hold until the end of time stays there.
  BOOST_TEST((reclaim::next_release(all, utc, time_point::max()) == time_point::max()));
}

BOOST_AUTO_TEST_CASE(bad_expressions_are_refused_with_the_reason) {
  const std::pair<const char *, const char *> cases[] = {
      {"61 * * * *", "minute \"61\": 61 is out of range 0-59"},
      {"0 24 * * *", "hour \"24\": 24 is out of range 0-23"},
      {"0 2 32 * *", "day of month \"32\": 32 is out of range 1-31"},
      {"0 2 0 * *", "0 is out of range 1-31"},
      {"*/0 * * * *", "step \"0\""},
      {"*/60 * * * *", "step \"60\""},
      {"0 2 * 13 *", "month \"13\": 13 is out of range 1-12"},
      {"0 2 * * 8", "8 is out of range 0-7"},
      {"0 2 30 2 *", "no day that exists"},
      {"0 2 31 4,6 *", "no day that exists"},
      {"0 2 * *", "has 4 fields"},
      {"0 0 2 * * *", "has 6 fields"},
      {"@daily", "has 1 field;"},
      {"5-1 * * * *", "runs backwards"},
      {"0 2 * * FRI-MON", "runs backwards"},
      {"0 2 1W * MON", "\"nW\" needs \"*\" as the day of week"},
      {"0 2 1,15W * *", "\"nW\" takes one day"},
      {"0 2 1 * MON#1", "\"day#n\" needs \"*\" as the day of month"},
      {"0 2 * * MON#6", "1 to 5"},
      {"0 2 * * MON-FRI#1", "\"day#n\" takes one day"},
      {"0 2 L * *", "\"L\" is not a number"},
      {"1,,2 * * * *", "empty list item"},
      {"0 2 * * MON-", "\"\" is not a number"},
      {"x * * * *", "\"x\" is not a number"},
      {"123 * * * *", "\"123\" is not a number"},
      {"-1 * * * *", "\"\" is not a number"},
      {"25:00", "HH:MM"},
      {"7:00", "HH:MM"},
      {" 07:00", "HH:MM"},
      {"", "has 0 fields"},
  };
  for (const auto &[expr, problem] : cases) {
    BOOST_TEST_CONTEXT("\"" << expr << "\"") {
      std::string why;
      BOOST_TEST(!reclaim::parse_release_schedule(expr, &why).has_value());
      BOOST_TEST(why.find(problem) != std::string::npos, why);
    }
  }
}

// At config load: file:line of the bad element (not of the array), the key,
// the expression and why; an empty list; a bad [scheduler] time_zone.
BOOST_AUTO_TEST_CASE(bad_batch_times_are_refused_at_load_with_file_and_line) {
  {
    const auto toml = scheduler_config("batch_times = [\n  \"02:00\",\n  \"0 2 * * MON\",\n  \"0 2 32 * *\",\n]\n");
    std::string file;
    const auto message = load_error(toml, &file);
    const auto line = std::count(toml.begin(), toml.begin() + static_cast<long>(toml.find("0 2 32")), '\n') + 1;
    BOOST_TEST(message.rfind(fmt::format("{}:{}:", file, line), 0) == 0, message);
    BOOST_TEST(message.find("scheduler.batch_times: \"0 2 32 * *\"") != std::string::npos, message);
    BOOST_TEST(message.find("32 is out of range 1-31") != std::string::npos, message);
  }
  BOOST_TEST(load_error(scheduler_config("batch_times = []\n")).find("must name at least one time") !=
             std::string::npos);
  BOOST_TEST(load_error(scheduler_config("time_zone = \"Mars/Olympus\"\n")).find("scheduler.time_zone") !=
             std::string::npos);
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(
      dir, scheduler_config("time_zone = \"Europe/Berlin\"\nbatch_times = [\"0 2 1W * *\", \"03:30\"]\n"));
  BOOST_TEST(cfg.policy.scheduler.time_zone.name == "Europe/Berlin");
  BOOST_TEST(cfg.policy.scheduler.batch_times.size() == 2u);
}

// A staged action is due at the next release in the scheduler's zone.
BOOST_AUTO_TEST_CASE(staged_due_time_follows_the_schedule_and_zone) {
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(
      dir, fmt::format("{}{}", reclaim::unit::ldap_section, reclaim::unit::apps_text({})) +
               "\n[scheduler]\ntime_zone = \"Europe/Berlin\"\nbatch_times = [\"0 2 * * MON\"]\n");
  const auto *wiki = cfg.policy.find_app("wiki"); // low: staged after a 7-day grace
  BOOST_TEST_REQUIRE(wiki != nullptr);
  reclaim::delay_spec staged;
  staged.how = reclaim::delay_spec::kind::staged;
  // Grace ends Sunday 2027-03-28 10:00Z, the day summer time starts: Monday 02:00 CEST.
  BOOST_TEST(reclaim::format_utc(reclaim::due_time(cfg.policy, *wiki, staged, at("2027-03-21T10:00:00Z"))) ==
             "2027-03-29T00:00:00.000Z");
}

BOOST_AUTO_TEST_SUITE_END()
