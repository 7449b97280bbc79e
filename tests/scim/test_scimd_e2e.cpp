// test_scimd_e2e.cpp — end to end through reclaim-scimd as the engine's home:
// an Entra-style deactivation (PATCH active "False") pushed over SCIM is
// journalled, planned, dispatched by the engine's own scheduler inside
// reclaim-scimd (in_process, mode enforce), the Microsoft 365 licence is
// removed at the Graph simulator, and `reclaimctl audit verify` accepts the
// signed audit log. Also HTTPS with mutual TLS and engine-only mode.
#include "policy_client.hpp"
#include "process.hpp"
#include "scimd_harness.hpp"
#include "simulator.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

using namespace reclaim::test;
using reclaim::ctest::simulator;
using reclaim::ctest::write_secret;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";

std::string describe(const http_reply &r) { return std::to_string(r.status) + " " + r.error + " " + r.body; }

} // namespace

BOOST_AUTO_TEST_CASE(deactivation_reclaims_the_licence_at_graph_and_the_audit_log_verifies) {
  become_subreaper();
  temp_dir keys("reclaim-scimd-keys-");
  simulator graph("graph_sim.py", keys.path());
  write_secret(keys / "graph.secret", "s3cret");
  graph.seed({{"clients", {{{"client_id", "app-1"}, {"secret", "s3cret"}}}},
              {"skus", {{{"skuId", E5}}}},
              {"users", {{{"id", "aad-zoe"}, {"userPrincipalName", "zoe@example.com"}, {"licenses", {E5}}}}}});
  // The example config in enforce mode, m365 through the Graph simulator,
  // the role matrix read from SCIM's department.
  const std::string toml = "[connector.graph]\ntype = \"msgraph\"\ntenant = \"contoso\"\nclient_id = \"app-1\"\n"
                           "client_secret_file = \"" + (keys / "graph.secret").string() + "\"\n"
                           "base_url = \"" + graph.url() + "/v1.0\"\ntoken_url = \"" + graph.url() +
                           "/contoso/oauth2/v2.0/token\"\nuser_attribute = \"userName\"\nskus = { M365_E5 = \"" + E5 + "\" }\n";
  scimd_instance s("", toml);
  {
    auto text = read_text_file(s.config());
    auto swap = [&](const std::string &from, const std::string &to) {
      const auto at = text.find(from);
      BOOST_TEST_REQUIRE(at != std::string::npos, from);
      text.replace(at, from.size(), to);
    };
    swap("mode = \"dry_run\"", "mode = \"enforce\"");
    swap("tier = \"critical\"\nconnector = \"local\"", "tier = \"critical\"\nconnector = \"graph\"");
    swap("role_attribute = \"departmentNumber\"", "role_attribute = \"department\"");
    write_text_file(s.config(), text);
  }
  s.start();
  const std::string ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  auto r = s.request("POST", "/scim/v2/Users",
                     json{{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User", ent}},
                          {"userName", "zoe@example.com"},
                          {"active", true},
                          {ent, {{"department", "300"}}}}
                         .dump());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string id = r.json()["id"];
  r = s.request("PATCH", "/scim/v2/Users/" + id,
                json{{"schemas", {"urn:ietf:params:scim:api:messages:2.0:PatchOp"}},
                     {"Operations", {{{"op", "Replace"}, {"path", "active"}, {"value", "False"}}}}}
                    .dump());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));

  policy_client ctl(reclaimctl_path(), s.config(), s.state_dir());
  const auto plans = ctl.wait_plans(id, [](const json &all) { return !all.empty(); });
  BOOST_TEST_REQUIRE(!plans.empty(), s.log());
  // reclaim-scimd's own scheduler runs the immediate actions.
  json g;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    g = graph.state()["users"]["aad-zoe"];
    if (g["assignedLicenses"].empty()) break;
    std::this_thread::sleep_for(200ms);
  }
  BOOST_TEST(g["assignedLicenses"].empty(), g.dump() << "\n" << ctl.actions(id).dump() << "\n" << s.log());
  BOOST_TEST(g["accountEnabled"] == false, g.dump());
  BOOST_TEST(s.stop_term() == 0, s.log());
  // Stopped, the engine has signed a last checkpoint over everything.
  const auto pub = ctl.run({"audit", "public-key"});
  BOOST_TEST_REQUIRE(pub.exit_code == 0, pub.output());
  const auto verify = ctl.run({"audit", "verify", "--key", pub.out.substr(0, pub.out.find('\n'))});
  BOOST_TEST(verify.exit_code == 0, verify.output());
  BOOST_TEST(verify.out.find("0 error(s)") != std::string::npos, verify.out);
  const auto audit = read_text_file(s.state_dir() / "audit" / "audit.jsonl");
  BOOST_TEST(std::count(audit.begin(), audit.end(), '\n') >= 3, audit);
}

BOOST_AUTO_TEST_CASE(https_with_mutual_tls) {
  temp_dir pki("reclaim-scimd-pki-");
  const auto p = [&](const char *n) { return (pki / n).string(); };
  auto ok = [](const process_result &r) { return r.exit_code == 0; };
  BOOST_TEST_REQUIRE(ok(run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                                     "/CN=reclaim test CA", "-keyout", p("ca.key"), "-out", p("ca.pem")})));
  BOOST_TEST_REQUIRE(ok(run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                                     "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", p("srv.key"),
                                     "-out", p("srv.pem")})));
  BOOST_TEST_REQUIRE(ok(run_process({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=entra", "-keyout",
                                     p("cli.key"), "-out", p("cli.csr")})));
  BOOST_TEST_REQUIRE(ok(run_process({"openssl", "x509", "-req", "-in", p("cli.csr"), "-CA", p("ca.pem"), "-CAkey",
                                     p("ca.key"), "-CAcreateserial", "-days", "2", "-out", p("cli.pem")})));
  scimd_instance s("tls_cert = \"" + p("srv.pem") + "\"\ntls_key = \"" + p("srv.key") + "\"\nclient_ca = \"" + p("ca.pem") + "\"\n");
  s.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(s.port()) + "/scim/v2/Users";
  auto curl = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", p("srv.pem"),
                                     "-H", "Authorization: Bearer " + provisioner_token};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    return run_process(argv, 20s);
  };
  auto r = curl({"--cert", p("cli.pem"), "--key", p("cli.key")});
  BOOST_TEST(r.out == "200", r.output());
  r = curl({}); // no client certificate: the handshake fails
  BOOST_TEST(r.out != "200", r.output());
  r = run_process({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", p("srv.pem"), "--cert",
                   p("cli.pem"), "--key", p("cli.key"), url}, 20s);
  BOOST_TEST(r.out == "401", r.output()); // a certificate is not a token
  r = run_process({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--tlsv1.1", "--tls-max", "1.1", "--cacert",
                   p("srv.pem"), "--cert", p("cli.pem"), "--key", p("cli.key"), url}, 20s);
  BOOST_TEST(r.out != "200", r.output());
  BOOST_TEST(s.stop_term() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(plain_http_off_loopback_is_refused_and_engine_only_mode_serves_nothing) {
  scimd_instance bad("", "");
  {
    auto text = read_text_file(bad.config());
    const auto at = text.find("listen = \"127.0.0.1:0\"");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    text.replace(at, 22, "listen = \"0.0.0.0:0\"");
    write_text_file(bad.config(), text);
  }
  const auto r = run_process({std::getenv("RECLAIM_TEST_SCIMD"), "--config", bad.config().string(), "--library",
                              std::getenv("RECLAIM_TEST_PLUGIN")},
                             30s);
  BOOST_TEST(r.exit_code == 1, r.output());
  BOOST_TEST(r.err.find("plain HTTP is only allowed on a loopback address") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("reclaim.toml:") != std::string::npos, r.err);

  scimd_instance only("enabled = false\n");
  const auto log = only.state_dir().parent_path() / "engine-only.log";
  const pid_t pid = spawn_process({std::getenv("RECLAIM_TEST_SCIMD"), "--config", only.config().string(), "--library",
                                   std::getenv("RECLAIM_TEST_PLUGIN")},
                                  log.string());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && read_text_file(log).find("engine only") == std::string::npos)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(read_text_file(log).find("engine only, no listener") != std::string::npos, read_text_file(log));
  BOOST_TEST(read_text_file(log).find("listening") == std::string::npos);
  ::kill(pid, SIGTERM);
  BOOST_TEST(wait_process(pid, 30s) == 0, read_text_file(log));
}
