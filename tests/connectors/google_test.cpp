// google_test.cpp — the google connector against tests/sim/google_sim.py:
// the RS256 service-account assertion is verified by the simulator with
// the public key, a licence is removed once (check before act), a downgrade
// reassigns the SKU, a restore inserts it again, quota errors (503) are
// retried, and an account without domain-wide delegation fails permanently
// with an alert and one token request; a user key that is a dot segment is
// refused before any request. Google's documented quota (1 request/s per
// service account, reads and writes together, enforced by the simulator)
// is the connector's default shared budget.
#include "harness.hpp"

#include "process.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

using namespace reclaim;
using namespace reclaim::ctest;

namespace {

struct google_fixture {
  reclaim::test::temp_dir tmp{"reclaim-google-"};
  simulator sim{"google_sim.py", tmp.path()};
  std::string public_key;

  google_fixture() {
    const auto key = tmp / "sa.pem";
    auto r = reclaim::test::run_process({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                                         "-out", key.string()});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output());
    r = reclaim::test::run_process({"openssl", "pkey", "-in", key.string(), "-pubout"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output());
    public_key = r.out;
    const json sa{{"type", "service_account"}, {"client_email", "reclaim@proj.iam.gserviceaccount.com"},
                  {"private_key_id", "k1"}, {"private_key", reclaim::test::read_text_file(key)}};
    write_secret(tmp / "sa.json", sa.dump());
  }

  json seed(bool delegated = true, int users = 3) {
    json assignments = json::array();
    for (int i = 0; i < users; ++i)
      assignments.push_back({{"productId", "Google-Apps"}, {"skuId", "1010020028"}, {"userId", fmt::format("u{}@example.com", i)}});
    return {{"service_accounts", {{{"client_email", "reclaim@proj.iam.gserviceaccount.com"},
                                   {"public_key", public_key}, {"delegated", delegated}}}},
            {"admins", {"admin@example.com"}},
            {"skus", {{{"productId", "Google-Apps"}, {"skuId", "1010020028"}, {"skuName", "Business Standard"}},
                      {{"productId", "Google-Apps"}, {"skuId", "1010020027"}, {"skuName", "Business Starter"}}}},
            {"assignments", assignments}};
  }

  std::string toml(const std::string &extra = "") const {
    return fmt::format(R"toml(
[connector.google]
type = "google"
service_account_file = "{1}/sa.json"
admin_subject = "admin@example.com"
product_id = "Google-Apps"
base_url = "{0}/apps/licensing/v1"
token_url = "{0}/token"
user_attribute = "mail"
skus = {{ STANDARD = "1010020028", STARTER = "1010020027" }}
{2}

[[application]]
id = "workspace"
connector = "google"
skus = [ {{ id = "STANDARD", monthly_cost = 12.0 }}, {{ id = "STARTER", monthly_cost = 6.0 }} ]
)toml", sim.url(), tmp.path().string(), extra);
  }

  std::string sku_of(const std::string &user) {
    const auto st = sim.state();
    for (const auto &a : st["assignments"])
      if (a["userId"] == user) return a["skuId"];
    return "";
  }
};

json mail(int i) { return {{"mail", fmt::format("u{}@example.com", i)}}; }

} // namespace

BOOST_AUTO_TEST_SUITE(google)

BOOST_FIXTURE_TEST_CASE(remove_downgrade_restore_and_quota, google_fixture) {
  sim.seed(seed());
  store_harness h(toml());
  sim.fault({{"kind", "status"}, {"status", 503}, {"method", "DELETE"}, {"count", 1},
             {"body", {{"error", {{"code", 503}, {"message", "Quota exceeded for quota metric 'Queries'"},
                                  {"status", "UNAVAILABLE"}}}}}});
  const auto rm = h.add_action("p0", "workspace", action_kind::reclaim_licence, mail(0));
  const auto down = h.add_action("p1", "workspace", action_kind::downgrade_licence, mail(1), "", "STARTER");
  h.run();
  BOOST_TEST(h.action(rm).status == "done", h.action(rm).outcome);
  BOOST_TEST(h.action(rm).attempts == 2); // the 503 quota answer was retried
  BOOST_TEST(sku_of("u0@example.com") == "");
  BOOST_TEST(h.action(down).status == "done", h.action(down).outcome);
  BOOST_TEST(sku_of("u1@example.com") == "1010020027");
  const auto again = h.add_action("p0", "workspace", action_kind::reclaim_licence, mail(0));
  const auto back = h.add_action("p0", "workspace", action_kind::assign_licence, mail(0), "", "", h.action(rm).before_image);
  h.run();
  BOOST_TEST(h.action(again).status == "already_done", h.action(again).outcome);
  BOOST_TEST(h.action(back).status == "done", h.action(back).outcome);
  BOOST_TEST(sku_of("u0@example.com") == "1010020028");
  const auto st = sim.state();
  BOOST_TEST(st["writes"]["u0@example.com"] == 2); // one delete, one insert
  BOOST_TEST(st["stats"]["token_requests"] == 1);
}

BOOST_FIXTURE_TEST_CASE(the_default_budget_is_googles_documented_quota_shared_by_reads_and_writes, google_fixture) {
  // Each reclaim is a GET then a DELETE; at 1 request/s per service account
  // (both counted), a DELETE sent right after its GET is refused with 503.
  sim.seed(seed(true, 11));
  store_harness h(toml()); // no limits in the config
  std::vector<int64_t> ids;
  for (int i = 0; i < 11; ++i)
    ids.push_back(h.add_action(fmt::format("p{}", i), "workspace", action_kind::reclaim_licence, mail(i)));
  h.sched().run_due(now());
  for (const auto id : ids) {
    BOOST_TEST(h.action(id).status == "done", h.action(id).outcome);
    BOOST_TEST(h.action(id).attempts == 1);
  }
  const auto st = sim.state();
  BOOST_TEST(st["assignments"].size() == 0u, st["assignments"].dump());
  BOOST_TEST(st["stats"]["quota_refused"] == 0, st["stats"].dump());
  BOOST_TEST(st["stats"]["writes"] == 11);
}

BOOST_FIXTURE_TEST_CASE(request_limit_is_one_budget_for_reads_and_writes_and_is_validated, google_fixture) {
  // A raised quota (2/s here) is configured as request_limit: one budget
  // for GETs and DELETEs together, which keeps to it.
  auto st = seed(true, 4);
  st["qps"] = 2;
  sim.seed(st);
  {
    store_harness h(toml("request_limit = 2\nrequest_burst = 1"));
    std::vector<int64_t> ids;
    for (int i = 0; i < 4; ++i)
      ids.push_back(h.add_action(fmt::format("p{}", i), "workspace", action_kind::reclaim_licence, mail(i)));
    h.sched().run_due(now());
    for (const auto id : ids) BOOST_TEST(h.action(id).status == "done", h.action(id).outcome);
    BOOST_TEST(sim.state()["stats"]["quota_refused"] == 0, sim.state()["stats"].dump());
  }
  for (const auto *bad : {"request_limit = 0", "request_window = \"PT0S\"", "request_limits = 1"}) {
    try {
      store_harness h(toml(bad));
      BOOST_ERROR("accepted: " << bad);
    } catch (const config_error &e) {
      const std::string what = e.what();
      const bool named = what.find("connector.google.request_limit") != std::string::npos ||
                         what.find("connector.google.request_window") != std::string::npos;
      BOOST_TEST(named, what);
      BOOST_TEST(std::string(e.what()).find("reclaim.toml:") != std::string::npos, e.what());
    }
  }
}

BOOST_FIXTURE_TEST_CASE(a_lost_answer_is_checked_not_repeated, google_fixture) {
  sim.seed(seed());
  store_harness h(toml());
  sim.fault({{"kind", "lost"}, {"method", "DELETE"}, {"count", 1}});
  const auto rm = h.add_action("p2", "workspace", action_kind::reclaim_licence, mail(2));
  h.run();
  BOOST_TEST(h.action(rm).status == "done", h.action(rm).outcome);
  BOOST_TEST(h.action(rm).attempts == 1);
  BOOST_TEST(sim.state()["writes"]["u2@example.com"] == 1);
}

BOOST_FIXTURE_TEST_CASE(no_delegation_is_a_permanent_failure_without_a_storm, google_fixture) {
  sim.seed(seed(false));
  store_harness h(toml());
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(h.add_action(fmt::format("p{}", i), "workspace", action_kind::reclaim_licence, mail(i)));
    h.sched().run_due(now());
  }
  for (auto id : ids) {
    BOOST_TEST(h.action(id).status == "failed");
    BOOST_TEST(h.action(id).outcome.find("unauthorized_client") != std::string::npos, h.action(id).outcome);
  }
  BOOST_TEST(sim.state()["stats"]["token_requests"] == 1);
  BOOST_TEST(sku_of("u0@example.com") == "1010020028");
}

BOOST_FIXTURE_TEST_CASE(dot_segment_user_keys_are_refused_without_a_request, google_fixture) {
  // libcurl removes dot segments: DELETE …/sku/S/user/.. would be DELETE …/sku/S/.
  sim.seed(seed());
  store_harness h(toml());
  std::vector<int64_t> ids;
  for (const char *key : {".", ".."})
    ids.push_back(h.add_action(key, "workspace", action_kind::reclaim_licence, {{"mail", key}}));
  h.run();
  for (const auto id : ids) {
    BOOST_TEST(h.action(id).status == "failed", h.action(id).outcome);
    BOOST_TEST(h.action(id).outcome.find("cannot be put in a URL path") != std::string::npos, h.action(id).outcome);
  }
  BOOST_TEST(sim.state()["stats"]["requests"] == 0, sim.state()["stats"].dump());
  BOOST_TEST(sim.state()["assignments"].size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
