// config_errors_test.cpp — a config the plugin does not understand stops
// slapd (and slaptest) from starting, with a message naming the file and
// line; an unsafe config file mode is refused; the offline tools (slaptest,
// slapadd) run the plugin's init but must not create state.
#define BOOST_TEST_MODULE ldap_config_errors
#include "scenario.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>

#include <regex>

using namespace reclaim::test;
namespace fs = std::filesystem;

namespace {

// The example config with the first line that starts with `from` replaced
// by `to`; line receives its 1-based number.
std::string edit_line(const std::string &text, const std::string &from, const std::string &to,
                      int &line) {
  std::istringstream in(text);
  std::string out;
  line = 0;
  int n = 0;
  for (std::string l; std::getline(in, l);) {
    ++n;
    if (line == 0 && l.rfind(from, 0) == 0) {
      line = n;
      l = to;
    }
    out += l + "\n";
  }
  BOOST_REQUIRE_MESSAGE(line > 0, "no line starting with " << from << " in the example config");
  return out;
}

struct setup {
  temp_dir dir{"reclaim-config-"};
  fs::path state_dir = dir / "state";
  fs::path config = dir / "reclaim.toml";
  std::unique_ptr<slapd_instance> slapd;

  // Writes a good config (cn=config is built with slapadd -n0, which runs
  // the plugin's init); install() then puts the text under test in place.
  explicit setup(bool cn_config = false) {
    BOOST_REQUIRE_MESSAGE(!plugin_path().empty(), "RECLAIM_TEST_PLUGIN not set or missing");
    write_plugin_config(config, example_config(state_dir), state_dir);
    slapd_options o;
    o.plugin = plugin_path();
    o.plugin_config = config;
    o.cn_config = cn_config;
    slapd = std::make_unique<slapd_instance>(dir / "slapd", o);
  }

  void install(const std::string &text) { write_plugin_config(config, text, state_dir); }

  std::string plugin_log() const { return slapd->plugin_log(); }
};

bool names_file_and_line(const std::string &text, const fs::path &file, int line) {
  const auto l = std::to_string(line);
  if (text.find(file.string() + ":" + l) != std::string::npos) {
    return true;
  }
  return text.find(file.string()) != std::string::npos &&
         std::regex_search(text, std::regex("line " + l + "\\b"));
}

// slaptest and slapd both refuse; the messages name file and line.
void check_refused(setup &s, int line, const std::string &what) {
  const auto test = s.slapd->slaptest();
  const auto test_text = test.output() + s.plugin_log();
  BOOST_TEST(test.exit_code != 0, what << ": slaptest exited 0:\n" << test_text);
  BOOST_TEST(names_file_and_line(test_text, s.config, line),
             what << ": slaptest output/plugin log do not name " << s.config.string() << " line "
                  << line << ":\n"
                  << test_text);

  const auto start = s.slapd->try_start();
  const auto start_text = start.output + s.plugin_log();
  BOOST_TEST(!start.ok, what << ": slapd started with a bad config");
  BOOST_TEST(start.exit_code != 0, what << ": slapd exit code " << start.exit_code);
  BOOST_TEST(names_file_and_line(start_text, s.config, line),
             what << ": slapd output/plugin log do not name " << s.config.string() << " line "
                  << line << ":\n"
                  << start_text);
  BOOST_TEST(!s.slapd->running());
}

} // namespace

BOOST_AUTO_TEST_CASE(offline_tools_only_validate) {
  for (const bool cn_config : {false, true}) {
    temp_dir dir("reclaim-offline-");
    const auto state_dir = dir / "state";
    const auto config = dir / "reclaim.toml";
    write_plugin_config(config, example_config(state_dir), state_dir);
    slapd_options o;
    o.plugin = plugin_path();
    o.plugin_config = config;
    o.cn_config = cn_config;
    slapd_instance slapd(dir / "slapd", o); // cn=config: slapadd -n0 ran init
    const auto test = slapd.slaptest();
    BOOST_TEST(test.exit_code == 0, test.output() << slapd.plugin_log());
    write_text_file(dir / "seed.ldif", seed_ldif(person_ldif("offline.alice")));
    const auto add = slapd.slapadd(dir / "seed.ldif");
    BOOST_TEST(add.exit_code == 0, add.output() << slapd.plugin_log());
    BOOST_TEST(fs::is_empty(state_dir),
               (cn_config ? "cn=config" : "slapd.conf")
                   << ": slaptest/slapadd created files in state_dir " << state_dir.string());
  }
}

BOOST_AUTO_TEST_CASE(unknown_state_in_a_rule_stops_slapd) {
  setup s;
  int line = 0;
  s.install(edit_line(example_config(s.state_dir), "state = \"terminated\"", "state = \"fired\"",
                      line));
  check_refused(s, line, "state = \"fired\"");
}

BOOST_AUTO_TEST_CASE(toml_syntax_error_stops_slapd) {
  setup s;
  int line = 0;
  s.install(edit_line(example_config(s.state_dir), "log_level", "log_level = \"info", line));
  check_refused(s, line, "unterminated string");
}

BOOST_AUTO_TEST_CASE(bad_config_stops_slapd_in_cn_config_form) {
  setup s(true);
  int line = 0;
  s.install(edit_line(example_config(s.state_dir), "leavers_state", "leavers_state = \"gone\"",
                      line));
  check_refused(s, line, "cn=config, leavers_state = \"gone\"");
}

BOOST_AUTO_TEST_CASE(group_or_world_writable_config_is_refused) {
  for (const auto mode : {fs::perms(0666), fs::perms(0620)}) {
    setup s;
    fs::permissions(s.config, mode);
    const auto start = s.slapd->try_start();
    const auto text = start.output + s.plugin_log();
    BOOST_TEST(!start.ok, "slapd started with config mode " << std::oct << int(mode));
    BOOST_TEST(start.exit_code != 0);
    BOOST_TEST(text.find(s.config.string()) != std::string::npos,
               "message does not name the file:\n" << text);
    BOOST_TEST(std::regex_search(text, std::regex("writ|mode|permission", std::regex::icase)),
               "message does not say why:\n" << text);
    const auto test = s.slapd->slaptest();
    BOOST_TEST(test.exit_code != 0, "slaptest accepted config mode " << std::oct << int(mode));
  }
}

BOOST_AUTO_TEST_CASE(missing_config_file_is_refused) {
  setup s;
  fs::remove(s.config);
  const auto start = s.slapd->try_start();
  const auto text = start.output + s.plugin_log();
  BOOST_TEST(!start.ok);
  BOOST_TEST(text.find(s.config.string()) != std::string::npos,
             "message does not name the file:\n" << text);
}
