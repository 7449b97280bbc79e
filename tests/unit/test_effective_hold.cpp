// test_effective_hold.cpp — issue 14 parts 3 and 4: the HR effective date
// (its three formats, dates without a time in several zones, values that do
// not parse) and the due times it gives late, on-time and future-dated
// changes; the scope of a legal hold (only actions that delete or move
// data wait) and holds placed and lifted by a directory value, audited.
#include "audit/audit_log.hpp"
#include "config/config.hpp"
#include "dispatch/scheduler.hpp"
#include "policy/planner.hpp"
#include "policy/rules.hpp"
#include "policy_fixture.hpp"
#include "store/journal.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using reclaim::action_kind;
using reclaim::date_format;
using reclaim::state;
using reclaim::time_point;
using reclaim::unit::at;
using reclaim::unit::temp_dir;
using json = nlohmann::json;

namespace {

const time_point t0 = at("2026-12-01T10:00:00Z");

reclaim::zone zone_named(const char *name) {
  const auto z = reclaim::parse_zone(name);
  BOOST_TEST_REQUIRE(z.has_value(), name);
  return *z;
}

// Fixed, and with two standard applications whose reclaims differ in
// whether they delete data (slack keeps it), and a low one that is staged.
const std::string catalogue = R"toml(
[[application]]
id = "m365"
tier = "critical"

[[application]]
id = "drive"
tier = "standard"

[[application]]
id = "slack"
tier = "standard"
reclaim_deletes_data = false

[[application]]
id = "wiki"
tier = "low"

[tiers.critical]
delay = "immediate"
[tiers.standard]
delay = "P14D"
[tiers.low]
delay = "staged"
grace = "P7D"
)toml";

const std::string leavers = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["m365", "drive", "slack", "wiki"]
actions = [
  { action = "revoke_access", delay = "immediate" },
  { action = "reclaim_licence" },
]

[[policy.rule]]
name = "data"
to = ["terminated"]
applications = ["drive"]
actions = [ { action = "transfer_ownership", delay = "immediate" } ]
)toml";

struct world {
  temp_dir dir;
  reclaim::unit::log_capture logs;
  reclaim::logger log = logs.make();
  reclaim::config cfg;
  std::unique_ptr<reclaim::journal> j;
  std::unique_ptr<reclaim::planner> p;
  std::unique_ptr<reclaim::scheduler> s;
  int counter = 0;

  explicit world(const std::string &policy, const std::string &extra = "") {
    reclaim::set_fixed_now(t0);
    const auto pem = dir / "audit.pem";
    EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    FILE *f = std::fopen(pem.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(k);
    std::filesystem::permissions(pem, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    reclaim::unit::write_file(dir / "pseudo.key", std::string(40, 'k'), 0600u);
    const auto text = fmt::format(
        "[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n{}{}\n[policy]\n{}\n{}{}\n[scheduler]\n"
        "batch_times = [\"02:00\"]\n\n[audit]\norigin = \"unit.example/audit\"\nkey_file = \"{}\"\n"
        "pseudonym_key_file = \"{}\"\n",
        (dir / "state").string(), reclaim::unit::ldap_section, catalogue, policy, leavers, extra, pem.string(),
        (dir / "pseudo.key").string());
    cfg = reclaim::unit::load_toml(dir, text);
    j = std::make_unique<reclaim::journal>(cfg.journal_path(), reclaim::sqlite::durability::normal);
    p = std::make_unique<reclaim::planner>(cfg, *j, log);
    s = std::make_unique<reclaim::scheduler>(cfg, log);
  }
  ~world() { reclaim::set_fixed_now(std::nullopt); }

  void event(const std::string &subject, state from, state to, const json &attrs, const std::string &actor) {
    reclaim::event_record ev;
    ev.idempotency_key = fmt::format("{}/{}", subject, ++counter);
    ev.subject_id = subject;
    ev.subject_name = fmt::format("uid={},ou=People,dc=example,dc=com", subject);
    ev.source = "ldap";
    ev.previous = from;
    ev.current = to;
    ev.time = ev.recorded = reclaim::now();
    ev.actor = actor;
    ev.attributes_json = attrs.dump();
    BOOST_TEST_REQUIRE(j->append(ev));
    p->plan_pending();
  }

  // "app:kind=due" for every action, in a stable order.
  std::string dues() {
    std::vector<std::string> out;
    for (const auto &a : p->store().actions("", "", 0))
      out.push_back(fmt::format("{}:{}={}", a.app, reclaim::action_kind_name(a.kind), reclaim::format_utc(a.due)));
    std::sort(out.begin(), out.end());
    return fmt::format("{}", fmt::join(out, " "));
  }
  // already_done (the local inventory had nothing to take) reads "done".
  static std::string ran(const std::string &status) { return status == "already_done" ? "done" : status; }
  std::string statuses() {
    std::vector<std::string> out;
    for (const auto &a : p->store().actions("", "", 0))
      out.push_back(fmt::format("{}:{}={}", a.app, reclaim::action_kind_name(a.kind), ran(a.status)));
    std::sort(out.begin(), out.end());
    return fmt::format("{}", fmt::join(out, " "));
  }
  // The audit records of one type, as queued.
  std::vector<json> audited(const std::string &type) {
    std::vector<json> out;
    auto st = j->db().prepare("SELECT body FROM audit_outbox ORDER BY id");
    while (st.step()) {
      auto b = json::parse(st.text(0));
      if (b["type"] == type) out.push_back(std::move(b));
    }
    return out;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(effective_dates)

BOOST_AUTO_TEST_CASE(values_in_each_format_and_zone) {
  struct row {
    const char *text;
    date_format format;
    const char *zone;
    const char *expected; // UTC, or a fragment of the problem
  };
  using F = date_format;
  const row rows[] = {
      {"20261201093000Z", F::generalized_time, "UTC", "2026-12-01T09:30:00.000Z"},
      {"202612010930+1300", F::generalized_time, "UTC", "2026-11-30T20:30:00.000Z"},
      {"2026120109-0800", F::generalized_time, "UTC", "2026-12-01T17:00:00.000Z"},
      {"20261201093000.5Z", F::generalized_time, "UTC", "2026-12-01T09:30:00.500Z"},
      {"2026120109,25Z", F::generalized_time, "UTC", "2026-12-01T09:15:00.000Z"}, // a quarter hour
      // A date alone: the start of that day in the zone.
      {"20261201", F::generalized_time, "Pacific/Auckland", "2026-11-30T11:00:00.000Z"},
      {"20261201", F::generalized_time, "America/Los_Angeles", "2026-12-01T08:00:00.000Z"},
      {"20260701", F::generalized_time, "America/Los_Angeles", "2026-07-01T07:00:00.000Z"},
      {"20261201", F::generalized_time, "UTC", "2026-12-01T00:00:00.000Z"},
      {"20261201", F::generalized_time, "+05:30", "2026-11-30T18:30:00.000Z"},
      // A time without an offset is local time in the zone.
      {"20261201093000", F::generalized_time, "Pacific/Auckland", "2026-11-30T20:30:00.000Z"},
      {"2026-12-01", F::iso8601, "Pacific/Auckland", "2026-11-30T11:00:00.000Z"},
      {"2026-12-01", F::iso8601, "America/Los_Angeles", "2026-12-01T08:00:00.000Z"},
      {"2026-12-01T09:30:00+13:00", F::iso8601, "UTC", "2026-11-30T20:30:00.000Z"},
      {"2026-12-01T09:30:00.25Z", F::iso8601, "Pacific/Auckland", "2026-12-01T09:30:00.250Z"},
      {"2026-12-01T09:30", F::iso8601, "America/Los_Angeles", "2026-12-01T17:30:00.000Z"},
      // In a daylight-saving gap: the instant the gap ends.
      {"2026-03-08T02:30", F::iso8601, "America/Los_Angeles", "2026-03-08T10:00:00.000Z"},
      {"20788", F::days_since_epoch, "UTC", "2026-12-01T00:00:00.000Z"},
      {"20788", F::days_since_epoch, "Pacific/Auckland", "2026-11-30T11:00:00.000Z"},
      {"0", F::days_since_epoch, "UTC", "1970-01-01T00:00:00.000Z"},
      // Bad input: never a time, always a reason naming the value.
      {"", F::generalized_time, "UTC", "\"\" is not a generalizedTime time"},
      {"yesterday", F::generalized_time, "UTC", "expected YYYYMMDD"},
      {"00000101000000Z", F::generalized_time, "UTC", "the year 0 is outside 1970..9999"},
      {"100000101000000Z", F::generalized_time, "UTC", "expected YYYYMMDD"}, // a 5-digit year
      {"20261301", F::generalized_time, "UTC", "no such date"},
      {"20260230", F::generalized_time, "UTC", "no such date"},
      {"2026120125Z", F::generalized_time, "UTC", "no such time of day"},
      {"20261201093000+1500", F::generalized_time, "UTC", "expected YYYYMMDD"},
      {"20261201093000Zjunk", F::generalized_time, "UTC", "expected YYYYMMDD"},
      {"2026-12-01", F::generalized_time, "UTC", "expected YYYYMMDD"},
      {"0000-01-01", F::iso8601, "UTC", "the year 0 is outside"},
      {"10000-01-01", F::iso8601, "UTC", "expected YYYY-MM-DD"},
      {"+10000-01-01", F::iso8601, "UTC", "expected YYYY-MM-DD"},
      {"1969-12-31", F::iso8601, "UTC", "the year 1969 is outside"},
      {"2026-12-01T09:30:00+1300", F::iso8601, "UTC", "expected YYYY-MM-DD"},
      {"20261201", F::iso8601, "UTC", "expected YYYY-MM-DD"},
      {"-1", F::days_since_epoch, "UTC", "before 1970"},
      {"2932897", F::days_since_epoch, "UTC", "after the year 9999"},
      {"99999999999999999999", F::days_since_epoch, "UTC", "whole number of days"},
      {"20788.5", F::days_since_epoch, "UTC", "whole number of days"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.text << " (" << r.zone << ")") {
      const auto got = reclaim::parse_effective(r.text, r.format, zone_named(r.zone));
      if (r.expected[0] >= '0' && r.expected[0] <= '9') {
        BOOST_TEST(got.problem == "");
        BOOST_TEST((got.time ? reclaim::format_utc(*got.time) : "none") == r.expected);
      } else {
        BOOST_TEST(!got.time.has_value());
        BOOST_TEST(got.problem.find(r.expected) != std::string::npos, got.problem);
        BOOST_TEST(got.problem.find(fmt::format("\"{}\"", r.text)) != std::string::npos, got.problem);
      }
    }
  }
}

// Timeline → due times. The change is made at t0 (2026-12-01T10:00Z);
// critical acts at once, standard after P14D, low is staged (P7D, then the
// next 02:00 batch). Due = max(change, effective + delay).
BOOST_AUTO_TEST_CASE(late_on_time_and_future_dated_changes) {
  struct row {
    const char *name;
    const char *zone;
    const char *effective; // generalizedTime, "" for none
    const char *m365, *drive, *wiki; // reclaim_licence due times
  };
  const row rows[] = {
      {"no effective date", "UTC", "", "2026-12-01T10:00:00.000Z", "2026-12-15T10:00:00.000Z",
       "2026-12-09T02:00:00.000Z"},
      {"on time", "UTC", "20261201100000Z", "2026-12-01T10:00:00.000Z", "2026-12-15T10:00:00.000Z",
       "2026-12-09T02:00:00.000Z"},
      // wiki: 11-28T02:00 has passed; the next batch after the change.
      {"11 days late", "UTC", "20261120100000Z", "2026-12-01T10:00:00.000Z", "2026-12-04T10:00:00.000Z",
       "2026-12-02T02:00:00.000Z"},
      {"30 days late", "UTC", "20261101", "2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00.000Z",
       "2026-12-02T02:00:00.000Z"},
      {"future-dated, Auckland date", "Pacific/Auckland", "20261211", "2026-12-10T11:00:00.000Z",
       "2026-12-24T11:00:00.000Z", "2026-12-18T02:00:00.000Z"},
      {"future-dated, Los Angeles date", "America/Los_Angeles", "20261211", "2026-12-11T08:00:00.000Z",
       "2026-12-25T08:00:00.000Z", "2026-12-19T02:00:00.000Z"},
      {"Auckland's 2 December begins an hour after the change", "Pacific/Auckland", "20261202",
       "2026-12-01T11:00:00.000Z", "2026-12-15T11:00:00.000Z", "2026-12-09T02:00:00.000Z"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      world w(fmt::format("effective_date_attribute = \"reclaimEffectiveDate\"\ntime_zone = \"{}\"\n", r.zone));
      json attrs = json::object();
      if (*r.effective) attrs["reclaimEffectiveDate"] = {r.effective};
      w.event("u1", state::active, state::terminated, attrs, "cn=hr,dc=example,dc=com");
      std::map<std::string, std::string> due;
      for (const auto &a : w.p->store().actions("", "", 0)) {
        if (a.kind == action_kind::reclaim_licence) due[a.app] = reclaim::format_utc(a.due);
        if (a.kind == action_kind::revoke_access) BOOST_TEST(reclaim::format_utc(a.due) == r.m365, a.app);
      }
      BOOST_TEST(due["m365"] == r.m365);
      BOOST_TEST(due["drive"] == r.drive);
      BOOST_TEST(due["slack"] == r.drive);
      BOOST_TEST(due["wiki"] == r.wiki);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_person_zone_decides_what_a_date_means) {
  world w("effective_date_attribute = \"reclaimEffectiveDate\"\ntime_zone = \"UTC\"\ntime_zone_attribute = \"tz\"\n");
  w.event("u1", state::active, state::terminated,
          {{"reclaimEffectiveDate", {"20261211"}}, {"tz", {"Pacific/Auckland"}}}, "cn=hr");
  w.event("u2", state::active, state::terminated,
          {{"reclaimEffectiveDate", {"20261211"}}, {"tz", {"America/Los_Angeles"}}}, "cn=hr");
  std::map<std::string, std::string> due;
  for (const auto &a : w.p->store().actions("", "", 0))
    if (a.app == "m365" && a.kind == action_kind::revoke_access) due[a.subject_id] = reclaim::format_utc(a.due);
  BOOST_TEST(due["u1"] == "2026-12-10T11:00:00.000Z");
  BOOST_TEST(due["u2"] == "2026-12-11T08:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(an_unparseable_date_is_reported_and_the_event_still_planned) {
  for (const char *bad : {"next tuesday", "00000101000000Z", "100000101000000Z", "2026-13-01"}) {
    BOOST_TEST_CONTEXT(bad) {
      world w("effective_date_attribute = \"reclaimEffectiveDate\"\n");
      w.event("u1", state::active, state::terminated, {{"reclaimEffectiveDate", {bad}}}, "cn=hr");
      // Planned from the change's own time: nothing lost, nothing early.
      BOOST_TEST(w.dues() == "drive:reclaim_licence=2026-12-15T10:00:00.000Z "
                             "drive:revoke_access=2026-12-01T10:00:00.000Z "
                             "drive:transfer_ownership=2026-12-01T10:00:00.000Z "
                             "m365:reclaim_licence=2026-12-01T10:00:00.000Z "
                             "m365:revoke_access=2026-12-01T10:00:00.000Z "
                             "slack:reclaim_licence=2026-12-15T10:00:00.000Z "
                             "slack:revoke_access=2026-12-01T10:00:00.000Z "
                             "wiki:reclaim_licence=2026-12-09T02:00:00.000Z "
                             "wiki:revoke_access=2026-12-01T10:00:00.000Z");
      BOOST_TEST(w.logs.contains(fmt::format("reclaimEffectiveDate: \"{}\" is not a generalizedTime time", bad)));
      BOOST_TEST(w.logs.contains("due times count from the event time 2026-12-01T10:00:00.000Z"));
    }
  }
}

// Terminated late, rehired, terminated again with the old effective date
// still on the entry: the second termination is not "late".
BOOST_AUTO_TEST_CASE(a_date_left_from_before_a_rehire_is_not_used_again) {
  world w("effective_date_attribute = \"reclaimEffectiveDate\"\n");
  const json old_date = {{"reclaimEffectiveDate", {"20261120100000Z"}}};
  w.event("u1", state::active, state::terminated, old_date, "cn=hr");
  reclaim::set_fixed_now(at("2027-03-01T10:00:00Z"));
  w.event("u1", state::terminated, state::reactivated, old_date, "cn=hr");
  reclaim::set_fixed_now(at("2027-06-01T10:00:00Z"));
  w.event("u1", state::active, state::terminated, old_date, "cn=hr");
  std::vector<std::string> drive;
  for (const auto &a : w.p->store().actions("", "", 0))
    if (a.app == "drive" && a.kind == action_kind::reclaim_licence) drive.push_back(reclaim::format_utc(a.due));
  std::sort(drive.begin(), drive.end());
  BOOST_TEST(fmt::format("{}", fmt::join(drive, " ")) == "2026-12-04T10:00:00.000Z 2027-06-15T10:00:00.000Z");
  BOOST_TEST(w.logs.contains("reclaimEffectiveDate 2026-11-20T10:00:00.000Z is before the reactivation of event 2"));
}

BOOST_AUTO_TEST_CASE(effective_date_config_is_checked) {
  struct row {
    const char *policy;
    const char *error;
  };
  const row rows[] = {
      {"effective_date_attribute = \"reclaimEffectiveDate\"\neffective_date_format = \"rfc2822\"",
       "\"rfc2822\" is not generalized_time, iso8601 or days_since_epoch"},
      {"effective_date_format = \"iso8601\"", "needs policy.effective_date_attribute"},
      {"effective_date_attribute = \"effective date\"", "\"effective date\" is not an attribute name"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.policy) {
      temp_dir dir;
      try {
        reclaim::unit::load_toml(dir, std::string(reclaim::unit::ldap_section) + catalogue + "\n[policy]\n" +
                                          r.policy + "\n");
        BOOST_ERROR("loaded");
      } catch (const reclaim::config_error &e) {
        BOOST_TEST(std::string(e.what()).find(r.error) != std::string::npos, e.what());
      }
    }
  }
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, std::string(reclaim::unit::ldap_section) + catalogue +
                                                     "\n[policy]\neffective_date_attribute = \"reclaimEffectiveDate\"\n"
                                                     "effective_date_format = \"days_since_epoch\"\n");
  BOOST_TEST((cfg.policy.effective_date_format == date_format::days_since_epoch));
  // The intake journals the attribute with every event.
  const auto &needed = cfg.ldap.needed;
  BOOST_TEST((std::find(needed.begin(), needed.end(), "reclaimEffectiveDate") != needed.end()),
             fmt::format("{}", fmt::join(needed, ",")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hold_scope)

// Under a hold: access goes everywhere; licences of applications whose
// reclaim keeps the data (slack) go; data-deleting reclaims and ownership
// transfers wait.
BOOST_AUTO_TEST_CASE(a_hold_defers_only_what_deletes_or_moves_data) {
  world w("");
  w.p->store().add_hold({"u1", "case 2026-17", "cn=legal", t0});
  w.event("u1", state::active, state::terminated, json::object(), "cn=hr");
  w.s->run_due(at("2027-02-01T00:00:00Z"));
  BOOST_TEST(w.statuses() == "drive:reclaim_licence=on_hold drive:revoke_access=done "
                             "drive:transfer_ownership=on_hold m365:reclaim_licence=on_hold "
                             "m365:revoke_access=done slack:reclaim_licence=done slack:revoke_access=done "
                             "wiki:reclaim_licence=on_hold wiki:revoke_access=done");
}

BOOST_AUTO_TEST_CASE(a_rule_may_say_per_action_whether_it_deletes_data) {
  world w("", R"toml(
[[policy.rule]]
name = "leave"
to = ["leave"]
applications = ["m365", "slack"]
actions = [
  { action = "reclaim_licence", delay = "immediate", deletes_data = false },
  { action = "transfer_ownership", delay = "immediate", deletes_data = false },
]

[[policy.rule]]
name = "ended"
to = ["contract_ended"]
applications = ["slack"]
actions = [ { action = "reclaim_licence", delay = "immediate", deletes_data = true } ]
)toml");
  w.p->store().add_hold({"u1", "case 2026-17", "cn=legal", t0});
  w.p->store().add_hold({"u2", "case 2026-17", "cn=legal", t0});
  w.event("u1", state::active, state::leave, json::object(), "cn=hr");
  w.event("u2", state::active, state::contract_ended, json::object(), "cn=hr");
  w.s->run_due(t0);
  std::vector<std::string> got;
  for (const auto &a : w.p->store().actions("", "", 0))
    got.push_back(fmt::format("{}/{}:{}={}", a.subject_id, a.app, reclaim::action_kind_name(a.kind), world::ran(a.status)));
  std::sort(got.begin(), got.end());
  BOOST_TEST(fmt::format("{}", fmt::join(got, " ")) ==
             "u1/m365:reclaim_licence=done u1/m365:transfer_ownership=done u1/slack:reclaim_licence=done "
             "u1/slack:transfer_ownership=done u2/slack:reclaim_licence=on_hold");
}

BOOST_AUTO_TEST_CASE(hold_scope_config_is_checked) {
  temp_dir dir;
  const auto rule = R"toml(
[[policy.rule]]
name = "r"
to = ["terminated"]
applications = ["m365"]
actions = [ { action = "revoke_access", deletes_data = true } ]
)toml";
  try {
    reclaim::unit::load_toml(dir, std::string(reclaim::unit::ldap_section) + catalogue + rule);
    BOOST_ERROR("loaded");
  } catch (const reclaim::config_error &e) {
    BOOST_TEST(std::string(e.what()).find("only reclaim_licence, downgrade_licence and transfer_ownership take "
                                          "deletes_data") != std::string::npos, e.what());
  }
  const auto cfg = reclaim::unit::load_toml(dir, std::string(reclaim::unit::ldap_section) + catalogue);
  BOOST_TEST(cfg.policy.find_app("m365")->reclaim_deletes_data); // the safe default
  BOOST_TEST(!cfg.policy.find_app("slack")->reclaim_deletes_data);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(directory_holds)

const std::string hold_section = "\n[legal_hold]\nattribute = \"businessCategory\"\nvalue = \"Legal-Hold\"\n";
const char *const legal = "cn=legal-team,dc=example,dc=com";

BOOST_AUTO_TEST_CASE(gaining_the_value_places_a_hold_and_losing_it_lifts_it) {
  world w("", hold_section);
  // Termination and the hold value in one change: the hold is on before any
  // data action can run; access still goes.
  w.event("u1", state::active, state::terminated, {{"businessCategory", {"legal-hold", "sales"}}}, legal);
  const auto h = w.p->store().hold("u1");
  BOOST_TEST_REQUIRE(h.has_value());
  BOOST_TEST(h->added_by == legal);
  BOOST_TEST(h->reason.find("directory: businessCategory = legal-hold") == 0u, h->reason);
  w.s->run_due(at("2027-02-01T00:00:00Z"));
  BOOST_TEST(w.statuses().find("drive:transfer_ownership=on_hold") != std::string::npos, w.statuses());
  BOOST_TEST(w.statuses().find("m365:revoke_access=done") != std::string::npos, w.statuses());
  const auto added = w.audited("hold_added");
  BOOST_TEST_REQUIRE(added.size() == 1u);
  BOOST_TEST(added[0]["actor"] == legal);
  BOOST_TEST(added[0]["subject_id"] == "u1");

  // A later change that keeps the value changes nothing.
  w.event("u1", state::terminated, state::deleted,
          {{"businessCategory", {"legal-hold"}}, {"before", {{"businessCategory", {"legal-hold"}}}}}, legal);
  BOOST_TEST(w.audited("hold_added").size() == 1u);

  // The legal team removes the value: the hold is lifted, the waiting
  // actions become due, and both decisions are in the audit log.
  w.event("u1", state::deleted, state::deleted,
          {{"businessCategory", {"sales"}}, {"before", {{"businessCategory", {"legal-hold", "sales"}}}}}, legal);
  BOOST_TEST(!w.p->store().hold("u1").has_value());
  const auto removed = w.audited("hold_removed");
  BOOST_TEST_REQUIRE(removed.size() == 1u);
  BOOST_TEST(removed[0]["actor"] == legal);
  w.s->run_due(at("2027-02-01T00:00:00Z"));
  BOOST_TEST(w.statuses().find("on_hold") == std::string::npos, w.statuses());
}

BOOST_AUTO_TEST_CASE(a_hold_set_with_reclaimctl_is_not_lifted_by_the_directory) {
  world w("", hold_section);
  w.p->store().add_hold({"u1", "case 2026-17", "alice", t0});
  w.event("u1", state::active, state::terminated,
          {{"businessCategory", {"sales"}}, {"before", {{"businessCategory", {"legal-hold"}}}}}, legal);
  const auto h = w.p->store().hold("u1");
  BOOST_TEST_REQUIRE(h.has_value());
  BOOST_TEST(h->reason == "case 2026-17");
  BOOST_TEST(w.audited("hold_removed").empty());
}

// Events that do not carry the attribute (journalled before it was
// configured, or from a source that does not send it) neither place nor
// lift a hold: absence is no evidence.
BOOST_AUTO_TEST_CASE(an_event_without_the_attribute_changes_no_hold) {
  world w("", hold_section);
  w.event("u1", state::active, state::terminated, {{"businessCategory", {"legal-hold"}}}, legal);
  BOOST_TEST_REQUIRE(w.p->store().hold("u1").has_value());
  w.event("u1", state::terminated, state::deleted, json::object(), "cn=hr");
  w.event("u1", state::deleted, state::deleted, {{"before", json::object()}}, "cn=hr");
  BOOST_TEST(w.p->store().hold("u1").has_value());
  w.event("u2", state::active, state::terminated, {{"businessCategory", {"legal"}}}, "cn=hr");
  BOOST_TEST(!w.p->store().hold("u2").has_value());
  BOOST_TEST(w.audited("hold_added").size() == 1u);
  BOOST_TEST(w.audited("hold_removed").empty());
}

BOOST_AUTO_TEST_CASE(legal_hold_config_is_checked_and_journalled) {
  struct row {
    const char *section;
    const char *error;
  };
  const row rows[] = {
      {"[legal_hold]\nattribute = \"businessCategory\"\n", "legal_hold.value: is required"},
      {"[legal_hold]\nvalue = \"legal-hold\"\n", "legal_hold.attribute: is required"},
      {"[legal_hold]\nattribute = \"1bad\"\nvalue = \"x\"\n", "\"1bad\" is not an attribute name"},
      {"[legal_hold]\nattribute = \"businessCategory\"\nvalue = \"x\"\nscim = true\n", "scim"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.section) {
      temp_dir dir;
      try {
        reclaim::unit::load_toml(dir, std::string(reclaim::unit::ldap_section) + catalogue + "\n" + r.section);
        BOOST_ERROR("loaded");
      } catch (const reclaim::config_error &e) {
        BOOST_TEST(std::string(e.what()).find(r.error) != std::string::npos, e.what());
      }
    }
  }
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, std::string(reclaim::unit::ldap_section) + catalogue + hold_section);
  BOOST_TEST(cfg.policy.legal_hold.value == "legal-hold");
  const auto &needed = cfg.ldap.needed;
  BOOST_TEST((std::find(needed.begin(), needed.end(), "businessCategory") != needed.end()),
             fmt::format("{}", fmt::join(needed, ",")));
}

BOOST_AUTO_TEST_SUITE_END()
