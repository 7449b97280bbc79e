// bad_input_test.cpp — awkward but legal (and some illegal) input through a
// real slapd with the plugin: DNs with escapes and UTF-8, binary values,
// empty values, a thousand values in one modify, concurrent clients. slapd
// must stay up and every recognised change must still be journalled.
#define BOOST_TEST_MODULE ldap_bad_input
#include "scenario.hpp"

#include <boost/test/unit_test.hpp>

#include <ldap.h>
#include <memory>
#include <thread>

using namespace reclaim::test;

namespace {

struct suite_directory {
  suite_directory() {
    instance = std::make_unique<directory>(directory_options{}, "badinput");
    instance->start();
    instance->events().wait_readable();
  }
  ~suite_directory() { instance.reset(); }
  static std::unique_ptr<directory> instance;
};
std::unique_ptr<directory> suite_directory::instance;

directory &dir() { return *suite_directory::instance; }
std::int64_t mark() { return dir().events().settled_seq(); }

// Every byte value, NULs and invalid UTF-8 included.
std::string binary_blob(std::size_t size) {
  std::string blob(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    blob[i] = static_cast<char>((i * 7 + 3) % 256);
  }
  return blob;
}

ldap_entry add_named(directory &d, const std::string &dn, const std::string &cn,
                     const std::vector<ldap_attribute> &extra = {}) {
  std::vector<ldap_attribute> attrs = {{"objectClass", {"inetOrgPerson", "reclaimLifecycle"}},
                                       {"cn", {cn}},
                                       {"sn", {"Person"}}};
  attrs.insert(attrs.end(), extra.begin(), extra.end());
  const int rc = d.ldap().add(dn, attrs);
  BOOST_REQUIRE_MESSAGE(rc == 0, "add " << dn << ": " << ldap_error_name(rc));
  return d.read(dn);
}

void check_alive(directory &d) {
  BOOST_TEST(process_alive(d.slapd().pid()), "slapd died; output:\n"
                                                 << d.slapd().output() << d.slapd().plugin_log());
}

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(suite_directory);

BOOST_AUTO_TEST_CASE(dn_with_escaped_comma) {
  auto &d = dir();
  const auto m = mark();
  const auto p = add_named(d, "cn=Smith\\, John,ou=People,dc=example,dc=com", "Smith, John");
  const auto t = d.modify(p.dn, {{mod_op::replace, "employeeType", {"terminated"}}});
  const auto q = add_named(d, "cn=a\\+b\\=c\\\"d\\\\e\\<f\\>g\\;h,ou=People,dc=example,dc=com",
                           "a+b=c\"d\\e<f>g;h");
  expect_events(d, m,
                {change_of(p, "none", "active"), change_of(t, "active", "terminated"),
                 change_of(q, "none", "active")},
                "DNs with escaped special characters");
  check_alive(d);
}

BOOST_AUTO_TEST_CASE(dn_and_values_in_utf8) {
  auto &d = dir();
  const auto m = mark();
  const auto p = add_named(d, "cn=Jürgen Müller,ou=People,dc=example,dc=com", "Jürgen Müller",
                           {{"description", {"Größe: 180 cm — 日本語"}}});
  const auto l = d.modify(p.dn, {{mod_op::replace, "employeeType", {"sabbatical"}},
                                 {mod_op::replace, "title", {"Geschäftsführer"}}});
  const auto q = add_named(d, "cn=李小龍+uid=lee,ou=People,dc=example,dc=com", "李小龍",
                           {{"uid", {"lee"}}});
  expect_events(d, m,
                {change_of(p, "none", "active"), change_of(l, "active", "leave"),
                 change_of(q, "none", "active")},
                "UTF-8 and multi-valued RDNs");
  check_alive(d);
}

BOOST_AUTO_TEST_CASE(binary_values_alongside_status_changes) {
  auto &d = dir();
  const auto m = mark();
  const auto p = d.add_person("binary", {{"jpegPhoto", {binary_blob(4096)}},
                                         {"audio", {binary_blob(700)}}});
  const auto l = d.modify(p.dn, {{mod_op::replace, "jpegPhoto", {binary_blob(65536)}},
                                 {mod_op::replace, "employeeType", {"leave"}}});
  // audio and jpegPhoto have no equality rule: replace, not add.
  const auto t = d.modify(p.dn, {{mod_op::replace, "audio", {binary_blob(1000)}},
                                 {mod_op::replace, "jpegPhoto",
                                  {std::string("\xff\xd8\xff\0\0", 5), binary_blob(10)}},
                                 {mod_op::replace, "employeeType", {"terminated"}}});
  expect_events(d, m,
                {change_of(p, "none", "active"), change_of(l, "active", "leave"),
                 change_of(t, "leave", "terminated")},
                "jpegPhoto / audio (all byte values, NULs) beside employeeType");
  check_alive(d);
}

BOOST_AUTO_TEST_CASE(empty_values) {
  auto &d = dir();
  const auto p = d.add_person("empty", {{"description", {"a", "b"}}});
  const auto sentinel = d.make_sentinel("empty.sentinel");
  auto m = mark();
  // replace with no values = delete all values: legal, with a status change.
  const auto t = d.modify(p.dn, {{mod_op::replace, "description", {}},
                                 {mod_op::replace, "employeeType", {"terminated"}}});
  expect_events(d, m, {change_of(t, "active", "terminated")}, "replace description with no values");
  m = mark();
  // Empty strings: refused by the server (invalid syntax), so nothing happens.
  const int rc1 = d.ldap().modify(p.dn, {{mod_op::add, "description", {""}},
                                         {mod_op::replace, "employeeType", {"employee"}}});
  const int rc2 = d.ldap().modify(p.dn, {{mod_op::replace, "employeeType", {""}}});
  BOOST_TEST(rc1 != 0);
  BOOST_TEST(rc2 != 0);
  const auto s = d.trip_sentinel(sentinel);
  expect_events(d, m, {change_of(s, "active", "terminated")}, "modifies with empty values");
  check_alive(d);
}

BOOST_AUTO_TEST_CASE(thousand_values_in_one_modify) {
  auto &d = dir();
  const auto p = d.add_person("many");
  const auto q = d.add_person("many.titles", {{"title", {"Engineer"}}});
  const auto sentinel = d.make_sentinel("many.sentinel");
  std::vector<std::string> mails;
  std::vector<std::string> titles;
  for (int i = 0; i < 1000; ++i) {
    mails.push_back("alias" + std::to_string(i) + "@example.com");
    titles.push_back("Title number " + std::to_string(i));
  }
  auto m = mark();
  const auto t = d.modify(p.dn, {{mod_op::add, "mail", mails},
                                 {mod_op::replace, "employeeType", {"terminated"}}});
  const auto x = d.modify(q.dn, {{mod_op::replace, "title", titles}});
  expect_events(d, m, {change_of(t, "active", "terminated"), change_of(x, "active", "transferred")},
                "1000 mail values beside employeeType; 1000 titles");
  m = mark();
  d.modify(p.dn, {{mod_op::remove, "mail", {}}});
  d.modify(p.dn, {{mod_op::add, "description", mails}});
  const auto s = d.trip_sentinel(sentinel);
  expect_events(d, m, {change_of(s, "active", "terminated")}, "1000 unwatched values");
  check_alive(d);
}

BOOST_AUTO_TEST_CASE(concurrent_clients_lose_nothing) {
  auto &d = dir();
  const auto m = mark();
  constexpr int clients = 4;
  constexpr int per_client = 50;
  std::vector<std::thread> threads;
  std::vector<int> failures(clients, 0);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      ldap_connection ldap(d.slapd().uri(), slapd_instance::root_dn, slapd_instance::root_pw);
      for (int i = 0; i < per_client; ++i) {
        const auto uid = "crowd." + std::to_string(c) + "." + std::to_string(i);
        if (ldap.add(person_dn(uid), person_attributes(uid)) != 0 ||
            ldap.modify(person_dn(uid), {{mod_op::replace, "employeeType", {"terminated"}}}) != 0) {
          ++failures[static_cast<std::size_t>(c)];
        }
      }
    });
  }
  for (auto &t : threads) {
    t.join();
  }
  for (int f : failures) {
    BOOST_TEST(f == 0);
  }
  std::vector<expected_event> expected;
  for (int c = 0; c < clients; ++c) {
    for (int i = 0; i < per_client; ++i) {
      const auto e = d.read(person_dn("crowd." + std::to_string(c) + "." + std::to_string(i)));
      auto added = change_of(e, "none", "active");
      added.idempotency_key.clear(); // the add's CSN was replaced by the modify's
      expected.push_back(added);
      expected.push_back(change_of(e, "active", "terminated"));
    }
  }
  expect_events(d, m, expected, "4 clients × 50 people: add then terminate");
  check_alive(d);
}
