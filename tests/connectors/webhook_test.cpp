// webhook_test.cpp — the webhook connector against tests/sim/webhook_sim.py:
// a notify action reaches the finance receiver signed and exactly once
// (a lost answer is retried and recognised by its delivery id), a wrong
// key is a permanent failure with an alert, and the receiver refuses
// replays and stale timestamps.
#include "harness.hpp"

#include "connectors/webhook_connector.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

using namespace reclaim;
using namespace reclaim::ctest;

namespace {

std::string hook_toml(const std::string &url, const std::filesystem::path &dir, const std::string &key) {
  write_secret(dir / "hook.key", key);
  return fmt::format(R"toml(
[connector.finance]
type = "webhook"
url = "{0}/hooks/finance"
secret_file = "{1}/hook.key"
targets = ["finance"]

[[application]]
id = "figma"
skus = [ {{ id = "FIGMA_PRO", monthly_cost = 15.0 }} ]
)toml", url, dir.string());
}

} // namespace

BOOST_AUTO_TEST_SUITE(webhook)

BOOST_AUTO_TEST_CASE(finance_receives_one_signed_notification_despite_a_lost_answer) {
  reclaim::test::temp_dir tmp{"reclaim-hook-"};
  simulator sim{"webhook_sim.py", tmp.path()};
  sim.seed({{"secret", "k3y-for-finance"}});
  sim.fault({{"kind", "lost"}, {"count", 1}});
  sim.fault({{"kind", "status"}, {"status", 503}, {"count", 1}});
  store_harness h(hook_toml(sim.url(), tmp.path(), "k3y-for-finance"));
  // The planner names the SKUs a notification is about (planner::price).
  const auto id = h.add_action("p0", "figma", action_kind::notify, json::object(), "FIGMA_PRO", "", "", "finance");
  h.run();
  const auto a = h.action(id);
  BOOST_TEST(a.status == "done", a.outcome);
  BOOST_TEST(a.attempts == 3); // lost, 503, delivered (a duplicate, acknowledged)
  const auto st = sim.state();
  BOOST_TEST(st["received"].size() == 1u);
  BOOST_TEST(st["stats"]["duplicates"] == 1);
  const auto body = st["received"][0]["body"];
  BOOST_TEST(body["target"] == "finance");
  BOOST_TEST(body["subject"]["name"] == "uid=p0,dc=example,dc=com");
  BOOST_TEST(body["sku"] == "FIGMA_PRO");
  BOOST_TEST(body["skus"] == json::array({"FIGMA_PRO"}));
  BOOST_TEST(body["monthly_cost"]["amount"] == 15.0);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_is_a_permanent_failure_with_an_alert) {
  reclaim::test::temp_dir tmp{"reclaim-hook-"};
  simulator sim{"webhook_sim.py", tmp.path()};
  sim.seed({{"secret", "the-right-key"}});
  store_harness h(hook_toml(sim.url(), tmp.path(), "a-wrong-key"));
  const auto id = h.add_action("p0", "figma", action_kind::notify, json::object(), "", "", "", "finance");
  h.run();
  BOOST_TEST(h.action(id).status == "failed");
  BOOST_TEST(h.action(id).outcome.find("signature does not verify") != std::string::npos, h.action(id).outcome);
  bool alert = false;
  for (const auto &l : h.logs()) alert = alert || l.find("ALERT") != std::string::npos;
  BOOST_TEST(alert);
  BOOST_TEST(sim.state()["received"].empty());
}

BOOST_AUTO_TEST_CASE(receiver_refuses_replays_and_stale_timestamps) {
  reclaim::test::temp_dir tmp{"reclaim-hook-"};
  simulator sim{"webhook_sim.py", tmp.path()};
  sim.seed({{"secret", "k"}});
  const std::string body = R"({"id":"d-1","subject":{"id":"p9"}})";
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::vector<std::string> fresh{"Content-Type: application/json", "X-Reclaim-Delivery: d-1",
                                       "X-Reclaim-Signature: " + webhook_signature("k", t, body)};
  BOOST_TEST(raw_http("POST", sim.url() + "/hooks/finance", body, fresh).status == 200);
  BOOST_TEST(raw_http("POST", sim.url() + "/hooks/finance", body, fresh).status == 409); // replay
  const std::vector<std::string> stale{"Content-Type: application/json", "X-Reclaim-Delivery: d-1",
                                       "X-Reclaim-Signature: " + webhook_signature("k", t - 3600, body)};
  const auto r = raw_http("POST", sim.url() + "/hooks/finance", body, stale);
  BOOST_TEST(r.status == 401);
  BOOST_TEST(r.body.find("tolerance") != std::string::npos, r.body);
  const std::vector<std::string> tampered{"Content-Type: application/json", "X-Reclaim-Delivery: d-1",
                                          "X-Reclaim-Signature: " + webhook_signature("k", t, body + " ")};
  BOOST_TEST(raw_http("POST", sim.url() + "/hooks/finance", body, tampered).status == 401);
  BOOST_TEST(sim.state()["received"].size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
