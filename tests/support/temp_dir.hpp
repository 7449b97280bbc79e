// temp_dir.hpp — a fresh directory per test fixture, removed afterwards
// unless RECLAIM_TEST_KEEP is set (then its path is kept for inspection).
#pragma once

#include <filesystem>
#include <string>

namespace reclaim::test {

class temp_dir {
public:
  // Creates $TMPDIR/<prefix>XXXXXX (mode 0700).
  explicit temp_dir(const std::string &prefix = "reclaim-test-");
  ~temp_dir();
  temp_dir(const temp_dir &) = delete;
  temp_dir &operator=(const temp_dir &) = delete;

  const std::filesystem::path &path() const { return path_; }
  std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

// Reads a whole file; an empty string when it does not exist.
std::string read_text_file(const std::filesystem::path &path);

// Writes a whole file and sets its mode (e.g. 0600).
void write_text_file(const std::filesystem::path &path, const std::string &text,
                     std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                   std::filesystem::perms::owner_write);

} // namespace reclaim::test
