// policy_fixture.hpp — the catalogue and rules the planner and scheduler
// unit tests share: five applications over the three tiers, the leavers
// and leave rules of the example config, and a UTC time parser.
#pragma once

#include "base/clock.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <map>
#include <string>

namespace reclaim::unit {

using reclaim::time_point;

inline time_point at(const char *utc) {
  const auto t = reclaim::parse_utc(utc);
  BOOST_TEST_REQUIRE(t.has_value(), utc);
  return *t;
}

// The catalogue: two critical, two standard, one low application. Extra
// lines for one application (dry_run, require_approval) go in `flags`.
inline std::string apps_text(const std::map<std::string, std::string> &flags) {
  const std::pair<const char *, const char *> apps[] = {
      {"m365", "tier = \"critical\"\nskus = [ { id = \"M365_E5\", monthly_cost = 57.0 }, "
               "{ id = \"M365_E1\", monthly_cost = 10.0 } ]\n"},
      {"github", "tier = \"critical\"\nskus = [ { id = \"GHE\", monthly_cost = 21.0 } ]\n"},
      {"figma", "tier = \"standard\"\nskus = [ { id = \"FIGMA_PRO\", monthly_cost = 15.0 } ]\n"},
      {"sap", "tier = \"standard\"\nskus = [ { id = \"SAP_PRO\", monthly_cost = 110.0, currency = \"EUR\" } ]\n"},
      {"wiki", "tier = \"low\"\n"},
  };
  std::string out;
  for (const auto &[id, body] : apps) {
    out += fmt::format("\n[[application]]\nid = \"{}\"\n{}", id, body);
    if (auto it = flags.find(id); it != flags.end()) out += it->second + "\n";
  }
  return out + R"toml(
[tiers.critical]
delay = "immediate"
[tiers.standard]
delay = "P30D"
[tiers.low]
delay = "staged"
grace = "P7D"
)toml";
}

inline const std::string leavers_rule = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated", "deleted", "contract_ended"]
applications = ["*"]
actions = [
  { action = "revoke_access", delay = "immediate" },
  { action = "transfer_ownership", delay = "P7D" },
  { action = "reclaim_licence" },
  { action = "notify", target = "finance", delay = "immediate" },
]
)toml";

inline const std::string leave_rule = R"toml(
[[policy.rule]]
name = "leave"
to = ["leave"]
applications = ["*"]
actions = [
  { action = "suspend_access", delay = "immediate" },
  { action = "reclaim_licence", delay = "P90D" },
]
)toml";

} // namespace reclaim::unit
