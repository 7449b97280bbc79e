// replication_test.cpp — a provider (syncprov, serverID 1) and a consumer
// (syncrepl refreshAndPersist from the provider, serverID 2), both with the
// plugin and each with its own state_dir. A change is journalled once, on the
// server where it was made: the provider's journal has it, the consumer's
// journal has nothing of what it received by replication.
#define BOOST_TEST_MODULE ldap_replication
#include "scenario.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

using namespace reclaim::test;
namespace utf = boost::unit_test;

namespace {

// slapd 2.5.13 itself, not reclaim: a syncrepl consumer with any
// database-level SLAPI plugin segfaults now and then (about one run in five
// here) while the slapi overlay walks op->o_callback and meets a dangling
// entry (dmesg: libslapi-2.5.so.0.1.8+0x1810c, in slapi_op_internal_p's loop
// over the callback chain; no reclaim frame). docs/admin.md tells admins.
// The test restarts such a consumer, at most twice, and says so; a third
// crash, or any wrong journal content, fails it.
int consumer_crashes = 0;

// Polls the consumer until pred(entry or nullopt) holds (replication lag).
template <typename Pred>
bool wait_on_consumer(directory &consumer, const std::string &dn, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + default_timeout();
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_alive(consumer.slapd().pid())) {
      ++consumer_crashes;
      BOOST_TEST_MESSAGE("WARNING: the consumer slapd died (slapd 2.5.13 slapi/syncrepl crash), restart "
                         << consumer_crashes << ":\n" << consumer.slapd().output());
      BOOST_TEST_REQUIRE(consumer_crashes <= 2, "the consumer slapd died three times:\n"
                                                    << consumer.slapd().output() << consumer.slapd().plugin_log());
      consumer.restart(true);
      continue;
    }
    try {
      if (pred(consumer.ldap().read(dn))) {
        return true;
      }
    } catch (const std::exception &e) {
      BOOST_TEST_MESSAGE("reading " << dn << " on the consumer: " << e.what());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void run_scenario(bool cn_config, const std::string &syncrepl_extra = {}) {
  directory_options po;
  po.cn_config = cn_config;
  po.server_id = 1;
  po.syncprov = true;
  po.seed_ldif = seed_ldif(person_ldif("repl.alice", "employeeType: employee\n") +
                           person_ldif("repl.bob", "employeeType: employee\n"));
  directory provider(po, "provider");
  provider.start();
  provider.events().wait_readable();

  directory_options co;
  co.cn_config = cn_config;
  co.server_id = 2;
  co.syncrepl_provider = provider.slapd().uri();
  co.syncrepl_extra = syncrepl_extra;
  co.seed_ldif.clear(); // everything arrives by replication
  directory consumer(co, "consumer");
  consumer.start();
  consumer.events().wait_readable();
  BOOST_REQUIRE_MESSAGE(wait_on_consumer(consumer, person_dn("repl.bob"),
                                         [](const auto &e) { return e.has_value(); }),
                        "the consumer never received the provider's people");

  const auto alice =
      provider.modify(person_dn("repl.alice"), {{mod_op::replace, "employeeType", {"terminated"}}});
  const auto carol = provider.add_person("repl.carol");
  const auto bob = provider.read(person_dn("repl.bob"));
  BOOST_REQUIRE(provider.ldap().remove(bob.dn) == 0);
  const std::vector<expected_event> on_provider = {change_of(alice, "active", "terminated"),
                                                   change_of(carol, "none", "active"),
                                                   deletion_of(bob, "active")};
  expect_events(provider, 0, on_provider, "provider: terminate, add, delete");

  BOOST_REQUIRE(wait_on_consumer(consumer, alice.dn, [](const auto &e) {
    return e && e->first("employeeType") == "terminated";
  }));
  BOOST_REQUIRE(wait_on_consumer(consumer, carol.dn, [](const auto &e) { return e.has_value(); }));
  BOOST_REQUIRE(wait_on_consumer(consumer, bob.dn, [](const auto &e) { return !e.has_value(); }));
  BOOST_TEST(consumer.read(alice.dn).first("entryCSN") == alice.first("entryCSN"));
  check_events(consumer.events().wait_after(0, 0), {},
               "consumer: everything it holds came by replication");
  BOOST_TEST(process_alive(consumer.slapd().pid()));

  // The consumer restarts (catch-up runs over replicated entries): still nothing.
  consumer.restart(true);
  check_events(consumer.events().wait_after(0, 0), {}, "consumer after a restart");
  check_events(provider.events().read(), on_provider, "provider journal at the end");
}

} // namespace

BOOST_AUTO_TEST_CASE(replicated_changes_are_journalled_only_where_made) {
  run_scenario(false);
}

BOOST_AUTO_TEST_CASE(replicated_changes_are_journalled_only_where_made_cn_config) {
  run_scenario(true);
}

// OpenLDAP 2.5.13 bug, not reclaim's: with the syncrepl keyword timeout=N,
// any database-level SLAPI plugin (even one that only registers an empty
// post-modify callback) makes the consumer segfault in libslapi
// (fe_aux_operational -> slapi overlay) when it applies a replicated modify.
// Kept as a reproducer; run with --run_test=syncrepl_timeout_keyword_on_consumer.
BOOST_AUTO_TEST_CASE(syncrepl_timeout_keyword_on_consumer,
                     *utf::disabled() *
                         utf::description("slapd 2.5.13 crashes; see tests/ldap/NOTES-for-lead.md")) {
  run_scenario(false, "timeout=3");
}
