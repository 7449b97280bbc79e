// test_person_join.cpp — [engine] person_keys: events from ldap, scim and
// hr whose key values match (case and spaces aside) are journalled under one
// subject; keys naming two people are a conflict, never a silent merge; and
// an HR termination of a person the directory already terminated is planned
// once, not twice.
#include "engine/engine.hpp"
#include "policy/planner.hpp"
#include "policy_fixture.hpp"
#include "store/journal.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

using reclaim::state;
using reclaim::unit::temp_dir;

struct step {
  const char *source, *subject, *attrs;
  const char *expect_subject; // journalled under
  bool conflict = false;
};

struct join_case {
  const char *name;
  std::vector<std::string> keys;
  std::vector<step> steps;
};

reclaim::event_record make_event(const step &s, int n) {
  reclaim::event_record ev;
  ev.idempotency_key = fmt::format("{}/{}", s.subject, n);
  ev.subject_id = s.subject;
  ev.source = s.source;
  ev.current = state::terminated;
  ev.time = ev.recorded = reclaim::now();
  ev.attributes_json = s.attrs;
  return ev;
}

} // namespace

BOOST_AUTO_TEST_SUITE(person_join)

BOOST_AUTO_TEST_CASE(events_sharing_a_key_are_one_subject) {
  const std::vector<join_case> cases = {
      {"ldap add, then hr terminate",
       {"employeeNumber", "mail"},
       {{"ldap", "uuid-1", R"({"employeeNumber":["21001"],"dn":"uid=a,dc=example,dc=com"})", "uuid-1"},
        {"hr", "21001", R"({"employeeNumber":["21001"],"mail":["a@example.com"]})", "uuid-1"}}},
      {"scim, then ldap (case and spaces differ)",
       {"mail"},
       {{"scim", "scim-7", R"({"mail":["Jane.Doe@Example.com"]})", "scim-7"},
        {"ldap", "uuid-2", R"({"MAIL":["  jane.doe@example.COM "]})", "scim-7"}}},
      {"a key learnt from a joined event joins later ones",
       {"employeeNumber", "mail"},
       {{"ldap", "uuid-3", R"({"employeeNumber":["5"]})", "uuid-3"},
        {"hr", "5", R"({"employeeNumber":["5"],"mail":["x@example.com"]})", "uuid-3"},
        {"scim", "scim-9", R"({"mail":["x@example.com"]})", "uuid-3"}}},
      {"conflicting keys: journalled as itself",
       {"employeeNumber", "mail"},
       {{"ldap", "uuid-4", R"({"employeeNumber":["1"]})", "uuid-4"},
        {"ldap", "uuid-5", R"({"mail":["b@example.com"]})", "uuid-5"},
        {"hr", "1", R"({"employeeNumber":["1"],"mail":["b@example.com"]})", "1", true}}},
      {"a person with keys of its own is not merged into another",
       {"employeeNumber", "mail"},
       {{"ldap", "uuid-6", R"({"employeeNumber":["6"]})", "uuid-6"},
        {"scim", "scim-6", R"({"mail":["c@example.com"]})", "scim-6"},
        {"ldap", "uuid-6", R"({"mail":["c@example.com"]})", "uuid-6", true}}},
      {"different values: two people",
       {"employeeNumber"},
       {{"ldap", "uuid-7", R"({"employeeNumber":["7"]})", "uuid-7"},
        {"hr", "8", R"({"employeeNumber":["8"]})", "8"}}},
      {"no person_keys: no join",
       {},
       {{"ldap", "uuid-9", R"({"employeeNumber":["9"]})", "uuid-9"},
        {"hr", "9", R"({"employeeNumber":["9"]})", "9"}}},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      temp_dir dir;
      reclaim::journal j(dir / "journal.sqlite3", reclaim::sqlite::durability::normal);
      j.join_people(c.keys);
      int n = 0;
      for (const auto &s : c.steps) {
        auto ev = make_event(s, ++n);
        BOOST_TEST_REQUIRE(j.append(ev));
        BOOST_TEST(ev.subject_id == s.expect_subject);
        BOOST_TEST(ev.person_conflict.empty() == !s.conflict, ev.person_conflict);
        const auto stored = j.events({})[static_cast<size_t>(n - 1)];
        BOOST_TEST(stored.subject_id == s.expect_subject);
        const auto attrs = nlohmann::json::parse(stored.attributes_json);
        if (std::string(s.subject) != s.expect_subject) BOOST_TEST(attrs.value("source_subject_id", "") == s.subject);
        BOOST_TEST(attrs.contains("person_conflict") == s.conflict);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(an_hr_termination_of_a_terminated_person_is_planned_once) {
  temp_dir dir;
  reclaim::set_fixed_now(reclaim::unit::at("2027-01-10T10:00:00Z"));
  const auto text = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\nperson_keys = [\"employeeNumber\"]\n{}{}{}",
                                (dir / "state").string(), reclaim::unit::ldap_section, reclaim::unit::apps_text({}),
                                reclaim::unit::leavers_rule);
  const auto cfg = reclaim::unit::load_toml(dir, text);
  reclaim::unit::log_capture logs;
  const auto log = logs.make();
  reclaim::journal j(cfg.journal_path(), reclaim::sqlite::durability::normal);
  j.join_people(cfg.engine.person_keys);
  reclaim::planner p(cfg, j, log);
  auto ldap = make_event({"ldap", "uuid-1", R"({"employeeNumber":["21001"]})", ""}, 1);
  ldap.previous = state::active;
  BOOST_TEST_REQUIRE(j.append(ldap));
  p.plan_pending();
  const auto actions = p.store().actions("", "", 0).size();
  BOOST_TEST_REQUIRE(actions > 0u);
  auto hr = make_event({"hr", "21001", R"({"employeeNumber":["21001"]})", ""}, 2);
  BOOST_TEST_REQUIRE(j.append(hr));
  p.plan_pending();
  BOOST_TEST(p.store().actions("", "", 0).size() == actions); // the same person: nothing twice
  BOOST_TEST(p.store().plans("", "21001").empty());
  reclaim::set_fixed_now(std::nullopt);
}

// Through the engine: a directory add goes the writer thread's way, an HR
// event reclaim_submit's way (engine::submit); both journals join people.
BOOST_AUTO_TEST_CASE(the_engine_joins_a_directory_add_and_an_hr_submit) {
  temp_dir dir;
  reclaim::unit::write_file(dir / "reclaim.toml",
                            fmt::format("[engine]\nstate_dir = \"{}\"\nbackground_priority = \"nice\"\n"
                                        "person_keys = [\"employeeNumber\"]\n{}",
                                        (dir / "state").string(), reclaim::unit::ldap_section));
  reclaim::open_options o;
  o.config_path = dir / "reclaim.toml";
  reclaim::engine e(o);
  const auto &names = e.ldap_attribute_names();
  BOOST_TEST((std::find(names.begin(), names.end(), "employeeNumber") != names.end()));
  reclaim::ldap::change add;
  add.op = reclaim::ldap::operation::add;
  add.after = reclaim::unit::make_entry("uid=ann,ou=People,dc=example,dc=com",
                                        {{"objectClass", {"inetOrgPerson"}}, {"entryUUID", {"uuid-ann"}},
                                         {"entryCSN", {"20261127230108.000001Z#000000#000#000000"}},
                                         {"employeeNumber", {"21001"}}, {"employeeType", {"leaver"}}});
  add.time = reclaim::now();
  e.ldap_submit(add);
  BOOST_TEST_REQUIRE(e.flush(std::chrono::seconds(20)));
  auto hr = make_event({"hr", "21001", R"({"employeeNumber":[" 21001 "]})", ""}, 1);
  BOOST_TEST_REQUIRE(e.submit(hr));
  const auto events = reclaim::read_events(dir / "state" / "journal.sqlite3", {});
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].subject_id == "uuid-ann");
  BOOST_TEST(events[1].source == "hr");
  BOOST_TEST(events[1].subject_id == "uuid-ann");
}

BOOST_AUTO_TEST_SUITE_END()
