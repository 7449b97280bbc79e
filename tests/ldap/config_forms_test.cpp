// config_forms_test.cpp — the plugin behaves the same however slapd is told
// to load it: cn=config (slapd -F, an olcPlugin value written with
// slapadd -n0) on the mdb database or on the frontend, and a slapd.conf
// `plugin` line before the first `database` (the frontend). (slapd.conf on
// the database is what the events suite uses.) Each: baseline without
// events, add, terminate, move to the leavers OU, delete, then a restart
// that must not journal anything again.
#define BOOST_TEST_MODULE ldap_config_forms
#include "scenario.hpp"

#include <boost/test/unit_test.hpp>

#include <regex>

using namespace reclaim::test;

namespace {

// The cn=config LDIF file slapd wrote, with folded lines joined again.
std::string config_entry(directory &d, const std::string &file) {
  return std::regex_replace(read_text_file(d.slapd().config_path() / "cn=config" / file),
                            std::regex("\n "), "");
}

void run_scenario(bool cn_config, plugin_scope scope, const std::string &name) {
  directory_options o;
  o.cn_config = cn_config;
  o.scope = scope;
  o.seed_ldif = seed_ldif(person_ldif("cfg.base", "employeeType: employee\n"));
  directory d(o, name);

  if (cn_config) {
    const auto file = d.slapd().options().scope == plugin_scope::database
                          ? "olcDatabase={1}mdb.ldif"
                          : "olcDatabase={-1}frontend.ldif";
    const auto ldif = config_entry(d, file);
    BOOST_TEST(ldif.find("olcPlugin: {0}postoperation " + d.slapd().options().plugin.string() +
                         " reclaim_slapi_init " + d.config_path().string()) != std::string::npos,
               file << ":\n" << ldif);
  }

  d.start();
  check_events(d.events().wait_after(0, 0), {}, name + ": after the first start (baseline)");

  const auto base = d.read(person_dn("cfg.base"));
  const auto added = d.add_person("cfg.new");
  const auto terminated = d.modify(base.dn, {{mod_op::replace, "employeeType", {"terminated"}}});
  BOOST_REQUIRE(d.ldap().rename(added.dn, "uid=cfg.new", leavers_ou) == 0);
  const auto moved = d.read(person_dn("cfg.new", leavers_ou));
  BOOST_REQUIRE(d.ldap().remove(terminated.dn) == 0);
  const std::vector<expected_event> expected = {
      change_of(added, "none", "active"),
      change_of(terminated, "active", "terminated"),
      change_of(moved, "active", "terminated"),
      deletion_of(terminated, "terminated"),
  };
  expect_events(d, 0, expected, name + ": add, terminate, move to Leavers, delete");

  d.restart(true);
  check_events(d.events().wait_after(0, expected.size()), expected,
               name + ": after a restart (catch-up must not repeat anything)");
}

} // namespace

BOOST_AUTO_TEST_CASE(cn_config_olcPlugin_on_the_database) {
  run_scenario(true, plugin_scope::database, "cnconfig-database");
}

BOOST_AUTO_TEST_CASE(cn_config_olcPlugin_on_the_frontend) {
  run_scenario(true, plugin_scope::frontend, "cnconfig-frontend");
}

BOOST_AUTO_TEST_CASE(slapd_conf_plugin_line_before_any_database) {
  run_scenario(false, plugin_scope::frontend, "conf-frontend");
}
