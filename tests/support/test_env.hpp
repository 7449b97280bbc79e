// test_env.hpp — where the things under test are. CTest passes paths through
// the environment (set in tests/ldap/CMakeLists.txt), so a developer can run
// a test binary by hand against another build by exporting the same names:
//   RECLAIM_TEST_PLUGIN      libreclaim.so.1
//   RECLAIM_TEST_RECLAIMCTL  reclaimctl
//   RECLAIM_TEST_SOURCE_DIR  the source tree (for packaging/config/reclaim.toml)
#pragma once

#include <filesystem>
#include <string>

namespace reclaim::test {

// The path from the environment variable, or empty when unset or missing.
std::filesystem::path plugin_path();
std::filesystem::path reclaimctl_path();
std::filesystem::path source_dir();

// packaging/config/reclaim.toml with [engine].state_dir replaced by
// state_dir, and operator_access() appended; throws if the example has no
// state_dir line.
std::string example_config(const std::filesystem::path &state_dir);

// An [access] table: the Unix user running the tests is person "operator"
// with every role; the directory's admin DN (which requests the plans the
// suites make through slapd) is person "directory-admin", a second person.
std::string operator_access();

// Writes a plugin config (mode 0600, as reclaim requires) and creates
// state_dir (mode 0700).
void write_plugin_config(const std::filesystem::path &path, const std::string &text,
                         const std::filesystem::path &state_dir);

} // namespace reclaim::test
