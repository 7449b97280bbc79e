// test_mapping.cpp — ldap/ldap_mapping and ldap/ldap_entry: which entries
// are people in scope, which state their attributes mean, DN normalisation
// and subtree tests, transfer keys.
#include "base/clock.hpp"
#include "base/states.hpp"
#include "ldap/ldap_entry.hpp"
#include "ldap/ldap_mapping.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

using reclaim::state;
using reclaim::ldap::dn_is_under;
using reclaim::ldap::entry;
using reclaim::ldap::normalize_dn;
using reclaim::unit::make_entry;

namespace {

const std::string people = "ou=People,dc=example,dc=com";

// The mapping of unit_support's ldap_section, loaded through the real
// config loader, with the clock pinned at noon UTC on 2026-11-27.
struct mapping_fixture {
  reclaim::unit::temp_dir dir;
  reclaim::config cfg = reclaim::unit::load_toml(dir, reclaim::unit::ldap_section);
  const reclaim::ldap::mapping_config &m = cfg.ldap;
  reclaim::time_point at = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} +
                           std::chrono::hours{12};
  int64_t today = std::chrono::floor<std::chrono::days>(at).time_since_epoch().count();

  mapping_fixture() { reclaim::set_fixed_now(at); }
  ~mapping_fixture() { reclaim::set_fixed_now(std::nullopt); }

  entry person(reclaim::unit::attr_list extra, const std::string &dn = "cn=Ann," + people) const {
    entry e = make_entry(dn, {{"objectClass", {"top", "inetOrgPerson"}}, {"cn", {"Ann"}}});
    for (const auto &[name, values] : extra)
      for (const auto &v : values) e.add(name, v);
    return e;
  }

  state map(reclaim::unit::attr_list extra) const {
    return reclaim::from_abi(reclaim::ldap::map_state(m, person(extra), reclaim::now()));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(mapping, mapping_fixture)

BOOST_AUTO_TEST_CASE(no_rule_matches_gives_default_state) {
  BOOST_TEST(map({}) == state::active);
  BOOST_TEST(map({{"telephoneNumber", {"+1 555 0100"}}}) == state::active);
}

BOOST_AUTO_TEST_CASE(equals_is_case_insensitive_on_both_sides) {
  struct row {
    const char *value;
    state expected;
  };
  // The config lists "Terminated" and "leaver" (mixed case on purpose).
  const row rows[] = {
      {"terminated", state::terminated}, {"TERMINATED", state::terminated},
      {"Terminated", state::terminated}, {"LeAvEr", state::terminated},
      {"leave", state::leave},           {"Leave", state::leave},
      {"terminate", state::active},      {"terminated ", state::active},
      {"", state::active},               {"employee", state::active},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("employeeType=\"" << r.value << "\"") {
      BOOST_TEST(map({{"employeeType", {r.value}}}) == r.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(attribute_names_are_case_insensitive_and_options_ignored) {
  BOOST_TEST(map({{"EMPLOYEETYPE", {"leaver"}}}) == state::terminated);
  BOOST_TEST(map({{"employeeType;lang-en", {"leaver"}}}) == state::terminated);
}

BOOST_AUTO_TEST_CASE(any_value_of_a_multi_valued_attribute_matches) {
  BOOST_TEST(map({{"employeeType", {"staff", "leave", "contractor"}}}) == state::leave);
}

BOOST_AUTO_TEST_CASE(present_matches_any_value) {
  BOOST_TEST(map({{"pwdAccountLockedTime", {"000001010000Z"}}}) == state::leave);
  BOOST_TEST(map({{"pwdAccountLockedTime", {"20261127120000Z"}}}) == state::leave);
  BOOST_TEST(map({{"pwdAccountLockedTime", {""}}}) == state::leave);
}

BOOST_AUTO_TEST_CASE(bits_set_on_user_account_control) {
  struct row {
    const char *value;
    state expected;
  };
  const row rows[] = {
      {"2", state::leave},
      {"514", state::leave},          // NORMAL_ACCOUNT | ACCOUNTDISABLE
      {"512", state::active},         // NORMAL_ACCOUNT
      {"66050", state::leave},        // 0x10202
      {"66048", state::active},       // 0x10200
      {"-2147483646", state::leave},  // 0x80000002 written as a signed INTEGER
      {"-2147483648", state::active}, // 0x80000000
      {"2147483650", state::leave},   // 0x80000002 written unsigned
      {"4294967295", state::leave},   // all bits
      {"-1", state::leave},           // all bits
      {"0", state::active},
      {" 514", state::leave},         // leading space tolerated
      {"disabled", state::active},    // not a number: ignored
      {"514abc", state::active},
      {"0x202", state::active},
      {"", state::active},
      {"99999999999999999999999", state::active}, // out of range: ignored
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("userAccountControl=\"" << r.value << "\"") {
      BOOST_TEST(map({{"userAccountControl", {r.value}}}) == r.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(bits_set_needs_every_bit_of_the_mask) {
  reclaim::ldap::state_rule rule;
  rule.attribute = "userAccountControl";
  rule.kind = reclaim::ldap::state_rule::test::bits_set;
  rule.mask = 0x202;
  rule.result = RECLAIM_STATE_LEAVE;
  BOOST_TEST(reclaim::ldap::rule_matches(rule, make_entry("cn=x", {{"userAccountControl", {"514"}}}), at));
  BOOST_TEST(!reclaim::ldap::rule_matches(rule, make_entry("cn=x", {{"userAccountControl", {"2"}}}), at));
  BOOST_TEST(!reclaim::ldap::rule_matches(rule, make_entry("cn=x", {{"userAccountControl", {"512"}}}), at));
  rule.mask = 0x80000000;
  BOOST_TEST(reclaim::ldap::rule_matches(rule, make_entry("cn=x", {{"userAccountControl", {"-2147483646"}}}), at));
}

BOOST_AUTO_TEST_CASE(expired_days_at_the_boundary) {
  struct row {
    int64_t offset;
    state expected;
  };
  // shadowExpire counts days since 1970-01-01; expired when not after today.
  const row rows[] = {
      {-1, state::contract_ended}, // yesterday
      {0, state::contract_ended},  // today
      {1, state::active},          // tomorrow
      {-10000, state::contract_ended},
      {365, state::active},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("shadowExpire = today " << (r.offset >= 0 ? "+" : "") << r.offset) {
      BOOST_TEST(map({{"shadowExpire", {std::to_string(today + r.offset)}}}) == r.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(expired_days_follows_the_pinned_clock) {
  const auto value = std::to_string(today + 1);
  BOOST_TEST(map({{"shadowExpire", {value}}}) == state::active);
  reclaim::set_fixed_now(at + std::chrono::days{1});
  BOOST_TEST(map({{"shadowExpire", {value}}}) == state::contract_ended);
  // The last millisecond of the day before is still "yesterday".
  reclaim::set_fixed_now(std::chrono::floor<std::chrono::days>(at) + std::chrono::days{1} -
                         std::chrono::milliseconds{1});
  BOOST_TEST(map({{"shadowExpire", {value}}}) == state::active);
}

BOOST_AUTO_TEST_CASE(expired_days_ignores_never_and_non_numbers) {
  for (const char *value : {"-1", "-2", "never", "", "20000a", "1.5", "99999999999999999999"}) {
    BOOST_TEST_CONTEXT("shadowExpire=\"" << value << "\"") {
      BOOST_TEST(map({{"shadowExpire", {value}}}) == state::active);
    }
  }
}

BOOST_AUTO_TEST_CASE(first_matching_rule_wins) {
  // Rule order in the config: employeeType terminated, employeeType leave,
  // shadowExpire, pwdAccountLockedTime, userAccountControl.
  BOOST_TEST(map({{"employeeType", {"leaver"}}, {"userAccountControl", {"514"}}}) ==
             state::terminated);
  BOOST_TEST(map({{"shadowExpire", {"0"}}, {"pwdAccountLockedTime", {"x"}}}) ==
             state::contract_ended);
  BOOST_TEST(map({{"userAccountControl", {"514"}}, {"shadowExpire", {"-1"}}}) == state::leave);
  // Both employeeType rules could match one multi-valued attribute: the
  // earlier rule (terminated) wins regardless of value order.
  BOOST_TEST(map({{"employeeType", {"leave", "leaver"}}}) == state::terminated);
}

BOOST_AUTO_TEST_CASE(leavers_subtree_takes_precedence_over_rules) {
  const auto leaver = person({{"employeeType", {"leave"}}}, "cn=Ann,ou=Leavers,dc=example,dc=com");
  BOOST_TEST(reclaim::ldap::map_state(m, leaver, at) == RECLAIM_STATE_TERMINATED);
  const auto deeper = person({}, "cn=Ann,ou=2026,OU=leavers,DC=Example,DC=COM");
  BOOST_TEST(reclaim::ldap::map_state(m, deeper, at) == RECLAIM_STATE_TERMINATED);
  const auto lookalike = person({}, "cn=Ann,ou=Leavers2,dc=example,dc=com");
  BOOST_TEST(reclaim::ldap::map_state(m, lookalike, at) == RECLAIM_STATE_ACTIVE);
}

BOOST_AUTO_TEST_CASE(leavers_state_and_default_state_are_configurable) {
  auto copy = m;
  copy.leavers_state = RECLAIM_STATE_CONTRACT_ENDED;
  copy.default_state = RECLAIM_STATE_LEAVE;
  BOOST_TEST(reclaim::ldap::map_state(copy, person({}, "cn=A,ou=Leavers,dc=example,dc=com"), at) ==
             RECLAIM_STATE_CONTRACT_ENDED);
  BOOST_TEST(reclaim::ldap::map_state(copy, person({}), at) == RECLAIM_STATE_LEAVE);
}

BOOST_AUTO_TEST_CASE(normalize_dn_table) {
  struct row {
    const char *in;
    const char *out;
  };
  const row rows[] = {
      {"cn=Ann,ou=People,dc=example,dc=com", "cn=ann,ou=people,dc=example,dc=com"},
      {"CN=Ann,OU=People,DC=Example,DC=COM", "cn=ann,ou=people,dc=example,dc=com"},
      {"cn=Ann, ou=People, dc=example, dc=com", "cn=ann,ou=people,dc=example,dc=com"},
      {"cn = Ann , ou = People,dc=example,dc=com", "cn=ann,ou=people,dc=example,dc=com"},
      // Special characters come out hex-escaped, whichever way they came in.
      {"cn=Smith\\, John,ou=People,dc=example,dc=com", "cn=smith\\2c john,ou=people,dc=example,dc=com"},
      {"cn=Smith\\2C John,ou=People,dc=example,dc=com", "cn=smith\\2c john,ou=people,dc=example,dc=com"},
      {"cn=Smith\\2c John,ou=People,dc=example,dc=com", "cn=smith\\2c john,ou=people,dc=example,dc=com"},
      {"cn=Smith\\,John ,ou=People,dc=example,dc=com", "cn=smith\\2cjohn,ou=people,dc=example,dc=com"},
      {"uid=a+cn=B,dc=example,dc=com", "uid=a+cn=b,dc=example,dc=com"},
      {"", ""},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("\"" << r.in << "\"") {
      const auto n = normalize_dn(r.in);
      BOOST_TEST_REQUIRE(n.has_value());
      BOOST_TEST(*n == r.out);
      // Normalising is idempotent.
      BOOST_TEST(normalize_dn(*n).value_or("?") == *n);
    }
  }
}

BOOST_AUTO_TEST_CASE(normalize_dn_utf8_and_its_escaped_form_agree) {
  const auto raw = normalize_dn("cn=J\xC3\xBCrgen M\xC3\xBCller,ou=People,dc=example,dc=com");
  const auto escaped = normalize_dn("cn=J\\C3\\BCrgen M\\c3\\bcller,ou=People,dc=example,dc=com");
  BOOST_TEST_REQUIRE(raw.has_value());
  BOOST_TEST_REQUIRE(escaped.has_value());
  BOOST_TEST(*raw == *escaped);
  BOOST_TEST(dn_is_under(*raw, *normalize_dn(people)));
}

BOOST_AUTO_TEST_CASE(normalize_dn_refuses_what_is_not_a_dn) {
  for (const char *in : {"not a dn", "cn=Ann,", "=Ann,dc=com", "cn=Ann,dc", "cn=A\\"}) {
    BOOST_TEST_CONTEXT("\"" << in << "\"") { BOOST_TEST(!normalize_dn(in).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(dn_is_under_boundaries) {
  struct row {
    const char *dn;
    const char *base;
    bool under;
  };
  const row rows[] = {
      {"ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com", true}, // the base itself
      {"cn=a,ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com", true},
      {"cn=a,ou=x,ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com", true},
      {"cn=a,ou=people2,dc=example,dc=com", "ou=people,dc=example,dc=com", false},
      {"ou=people2,dc=example,dc=com", "ou=people,dc=example,dc=com", false},
      {"cn=a,xou=people,dc=example,dc=com", "ou=people,dc=example,dc=com", false},
      {"cn=a\\,ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com", false}, // one RDN
      {"cn=a\\\\,ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com", true}, // "a\" then ,
      {"dc=com", "dc=example,dc=com", false},
      {"dc=example,dc=com", "ou=people,dc=example,dc=com", false},
      {"cn=a,dc=example,dc=org", "dc=example,dc=com", false},
      {"cn=a,dc=example,dc=com", "", true}, // empty base: everything
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("\"" << r.dn << "\" under \"" << r.base << "\"") {
      BOOST_TEST(dn_is_under(r.dn, r.base) == r.under);
    }
  }
  // The same boundaries after normalisation, as in_scope uses them.
  const auto nbase = normalize_dn("ou=People,dc=example,dc=com").value();
  BOOST_TEST(!dn_is_under(normalize_dn("cn=a\\,ou=People,dc=example,dc=com").value(), nbase));
  BOOST_TEST(dn_is_under(normalize_dn("cn=a\\\\,ou=People,dc=example,dc=com").value(), nbase));
  BOOST_TEST(!dn_is_under(normalize_dn("cn=a,ou=People2,dc=example,dc=com").value(), nbase));
  BOOST_TEST(dn_is_under(normalize_dn("CN=A, OU=PEOPLE, DC=EXAMPLE, DC=COM").value(), nbase));
}

BOOST_AUTO_TEST_CASE(is_person_by_object_class) {
  struct row {
    std::vector<std::string> classes;
    bool person;
  };
  const row rows[] = {
      {{"top", "inetOrgPerson"}, true},
      {{"INETORGPERSON"}, true},
      {{"top", "posixAccount", "shadowAccount"}, true},
      {{"person"}, true},
      {{"organizationalPerson"}, true},
      {{"top", "organizationalUnit"}, false},
      {{"groupOfNames"}, false},
      {{}, false},
  };
  for (const auto &r : rows) {
    entry e;
    e.dn = "cn=x," + people;
    for (const auto &c : r.classes) e.add("objectClass", c);
    BOOST_TEST_CONTEXT("classes " << r.classes.size() << (r.classes.empty() ? "" : " first " + r.classes.front())) {
      BOOST_TEST(reclaim::ldap::is_person(m, e) == r.person);
    }
  }
  BOOST_TEST(!reclaim::ldap::is_person(m, make_entry("cn=x," + people, {{"cn", {"x"}}})));
  BOOST_TEST(reclaim::ldap::is_person(m, make_entry("cn=x," + people, {{"OBJECTCLASS", {"Person"}}})));
}

BOOST_AUTO_TEST_CASE(in_scope_by_base) {
  struct row {
    std::string dn;
    bool in;
  };
  const row rows[] = {
      {"cn=Ann," + people, true},
      {"cn=Ann,OU=PEOPLE,DC=EXAMPLE,DC=COM", true},
      {"cn=Smith\\, John, ou=People, dc=example, dc=com", true},
      {"cn=J\xC3\xBCrgen,ou=People,dc=example,dc=com", true},
      {"dc=example,dc=com", true},
      {"cn=Ann,dc=example,dc=org", false},
      {"cn=Ann,dc=notexample,dc=com", false},
      {"cn=Ann,dc=com", false},
      {"not a dn", false},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("\"" << r.dn << "\"") {
      BOOST_TEST(reclaim::ldap::in_scope(m, person({}, r.dn)) == r.in);
    }
  }
}

BOOST_AUTO_TEST_CASE(transfer_key_is_stable_under_value_order) {
  const auto a = person({{"departmentNumber", {"100", "200"}}, {"title", {"Engineer"}}});
  const auto b = person({{"title", {"Engineer"}}, {"departmentNumber", {"200", "100"}}});
  BOOST_TEST(reclaim::ldap::transfer_key(m, a) == reclaim::ldap::transfer_key(m, b));
  // Attribute names are case-insensitive.
  const auto c = person({{"DEPARTMENTNUMBER", {"200", "100"}}, {"Title", {"Engineer"}}});
  BOOST_TEST(reclaim::ldap::transfer_key(m, a) == reclaim::ldap::transfer_key(m, c));
}

BOOST_AUTO_TEST_CASE(transfer_key_tells_different_values_apart) {
  auto key = [&](reclaim::unit::attr_list attrs) { return reclaim::ldap::transfer_key(m, person(attrs)); };
  const auto base = key({{"departmentNumber", {"100"}}, {"title", {"Engineer"}}});
  BOOST_TEST(base != key({{"departmentNumber", {"101"}}, {"title", {"Engineer"}}}));
  BOOST_TEST(base != key({{"departmentNumber", {"100"}}, {"title", {"Manager"}}}));
  BOOST_TEST(base != key({{"departmentNumber", {"100"}}}));
  BOOST_TEST(base != key({{"departmentNumber", {"100", "200"}}, {"title", {"Engineer"}}}));
  // One value "a,b" is not two values "a" and "b"; values do not leak
  // from one attribute into the next.
  BOOST_TEST(key({{"departmentNumber", {"a", "b"}}}) != key({{"departmentNumber", {"a,b"}}}));
  BOOST_TEST(key({{"departmentNumber", {"x"}}}) != key({{"title", {"x"}}}));
  // Attributes that are not transfer attributes do not matter.
  BOOST_TEST(base == key({{"departmentNumber", {"100"}}, {"title", {"Engineer"}}, {"mail", {"a@b"}}}));
}

BOOST_AUTO_TEST_CASE(needed_attributes_lists_each_once) {
  const auto names = reclaim::ldap::needed_attributes(m);
  auto count = [&](const std::string &n) {
    size_t c = 0;
    for (const auto &x : names) c += reclaim::ldap::lower_ascii(x) == reclaim::ldap::lower_ascii(n);
    return c;
  };
  for (const char *n : {"objectClass", "entryUUID", "entryCSN", "employeeType", "shadowExpire",
                        "pwdAccountLockedTime", "userAccountControl", "departmentNumber", "title"}) {
    BOOST_TEST_CONTEXT(n) { BOOST_TEST(count(n) == 1u); }
  }
  BOOST_TEST(names.size() == 9u);
}

BOOST_AUTO_TEST_SUITE_END()
