// test_policy_config.cpp — plugin/config/policy_loader: the policy sections of
// reclaim.toml ([[application]], [tiers.*], [policy], [[policy.rule]],
// [guard], [scheduler]). Every bad item is a config_error that starts with
// "file:line:" of the offending item and names the key and the value; the
// shipped example loads with the values it shows.
#include "config/config.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
using reclaim::state;
using reclaim::unit::temp_dir;

namespace {

const std::string ldap_ok = "[ldap]\nbase = \"dc=example,dc=com\"\n";

// Three applications every bad case can refer to.
const std::string apps = R"toml(
[[application]]
id = "m365"
tier = "critical"
skus = [ { id = "M365_E5", monthly_cost = 57.0 }, { id = "M365_E1", monthly_cost = 10.0 } ]

[[application]]
id = "github"
tier = "critical"
skus = [ { id = "GHE", monthly_cost = 21.0 } ]

[[application]]
id = "figma"
tier = "standard"
skus = [ { id = "FIGMA_PRO", monthly_cost = 15.0 } ]
)toml";

std::string with_apps(const std::string &body) { return ldap_ok + apps + body; }

std::string rule(const std::string &name, const std::string &lines) {
  return "\n[[policy.rule]]\nname = \"" + name + "\"\n" + lines;
}

std::string load_error(const temp_dir &dir, const std::string &toml) {
  try {
    reclaim::unit::load_toml(dir, toml);
  } catch (const reclaim::config_error &e) {
    return e.what();
  }
  return "";
}

// 1-based line of the first occurrence of marker.
size_t line_of(const std::string &text, const std::string &marker) {
  const auto pos = text.find(marker);
  BOOST_TEST_REQUIRE(pos != std::string::npos, "marker " << marker << " not in the TOML");
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

struct bad_case {
  const char *name;
  std::string toml;
  std::string marker;  // text on the offending line (its first occurrence)
  std::string key;     // "" when the message names items otherwise
  std::string problem; // a fragment of the problem (names the value)
};

void check_bad(const bad_case &c) {
  BOOST_TEST_CONTEXT("case " << c.name << "\n" << c.toml) {
    temp_dir dir;
    const auto message = load_error(dir, c.toml);
    const auto prefix = fmt::format("{}:{}:", (dir / "reclaim.toml").string(), line_of(c.toml, c.marker));
    BOOST_TEST(message.rfind(prefix, 0) == 0, "message \"" << message << "\" should start with \"" << prefix << "\"");
    if (!c.key.empty())
      BOOST_TEST(message.find(": " + c.key + ": ") != std::string::npos,
                 "message \"" << message << "\" should name key " << c.key);
    BOOST_TEST(message.find(c.problem) != std::string::npos,
               "message \"" << message << "\" should contain \"" << c.problem << "\"");
  }
}

void check_good(const char *name, const std::string &toml) {
  BOOST_TEST_CONTEXT("case " << name << "\n" << toml) {
    temp_dir dir;
    BOOST_TEST(load_error(dir, toml) == "");
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(policy_config)

BOOST_AUTO_TEST_CASE(rules_naming_unknown_items_are_refused) {
  const bad_case cases[] = {
      {"unknown application",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\", \"salesforce\"]\n"
                           "actions = [ { action = \"revoke_access\" } ]\n")),
       "\"salesforce\"", "policy.rule[0].applications", "unknown application \"salesforce\""},
      {"unknown application in the second rule",
       with_apps(rule("a", "to = [\"leave\"]\napplications = [\"m365\"]\nactions = [ { action = \"suspend_access\" } ]\n") +
                 rule("b", "to = [\"terminated\"]\napplications = [\"slack\"]\n"
                           "actions = [ { action = \"revoke_access\" } ]\n")),
       "\"slack\"", "policy.rule[1].applications", "unknown application \"slack\""},
      {"unknown SKU for downgrade",
       with_apps(rule("r", "to = [\"transferred\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"downgrade_licence\", to_sku = \"M365_E9\" } ]\n")),
       "M365_E9", "policy.rule[0].actions[0].to_sku", "application \"m365\" has no SKU \"M365_E9\""},
      {"SKU missing in one of the applications of \"*\"",
       with_apps(rule("r", "to = [\"transferred\"]\napplications = [\"*\"]\n"
                           "actions = [ { action = \"downgrade_licence\", to_sku = \"M365_E1\" } ]\n")),
       "to_sku = \"M365_E1\"", "policy.rule[0].actions[0].to_sku", "application \"github\" has no SKU \"M365_E1\""},
      {"downgrade without to_sku",
       with_apps(rule("r", "to = [\"transferred\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"downgrade_licence\" } ]\n")),
       "{ action = \"downgrade_licence\" }", "policy.rule[0].actions[0].to_sku", "is required"},
      {"to_sku on another action",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"revoke_access\", to_sku = \"M365_E1\" } ]\n")),
       "to_sku", "policy.rule[0].actions[0].to_sku", "only downgrade_licence"},
      {"unknown to state",
       with_apps(rule("r", "to = [\"terminated\", \"fired\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"revoke_access\" } ]\n")),
       "\"fired\"", "policy.rule[0].to", "unknown state \"fired\""},
      {"unknown from state",
       with_apps(rule("r", "from = [\"hired\"]\nto = [\"terminated\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"revoke_access\" } ]\n")),
       "\"hired\"", "policy.rule[0].from", "unknown state \"hired\""},
      {"state none",
       with_apps(rule("r", "to = [\"none\"]\napplications = [\"m365\"]\nactions = [ { action = \"revoke_access\" } ]\n")),
       "\"none\"", "policy.rule[0].to", "unknown state \"none\""},
      {"to \"*\"",
       with_apps(rule("r", "to = [\"*\"]\napplications = [\"m365\"]\nactions = [ { action = \"revoke_access\" } ]\n")),
       "[\"*\"]", "policy.rule[0].to", "must name states"},
      {"unknown action",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"wipe_laptop\" } ]\n")),
       "wipe_laptop", "policy.rule[0].actions[0].action", "unknown action \"wipe_laptop\""},
      {"restore actions are the engine's, not a rule's",
       with_apps(rule("r", "to = [\"active\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"resume_access\" } ]\n")),
       "resume_access", "policy.rule[0].actions[0].action", "unknown action \"resume_access\""},
      {"second action unknown",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\nactions = [\n"
                           "  { action = \"revoke_access\" },\n  { action = \"revoke_licence\" },\n]\n")),
       "revoke_licence", "policy.rule[0].actions[1].action", "unknown action \"revoke_licence\""},
      {"unknown notify target",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                           "actions = [ { action = \"notify\", target = \"ceo\" } ]\n")),
       "\"ceo\"", "policy.rule[0].actions[0].target", "unknown notify target \"ceo\""},
      {"unknown connector",
       ldap_ok + "\n[[application]]\nid = \"crm\"\nconnector = \"salesforce\"\n",
       "salesforce", "application[0].connector", "unknown connector \"salesforce\""},
      {"unknown tier",
       ldap_ok + "\n[[application]]\nid = \"crm\"\ntier = \"urgent\"\n", "urgent", "application[0].tier",
       "\"urgent\""},
      {"duplicate application", with_apps("\n[[application]]\nid = \"github\" # again\n"), "# again",
       "application[3].id", "duplicate application \"github\""},
      {"duplicate SKU",
       ldap_ok + "\n[[application]]\nid = \"crm\"\nskus = [ { id = \"A\" }, { id = \"A\" } ]\n", "skus",
       "application[0].skus[1].id", "duplicate SKU \"A\""},
      {"negative cost",
       ldap_ok + "\n[[application]]\nid = \"crm\"\nskus = [ { id = \"A\", monthly_cost = -1 } ]\n", "skus",
       "application[0].skus[0].monthly_cost", "must not be negative"},
      {"entitlement names an unknown application",
       with_apps("\n[policy]\nrole_attribute = \"departmentNumber\"\n"
                 "entitlements = { \"100\" = [\"m365\", \"jira\"] }\n"),
       "jira", "policy.entitlements.100", "unknown application \"jira\""},
      {"entitlements without a role attribute",
       with_apps("\n[policy]\nentitlements = { \"100\" = [\"m365\"] }\n"), "entitlements",
       "policy.entitlements", "needs policy.role_attribute"},
      {"rule without applications",
       with_apps(rule("r", "to = [\"terminated\"]\nactions = [ { action = \"revoke_access\" } ]\n")),
       "[[policy.rule]]", "policy.rule[0].applications", "is required"},
      {"rule without actions",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\nactions = []\n")),
       "[[policy.rule]]", "policy.rule[0].actions", "is required"},
      {"unknown key in a rule",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\ndelay = \"P1D\"\n"
                           "actions = [ { action = \"revoke_access\" } ]\n")),
       "delay", "policy.rule[0].delay", "unknown key"},
      {"unknown engine mode", "[engine]\nmode = \"yolo\"\n" + ldap_ok, "yolo", "engine.mode", "\"yolo\""},
  };
  for (const auto &c : cases) check_bad(c);
}

BOOST_AUTO_TEST_CASE(bad_durations_are_refused) {
  const auto action_delay = [](const std::string &d) {
    return with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                               "actions = [ { action = \"revoke_access\", delay = \"" + d + "\" } ]\n"));
  };
  const bad_case cases[] = {
      {"negative delay", action_delay("P-1D"), "P-1D", "policy.rule[0].actions[0].delay", "\"P-1D\""},
      {"prose delay", action_delay("soon"), "soon", "policy.rule[0].actions[0].delay", "\"soon\""},
      {"signed delay", action_delay("-P1D"), "-P1D", "policy.rule[0].actions[0].delay", "\"-P1D\""},
      {"empty delay", action_delay(""), "delay", "policy.rule[0].actions[0].delay", "ISO 8601"},
      {"years delay", action_delay("P1Y"), "P1Y", "policy.rule[0].actions[0].delay", "\"P1Y\""},
      {"NaN delay", action_delay("PTnanS"), "PTnanS", "policy.rule[0].actions[0].delay", "\"PTnanS\""},
      {"negative tier delay", with_apps("\n[tiers.standard]\ndelay = \"P-30D\"\n"), "P-30D",
       "tiers.standard.delay", "\"P-30D\""},
      {"tier delay \"tier\"", with_apps("\n[tiers.standard]\ndelay = \"tier\"\n"), "[tiers.standard]",
       "tiers.standard.delay", "must be immediate, staged or a duration"},
      {"bad tier grace", with_apps("\n[tiers.low]\ndelay = \"staged\"\ngrace = \"a week\"\n"), "a week",
       "tiers.low.grace", "\"a week\""},
      {"unknown tier", with_apps("\n[tiers.urgent]\ndelay = \"immediate\"\n"), "urgent", "tiers.urgent",
       "unknown key"},
      {"bad guard window", with_apps("\n[guard]\nwindow = \"1h\"\n"), "1h", "guard.window", "\"1h\""},
      {"negative retry", with_apps("\n[scheduler]\nretry_initial = \"PT-30S\"\n"), "PT-30S",
       "scheduler.retry_initial", "\"PT-30S\""},
      {"bad retry_max", with_apps("\n[scheduler]\nretry_max = \"forever\"\n"), "forever", "scheduler.retry_max",
       "\"forever\""},
      {"prose restore_within", with_apps("\n[policy]\nrestore_within = \"sometimes\"\n"), "sometimes",
       "policy.restore_within", "\"always\", \"never\" or an ISO 8601 duration"},
      {"negative restore_within", with_apps("\n[policy]\nrestore_within = \"-P7D\"\n"), "-P7D",
       "policy.restore_within", "\"-P7D\""},
      {"restore_within as a number", with_apps("\n[policy]\nrestore_within = 7\n"), "restore_within",
       "policy.restore_within", "must be a string"},
      {"years in a rule's restore_within",
       with_apps(rule("r", "to = [\"terminated\"]\napplications = [\"m365\"]\nrestore_within = \"P1Y\"\n"
                           "actions = [ { action = \"revoke_access\" } ]\n")),
       "P1Y", "policy.rule[0].restore_within", "\"P1Y\""},
  };
  for (const auto &c : cases) check_bad(c);
}

BOOST_AUTO_TEST_CASE(bad_time_zones_are_refused) {
  for (const char *tz : {"Mars/Olympus", "+15:00", "+01:60", "+1:00", "UTC+1", "0100", "", "+01-00", "+14:30",
                         "../../etc/passwd", "/etc/localtime", "Europe/Berlin "}) {
    check_bad({tz, with_apps(std::string("\n[policy]\ntime_zone = \"") + tz + "\"\n"), "time_zone",
               "policy.time_zone", std::string("\"") + tz + "\""});
  }
}

// from_chars stops at the first non-digit and the loaders never check where
// it stopped, so "+1a:00" reads as +01:00.
BOOST_AUTO_TEST_CASE(time_zone_with_a_letter_in_the_number_is_refused) {
  for (const char *tz : {"+1a:00", "+01:3x"})
    check_bad({tz, with_apps(std::string("\n[policy]\ntime_zone = \"") + tz + "\"\n"), "time_zone",
               "policy.time_zone", std::string("\"") + tz + "\""});
}

BOOST_AUTO_TEST_CASE(time_zones_that_load) {
  const std::pair<const char *, int> cases[] = {
      {"UTC", 0}, {"Z", 0}, {"+02:00", 120}, {"-05:30", -330}, {"+14:00", 840}, {"-00:00", 0}};
  for (const auto &[tz, minutes] : cases) {
    BOOST_TEST_CONTEXT(tz) {
      temp_dir dir;
      const auto cfg = reclaim::unit::load_toml(dir, with_apps(std::string("\n[policy]\ntime_zone = \"") + tz + "\"\n"));
      BOOST_TEST(cfg.policy.time_zone.offset_minutes == minutes);
      BOOST_TEST(cfg.policy.time_zone.tz == nullptr);
    }
  }
}

BOOST_AUTO_TEST_CASE(named_time_zones_load_from_tzdata) {
  for (const char *tz : {"Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Etc/GMT+5"}) {
    BOOST_TEST_CONTEXT(tz) {
      temp_dir dir;
      const auto cfg = reclaim::unit::load_toml(dir, with_apps(std::string("\n[policy]\ntime_zone = \"") + tz + "\"\n"));
      BOOST_TEST(cfg.policy.time_zone.tz != nullptr);
      BOOST_TEST(cfg.policy.time_zone.name == tz);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_batch_times_are_refused) {
  for (const char *t : {"25:00", "24:00", "12:60", "7:00", "07:00:00", "noon", "-1:00", "12h30"}) {
    check_bad({t, with_apps(std::string("\n[scheduler]\nbatch_times = [\"02:00\", \"") + t + "\"]\n"),
               "batch_times", "scheduler.batch_times", std::string("\"") + t + "\""});
  }
}

BOOST_AUTO_TEST_CASE(empty_batch_time_is_refused) {
  check_bad({"empty", with_apps("\n[scheduler]\nbatch_times = [\"\"]\n"), "batch_times", "scheduler.batch_times",
             "non-empty string"});
}

// Same from_chars gap as the time zone: "1a:00" reads as 01:00.
BOOST_AUTO_TEST_CASE(batch_time_with_a_letter_in_the_number_is_refused) {
  for (const char *t : {"1a:00", "12:5a", "0-:00"})
    check_bad({t, with_apps(std::string("\n[scheduler]\nbatch_times = [\"") + t + "\"]\n"), "batch_times",
               "scheduler.batch_times", std::string("\"") + t + "\""});
}

BOOST_AUTO_TEST_CASE(bad_guard_and_scheduler_numbers_are_refused) {
  const bad_case cases[] = {
      {"percent above 100", with_apps("\n[guard]\nmax_percent = 150.0\n"), "150", "guard.max_percent",
       "between 0 and 100"},
      {"negative percent", with_apps("\n[guard]\nmax_percent = -1\n"), "-1", "guard.max_percent",
       "between 0 and 100"},
      {"negative max_events", with_apps("\n[guard]\nmax_events = -1\n"), "-1", "guard.max_events",
       "must not be negative"},
      {"negative population", with_apps("\n[guard]\npercent_min_population = -5\n"), "-5",
       "guard.percent_min_population", "must not be negative"},
      {"negative cost threshold", with_apps("\n[guard]\napproval_cost_above = -0.5\n"), "-0.5",
       "guard.approval_cost_above", "must not be negative"},
      {"zero workers", with_apps("\n[scheduler]\nworkers = 0\n"), "workers", "scheduler.workers", "1..64"},
      {"zero attempts", with_apps("\n[scheduler]\nmax_attempts = 0\n"), "max_attempts", "scheduler.max_attempts",
       "1..100"},
      {"unknown guard key", with_apps("\n[guard]\nmax_event = 3\n"), "max_event", "guard.max_event",
       "unknown key"},
  };
  for (const auto &c : cases) check_bad(c);
}

// NaN compares false with everything: a NaN guard threshold or SKU cost
// would switch the guard or the cost approval off without a word.
BOOST_AUTO_TEST_CASE(non_finite_numbers_are_refused) {
  const bad_case cases[] = {
      {"nan percent", with_apps("\n[guard]\nmax_percent = nan\n"), "nan", "guard.max_percent", "finite"},
      {"inf percent", with_apps("\n[guard]\nmax_percent = inf\n"), "inf", "guard.max_percent", "finite"},
      {"nan cost threshold", with_apps("\n[guard]\napproval_cost_above = nan\n"), "nan",
       "guard.approval_cost_above", "finite"},
      {"-inf cost threshold", with_apps("\n[guard]\napproval_cost_above = -inf\n"), "-inf",
       "guard.approval_cost_above", "finite"},
      {"nan SKU cost", ldap_ok + "\n[[application]]\nid = \"crm\"\nskus = [ { id = \"A\", monthly_cost = nan } ]\n",
       "skus", "application[0].skus[0].monthly_cost", "finite"},
      {"+inf SKU cost", ldap_ok + "\n[[application]]\nid = \"crm\"\nskus = [ { id = \"A\", monthly_cost = +inf } ]\n",
       "skus", "application[0].skus[0].monthly_cost", "finite"},
  };
  for (const auto &c : cases) check_bad(c);
}

// Two rules that one transition can match, both planning the same action
// for the same application, are refused naming both rules and where they
// are; narrowing `from`, `to`, the action or its notify target separates them.
BOOST_AUTO_TEST_CASE(overlapping_rules_are_refused) {
  const std::string revoke = "actions = [ { action = \"revoke_access\" } ]\n";
  const bad_case cases[] = {
      {"same transition",
       with_apps(rule("first", "to = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke) +
                 rule("second", "to = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke)),
       "[[policy.rule]]", "", "policy rules \"first\" and \"second\""},
      {"to sets intersect",
       with_apps(rule("first", "to = [\"terminated\", \"deleted\"]\napplications = [\"m365\"]\n" + revoke) +
                 rule("second", "to = [\"deleted\"]\napplications = [\"m365\"]\n" + revoke)),
       "[[policy.rule]]", "", "overlap"},
      {"any from vs one from",
       with_apps(rule("first", "to = [\"terminated\"]\napplications = [\"github\"]\n" + revoke) +
                 rule("second", "from = [\"leave\"]\nto = [\"terminated\"]\napplications = [\"github\"]\n" + revoke)),
       "[[policy.rule]]", "", "application \"github\""},
      {"\"*\" covers the other rule's application",
       with_apps(rule("first", "to = [\"terminated\"]\napplications = [\"*\"]\n" + revoke) +
                 rule("second", "to = [\"terminated\"]\napplications = [\"figma\"]\n" + revoke)),
       "[[policy.rule]]", "", "revoke_access"},
      {"same notify target",
       with_apps(rule("first", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                               "actions = [ { action = \"notify\", target = \"finance\" } ]\n") +
                 rule("second", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                                "actions = [ { action = \"notify\", target = \"finance\", delay = \"P1D\" } ]\n")),
       "[[policy.rule]]", "", "notify"},
  };
  for (const auto &c : cases) {
    check_bad(c);
    // The message also names where the second rule is.
    temp_dir dir;
    const auto message = load_error(dir, c.toml);
    const auto second = c.toml.find("[[policy.rule]]", c.toml.find("[[policy.rule]]") + 1);
    const auto second_line = 1 + std::count(c.toml.begin(), c.toml.begin() + static_cast<std::ptrdiff_t>(second), '\n');
    BOOST_TEST(message.find(fmt::format("reclaim.toml:{}:", second_line)) != std::string::npos, message);
  }
}

// A general rule and a narrower one (a `where` filter) both match a
// contractor's termination; both would plan revoke_access on m365, so the
// pair overlaps just as two unfiltered rules do.
BOOST_AUTO_TEST_CASE(overlap_is_found_through_a_where_filter) {
  const std::string revoke = "actions = [ { action = \"revoke_access\" } ]\n";
  const bad_case cases[] = {
      {"filtered rule inside an unfiltered one",
       with_apps(rule("everyone", "to = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke) +
                 rule("contractors", "to = [\"terminated\"]\nwhere = { employeeType = [\"contractor\"] }\n"
                                     "applications = [\"m365\"]\n" + revoke)),
       "[[policy.rule]]", "", "overlap"},
      {"filters on different attributes",
       with_apps(rule("dept", "to = [\"terminated\"]\nwhere = { departmentNumber = [\"100\"] }\n"
                              "applications = [\"m365\"]\n" + revoke) +
                 rule("contractors", "to = [\"terminated\"]\nwhere = { employeeType = [\"contractor\"] }\n"
                                     "applications = [\"m365\"]\n" + revoke)),
       "[[policy.rule]]", "", "overlap"},
  };
  for (const auto &c : cases) check_bad(c);
}

BOOST_AUTO_TEST_CASE(rules_that_do_not_overlap_load) {
  const std::string revoke = "actions = [ { action = \"revoke_access\" } ]\n";
  check_good("disjoint to", with_apps(rule("a", "to = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke) +
                                      rule("b", "to = [\"leave\"]\napplications = [\"m365\"]\n" + revoke)));
  check_good("disjoint from",
             with_apps(rule("a", "from = [\"active\"]\nto = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke) +
                       rule("b", "from = [\"leave\"]\nto = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke)));
  check_good("different applications",
             with_apps(rule("a", "to = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke) +
                       rule("b", "to = [\"terminated\"]\napplications = [\"github\"]\n" + revoke)));
  check_good("different actions",
             with_apps(rule("a", "to = [\"terminated\"]\napplications = [\"m365\"]\n" + revoke) +
                       rule("b", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                                 "actions = [ { action = \"reclaim_licence\" } ]\n")));
  check_good("different notify targets",
             with_apps(rule("a", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                                 "actions = [ { action = \"notify\", target = \"finance\" } ]\n") +
                       rule("b", "to = [\"terminated\"]\napplications = [\"m365\"]\n"
                                 "actions = [ { action = \"notify\", target = \"itsm\" } ]\n")));
  check_good("disjoint values of one where attribute",
             with_apps(rule("a", "to = [\"terminated\"]\nwhere = { employeeType = [\"staff\"] }\n"
                                 "applications = [\"m365\"]\n" + revoke) +
                       rule("b", "to = [\"terminated\"]\nwhere = { employeeType = [\"contractor\"] }\n"
                                 "applications = [\"m365\"]\n" + revoke)));
}

BOOST_AUTO_TEST_CASE(rule_contents_are_parsed) {
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(
      dir, with_apps("\n[[application]]\nid = \"wiki\"\ntier = \"low\"\ndry_run = true\nrequire_approval = true\n" +
                     rule("r", "from = [\"active\", \"leave\"]\nto = [\"terminated\", \"deleted\"]\n"
                               "where = { EmployeeType = [\"Contractor\", \"intern\"] }\n"
                               "applications = [\"*\"]\nactions = [\n"
                               "  { action = \"suspend_access\", delay = \"immediate\" },\n"
                               "  { action = \"revoke_access\", delay = \"PT12H\" },\n"
                               "  { action = \"reclaim_licence\", delay = \"staged\" },\n"
                               "  { action = \"transfer_ownership\", delay = \"tier\" },\n"
                               "  { action = \"notify\" },\n"
                               "  { action = \"notify\", target = \"itsm\" },\n]\n") +
                     rule("any-from", "from = [\"*\"]\nto = [\"transferred\"]\napplications = [\"m365\"]\n"
                                      "actions = [ { action = \"downgrade_licence\", to_sku = \"M365_E1\" } ]\n")));
  const auto &p = cfg.policy;
  BOOST_TEST(p.dry_run); // no [engine] mode: dry run
  BOOST_TEST_REQUIRE(p.applications.size() == 4u);
  const auto *wiki = p.find_app("wiki");
  BOOST_TEST_REQUIRE(wiki != nullptr);
  BOOST_TEST((wiki->risk == reclaim::tier::low));
  BOOST_TEST(wiki->dry_run);
  BOOST_TEST(wiki->require_approval);
  BOOST_TEST(wiki->connector == "local");
  BOOST_TEST(p.find_app("m365")->skus.size() == 2u);
  BOOST_TEST(p.find_app("m365")->find_sku("M365_E1")->monthly_cost == 10.0);
  BOOST_TEST(p.find_app("m365")->find_sku("M365_E1")->currency == "EUR");
  BOOST_TEST_REQUIRE(p.rules.size() == 2u);
  const auto &r = p.rules[0];
  BOOST_TEST(r.name == "r");
  BOOST_TEST((r.from == std::set<state>{state::active, state::leave}));
  BOOST_TEST((r.to == std::set<state>{state::terminated, state::deleted}));
  BOOST_TEST_REQUIRE(r.where.count("employeetype") == 1u);
  BOOST_TEST((r.where.at("employeetype") == std::vector<std::string>{"contractor", "intern"}));
  BOOST_TEST((r.applications == std::vector<std::string>{"m365", "github", "figma", "wiki"}));
  BOOST_TEST_REQUIRE(r.actions.size() == 6u);
  using k = reclaim::delay_spec::kind;
  BOOST_TEST((r.actions[0].delay.how == k::immediate));
  BOOST_TEST((r.actions[1].delay.how == k::after));
  BOOST_TEST((r.actions[1].delay.after == 12h));
  BOOST_TEST((r.actions[2].delay.how == k::staged));
  BOOST_TEST((r.actions[3].delay.how == k::tier_default));
  BOOST_TEST((r.actions[4].delay.how == k::tier_default));
  BOOST_TEST(r.actions[4].target == "owner");
  BOOST_TEST(r.actions[5].target == "itsm");
  BOOST_TEST(r.origin.find("reclaim.toml:") != std::string::npos);
  BOOST_TEST(p.rules[1].from.empty());
  BOOST_TEST(p.rules[1].actions[0].to_sku == "M365_E1");
}

BOOST_AUTO_TEST_CASE(example_policy_loads) {
  temp_dir dir;
  const auto text = [] {
    std::ifstream in(std::string(RECLAIM_SOURCE_DIR) + "/packaging/config/reclaim.toml");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  BOOST_TEST_REQUIRE(!text.empty());
  const auto cfg = reclaim::unit::load_toml(dir, text);
  const auto &p = cfg.policy;
  BOOST_TEST(p.dry_run); // the example ships in dry_run (issue 13)
  BOOST_TEST(p.applications.size() == 4u);
  BOOST_TEST((p.find_app("m365")->risk == reclaim::tier::critical));
  BOOST_TEST((p.find_app("figma")->risk == reclaim::tier::standard));
  BOOST_TEST(p.find_app("sap")->find_sku("SAP_PRO")->monthly_cost == 110.0);
  BOOST_TEST((p.tiers[0].how == reclaim::delay_spec::kind::immediate));
  BOOST_TEST((p.tiers[1].how == reclaim::delay_spec::kind::after));
  BOOST_TEST((p.tiers[1].grace == std::chrono::hours(24 * 30)));
  BOOST_TEST((p.tiers[2].how == reclaim::delay_spec::kind::staged));
  BOOST_TEST((p.tiers[2].grace == std::chrono::hours(24 * 7)));
  BOOST_TEST(p.role_attribute == "departmentNumber");
  BOOST_TEST((p.entitlements.at("200") == std::set<std::string>{"m365", "sap"}));
  BOOST_TEST(p.end_date_attribute == "shadowExpire");
  BOOST_TEST(p.time_zone.offset_minutes == 0);
  BOOST_TEST(p.rules.size() == 3u);
  BOOST_TEST(p.guard.max_events == 20);
  BOOST_TEST(p.guard.max_percent == 10.0);
  BOOST_TEST(p.guard.percent_min_population == 50);
  BOOST_TEST(p.guard.approval_cost_above == 1000.0);
  BOOST_TEST((p.guard.window == 1h));
  BOOST_TEST(p.scheduler.max_attempts == 6);
  BOOST_TEST((p.scheduler.retry_initial == 30s));
  BOOST_TEST((p.scheduler.retry_max == 1h));
  BOOST_TEST_REQUIRE(p.scheduler.batch_times.size() == 2u);
  BOOST_TEST(p.scheduler.batch_times[0].text == "02:00");
  BOOST_TEST(p.scheduler.batch_times[1].text == "14:00");
}

// Without a [scheduler] section the staged batch times must still default
// to 02:00 (as they do when [scheduler] is present without batch_times).
BOOST_AUTO_TEST_CASE(defaults_without_policy_sections) {
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, ldap_ok);
  const auto &p = cfg.policy;
  BOOST_TEST(p.dry_run);
  BOOST_TEST(p.applications.empty());
  BOOST_TEST(p.rules.empty());
  BOOST_TEST(p.guard.max_events == 0);
  BOOST_TEST_REQUIRE(p.scheduler.batch_times.size() == 1u);
  BOOST_TEST(p.scheduler.batch_times[0].text == "02:00");
}

BOOST_AUTO_TEST_SUITE_END()
