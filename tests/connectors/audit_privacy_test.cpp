// audit_privacy_test.cpp — failing connectors against the SCIM simulator
// (and a port nobody listens on) write a real audit log: it holds none of
// the people's mail addresses, DNs or ids in clear, only the fixed reason
// codes of docs/audit.md, while `reclaimctl audit show --resolve` with the
// keys still shows the vendors' and transports' words.
#include "harness.hpp"

#include "audit/audit_log.hpp"
#include "audit/audit_points.hpp"
#include "process.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

using namespace reclaim;
using namespace reclaim::ctest;

namespace {

std::string privacy_toml(const std::string &url, const std::filesystem::path &dir) {
  write_secret(dir / "scim.token", "scim-token");
  return fmt::format(R"toml(
[connector.slack]
type = "scim"
base_url = "{0}/scim/v2"
token_file = "{1}/scim.token"
user_attribute = "mail"

[connector.down]
type = "scim"
base_url = "http://127.0.0.1:1/scim/v2"
token_file = "{1}/scim.token"
user_attribute = "mail"

[[application]]
id = "slack"
connector = "slack"

[[application]]
id = "chat"
connector = "down"

[audit]
origin = "privacy.example/audit"
checkpoint_every = 5
)toml", url, dir.string());
}

struct person {
  std::string id, mail;
  std::string dn() const { return "uid=" + id + ",dc=example,dc=com"; } // as the harness journals it
  std::string escaped_mail() const { return mail.substr(0, mail.find('@')) + "%40" + mail.substr(mail.find('@') + 1); }
};

json scim_error(int status, const std::string &detail) {
  return {{"schemas", {"urn:ietf:params:scim:api:messages:2.0:Error"}}, {"status", std::to_string(status)},
          {"detail", detail}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(audit_privacy)

BOOST_AUTO_TEST_CASE(connector_failures_leave_no_personal_data_in_clear) {
  reclaim::test::temp_dir tmp{"reclaim-privacy-"};
  simulator sim{"scim_sim.py", tmp.path()};
  const person gone{"7d1f0a52-alice", "alice.secret@example.com"}, refused{"2b9c44e0-carol", "carol.secret@example.com"},
      missing{"91aa3c07-dave", "dave.secret@example.com"}, unreachable{"c3e8d5f1-erin", "erin.secret@example.com"},
      throttled{"5f02b6d9-frank", "frank.secret@example.com"}, no_mail{"e6b7a810-grace", ""};
  sim.seed({{"users", json::array({{{"id", "s-carol"}, {"userName", refused.mail}, {"active", true}},
                                   {{"id", "s-dave"}, {"userName", missing.mail}, {"active", true}},
                                   {{"id", "s-frank"}, {"userName", throttled.mail}, {"active", true}}})}});
  store_harness h(privacy_toml(sim.url(), tmp.path()));
  auto attrs = [](const person &p) { return p.mail.empty() ? json::object() : json{{"mail", p.mail}}; };

  // No SCIM user: the connector's message names the mail.
  h.add_action(gone.id, "slack", action_kind::suspend_access, attrs(gone));
  h.run();
  // The vendor refuses, quoting the person back.
  sim.fault({{"kind", "status"}, {"status", 400}, {"method", "PATCH"}, {"count", 1},
             {"body", scim_error(400, "user " + refused.mail + " (" + refused.dn() + ") is read-only")}});
  h.add_action(refused.id, "slack", action_kind::suspend_access, attrs(refused));
  h.run();
  sim.fault({{"kind", "status"}, {"status", 404}, {"method", "GET"}, {"path", "/Users/s-dave"}, {"count", 1},
             {"body", scim_error(404, "Resource " + missing.mail + " not found")}});
  h.add_action(missing.id, "slack", action_kind::suspend_access, attrs(missing));
  h.run();
  // Nobody listens: curl's error quotes the URL with filter=userName eq "…".
  h.add_action(unreachable.id, "chat", action_kind::suspend_access, attrs(unreachable));
  h.run();
  sim.fault({{"kind", "status"}, {"status", 429}, {"retry_after", 1}, {"method", "GET"}, {"count", 1},
             {"body", scim_error(429, "slow down for " + throttled.mail)}});
  h.add_action(throttled.id, "slack", action_kind::suspend_access, attrs(throttled));
  h.run();
  // No mail attribute: the message names the DN.
  h.add_action(no_mail.id, "slack", action_kind::suspend_access, attrs(no_mail));
  h.run();

  // The connectors' words did quote the people (in the state store).
  std::string outcomes;
  for (const auto &a : h.all_actions()) outcomes += a.outcome + "\n";
  BOOST_TEST(outcomes.find("no SCIM user " + gone.mail) != std::string::npos, outcomes);
  BOOST_TEST(outcomes.find(unreachable.escaped_mail()) != std::string::npos, outcomes);
  BOOST_TEST(outcomes.find(no_mail.dn()) != std::string::npos, outcomes);

  {
    logger quiet;
    audit::appender ap(h.cfg().audit, h.cfg().journal_path(), quiet);
    ap.drain();
  }
  const auto log = reclaim::test::read_text_file(h.cfg().audit.path);
  BOOST_TEST_MESSAGE(log);
  for (const auto &p : {gone, refused, missing, unreachable, throttled, no_mail}) {
    for (const auto &needle : {p.id, p.dn(), p.mail, p.escaped_mail()}) {
      if (needle.empty() || needle == "%40") continue;
      BOOST_TEST(log.find(needle) == std::string::npos, "'" << needle << "' in clear in the audit log");
    }
  }
  std::set<std::string> reasons;
  size_t outcome_records = 0;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    const auto rec = json::parse(line);
    if (rec["type"] != "action_outcome") continue;
    ++outcome_records;
    const auto reason = rec.value("reason", "");
    BOOST_TEST(std::count(audit::reason_codes.begin(), audit::reason_codes.end(), reason) == 1, reason);
    reasons.insert(reason);
    BOOST_TEST(rec.contains("pii"), line);
  }
  BOOST_TEST(outcome_records >= 6u);
  for (const char *code : {"ok", "refused", "not_found", "transport", "throttled"})
    BOOST_TEST(reasons.count(code) == 1, code << " missing; reasons seen: " << json(reasons).dump());

  // With the keys, the detail is still there.
  std::filesystem::permissions(h.dir() / "reclaim.toml", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto shown = reclaim::test::run_process({reclaim::test::reclaimctl_path().string(), "--config",
                                                 (h.dir() / "reclaim.toml").string(), "audit", "show", "--resolve",
                                                 "--json"});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.output());
  for (const auto &needle : {"no SCIM user " + gone.mail, refused.mail + " (" + refused.dn() + ") is read-only",
                             unreachable.escaped_mail(), no_mail.dn() + " has no mail attribute"})
    BOOST_TEST(shown.out.find(needle) != std::string::npos, "'" << needle << "' not resolved:\n" << shown.out);
}

BOOST_AUTO_TEST_SUITE_END()
