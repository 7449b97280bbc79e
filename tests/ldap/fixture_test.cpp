// fixture_test.cpp — checks the test harness itself against plain slapd (no
// plugin): start/stop by pid in both config forms, real LDAP operations,
// restart with the same database, a provider/consumer pair replicating, and
// a refused start reported with slapd's own message. If these fail, the
// plugin suites' failures say nothing about the plugin.
#define BOOST_TEST_MODULE ldap_fixture
#include "scenario.hpp"

#include <boost/test/unit_test.hpp>

#include <ldap.h>
#include <thread>

using namespace reclaim::test;

namespace {

directory_options plain(bool cn_config) {
  directory_options o;
  o.with_plugin = false;
  o.cn_config = cn_config;
  o.seed_ldif = seed_ldif(person_ldif("seeded", "employeeType: staff\n"));
  return o;
}

void exercise(directory &d) {
  auto &ldap = d.ldap();
  const auto seeded = d.read(person_dn("seeded"));
  BOOST_TEST(!seeded.first("entryUUID").empty());
  BOOST_TEST(!seeded.first("entryCSN").empty());

  const auto added = d.add_person("alice", {{"employeeType", {"staff"}}});
  const auto modified = d.modify(added.dn, {{mod_op::replace, "employeeType", {"terminated"}},
                                            {mod_op::replace, "nsAccountLock", {"TRUE"}},
                                            {mod_op::replace, "userAccountControl", {"514"}},
                                            {mod_op::replace, "shadowExpire", {"1"}},
                                            {mod_op::replace, "pwdAccountLockedTime",
                                             {"000001010000Z"}}});
  BOOST_TEST(modified.first("entryUUID") == added.first("entryUUID"));
  BOOST_TEST(modified.first("entryCSN") != added.first("entryCSN"));
  BOOST_TEST(ldap.rename(added.dn, "uid=alice", leavers_ou) == 0);
  const auto moved = d.read(person_dn("alice", leavers_ou));
  BOOST_TEST(moved.first("entryUUID") == added.first("entryUUID"));
  BOOST_TEST(ldap.remove(moved.dn) == 0);
  BOOST_TEST(!ldap.read(moved.dn).has_value());
  BOOST_TEST(ldap.modify(person_dn("nobody"), {{mod_op::replace, "title", {"x"}}}) ==
             LDAP_NO_SUCH_OBJECT);
}

} // namespace

BOOST_AUTO_TEST_CASE(slapd_conf_form_starts_serves_and_stops) {
  directory d(plain(false), "fixture-conf");
  d.start();
  const pid_t pid = d.slapd().pid();
  BOOST_TEST(pid > 0);
  exercise(d);
  d.restart(false);
  BOOST_TEST(d.read(person_dn("seeded")).first("employeeType") == "staff");
  const pid_t second = d.slapd().pid();
  d.stop();
  BOOST_TEST(!process_alive(pid));
  BOOST_TEST(!process_alive(second));
}

BOOST_AUTO_TEST_CASE(cn_config_form_starts_serves_and_stops) {
  directory d(plain(true), "fixture-cnconfig");
  BOOST_TEST(std::filesystem::is_directory(d.slapd().config_path() / "cn=config"));
  d.start();
  exercise(d);
  d.stop();
}

BOOST_AUTO_TEST_CASE(consumer_replicates_from_provider) {
  auto po = plain(false);
  po.server_id = 1;
  po.syncprov = true;
  directory provider(po, "fixture-provider");
  provider.start();

  auto co = plain(false);
  co.server_id = 2;
  co.syncrepl_provider = provider.slapd().uri();
  co.seed_ldif.clear();
  directory consumer(co, "fixture-consumer");
  consumer.start();

  provider.modify(person_dn("seeded"), {{mod_op::replace, "employeeType", {"terminated"}}});
  const auto csn = provider.read(person_dn("seeded")).first("entryCSN");
  BOOST_TEST(csn.find("#001#") != std::string::npos, "provider CSN " << csn);
  std::string seen;
  for (int i = 0; i < 200 && seen != "terminated"; ++i) {
    if (auto e = consumer.ldap().read(person_dn("seeded"))) {
      seen = e->first("employeeType");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_TEST(seen == "terminated");
  BOOST_TEST(consumer.read(person_dn("seeded")).first("entryCSN") == csn);
}

BOOST_AUTO_TEST_CASE(refused_start_is_reported) {
  temp_dir dir("reclaim-fixture-bad-");
  slapd_options o;
  o.plugin = dir / "missing.so";
  o.plugin_config = dir / "missing.toml";
  slapd_instance slapd(dir / "slapd", o);
  const auto r = slapd.try_start();
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("missing.so") != std::string::npos, "output: " << r.output);
  BOOST_TEST(!slapd.running());
}
