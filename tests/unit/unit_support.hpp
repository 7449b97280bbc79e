// unit_support.hpp — small helpers for the unit tests: a temp directory per
// test, files written with an exact mode, configs from TOML text, entries
// built inline, and a log sink that keeps what the engine logged.
#pragma once

#include "config/config.hpp"
#include "ldap/ldap_entry.hpp"
#include "base/log.hpp"

#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace reclaim {
// Lets Boost.Test print states in failure messages.
inline std::ostream &operator<<(std::ostream &os, state s) { return os << state_name(s); }
} // namespace reclaim

namespace reclaim::unit {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir &) = delete;
  temp_dir &operator=(const temp_dir &) = delete;
  const std::filesystem::path &path() const { return path_; }
  std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

// Writes text to path and sets the mode exactly (umask does not apply).
void write_file(const std::filesystem::path &path, const std::string &text,
                std::filesystem::perms mode);
void write_file(const std::filesystem::path &path, const std::string &text, unsigned mode = 0600);

// The [ldap] section most tests use: the shipped example's shape, small.
extern const char *const ldap_section;

// Writes toml to <dir>/reclaim.toml (mode 0600) and loads it.
config load_toml(const temp_dir &dir, const std::string &toml);

// A config whose state_dir is inside dir, with ldap_section.
std::string config_text(const temp_dir &dir);

using attr_list = std::initializer_list<std::pair<std::string, std::vector<std::string>>>;
ldap::entry make_entry(const std::string &dn, attr_list attrs);

// Checkpoints the store at path, then overwrites the page header of every
// b-tree page after the first two: a damage quick_check must find.
void damage_store(const std::filesystem::path &path);

// A log sink that records every line (thread-safe).
struct log_capture {
  std::mutex mu;
  std::vector<std::pair<int, std::string>> lines;
  static void sink(int level, const char *message, void *payload);
  logger make(log_level max = log_level::debug) { return logger(&sink, this, max); }
  bool contains(const std::string &fragment);
};

} // namespace reclaim::unit
