// unit_support.cpp — helpers shared by the unit tests.
#include "unit_support.hpp"

#include "store/sqlite.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace reclaim::unit {

temp_dir::temp_dir() {
  const auto base = std::filesystem::temp_directory_path() / "reclaim-unit-XXXXXX";
  std::string tmpl = base.string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path &path, const std::string &text,
                std::filesystem::perms mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    out << text;
  }
  std::filesystem::permissions(path, mode, std::filesystem::perm_options::replace);
}

void write_file(const std::filesystem::path &path, const std::string &text, unsigned mode) {
  write_file(path, text, static_cast<std::filesystem::perms>(mode));
}

const char *const ldap_section = R"toml(
[ldap]
base = "dc=example,dc=com"
leavers = ["ou=Leavers,dc=example,dc=com"]
leavers_state = "terminated"
transfer_attributes = ["departmentNumber", "title"]
catch_up_margin = "PT5M"

[[ldap.rule]]
attribute = "employeeType"
equals = ["Terminated", "leaver"]
state = "terminated"

[[ldap.rule]]
attribute = "employeeType"
equals = ["leave"]
state = "leave"

[[ldap.rule]]
attribute = "shadowExpire"
expired_days = true
state = "contract_ended"

[[ldap.rule]]
attribute = "pwdAccountLockedTime"
present = true
state = "leave"

[[ldap.rule]]
attribute = "userAccountControl"
bits_set = 2
state = "leave"
)toml";

config load_toml(const temp_dir &dir, const std::string &toml) {
  const auto path = dir / "reclaim.toml";
  write_file(path, toml, 0600u);
  return load_config(path);
}

std::string config_text(const temp_dir &dir) {
  return fmt::format("[engine]\nstate_dir = \"{}\"\nlog_level = \"debug\"\n{}",
                     (dir / "state").string(), ldap_section);
}

ldap::entry make_entry(const std::string &dn, attr_list attrs) {
  ldap::entry e;
  e.dn = dn;
  for (const auto &[name, values] : attrs)
    for (const auto &v : values) e.add(name, v);
  return e;
}

void damage_store(const std::filesystem::path &path) {
  int64_t pages = 0, page_size = 0;
  {
    sqlite::database db(path, sqlite::durability::normal);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto count = db.prepare("PRAGMA page_count");
    pages = count.step() ? count.integer(0) : 0;
    auto size = db.prepare("PRAGMA page_size");
    page_size = size.step() ? size.integer(0) : 0;
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const std::string junk(12, '\x5a');
  for (int64_t page = 2; page < pages; ++page) {
    f.seekp(static_cast<std::streamoff>(page * page_size));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
}

void log_capture::sink(int level, const char *message, void *payload) {
  auto *self = static_cast<log_capture *>(payload);
  std::lock_guard lock(self->mu);
  self->lines.emplace_back(level, message);
}

bool log_capture::contains(const std::string &fragment) {
  std::lock_guard lock(mu);
  for (const auto &[level, line] : lines)
    if (line.find(fragment) != std::string::npos) return true;
  return false;
}

} // namespace reclaim::unit
