// test_config.cpp — plugin/config: every bad reclaim.toml is refused with a
// message "file:line:column: key: problem"; unsafe file modes are refused;
// the shipped example loads.
#include "config/config.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
using reclaim::state;
using reclaim::unit::temp_dir;
using reclaim::unit::write_file;

namespace {

struct bad_config {
  const char *name;
  std::string toml;
  const char *where; // "line:column"
  const char *key;
  const char *problem; // a fragment of the problem text
};

// Loads toml and returns the config_error message ("" if none was thrown).
std::string load_error(const temp_dir &dir, const std::string &toml) {
  try {
    reclaim::unit::load_toml(dir, toml);
  } catch (const reclaim::permission_error &e) {
    return std::string("unexpected permission_error: ") + e.what();
  } catch (const reclaim::config_error &e) {
    return e.what();
  }
  return "";
}

void check_bad(const bad_config &c) {
  BOOST_TEST_CONTEXT("case " << c.name << "\n" << c.toml) {
    temp_dir dir;
    const auto message = load_error(dir, c.toml);
    const auto file = (dir / "reclaim.toml").string();
    const auto prefix = file + ":" + c.where + ": " + c.key;
    BOOST_TEST(message.rfind(prefix, 0) == 0, "message \"" << message << "\" should start with \""
                                                           << prefix << "\"");
    BOOST_TEST(message.find(c.problem) != std::string::npos,
               "message \"" << message << "\" should contain \"" << c.problem << "\"");
  }
}

const std::string ldap_ok = "[ldap]\nbase = \"dc=example,dc=com\"\n";

// A valid [ldap] section (lines 1-2) followed by one rule starting at line 4.
std::string with_rule(const std::string &rule_body) {
  return ldap_ok + "\n[[ldap.rule]]\n" + rule_body;
}

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(syntax_errors_name_file_line_column) {
  const bad_config cases[] = {
      {"unterminated string", "[ldap]\nbase = \"dc=example,dc=com\n", "2", "", "syntax error"},
      {"missing value", "[ldap]\nbase =\n", "2", "", "syntax error"},
      {"duplicate key", ldap_ok + "base = \"dc=other\"\n", "3", "", "syntax error"},
      {"unclosed table header", "[ldap\nbase = \"dc=example,dc=com\"\n", "1", "", "syntax error"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT("case " << c.name) {
      temp_dir dir;
      const auto message = load_error(dir, c.toml);
      const auto prefix = (dir / "reclaim.toml").string() + ":" + c.where + ":";
      BOOST_TEST(message.rfind(prefix, 0) == 0, "\"" << message << "\" should start with " << prefix);
      // file:line:column — a column follows the line.
      const auto rest = message.substr(std::min(prefix.size(), message.size()));
      BOOST_TEST((!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))),
                 "no column in \"" << message << "\"");
      BOOST_TEST(message.find(c.problem) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_refused) {
  const bad_config cases[] = {
      {"top-level key", "colour = \"blue\"\n" + ldap_ok, "1:1", "colour", "unknown key"},
      {"top-level table", ldap_ok + "[engin]\nstate_dir = \"/tmp\"\n", "3:2", "engin", "unknown key"},
      {"[ldap] key", ldap_ok + "bsae = \"dc=example,dc=com\"\n", "3:1", "ldap.bsae", "unknown key"},
      {"[engine] key", "[engine]\nstatedir = \"/tmp\"\n" + ldap_ok, "2:1", "engine.statedir",
       "unknown key"},
      {"rule key", with_rule("attribute = \"employeeType\"\nequal = [\"x\"]\nstate = \"leave\"\n"),
       "6:1", "ldap.rule[0].equal", "unknown key"},
      {"second rule's key",
       with_rule("attribute = \"a\"\npresent = true\nstate = \"leave\"\n\n[[ldap.rule]]\n"
                 "attribute = \"b\"\npresent = true\nstate = \"leave\"\nvalue = 1\n"),
       "13:1", "ldap.rule[1].value", "unknown key"},
  };
  for (const auto &c : cases) check_bad(c);
}

BOOST_AUTO_TEST_CASE(rules_need_exactly_one_test) {
  const bad_config cases[] = {
      {"two tests",
       with_rule("attribute = \"employeeType\"\nequals = [\"x\"]\npresent = true\nstate = \"leave\"\n"),
       "4:1", "ldap.rule[0]", "exactly one test"},
      {"three tests",
       with_rule("attribute = \"u\"\nbits_set = 2\nexpired_days = true\npresent = true\nstate = \"leave\"\n"),
       "4:1", "ldap.rule[0]", "exactly one test"},
      {"no test", with_rule("attribute = \"employeeType\"\nstate = \"leave\"\n"), "4:1", "ldap.rule[0]",
       "exactly one test"},
  };
  for (const auto &c : cases) check_bad(c);
}

BOOST_AUTO_TEST_CASE(rule_states_must_be_resting_states) {
  // Derived states (transferred, reactivated), deleted and none come from
  // what happens, never from an attribute value.
  for (const char *s : {"fired", "transferred", "reactivated", "deleted", "none", "Active", ""}) {
    check_bad({s,
               with_rule(std::string("attribute = \"employeeType\"\nequals = [\"x\"]\nstate = \"") + s +
                         "\"\n"),
               "7:9", "ldap.rule[0].state", "unknown or unusable state"});
  }
  check_bad({"leavers_state", ldap_ok + "leavers_state = \"reactivated\"\n", "3:17", "ldap.leavers_state",
             "unknown or unusable state"});
  check_bad({"default_state", ldap_ok + "default_state = \"deleted\"\n", "3:17", "ldap.default_state",
             "unknown or unusable state"});
}

BOOST_AUTO_TEST_CASE(rule_fields_are_required) {
  check_bad({"no state", with_rule("attribute = \"employeeType\"\nequals = [\"x\"]\n"), "4:1",
             "ldap.rule[0].state", "is required"});
  check_bad({"no attribute", with_rule("equals = [\"x\"]\nstate = \"leave\"\n"), "4:1",
             "ldap.rule[0].attribute", "is required"});
  check_bad({"empty attribute", with_rule("attribute = \"\"\nequals = [\"x\"]\nstate = \"leave\"\n"), "4:1",
             "ldap.rule[0].attribute", "is required"});
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused) {
  const bad_config cases[] = {
      {"base not a DN", "[ldap]\nbase = \"not a dn\"\n", "2:8", "ldap.base", "not a valid DN"},
      {"base missing", "[ldap]\nleavers = []\n", "1:1", "ldap.base", "is required"},
      {"leaver not a DN", ldap_ok + "leavers = [\"ou=Leavers,dc=example,dc=com\", \"leavers\"]\n", "3:11",
       "ldap.leavers", "not a valid DN"},
      {"margin negative", ldap_ok + "catch_up_margin = \"P-1D\"\n", "3:19", "ldap.catch_up_margin",
       "\"P-1D\""},
      {"margin prose", ldap_ok + "catch_up_margin = \"5 minutes\"\n", "3:19", "ldap.catch_up_margin",
       "\"5 minutes\""},
      {"margin years", ldap_ok + "catch_up_margin = \"P1Y\"\n", "3:19", "ldap.catch_up_margin", "ISO 8601"},
      {"margin empty", ldap_ok + "catch_up_margin = \"\"\n", "3:19", "ldap.catch_up_margin", "ISO 8601"},
      {"relative state_dir", "[engine]\nstate_dir = \"var/lib/reclaim\"\n" + ldap_ok, "2:13",
       "engine.state_dir", "absolute path"},
      {"empty state_dir", "[engine]\nstate_dir = \"\"\n" + ldap_ok, "2:13", "engine.state_dir",
       "absolute path"},
      {"log level", "[engine]\nlog_level = \"verbose\"\n" + ldap_ok, "2:13", "engine.log_level",
       "\"verbose\""},
      {"role", "[engine]\nrole = \"dispatcher\"\n" + ldap_ok, "2:8", "engine.role",
       "\"dispatcher\" is not one of all, intake, engine"},
      {"queue limit zero", "[engine]\nqueue_limit_bytes = 0\n" + ldap_ok, "2:21", "engine.queue_limit_bytes",
       "between 1 and 2147483648"},
      {"queue limit over 2 GiB", "[engine]\nqueue_limit_bytes = 2147483649\n" + ldap_ok, "2:21",
       "engine.queue_limit_bytes", "between 1 and 2147483648"},
      {"no object classes", ldap_ok + "person_object_classes = []\n", "3:25", "ldap.person_object_classes",
       "at least one"},
      {"object class with a filter in it", ldap_ok + "person_object_classes = [\"person)(uid=*\"]\n", "3:25",
       "ldap.person_object_classes", "not an object class name"},
      {"empty equals", with_rule("attribute = \"a\"\nequals = []\nstate = \"leave\"\n"), "6:10",
       "ldap.rule[0].equals", "must not be empty"},
      {"bits_set zero", with_rule("attribute = \"a\"\nbits_set = 0\nstate = \"leave\"\n"), "6:12",
       "ldap.rule[0].bits_set", "positive integer"},
      {"bits_set negative", with_rule("attribute = \"a\"\nbits_set = -2\nstate = \"leave\"\n"), "6:12",
       "ldap.rule[0].bits_set", "positive integer"},
      {"present false", with_rule("attribute = \"a\"\npresent = false\nstate = \"leave\"\n"), "6:11",
       "ldap.rule[0].present", "present = true"},
      {"expired_days false", with_rule("attribute = \"a\"\nexpired_days = false\nstate = \"leave\"\n"),
       "6:16", "ldap.rule[0].expired_days", "expired_days = true"},
  };
  for (const auto &c : cases) check_bad(c);
}

// parse_duration reads "nan" as a number; the margin must not become NaN
// milliseconds (cast to int64: undefined, INT64_MIN on x86-64).
BOOST_AUTO_TEST_CASE(nan_catch_up_margin_is_refused) {
  check_bad({"margin NaN", ldap_ok + "catch_up_margin = \"PTnanS\"\n", "3:19", "ldap.catch_up_margin",
             "ISO 8601"});
}

BOOST_AUTO_TEST_CASE(wrong_types_are_refused) {
  const bad_config cases[] = {
      {"base integer", "[ldap]\nbase = 5\n", "2:8", "ldap.base", "must be a string"},
      {"leavers string", ldap_ok + "leavers = \"ou=Leavers,dc=example,dc=com\"\n", "3:11", "ldap.leavers",
       "array of strings"},
      {"leavers integer element", ldap_ok + "leavers = [1]\n", "3:12", "ldap.leavers", "non-empty string"},
      {"transfer_attributes empty element", ldap_ok + "transfer_attributes = [\"title\", \"\"]\n", "3:33",
       "ldap.transfer_attributes", "non-empty string"},
      {"margin integer", ldap_ok + "catch_up_margin = 300\n", "3:19", "ldap.catch_up_margin",
       "must be a string"},
      {"log_level integer", "[engine]\nlog_level = 3\n" + ldap_ok, "2:13", "engine.log_level",
       "must be a string"},
      {"state_dir boolean", "[engine]\nstate_dir = true\n" + ldap_ok, "2:13", "engine.state_dir",
       "must be a string"},
      {"ldap not a table", "ldap = 5\n", "1:8", "ldap", "must be a table"},
      {"engine not a table", "engine = \"x\"\n" + ldap_ok, "1:10", "engine", "must be a table"},
      {"rule as one table", ldap_ok + "[ldap.rule]\nattribute = \"a\"\npresent = true\nstate = \"leave\"\n",
       "3:1", "ldap.rule", "[[ldap.rule]]"},
      {"rule as integers", ldap_ok + "rule = [1, 2]\n", "3:8", "ldap.rule", "[[ldap.rule]]"},
      {"bits_set string", with_rule("attribute = \"a\"\nbits_set = \"2\"\nstate = \"leave\"\n"), "6:12",
       "ldap.rule[0].bits_set", "positive integer"},
      {"bits_set float", with_rule("attribute = \"a\"\nbits_set = 2.0\nstate = \"leave\"\n"), "6:12",
       "ldap.rule[0].bits_set", "positive integer"},
      {"present string", with_rule("attribute = \"a\"\npresent = \"yes\"\nstate = \"leave\"\n"), "6:11",
       "ldap.rule[0].present", "true or false"},
      {"expired_days integer", with_rule("attribute = \"a\"\nexpired_days = 1\nstate = \"leave\"\n"),
       "6:16", "ldap.rule[0].expired_days", "true or false"},
      {"equals string", with_rule("attribute = \"a\"\nequals = \"x\"\nstate = \"leave\"\n"), "6:10",
       "ldap.rule[0].equals", "array of strings"},
      {"state integer", with_rule("attribute = \"a\"\npresent = true\nstate = 1\n"), "7:9",
       "ldap.rule[0].state", "must be a string"},
      {"attribute array", with_rule("attribute = [\"a\"]\npresent = true\nstate = \"leave\"\n"), "5:13",
       "ldap.rule[0].attribute", "must be a string"},
  };
  for (const auto &c : cases) check_bad(c);
}

BOOST_AUTO_TEST_CASE(missing_ldap_section_is_refused) {
  temp_dir dir;
  const auto message = load_error(dir, "[engine]\nstate_dir = \"/tmp/x\"\n");
  BOOST_TEST(message.find((dir / "reclaim.toml").string()) != std::string::npos, message);
  BOOST_TEST(message.find("[ldap]") != std::string::npos, message);
  BOOST_TEST(load_error(dir, "").find("[ldap]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unsafe_modes_are_refused) {
  struct row {
    unsigned mode;
    const char *shown;
  };
  const row rows[] = {{0664, "0664"}, {0606, "0606"}, {0620, "0620"}, {0602, "0602"}, {0666, "0666"},
                      {0777, "0777"}};
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("mode " << r.shown) {
      temp_dir dir;
      const auto path = dir / "reclaim.toml";
      write_file(path, ldap_ok, r.mode);
      try {
        reclaim::load_config(path);
        BOOST_ERROR("loaded a config with mode " << r.shown);
      } catch (const reclaim::permission_error &e) {
        const std::string message = e.what();
        BOOST_TEST(message.find(path.string()) != std::string::npos, message);
        BOOST_TEST(message.find(r.shown) != std::string::npos, message);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(safe_modes_load) {
  for (unsigned mode : {0600u, 0640u, 0644u, 0400u, 0444u}) {
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      temp_dir dir;
      const auto path = dir / "reclaim.toml";
      write_file(path, ldap_ok, mode);
      BOOST_CHECK_NO_THROW(reclaim::load_config(path));
    }
  }
}

BOOST_AUTO_TEST_CASE(secret_files_must_not_be_readable_by_other) {
  temp_dir dir;
  const auto path = dir / "secret";
  write_file(path, "s3cret", 0640u);
  BOOST_CHECK_NO_THROW(reclaim::check_file_mode(path, true));
  write_file(path, "s3cret", 0604u);
  BOOST_CHECK_NO_THROW(reclaim::check_file_mode(path, false));
  BOOST_CHECK_EXCEPTION(reclaim::check_file_mode(path, true), reclaim::permission_error,
                        [](const reclaim::permission_error &e) {
                          return std::string(e.what()).find("0604") != std::string::npos;
                        });
  write_file(path, "s3cret", 0660u);
  BOOST_CHECK_THROW(reclaim::check_file_mode(path, true), reclaim::permission_error);
}

BOOST_AUTO_TEST_CASE(missing_file_and_directory_are_config_errors) {
  temp_dir dir;
  const auto missing = dir / "nope.toml";
  BOOST_CHECK_EXCEPTION(reclaim::load_config(missing), reclaim::config_error,
                        [&](const reclaim::config_error &e) {
                          return std::string(e.what()).find(missing.string()) != std::string::npos &&
                                 dynamic_cast<const reclaim::permission_error *>(&e) == nullptr;
                        });
  BOOST_CHECK_EXCEPTION(reclaim::load_config(dir.path()), reclaim::config_error,
                        [](const reclaim::config_error &e) {
                          return std::string(e.what()).find("not a regular file") != std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(defaults_when_keys_are_absent) {
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, ldap_ok);
  BOOST_TEST(cfg.engine.state_dir == "/var/lib/reclaim");
  BOOST_TEST(static_cast<int>(cfg.engine.level) == static_cast<int>(reclaim::log_level::info));
  BOOST_TEST(cfg.journal_path() == "/var/lib/reclaim/journal.sqlite3");
  BOOST_TEST(cfg.ldap.base == "dc=example,dc=com");
  BOOST_TEST(cfg.ldap.base_norm == "dc=example,dc=com");
  const std::vector<std::string> classes{"inetorgperson", "organizationalperson", "person", "posixaccount"};
  BOOST_TEST(cfg.ldap.person_classes == classes, boost::test_tools::per_element());
  const std::vector<std::string> transfer{"departmentNumber", "title"};
  BOOST_TEST(cfg.ldap.transfer_attributes == transfer, boost::test_tools::per_element());
  BOOST_TEST(cfg.ldap.leavers_norm.empty());
  BOOST_TEST(reclaim::from_abi(cfg.ldap.leavers_state) == state::terminated);
  BOOST_TEST(reclaim::from_abi(cfg.ldap.default_state) == state::active);
  BOOST_TEST(cfg.ldap.catch_up_margin.count() == std::chrono::milliseconds(5min).count());
  BOOST_TEST(cfg.ldap.rules.empty());
  BOOST_TEST(cfg.sha256.size() == 64u);
  BOOST_TEST((cfg.engine.role == reclaim::engine_role::all));
}

BOOST_AUTO_TEST_CASE(engine_roles_are_loaded) {
  temp_dir dir;
  for (const auto &[name, role] : {std::pair{"all", reclaim::engine_role::all},
                                   std::pair{"intake", reclaim::engine_role::intake},
                                   std::pair{"engine", reclaim::engine_role::engine}}) {
    const auto cfg = reclaim::unit::load_toml(dir, fmt::format("[engine]\nrole = \"{}\"\n", name) + ldap_ok);
    BOOST_TEST((cfg.engine.role == role), name);
    BOOST_TEST(std::string(reclaim::engine_role_name(cfg.engine.role)) == name);
  }
}

BOOST_AUTO_TEST_CASE(values_are_loaded) {
  temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(
      dir, "[engine]\nstate_dir = \"/srv/reclaim\"\nlog_level = \"debug\"\n"
           "[ldap]\nbase = \"OU=People, DC=Example,DC=com\"\n"
           "person_object_classes = [\"inetOrgPerson\", \"x-Custom-Person\"]\n"
           "leavers = [\"ou=Leavers, ou=People, dc=example,dc=com\"]\nleavers_state = \"contract_ended\"\n"
           "default_state = \"leave\"\ncatch_up_margin = \"P1D\"\n"
           "[[ldap.rule]]\nattribute = \"employeeType\"\nequals = [\"GONE\", \"Left\"]\nstate = \"terminated\"\n"
           "[[ldap.rule]]\nattribute = \"userAccountControl\"\nbits_set = 514\nstate = \"leave\"\n");
  BOOST_TEST(cfg.engine.state_dir == "/srv/reclaim");
  BOOST_TEST(static_cast<int>(cfg.engine.level) == static_cast<int>(reclaim::log_level::debug));
  BOOST_TEST(cfg.ldap.base == "OU=People, DC=Example,DC=com");
  BOOST_TEST(cfg.ldap.base_norm == "ou=people,dc=example,dc=com");
  const std::vector<std::string> classes{"inetorgperson", "x-custom-person"};
  BOOST_TEST(cfg.ldap.person_classes == classes, boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(cfg.ldap.leavers_norm.size() == 1u);
  BOOST_TEST(cfg.ldap.leavers_norm[0] == "ou=leavers,ou=people,dc=example,dc=com");
  BOOST_TEST(reclaim::from_abi(cfg.ldap.leavers_state) == state::contract_ended);
  BOOST_TEST(reclaim::from_abi(cfg.ldap.default_state) == state::leave);
  BOOST_TEST(cfg.ldap.catch_up_margin.count() == std::chrono::milliseconds(std::chrono::days{1}).count());
  BOOST_TEST_REQUIRE(cfg.ldap.rules.size() == 2u);
  const auto &r0 = cfg.ldap.rules[0];
  BOOST_TEST((r0.kind == reclaim::ldap::state_rule::test::equals));
  BOOST_TEST(r0.attribute == "employeeType");
  const std::vector<std::string> values{"gone", "left"};
  BOOST_TEST(r0.values == values, boost::test_tools::per_element());
  BOOST_TEST(reclaim::from_abi(r0.result) == state::terminated);
  BOOST_TEST(r0.origin.find((dir / "reclaim.toml").string() + ":11:") == 0u, r0.origin);
  const auto &r1 = cfg.ldap.rules[1];
  BOOST_TEST((r1.kind == reclaim::ldap::state_rule::test::bits_set));
  BOOST_TEST(r1.mask == 514u);
  BOOST_TEST(reclaim::from_abi(r1.result) == state::leave);
}

BOOST_AUTO_TEST_CASE(sha256_follows_the_bytes) {
  temp_dir dir;
  const auto a = reclaim::unit::load_toml(dir, ldap_ok);
  const auto b = reclaim::unit::load_toml(dir, ldap_ok);
  const auto c = reclaim::unit::load_toml(dir, ldap_ok + "# a comment\n");
  BOOST_TEST(a.sha256 == b.sha256);
  BOOST_TEST(a.sha256 != c.sha256);
  // SHA-256 of "[ldap]\nbase = \"dc=example,dc=com\"\n", from sha256sum.
  BOOST_TEST(a.sha256 == "b5c13cadbf37de5cc72d10c319b4a334f840a80d650a77725ddf864cd55133b7");
}

BOOST_AUTO_TEST_CASE(example_config_loads) {
  // Copied with mode 0600: a checkout's mode depends on the umask.
  temp_dir dir;
  const auto text = [] {
    std::ifstream in(std::string(RECLAIM_SOURCE_DIR) + "/packaging/config/reclaim.toml");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  BOOST_TEST_REQUIRE(!text.empty());
  const auto cfg = reclaim::unit::load_toml(dir, text);
  BOOST_TEST(cfg.engine.state_dir == "/var/lib/reclaim");
  BOOST_TEST(cfg.ldap.base_norm == "dc=example,dc=com");
  BOOST_TEST_REQUIRE(cfg.ldap.leavers_norm.size() == 1u);
  BOOST_TEST(cfg.ldap.leavers_norm[0] == "ou=leavers,dc=example,dc=com");
  BOOST_TEST(cfg.ldap.rules.size() == 9u);
  // The defaults the issue asks for are all there.
  std::vector<std::string> attributes;
  for (const auto &r : cfg.ldap.rules) attributes.push_back(reclaim::ldap::lower_ascii(r.attribute));
  for (const char *a : {"employeetype", "employeestatus", "nsaccountlock", "pwdaccountlockedtime",
                        "shadowexpire", "useraccountcontrol"}) {
    BOOST_TEST_CONTEXT(a) {
      BOOST_TEST((std::find(attributes.begin(), attributes.end(), a) != attributes.end()));
    }
  }
}

BOOST_AUTO_TEST_CASE(config_path_resolution) {
  const char *saved = std::getenv("RECLAIM_CONFIG");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("RECLAIM_CONFIG");
  BOOST_TEST(reclaim::resolve_config_path(nullptr) == "/etc/reclaim/reclaim.toml");
  BOOST_TEST(reclaim::resolve_config_path("") == "/etc/reclaim/reclaim.toml");
  ::setenv("RECLAIM_CONFIG", "/tmp/from-env.toml", 1);
  BOOST_TEST(reclaim::resolve_config_path(nullptr) == "/tmp/from-env.toml");
  BOOST_TEST(reclaim::resolve_config_path("/explicit.toml") == "/explicit.toml");
  ::setenv("RECLAIM_CONFIG", "", 1);
  BOOST_TEST(reclaim::resolve_config_path(nullptr) == "/etc/reclaim/reclaim.toml");
  if (saved) ::setenv("RECLAIM_CONFIG", saved_value.c_str(), 1);
  else ::unsetenv("RECLAIM_CONFIG");
}

BOOST_AUTO_TEST_SUITE_END()
