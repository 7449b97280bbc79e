// audit_verify.hpp — the audit log's checking side: the whole-log verifier
// behind `reclaimctl audit verify`, single-record inclusion bundles (`prove`,
// `verify-record`) and the trusted-key file. Needs only public keys.
#pragma once

#include "audit/note.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::audit {

struct problem {
  bool error = true; // false: warning
  std::string where; // "record 12", "checkpoint 00000000000000001000", ...
  std::string message;
};

struct verify_options {
  std::filesystem::path log;
  std::filesystem::path checkpoint_dir;
  std::string origin;
  std::vector<verifier_key> keys;
  std::optional<std::string> trusted_checkpoint; // signed note bytes
  std::filesystem::path state_file;              // read when present, written when clean
  std::chrono::milliseconds max_gap{0};          // warn when checkpoints are further apart
};

struct verify_result {
  std::vector<problem> problems;
  uint64_t records = 0, checkpoints = 0, erased = 0, bytes = 0;
  uint64_t pruned = 0; // records before the base of a pruned log (in the archive)
  size_t errors() const;
  size_t warnings() const { return problems.size() - errors(); }
};

verify_result verify_log(const verify_options &o);

// Opens a signed checkpoint: note syntax, checkpoint syntax, origin, key
// ranges and signatures. Returns the problem, or "" and fills out.
std::string open_checkpoint(std::string_view note_bytes, const std::string &origin,
                            const std::vector<verifier_key> &keys, checkpoint &out);

// Trusted keys, one per line: "<verifier key> [<from size> [<to size>]]";
// '#' starts a comment.
std::vector<verifier_key> read_key_file(const std::filesystem::path &path);

// A record with its inclusion proof and the newest checkpoint covering it.
nlohmann::json prove(const std::filesystem::path &log, const std::filesystem::path &checkpoint_dir,
                     uint64_t seq);
// Problems with a bundle from prove(); empty when it verifies.
std::vector<std::string> verify_bundle(const nlohmann::json &bundle, const std::string &origin,
                                       const std::vector<verifier_key> &keys);

} // namespace reclaim::audit
