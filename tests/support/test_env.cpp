// test_env.cpp — locating the plugin, reclaimctl and the example config.
#include "test_env.hpp"

#include <pwd.h>
#include <unistd.h>

#include "temp_dir.hpp"

#include <cstdlib>
#include <regex>
#include <stdexcept>

namespace reclaim::test {
namespace fs = std::filesystem;
namespace {

fs::path existing(const char *variable) {
  const char *value = std::getenv(variable);
  if (value == nullptr || *value == '\0' || !fs::exists(value)) {
    return {};
  }
  return value;
}

} // namespace

fs::path plugin_path() { return existing("RECLAIM_TEST_PLUGIN"); }
fs::path reclaimctl_path() { return existing("RECLAIM_TEST_RECLAIMCTL"); }
fs::path source_dir() { return existing("RECLAIM_TEST_SOURCE_DIR"); }

std::string operator_access() {
  const passwd *pw = ::getpwuid(::getuid());
  if (pw == nullptr || pw->pw_name == nullptr) throw std::runtime_error("the test's uid has no passwd entry");
  return std::string("\n[access.person.operator]\nunix_users = [\"") + pw->pw_name +
         "\"]\n[access.person.directory-admin]\nldap_dns = [\"cn=admin,dc=example,dc=com\"]\n"
         "[access.roles]\nhr = [\"operator\"]\niam = [\"operator\"]\nprocurement = [\"operator\"]\n"
         "auditor = [\"operator\"]\nprivacy = [\"operator\"]\n";
}

std::string example_config(const fs::path &state_dir) {
  const auto path = source_dir() / "packaging" / "config" / "reclaim.toml";
  const auto text = read_text_file(path);
  if (text.empty()) {
    throw std::runtime_error("cannot read " + path.string() +
                             " (is RECLAIM_TEST_SOURCE_DIR set?)");
  }
  static const std::regex state_dir_line(R"(^state_dir\s*=.*$)", std::regex::multiline);
  if (!std::regex_search(text, state_dir_line)) {
    throw std::runtime_error(path.string() + " has no state_dir line");
  }
  // The engine's threads at nice +10, not SCHED_IDLE: the suites find a
  // change's event by polling the journal until it is quiet (50 ms), and an
  // idle-priority writer on a saturated CI machine can lag for seconds.
  return std::regex_replace(text, state_dir_line,
                            "state_dir = \"" + state_dir.string() + "\"\nbackground_priority = \"nice\"") +
         operator_access();
}

void write_plugin_config(const fs::path &path, const std::string &text, const fs::path &state_dir) {
  fs::create_directories(state_dir);
  fs::permissions(state_dir, fs::perms::owner_all);
  write_text_file(path, text);
}

} // namespace reclaim::test
