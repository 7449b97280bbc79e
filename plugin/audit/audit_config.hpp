// audit_config.hpp — the [audit] table of reclaim.toml. An absent table
// disables the audit log; a present one is validated key by key like the
// rest of the config (unknown keys are errors).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace reclaim::audit {

// A C2SP tlog-witness (docs/audit.md "Witnesses").
struct witness_config {
  std::string url; // submission prefix: add-checkpoint is POSTed to url + "/add-checkpoint"
  std::string key; // the witness's vkey name+keyid+base64(0x04 || key)
};

struct audit_config {
  bool enabled = false;
  std::filesystem::path path;           // the JSON Lines log
  std::filesystem::path checkpoint_dir; // one signed note per file, named by tree size
  std::filesystem::path key_file;       // Ed25519 PEM private key (0600/0400)
  std::vector<std::filesystem::path> extra_key_files; // also sign (key rotation overlap)
  std::string origin;                   // checkpoint origin line and key name
  int64_t checkpoint_every = 1000;      // records
  std::chrono::milliseconds checkpoint_interval = std::chrono::minutes(5);
  bool syslog = false;
  std::filesystem::path copy_to;        // second, write-once directory for checkpoints
  std::filesystem::path pseudonym_key_file;
  std::filesystem::path key_store;      // per-subject AEAD keys (SQLite)
  std::filesystem::path trusted_keys;   // verifier keys for `reclaimctl audit verify`
  std::chrono::milliseconds retention = std::chrono::hours(24 * 365 * 7);
  std::vector<witness_config> witnesses; // each new checkpoint is sent to them for cosigning
  std::chrono::milliseconds witness_timeout = std::chrono::seconds(10);
  // How long a stop keeps draining the outbox (not in reclaim.toml: the
  // host's stop must stay short; what is left is appended at the next start).
  std::chrono::milliseconds stop_drain = std::chrono::seconds(2);
};

} // namespace reclaim::audit
