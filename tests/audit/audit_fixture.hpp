// audit_fixture.hpp — a real audit log in a temp directory for the CLI tests:
// an Ed25519 key file (0600), a pseudonym key, a log written by the real
// appender in two sessions (with a backup copy after the first), helpers to
// edit lines and checkpoints, and `reclaimctl audit verify` runs.
#pragma once

#include "audit/audit_log.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace reclaim::test {

struct audit_fixture {
  audit_fixture();
  temp_dir dir{"reclaim-audit-"};
  std::filesystem::path pem, log, cps, state_db, backup;
  std::string origin = "test.example/audit", vkey;
  audit::audit_config cfg;
  logger quiet;

  // Appends n event records in one appender session (start, n, stop, checkpoint).
  void session(int n, int first_id = 0);
  std::vector<std::string> lines() const;
  void write_lines(const std::vector<std::string> &l) const;
  std::vector<std::filesystem::path> checkpoints() const; // sorted by size
  std::string sign(const std::string &text) const;       // a note signed with the log key
  // Recomputes seq-independent prev links from line `from` on (an attacker with write access).
  void rechain(std::vector<std::string> &l, size_t from) const;
  process_result ctl(std::vector<std::string> args) const;
  process_result verify(std::vector<std::string> extra = {}) const;
};

// New Ed25519 private key file (PEM, mode 0600) and its verifier key.
std::string make_key(const std::filesystem::path &pem, const std::string &name);

} // namespace reclaim::test
