// catch_up_test.cpp — changes made while the plugin was not loaded (or lost
// in a crash) are journalled when the plugin starts again, from the
// directory's own entryCSN, with source "ldap-catchup", exactly once even
// after further restarts; and the live path works again afterwards.
// Catch-up runs before the first client write after a start is applied
// (docs/journal.md explains why not in the start function), so each restart
// is followed by a write to an organizational unit, which is no event.
#define BOOST_TEST_MODULE ldap_catch_up
#include "scenario.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sqlite3.h>
#include <sstream>

using namespace reclaim::test;

namespace {

directory_options seeded() {
  directory_options o;
  o.seed_ldif = seed_ldif(person_ldif("cu.alice", "employeeType: employee\n") +
                          person_ldif("cu.bob", "employeeType: employee\n") +
                          person_ldif("cu.carol", "employeeType: leave\n"));
  return o;
}

// A client write that is no status change: it lets catch-up run.
void first_write(directory &d) {
  BOOST_REQUIRE(d.ldap().modify("ou=People,dc=example,dc=com",
                                {{mod_op::replace, "description", {"first write after start"}}}) == 0);
}

void sql(const std::filesystem::path &db_path, const std::string &statements) {
  sqlite3 *db = nullptr;
  BOOST_REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char *error = nullptr;
  const int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, message);
}

int64_t sql_count(const std::filesystem::path &db_path, const std::string &query) {
  sqlite3 *db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt *st = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

void set_engine_key(const std::filesystem::path &config, const std::string &line) {
  std::ifstream in(config);
  std::stringstream text;
  text << in.rdbuf();
  auto s = text.str();
  const auto at = s.find("[engine]\n");
  BOOST_REQUIRE(at != std::string::npos);
  s.insert(at + 9, line + "\n");
  std::ofstream(config) << s;
}

} // namespace

// A modify reaches the engine as its modifications, applied to the
// journal's copy of the person. A store written by 0.1 has no such copies:
// the first start fills them from the directory, keeping recorded states.
BOOST_AUTO_TEST_CASE(store_without_copies_is_filled_at_start) {
  directory d(seeded(), "upgrade");
  d.start();
  first_write(d); // the baseline
  d.events().wait_readable();
  d.stop();
  // A clean stop folds the people's log into subjects.
  BOOST_TEST(sql_count(d.state_dir() / "journal.sqlite3", "SELECT count(*) FROM subject_log") == 0);
  BOOST_TEST(sql_count(d.state_dir() / "journal.sqlite3", "SELECT count(*) FROM subjects WHERE entry <> ''") >= 3);
  sql(d.state_dir() / "journal.sqlite3",
      "DROP VIEW subjects_now; DROP TABLE subject_log; DROP INDEX subjects_ndn;" // a clean stop left the log empty
      " ALTER TABLE subjects DROP COLUMN entry; ALTER TABLE subjects DROP COLUMN ndn;");
  d.start();
  first_write(d);
  const auto alice = d.modify(person_dn("cu.alice"), {{mod_op::replace, "employeeType", {"terminated"}}});
  const auto bob = d.modify(person_dn("cu.bob"), {{mod_op::replace, "title", {"Engineer"}}});
  const auto carol = d.modify(person_dn("cu.carol"), {{mod_op::replace, "employeeType", {"employee"}}});
  expect_events(d, 0,
                {change_of(alice, "active", "terminated"), change_of(bob, "active", "transferred"),
                 change_of(carol, "leave", "reactivated")},
                "modifies after the upgrade");
  BOOST_TEST(d.slapd().plugin_log().find("copied the watched attributes of 3 people") != std::string::npos,
             d.slapd().plugin_log());
}

// A full journal queue never makes slapd wait: the change is dropped, and
// once the queue has drained the next operation's callback runs catch-up
// from the dropped change's entryCSN. With a limit of one byte every
// change is dropped.
BOOST_AUTO_TEST_CASE(full_queue_drops_and_catches_up) {
  directory d(seeded(), "overflow");
  set_engine_key(d.config_path(), "queue_limit_bytes = 1");
  d.start();
  first_write(d); // the baseline
  d.events().wait_readable();
  const auto alice = d.modify(person_dn("cu.alice"), {{mod_op::replace, "employeeType", {"terminated"}}});
  BOOST_TEST(d.events().wait_after(0, 0).empty());
  // Its callback catches alice up (and carol, whose change is applied by then).
  const auto carol = d.modify(person_dn("cu.carol"), {{mod_op::replace, "employeeType", {"employee"}}});
  first_write(d);
  expect_events(d, 0,
                {change_of(alice, "active", "terminated", "ldap-catchup"),
                 change_of(carol, "leave", "reactivated", "ldap-catchup")},
                "dropped changes recovered");
  BOOST_TEST(d.slapd().plugin_log().find("journal queue full") != std::string::npos, d.slapd().plugin_log());
}

BOOST_AUTO_TEST_CASE(changes_made_without_the_plugin_are_caught_up_once) {
  directory d(seeded(), "catchup");
  d.start();
  first_write(d); // the baseline
  d.events().wait_readable();
  const auto dave = d.add_person("cu.dave");
  const std::vector<expected_event> live = {change_of(dave, "none", "active")};
  expect_events(d, 0, live, "live add before the plugin is taken out");

  // slapd without the plugin: terminate alice, bring carol back, add erin,
  // change only bob's description.
  d.restart(false);
  const auto alice =
      d.modify(person_dn("cu.alice"), {{mod_op::replace, "employeeType", {"terminated"}}});
  const auto carol =
      d.modify(person_dn("cu.carol"), {{mod_op::replace, "employeeType", {"employee"}}});
  d.modify(person_dn("cu.bob"), {{mod_op::replace, "description", {"unrelated"}}});
  const auto erin = d.add_person("cu.erin");

  d.restart(true);
  first_write(d);
  const std::vector<expected_event> caught = {
      change_of(alice, "active", "terminated", "ldap-catchup"),
      change_of(carol, "leave", "reactivated", "ldap-catchup"),
      change_of(erin, "none", "active", "ldap-catchup"),
  };
  const auto after_first = d.events().wait_after(1, caught.size());
  check_events(after_first, caught, "first start with the plugin again");

  d.restart(true);
  first_write(d);
  check_events(d.events().wait_after(1, caught.size()), caught,
               "second restart: nothing journalled twice");

  const auto m = d.events().last_seq();
  const auto bob = d.modify(person_dn("cu.bob"), {{mod_op::replace, "employeeType", {"terminated"}}});
  expect_events(d, m, {change_of(bob, "active", "terminated")}, "live path after catch-up");
}

BOOST_AUTO_TEST_CASE(change_lost_in_a_crash_is_journalled_exactly_once) {
  directory d(seeded(), "crash");
  d.start();
  first_write(d); // the baseline
  d.events().wait_readable();
  // Kill slapd right after the server acknowledged the change: the journal
  // write may or may not have happened. Either way, after the restart the
  // change must be in the journal exactly once (live or caught up).
  auto &ldap = d.ldap();
  BOOST_REQUIRE(ldap.modify(person_dn("cu.alice"), {{mod_op::replace, "employeeType", {"terminated"}}}) == 0);
  BOOST_REQUIRE(ldap.modify(person_dn("cu.bob"), {{mod_op::replace, "employeeType", {"leave"}}}) == 0);
  d.slapd().kill_hard();
  d.start();
  first_write(d);
  const auto alice = d.read(person_dn("cu.alice"));
  const auto bob = d.read(person_dn("cu.bob"));
  const auto events = d.events().wait_after(0, 2);
  std::vector<expected_event> expected = {change_of(alice, "active", "terminated"),
                                          change_of(bob, "active", "leave")};
  // The source tells which path saved it; both are right.
  for (std::size_t i = 0; i < expected.size(); ++i) {
    for (const auto &e : events) {
      if (e.subject_id == expected[i].subject_id && e.source == "ldap-catchup") {
        expected[i].source = "ldap-catchup";
      }
    }
  }
  check_events(events, expected, "after kill -9 and restart");
  d.restart(true);
  first_write(d);
  check_events(d.events().wait_after(0, 2), expected, "after one more restart");
}
