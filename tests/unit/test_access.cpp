// test_access.cpp — [access]: config errors, resolving every spelling of a
// person (Unix name, uid's groups, DN case/spaces/trailing dot) to one id,
// each role against each reclaimctl verb, and the planner's two-person rule
// deciding on persons. Identities are explicit structs: no real accounts.
#include "config/access.hpp"
#include "policy/planner.hpp"
#include "policy_fixture.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <sys/stat.h>

using reclaim::access::os_identity;
using reclaim::access::role;
using reclaim::unit::temp_dir;

namespace {

const std::string access_text = R"toml(
[access.person.alice]
unix_users = ["alice"]
ldap_dns = ["cn=admin,dc=example,dc=com"]
[access.person.bob]
unix_groups = ["iam-bob"]
[access.person.hanna]
unix_users = ["hanna"]
[access.person.pete]
unix_users = ["pete"]
[access.person.audrey]
unix_users = ["audrey"]
[access.person.priya]
unix_users = ["priya"]
[access.person.olga]
unix_users = ["olga"]
ldap_dns = ["cn=Olga Ops, ou=Staff, dc=example, dc=com."]

[access.roles]
iam = ["alice", "bob"]
hr = ["hanna"]
procurement = ["pete"]
auditor = ["audrey", "group:auditors"]
privacy = ["priya"]
)toml";

std::vector<std::string> no_groups(const std::string &user) {
  if (user == "zed") return {"zed", "iam-bob"}; // zed is a member of bob's group
  return {user};
}

struct fixture {
  temp_dir dir;
  reclaim::config cfg;
  reclaim::access::resolver res;
  explicit fixture(const std::string &extra = access_text)
      : cfg(reclaim::unit::load_toml(dir, reclaim::unit::config_text(dir) + extra)), res(cfg.access, no_groups) {}
};

os_identity user(const std::string &name, std::vector<std::string> groups = {}) {
  return {1000, name, std::move(groups)};
}

std::string config_error_of(const std::string &extra) {
  temp_dir dir;
  try {
    reclaim::unit::load_toml(dir, reclaim::unit::config_text(dir) + extra);
  } catch (const reclaim::config_error &e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(access_roles)

BOOST_AUTO_TEST_CASE(every_spelling_of_a_person_is_that_person) {
  fixture f;
  const char *alice[] = {"alice", "unix:alice", "person:alice", "cn=admin,dc=example,dc=com",
                         "CN=Admin,DC=Example,DC=Com", "cn=admin, dc=example, dc=com",
                         "cn=admin,dc=example,dc=com.", "  cn=admin ,dc=example,DC=COM."};
  for (const auto *name : alice) BOOST_TEST(f.res.canonical(name) == "person:alice", name);
  BOOST_TEST(f.res.canonical("cn=olga ops,ou=staff,dc=example,dc=com") == "person:olga");
  // A member of a group mapped to a person is that person, by name or as a process.
  BOOST_TEST(f.res.canonical("zed") == "person:bob");
  BOOST_TEST(f.res.actor(user("zed", {"staff", "iam-bob"})) == "person:bob");
  BOOST_TEST(f.res.actor(user("alice")) == "person:alice");
  // Unknown identities stay apart from persons and from each other.
  BOOST_TEST(f.res.actor(user("mallory")) == "unix:mallory");
  BOOST_TEST(f.res.actor(os_identity{4242, "", {}}) == "uid:4242");
  BOOST_TEST(f.res.canonical("cn=admin,dc=example,dc=org") == "unknown:cn=admin,dc=example,dc=org");
  BOOST_TEST(f.res.canonical("Mallory") == "unknown:mallory");
  BOOST_TEST(!f.res.person_of_name("person:nobody").has_value());
}

BOOST_AUTO_TEST_CASE(an_identity_that_is_two_persons_acts_for_nobody) {
  fixture f;
  // alice by name and a member of bob's group: which person would it be?
  BOOST_CHECK_THROW(f.res.person_of(user("alice", {"iam-bob"})), reclaim::access::ambiguous_identity);
  const auto d = reclaim::access::authorize(f.cfg.access, f.res, user("alice", {"iam-bob"}), "approve");
  BOOST_TEST(!d.allowed);
  BOOST_TEST(d.message.find("each identity must be one person") != std::string::npos, d.message);
}

BOOST_AUTO_TEST_CASE(each_role_may_use_its_verbs_and_no_others) {
  fixture f;
  const std::pair<os_identity, std::optional<role>> people[] = {
      {user("hanna"), role::hr},        {user("alice"), role::iam},     {user("zed", {"iam-bob"}), role::iam},
      {user("pete"), role::procurement}, {user("audrey"), role::auditor}, {user("priya"), role::privacy},
      {user("olga"), std::nullopt},      // a person with no role
      {user("mallory"), std::nullopt},   // nobody [access] knows
  };
  size_t acting = 0;
  for (const auto &[who, held] : people)
    for (const auto &[verb, needed] : reclaim::access::verb_table()) {
      const auto d = reclaim::access::authorize(f.cfg.access, f.res, who, verb);
      const bool expected = !needed || (held && *needed == *held);
      BOOST_TEST(d.allowed == expected, who.user << " " << verb);
      if (!d.allowed) {
        BOOST_TEST(d.message.find(fmt::format("needs role \"{}\"", reclaim::access::role_name(*needed))) !=
                       std::string::npos,
                   d.message);
      }
      if (needed) ++acting;
    }
  BOOST_TEST(acting > 0u);
  // A role granted to a group: a known person in the group holds it, an unknown member does not.
  BOOST_TEST(reclaim::access::authorize(f.cfg.access, f.res, user("olga", {"auditors"}), "audit export").allowed);
  BOOST_TEST(!reclaim::access::authorize(f.cfg.access, f.res, user("mallory", {"auditors"}), "audit export").allowed);
  BOOST_CHECK_THROW(reclaim::access::role_for_verb("frobnicate"), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(without_access_nobody_acts_and_everyone_reads) {
  fixture f("");
  BOOST_TEST(!f.cfg.access.present);
  const auto d = reclaim::access::authorize(f.cfg.access, f.res, user("root"), "approve");
  BOOST_TEST(!d.allowed);
  BOOST_TEST(d.message.find("no [access] table") != std::string::npos, d.message);
  BOOST_TEST(reclaim::access::authorize(f.cfg.access, f.res, user("root"), "plans list").allowed);
}

BOOST_AUTO_TEST_CASE(bad_access_tables_are_config_errors) {
  const std::pair<const char *, const char *> cases[] = {
      {"[access.person.a]\nunix_users = [\"a\"]\n[access.roles]\nadmin = [\"a\"]\n", "unknown role \"admin\""},
      {"[access.person.a]\nunix_users = [\"a\"]\n[access.roles]\niam = [\"b\"]\n",
       "\"b\" is not a person of [access.person]"},
      {"[access.person.a]\nunix_users = [\"x\"]\n[access.person.b]\nunix_users = [\"x\"]\n",
       "Unix user \"x\" is named by both person \"a\" and person \"b\""},
      {"[access.person.a]\nldap_dns = [\"cn=A,dc=x\"]\n[access.person.b]\nldap_dns = [\"CN=a, DC=x.\"]\n",
       "is named by both person \"a\" and person \"b\""},
      {"[access.person.a]\n", "names no unix_users, unix_groups or ldap_dns"},
      {"[access.person.a]\nldap_dns = [\"not a dn\"]\n", "is not a valid DN"},
      {"[access]\nusers = []\n", "access.users: unknown key"},
      {"[access.person.\"a b\"]\nunix_users = [\"a\"]\n", "a person id is letters, digits, - and _ only"},
  };
  for (const auto &[text, message] : cases) {
    const auto e = config_error_of(text);
    BOOST_TEST(e.find(message) != std::string::npos, text << " -> " << e);
  }
}

BOOST_AUTO_TEST_CASE(a_writable_config_holding_the_roles_is_refused) {
  temp_dir dir;
  const auto path = dir / "reclaim.toml";
  reclaim::unit::write_file(path, reclaim::unit::config_text(dir) + access_text, 0620);
  BOOST_CHECK_EXCEPTION(reclaim::load_config(path), reclaim::permission_error, [](const auto &e) {
    return std::string(e.what()).find("writable by group or other") != std::string::npos;
  });
  reclaim::unit::write_file(path, reclaim::unit::config_text(dir) + access_text, 0602);
  BOOST_CHECK_THROW(reclaim::load_config(path), reclaim::permission_error);
}

BOOST_AUTO_TEST_CASE(unknown_unix_accounts_in_the_mapping_are_refused) {
  fixture ok("[access.person.r]\nunix_users = [\"root\"]\nunix_groups = [\"root\"]\n");
  BOOST_CHECK_NO_THROW(reclaim::access::check_accounts(ok.cfg.access));
  fixture bad_user("[access.person.r]\nunix_users = [\"no-such-user-reclaim\"]\n");
  BOOST_CHECK_EXCEPTION(reclaim::access::check_accounts(bad_user.cfg.access), std::invalid_argument,
                        [](const auto &e) {
                          return std::string(e.what()).find("unknown Unix user \"no-such-user-reclaim\"") !=
                                 std::string::npos;
                        });
  fixture bad_group("[access.person.r]\nunix_users = [\"root\"]\n[access.roles]\nhr = [\"group:no-such-grp\"]\n");
  BOOST_CHECK_THROW(reclaim::access::check_accounts(bad_group.cfg.access), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(the_requester_cannot_approve_in_any_spelling) {
  temp_dir dir;
  const auto text = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n{}{}{}\n[guard]\nmax_events = 1\n{}",
                                (dir / "state").string(), reclaim::unit::ldap_section,
                                reclaim::unit::apps_text({}), reclaim::unit::leavers_rule, access_text);
  const auto cfg = reclaim::unit::load_toml(dir, text);
  reclaim::unit::log_capture logs;
  const auto log = logs.make();
  reclaim::journal j(cfg.journal_path(), reclaim::sqlite::durability::normal);
  reclaim::planner p(cfg, j, log);
  for (int i = 0; i < 2; ++i) {
    reclaim::event_record ev;
    ev.idempotency_key = fmt::format("u{}/1", i);
    ev.subject_id = fmt::format("u{}", i);
    ev.subject_name = fmt::format("uid=u{},ou=People,dc=example,dc=com", i);
    ev.source = "ldap";
    ev.previous = reclaim::state::active;
    ev.current = reclaim::state::terminated;
    ev.time = ev.recorded = reclaim::now();
    ev.actor = "cn=admin,dc=example,dc=com"; // alice's bind DN
    ev.attributes_json = "{}";
    BOOST_TEST_REQUIRE(j.append(ev));
  }
  p.plan_pending();
  const auto plans = p.store().plans("held", "");
  BOOST_TEST_REQUIRE(plans.size() == 1u);
  const auto id = plans[0].id;
  reclaim::access::resolver res(cfg.access, no_groups);
  const auto person = [&](const std::string &n) { return res.canonical(n); };
  // alice as the OS user, by a DN spelling, or a name the old code lower-cased.
  for (const char *approver : {"person:alice", "alice", "unix:alice", "CN=ADMIN, DC=example, DC=com."}) {
    BOOST_CHECK_EXCEPTION(p.approve(id, approver, person), reclaim::approval_error, [](const auto &e) {
      return std::string(e.what()).find("two-person rule") != std::string::npos;
    });
    BOOST_TEST(p.store().plan(id)->status == "held");
  }
  p.approve(id, res.actor(user("zed", {"iam-bob"})), person); // bob, through his group
  BOOST_TEST(p.store().plan(id)->status == "active");
  BOOST_TEST(p.store().plan(id)->approved_by == "person:bob");
}

BOOST_AUTO_TEST_SUITE_END()
