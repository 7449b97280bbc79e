// events_test.cpp — one slapd (slapd.conf form, plugin loaded) driven with
// real LDAP operations; each case asserts the exact journal entries its
// operations produce: add, the state rules of the shipped reclaim.toml
// (employeeType, shadowExpire, nsAccountLock, userAccountControl,
// pwdAccountLockedTime), transfers, reactivation, moves, renames, deletes,
// and the changes that must produce nothing (unwatched attributes, failed
// operations, non-person entries). Every case uses its own people.
#define BOOST_TEST_MODULE ldap_events
#include "scenario.hpp"

#include <boost/test/unit_test.hpp>

#include <ldap.h>
#include <memory>

using namespace reclaim::test;

namespace {

// People present before the plugin's first start: its baseline.
const std::string baseline_people =
    person_ldif("base.active", "employeeType: employee\ntitle: Engineer\n") +
    person_ldif("base.leave", "employeeType: leave\n") +
    person_ldif("base.terminated", "employeeType: terminated\n") +
    person_ldif("base.locked", "nsAccountLock: TRUE\n") +
    person_ldif("base.left", "", leavers_ou);

struct suite_directory {
  suite_directory() {
    directory_options o;
    o.seed_ldif = seed_ldif(baseline_people);
    instance = std::make_unique<directory>(o, "events");
    instance->start();
    instance->events().wait_readable();
    // Waits the quiet period: a start-up catch-up could (wrongly) write.
    initial_journal = instance->events().wait_after(0, 0);
  }
  ~suite_directory() { instance.reset(); }

  static std::unique_ptr<directory> instance;
  static std::vector<journal_event> initial_journal;
};
std::unique_ptr<directory> suite_directory::instance;
std::vector<journal_event> suite_directory::initial_journal;

directory &dir() { return *suite_directory::instance; }
std::int64_t mark() { return dir().events().settled_seq(); }

using mods = std::vector<ldap_modification>;

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(suite_directory);

BOOST_AUTO_TEST_CASE(first_start_records_baseline_without_events) {
  check_events(suite_directory::initial_journal, {}, "journal right after the first start");
  BOOST_TEST(std::filesystem::exists(dir().state_dir() / "journal.sqlite3"));
}

BOOST_AUTO_TEST_CASE(baseline_states_are_remembered) {
  const auto m = mark();
  auto &d = dir();
  const auto leave = d.modify(person_dn("base.leave"), {{mod_op::replace, "employeeType", {"employee"}}});
  const auto term =
      d.modify(person_dn("base.terminated"), {{mod_op::replace, "employeeType", {"employee"}}});
  const auto locked = d.modify(person_dn("base.locked"), {{mod_op::remove, "nsAccountLock", {}}});
  const auto active = d.modify(person_dn("base.active"), {{mod_op::replace, "title", {"Manager"}}});
  const auto left = d.modify(person_dn("base.left", leavers_ou),
                             {{mod_op::replace, "employeeType", {"terminated"}}});
  // base.left was terminated by its OU already: no state change, no event.
  (void)left;
  expect_events(d, m,
                {change_of(leave, "leave", "reactivated"),
                 change_of(term, "terminated", "reactivated"),
                 change_of(locked, "leave", "reactivated"),
                 change_of(active, "active", "transferred")},
                "baseline people changed after the first start");
}

BOOST_AUTO_TEST_CASE(add_person_is_recorded_with_rule_state) {
  const auto m = mark();
  auto &d = dir();
  const auto plain = d.add_person("add.plain");
  const auto contractor = d.add_person("add.contractor", {{"employeeType", {"contract-ended"}}});
  const auto on_leave = d.add_person("add.leave", {{"employeeStatus", {"suspended"}}});
  expect_events(d, m,
                {change_of(plain, "none", "active"), change_of(contractor, "none", "contract_ended"),
                 change_of(on_leave, "none", "leave")},
                "three adds");
}

BOOST_AUTO_TEST_CASE(employee_type_terminated_then_reactivated) {
  auto &d = dir();
  const auto p = d.add_person("et.term", {{"employeeType", {"employee"}}});
  auto m = mark();
  const auto t = d.modify(p.dn, {{mod_op::replace, "employeeType", {"terminated"}}});
  expect_events(d, m, {change_of(t, "active", "terminated")}, "employeeType terminated");
  m = mark();
  const auto r = d.modify(p.dn, {{mod_op::replace, "employeeType", {"employee"}}});
  expect_events(d, m, {change_of(r, "terminated", "reactivated")}, "employeeType back");
}

BOOST_AUTO_TEST_CASE(employee_type_leave_then_back) {
  auto &d = dir();
  const auto p = d.add_person("et.leave");
  auto m = mark();
  const auto l = d.modify(p.dn, {{mod_op::add, "employeeType", {"parental-leave"}}});
  expect_events(d, m, {change_of(l, "active", "leave")}, "employeeType parental-leave");
  m = mark();
  const auto r = d.modify(p.dn, {{mod_op::remove, "employeeType", {}}});
  expect_events(d, m, {change_of(r, "leave", "reactivated")}, "employeeType removed");
}

BOOST_AUTO_TEST_CASE(employee_status_terminated) {
  auto &d = dir();
  const auto p = d.add_person("es.term", {{"employeeStatus", {"active"}}});
  const auto m = mark();
  const auto t = d.modify(p.dn, {{mod_op::replace, "employeeStatus", {"Inactive"}}});
  expect_events(d, m, {change_of(t, "active", "terminated")},
                "employeeStatus Inactive (rules compare case-insensitively)");
}

BOOST_AUTO_TEST_CASE(shadow_expire_in_the_past_is_contract_ended) {
  auto &d = dir();
  const auto future = std::to_string(days_since_epoch_today() + 3650);
  const auto past = std::to_string(days_since_epoch_today() - 30);
  const auto p = d.add_person("shadow", {{"shadowExpire", {future}}});
  auto m = mark();
  // The example config names shadowExpire as the contract end date: a
  // moved date is an event without a state change, so the contract plan
  // can follow it (docs/policy.md).
  const auto moved = d.modify(p.dn, {{mod_op::replace, "shadowExpire", {std::to_string(days_since_epoch_today() + 7)}}});
  expect_events(d, m, {change_of(moved, "active", "active")}, "shadowExpire moved but still in the future");
  m = mark();
  const auto e = d.modify(p.dn, {{mod_op::replace, "shadowExpire", {past}}});
  expect_events(d, m, {change_of(e, "active", "contract_ended")}, "shadowExpire in the past");
  m = mark();
  const auto r = d.modify(p.dn, {{mod_op::remove, "shadowExpire", {}}});
  expect_events(d, m, {change_of(r, "contract_ended", "reactivated")}, "shadowExpire removed");
}

BOOST_AUTO_TEST_CASE(ns_account_lock_is_leave) {
  auto &d = dir();
  const auto p = d.add_person("nslock", {{"nsAccountLock", {"FALSE"}}});
  auto m = mark();
  const auto l = d.modify(p.dn, {{mod_op::replace, "nsAccountLock", {"TRUE"}}});
  expect_events(d, m, {change_of(l, "active", "leave")}, "nsAccountLock TRUE");
  m = mark();
  const auto r = d.modify(p.dn, {{mod_op::replace, "nsAccountLock", {"FALSE"}}});
  expect_events(d, m, {change_of(r, "leave", "reactivated")}, "nsAccountLock FALSE");
}

BOOST_AUTO_TEST_CASE(user_account_control_bit_2_is_leave) {
  auto &d = dir();
  const auto p = d.add_person("uac", {{"userAccountControl", {"512"}}});
  auto m = mark();
  const auto l = d.modify(p.dn, {{mod_op::replace, "userAccountControl", {"514"}}});
  expect_events(d, m, {change_of(l, "active", "leave")}, "userAccountControl 514");
  m = mark();
  const auto r = d.modify(p.dn, {{mod_op::replace, "userAccountControl", {"66048"}}});
  expect_events(d, m, {change_of(r, "leave", "reactivated")},
                "userAccountControl 66048 (0x10200: bit 2 clear)");
}

BOOST_AUTO_TEST_CASE(pwd_account_locked_time_admin_lock_is_leave) {
  auto &d = dir();
  const auto p = d.add_person("pwdlock");
  auto m = mark();
  const auto sentinel = d.make_sentinel("pwdlock.sentinel");
  // A temporary lockout (a real time stamp) is not a status change.
  const int rc = d.ldap().modify(p.dn, {{mod_op::replace, "pwdAccountLockedTime",
                                         {"20240101000000Z"}}});
  BOOST_REQUIRE_MESSAGE(rc == 0, "ppolicy refused the rootdn a pwdAccountLockedTime: "
                                     << ldap_error_name(rc) << " " << d.ldap().last_message());
  expect_events(d, m, {change_of(sentinel.entry, "none", "active")},
                "temporary lockout: no event");
  m = mark();
  const auto l = d.modify(p.dn, {{mod_op::replace, "pwdAccountLockedTime", {"000001010000Z"}}});
  expect_events(d, m, {change_of(l, "active", "leave")}, "pwdAccountLockedTime 000001010000Z");
  m = mark();
  const auto r = d.modify(p.dn, {{mod_op::remove, "pwdAccountLockedTime", {}}});
  expect_events(d, m, {change_of(r, "leave", "reactivated")}, "pwdAccountLockedTime removed");
}

BOOST_AUTO_TEST_CASE(department_or_title_change_is_transfer) {
  auto &d = dir();
  const auto a = d.add_person("xfer.dept", {{"departmentNumber", {"100"}}});
  const auto b = d.add_person("xfer.title", {{"title", {"Engineer"}}});
  const auto c = d.add_person("xfer.newdept");
  const auto m = mark();
  const auto a2 = d.modify(a.dn, {{mod_op::replace, "departmentNumber", {"200"}}});
  const auto b2 = d.modify(b.dn, {{mod_op::replace, "title", {"Director"}}});
  const auto c2 = d.modify(c.dn, {{mod_op::add, "departmentNumber", {"300"}}});
  expect_events(d, m,
                {change_of(a2, "active", "transferred"), change_of(b2, "active", "transferred"),
                 change_of(c2, "active", "transferred")},
                "departmentNumber / title changes");
}

BOOST_AUTO_TEST_CASE(unwatched_attribute_change_has_no_event) {
  auto &d = dir();
  const auto p = d.add_person("unwatched", {{"title", {"Engineer"}}});
  const auto sentinel = d.make_sentinel("unwatched.sentinel");
  const auto m = mark();
  d.modify(p.dn, {{mod_op::add, "description", {"likes tea"}}});
  d.modify(p.dn, {{mod_op::replace, "description", {"likes coffee"}},
                  {mod_op::add, "mail", {"u@example.com"}},
                  {mod_op::replace, "telephoneNumber", {"+1 555 0100"}}});
  d.modify(p.dn, {{mod_op::replace, "title", {"Engineer"}}}); // same value again
  d.modify(p.dn, {{mod_op::replace, "employeeType", {"employee"}}}); // still active
  const auto s = d.trip_sentinel(sentinel);
  expect_events(d, m, {change_of(s, "active", "terminated")},
                "description/mail/telephoneNumber, an unchanged title and an active employeeType");
}

BOOST_AUTO_TEST_CASE(failed_operations_have_no_event) {
  auto &d = dir();
  auto &ldap = d.ldap();
  const auto p = d.add_person("failing", {{"employeeType", {"employee"}}});
  const auto sentinel = d.make_sentinel("failing.sentinel");
  const auto m = mark();
  BOOST_TEST(ldap.modify(person_dn("failing.nobody"),
                         {{mod_op::replace, "employeeType", {"terminated"}}}) == LDAP_NO_SUCH_OBJECT);
  // employeeType would terminate, but dc is not allowed: the whole modify fails.
  BOOST_TEST(ldap.modify(p.dn, {{mod_op::replace, "employeeType", {"terminated"}},
                                {mod_op::add, "dc", {"nope"}}}) == LDAP_OBJECT_CLASS_VIOLATION);
  BOOST_TEST(ldap.modify(p.dn, {{mod_op::replace, "employeeType", {"terminated"}},
                                {mod_op::replace, "shadowExpire", {"yesterday"}}}) ==
             LDAP_INVALID_SYNTAX);
  BOOST_TEST(ldap.modify(p.dn, {{mod_op::replace, "employeeType", {"leave"}},
                                {mod_op::remove, "mail", {"absent@example.com"}}}) ==
             LDAP_NO_SUCH_ATTRIBUTE);
  BOOST_TEST(ldap.add(p.dn, person_attributes("failing")) == LDAP_ALREADY_EXISTS);
  BOOST_TEST(ldap.add(person_dn("failing.nosn"),
                      {{"objectClass", {"inetOrgPerson"}}, {"uid", {"failing.nosn"}},
                       {"cn", {"x"}}}) == LDAP_OBJECT_CLASS_VIOLATION);
  BOOST_TEST(ldap.remove(person_dn("failing.nobody")) == LDAP_NO_SUCH_OBJECT);
  BOOST_TEST(ldap.rename(person_dn("failing.nobody"), "uid=x", leavers_ou) == LDAP_NO_SUCH_OBJECT);
  BOOST_TEST(ldap.rename(p.dn, "uid=failing", std::string("ou=Nowhere,dc=example,dc=com")) ==
             LDAP_NO_SUCH_OBJECT);
  BOOST_TEST(ldap.rename(p.dn, "uid=failing.sentinel", std::nullopt) == LDAP_ALREADY_EXISTS);
  const auto s = d.trip_sentinel(sentinel);
  expect_events(d, m, {change_of(s, "active", "terminated")}, "ten failing operations");
  BOOST_TEST(d.read(p.dn).first("employeeType") == "employee");
}

BOOST_AUTO_TEST_CASE(move_to_leavers_is_terminated) {
  auto &d = dir();
  const auto p = d.add_person("mover");
  auto m = mark();
  BOOST_REQUIRE(d.ldap().rename(p.dn, "uid=mover", leavers_ou) == 0);
  const auto moved = d.read(person_dn("mover", leavers_ou));
  BOOST_TEST(moved.first("entryUUID") == p.first("entryUUID"));
  expect_events(d, m, {change_of(moved, "active", "terminated")}, "modrdn into ou=Leavers");
  m = mark();
  BOOST_REQUIRE(d.ldap().rename(moved.dn, "uid=mover", people_ou) == 0);
  const auto back = d.read(person_dn("mover"));
  expect_events(d, m, {change_of(back, "terminated", "reactivated")}, "modrdn back to ou=People");
}

BOOST_AUTO_TEST_CASE(rename_within_people_has_no_state_event) {
  auto &d = dir();
  const auto p = d.add_person("renamed.old");
  const auto sentinel = d.make_sentinel("renamed.sentinel");
  auto m = mark();
  BOOST_REQUIRE(d.ldap().rename(p.dn, "uid=renamed.new", std::nullopt) == 0);
  const auto s = d.trip_sentinel(sentinel);
  expect_events(d, m, {change_of(s, "active", "terminated")}, "rename inside ou=People");
  // The renamed person is still the same subject, under its new name.
  m = mark();
  const auto t = d.modify(person_dn("renamed.new"), {{mod_op::replace, "employeeType", {"resigned"}}});
  BOOST_TEST(t.first("entryUUID") == p.first("entryUUID"));
  expect_events(d, m, {change_of(t, "active", "terminated")}, "terminate after rename");
}

BOOST_AUTO_TEST_CASE(delete_records_previous_state) {
  auto &d = dir();
  const auto active = d.add_person("del.active");
  const auto leaving = d.add_person("del.term");
  auto m = mark();
  const auto t = d.modify(leaving.dn, {{mod_op::replace, "employeeType", {"terminated"}}});
  expect_events(d, m, {change_of(t, "active", "terminated")}, "terminate before delete");
  m = mark();
  BOOST_REQUIRE(d.ldap().remove(active.dn) == 0);
  BOOST_REQUIRE(d.ldap().remove(t.dn) == 0);
  expect_events(d, m, {deletion_of(active, "active"), deletion_of(t, "terminated")},
                "delete an active and a terminated person");
}

BOOST_AUTO_TEST_CASE(delete_of_baseline_person) {
  auto &d = dir();
  const auto left = d.read(person_dn("base.left", leavers_ou));
  const auto m = mark();
  BOOST_REQUIRE(d.ldap().remove(left.dn) == 0);
  expect_events(d, m, {deletion_of(left, "terminated")}, "delete a person known from the baseline");
}

BOOST_AUTO_TEST_CASE(non_person_entries_are_ignored) {
  auto &d = dir();
  auto &ldap = d.ldap();
  const auto sentinel = d.make_sentinel("nonperson.sentinel");
  const auto m = mark();
  const std::string ou = "ou=Projects,dc=example,dc=com";
  BOOST_REQUIRE(ldap.add(ou, {{"objectClass", {"organizationalUnit"}}, {"ou", {"Projects"}}}) == 0);
  BOOST_REQUIRE(ldap.modify(ou, {{mod_op::add, "description", {"all projects"}}}) == 0);
  const std::string group = "cn=staff,ou=Groups,dc=example,dc=com";
  BOOST_REQUIRE(ldap.add(group, {{"objectClass", {"groupOfNames"}},
                                 {"cn", {"staff"}},
                                 {"member", {sentinel.entry.dn}}}) == 0);
  BOOST_REQUIRE(ldap.modify(group, {{mod_op::replace, "businessCategory", {"terminated"}}}) == 0);
  BOOST_REQUIRE(ldap.rename(group, "cn=staff", leavers_ou) == 0);
  BOOST_REQUIRE(ldap.remove("cn=staff," + leavers_ou) == 0);
  BOOST_REQUIRE(ldap.rename(ou, "ou=Projects2", std::nullopt) == 0);
  BOOST_REQUIRE(ldap.remove("ou=Projects2,dc=example,dc=com") == 0);
  const auto s = d.trip_sentinel(sentinel);
  expect_events(d, m, {change_of(s, "active", "terminated")},
                "organizationalUnit and groupOfNames: add, modify, move to Leavers, delete");
}

BOOST_AUTO_TEST_CASE(quick_succession_on_one_person) {
  auto &d = dir();
  const auto p = d.add_person("burst");
  const auto q = d.add_person("burst.other");
  const auto m = mark();
  auto &ldap = d.ldap();
  // No waiting between the operations: callbacks may overlap in slapd's
  // worker threads, the journal must still hold both changes in order.
  BOOST_REQUIRE(ldap.modify(p.dn, {{mod_op::replace, "employeeType", {"terminated"}}}) == 0);
  BOOST_REQUIRE(ldap.modify(q.dn, {{mod_op::replace, "employeeType", {"leave"}}}) == 0);
  BOOST_REQUIRE(ldap.modify(p.dn, {{mod_op::replace, "employeeType", {"employee"}}}) == 0);
  const auto r = d.read(p.dn);
  const auto l = d.read(q.dn);
  // The first change's CSN is gone from the entry; only its key prefix is known.
  auto t = change_of(r, "active", "terminated");
  t.idempotency_key.clear();
  expect_events(d, m,
                {t, change_of(r, "terminated", "reactivated"), change_of(l, "active", "leave")},
                "terminate, leave (another person), reactivate without waiting");
}

BOOST_AUTO_TEST_CASE(slapd_is_still_serving) {
  BOOST_TEST(process_alive(dir().slapd().pid()));
  BOOST_TEST(dir().ldap().search("dc=example,dc=com", "(objectClass=organizationalUnit)", {"ou"})
                 .size() >= 3);
}

// Every modify above took its entryCSN from the operation's own
// modifications; none needed the read-back search (slapi_host.cpp).
BOOST_AUTO_TEST_CASE(entry_csn_came_from_the_modifications) {
  const auto log = dir().slapd().plugin_log();
  BOOST_TEST(log.find("reading entries back") == std::string::npos, log);
}
