// e2e_test.cpp — a termination in a real slapd (the plugin loaded, the
// example config with vendor connectors) ends, after `reclaimctl dispatch`,
// with the Microsoft 365 licence gone and the account disabled in the Graph
// simulator, the Workspace licence gone in the Google simulator, the
// GitHub EMU (SCIM) user deactivated, and signed webhooks for finance
// received and verified by the receiver.
#define BOOST_TEST_MODULE connectors_e2e
#include "simulator.hpp"
#include "policy_client.hpp"
#include "process.hpp"
#include "scenario.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <set>

using namespace reclaim::test;
using reclaim::ctest::simulator;
using reclaim::ctest::write_secret;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";

void replace_once(std::string &text, const std::string &from, const std::string &to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("example config lacks: " + from);
  text.replace(at, from.size(), to);
}

std::string e2e_config(const fs::path &state_dir, const fs::path &keys, simulator &graph, simulator &google,
                       simulator &scim, simulator &hook) {
  auto text = example_config(state_dir);
  replace_once(text, "in_process = true", "in_process = false");
  replace_once(text, "mode = \"dry_run\"", "mode = \"enforce\""); // the example ships in dry run
  replace_once(text, "tier = \"critical\"\nconnector = \"local\"", "tier = \"critical\"\nconnector = \"graph\"");
  replace_once(text, "tier = \"critical\"\nconnector = \"local\"", "tier = \"critical\"\nconnector = \"github_scim\"");
  text += fmt::format(R"toml(
[[application]]
id = "workspace"
name = "Google Workspace"
tier = "critical"
connector = "google"
skus = [ {{ id = "STANDARD", monthly_cost = 12.0 }} ]

[connector.graph]
type = "msgraph"
tenant = "contoso"
client_id = "app-1"
client_secret_file = "{keys}/graph.secret"
base_url = "{graph}/v1.0"
token_url = "{graph}/contoso/oauth2/v2.0/token"
user_attribute = "mail"
skus = {{ M365_E5 = "{e5}" }}

[connector.google]
type = "google"
service_account_file = "{keys}/sa.json"
admin_subject = "admin@example.com"
product_id = "Google-Apps"
base_url = "{google}/apps/licensing/v1"
token_url = "{google}/token"
user_attribute = "mail"
skus = {{ STANDARD = "1010020028" }}

[connector.github_scim]
type = "scim"
base_url = "{scim}/scim/v2"
token_file = "{keys}/scim.token"
user_attribute = "mail"

[connector.finance]
type = "webhook"
url = "{hook}/hooks/finance"
secret_file = "{keys}/hook.key"
targets = ["finance"]
)toml", fmt::arg("keys", keys.string()), fmt::arg("graph", graph.url()), fmt::arg("google", google.url()),
                      fmt::arg("scim", scim.url()), fmt::arg("hook", hook.url()), fmt::arg("e5", E5));
  return text;
}

} // namespace

BOOST_AUTO_TEST_CASE(termination_reclaims_at_every_vendor_and_tells_finance) {
  become_subreaper();
  temp_dir keys("reclaim-e2e-keys-");
  simulator graph("graph_sim.py", keys.path()), google("google_sim.py", keys.path()),
      scim("scim_sim.py", keys.path()), hook("webhook_sim.py", keys.path());
  // Credentials: a Graph client secret, a Google service account key, a
  // SCIM bearer token and the finance HMAC key — files, mode 0600.
  write_secret(keys / "graph.secret", "s3cret");
  write_secret(keys / "scim.token", "scim-token");
  write_secret(keys / "hook.key", "finance-key");
  const auto key = keys / "sa.pem";
  BOOST_TEST_REQUIRE(run_process({"openssl", "genpkey", "-algorithm", "RSA", "-out", key.string()}).exit_code == 0);
  const auto pub = run_process({"openssl", "pkey", "-in", key.string(), "-pubout"});
  write_secret(keys / "sa.json", json{{"client_email", "reclaim@proj.iam.gserviceaccount.com"},
                                      {"private_key", read_text_file(key)}}.dump());
  graph.seed({{"clients", {{{"client_id", "app-1"}, {"secret", "s3cret"}}}},
              {"skus", {{{"skuId", E5}}}},
              {"users", {{{"id", "aad-zoe"}, {"userPrincipalName", "zoe@example.com"}, {"licenses", {E5}}}}}});
  google.seed({{"service_accounts", {{{"client_email", "reclaim@proj.iam.gserviceaccount.com"}, {"public_key", pub.out}}}},
               {"admins", {"admin@example.com"}},
               {"skus", {{{"productId", "Google-Apps"}, {"skuId", "1010020028"}}}},
               {"assignments", {{{"productId", "Google-Apps"}, {"skuId", "1010020028"}, {"userId", "zoe@example.com"}}}}});
  scim.seed({{"users", {{{"id", "gh-1"}, {"userName", "zoe@example.com"}}}}});
  hook.seed({{"secret", "finance-key"}});

  directory_options o;
  o.seed_ldif = seed_ldif(person_ldif("term.zoe", "mail: zoe@example.com\ndepartmentNumber: 100\nemployeeType: employee\n"));
  directory dir(o, "e2e");
  write_plugin_config(dir.config_path(), e2e_config(dir.state_dir(), keys.path(), graph, google, scim, hook),
                      dir.state_dir());
  dir.start();
  dir.events().wait_readable();
  policy_client ctl(reclaimctl_path(), dir.config_path(), dir.state_dir());
  auto id = dir.read(person_dn("term.zoe")).first("entryUUID");
  for (auto &c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  dir.modify(person_dn("term.zoe"), {{mod_op::replace, "employeeType", {"terminated"}}});
  const auto plans = ctl.wait_plans(id, [](const json &all) { return !all.empty(); });
  BOOST_TEST_REQUIRE(!plans.empty(), dir.slapd().plugin_log());
  ctl.dispatch();

  const auto acts = ctl.actions(id);
  const auto status = [&](const std::string &app, const std::string &kind) {
    for (const auto &a : acts)
      if (a.value("app", "") == app && a.value("action", "") == kind) return a.value("status", "") + ": " + a.value("outcome", "");
    return std::string("(none)");
  };
  BOOST_TEST(status("m365", "reclaim_licence").rfind("done:", 0) == 0, status("m365", "reclaim_licence"));
  BOOST_TEST(status("m365", "revoke_access").rfind("done:", 0) == 0, status("m365", "revoke_access"));
  BOOST_TEST(status("workspace", "reclaim_licence").rfind("done:", 0) == 0, status("workspace", "reclaim_licence"));
  BOOST_TEST(status("github", "revoke_access").rfind("done:", 0) == 0, status("github", "revoke_access"));

  const auto g = graph.state()["users"]["aad-zoe"];
  BOOST_TEST(g["assignedLicenses"].empty(), g.dump());
  BOOST_TEST(g["accountEnabled"] == false);
  BOOST_TEST(google.state()["assignments"].empty());
  BOOST_TEST(scim.state()["users"]["gh-1"]["active"] == false);
  const auto received = hook.state()["received"];
  BOOST_TEST_REQUIRE(!received.empty());
  std::set<std::string> apps;
  for (const auto &r : received) {
    BOOST_TEST(r["target"] == "finance");
    BOOST_TEST(r["body"]["subject"]["id"] == id);
    apps.insert(r["body"]["application"]["id"].get<std::string>());
  }
  BOOST_TEST(apps.count("m365") == 1u);
  BOOST_TEST(apps.count("workspace") == 1u);
  BOOST_TEST(hook.state()["stats"]["refused"] == 0);
}
