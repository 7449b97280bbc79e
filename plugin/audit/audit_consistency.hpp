// audit_consistency.hpp — RFC 9162 consistency proofs between two signed
// checkpoints of the audit log: the bundle `reclaimctl audit consistency`
// prints, its verification (`audit verify-consistency`), and the check that
// `audit verify --trusted-checkpoint` makes against the log's newest tree.
#pragma once

#include "audit/audit_verify.hpp"
#include "audit/merkle.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclaim::audit {

// Both checkpoints are valid but the proof does not join them (a proof of
// the wrong length, a changed hash, or a log that was rolled back or forked).
class inconsistent_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The bundle for the checkpoints `from` and `to` (each a tree size with a
// checkpoint in checkpoint_dir, or a checkpoint file). Throws
// std::invalid_argument (OLD > NEW, neither size nor file), std::out_of_range
// (no checkpoint of that size, more records than the log has), note_error
// (a checkpoint that does not open with the keys) or std::runtime_error (the
// log does not match its checkpoints).
nlohmann::json consistency_bundle(const verify_options &o, const std::string &from, const std::string &to);

// Problems with a bundle from consistency_bundle(); empty when both
// checkpoints verify and the proof joins them. inconsistent is set when
// the only problem is the proof.
std::vector<std::string> verify_consistency_bundle(const nlohmann::json &bundle, const std::string &origin,
                                                   const std::vector<verifier_key> &keys, bool &inconsistent);

// PROOF(m, D[n]) built during one pass over the leaves in order, keeping
// one compact range at a time (O(log n) memory, no leaf list).
class streaming_proof {
public:
  streaming_proof(uint64_t m, uint64_t n);
  void add(hasher &h, uint64_t index, const hash &leaf);
  // The proof once leaf n-1 was added, else nullopt.
  std::optional<std::vector<hash>> proof() const;

private:
  std::vector<std::pair<uint64_t, uint64_t>> ranges_; // proof order
  std::vector<size_t> order_;                          // range indices by begin
  std::vector<hash> roots_;
  size_t next_ = 0, done_ = 0;
  compact_range cur_;
};

// verify --trusted-checkpoint: the trusted tree (old_size, old_root) must
// be a prefix of the newest signed tree (new_size, new_root); proof is
// PROOF(old_size, D[new_size]) from the log's leaves (nullopt when the log
// is shorter). Returns "" or the problem.
std::string trusted_consistency(const std::optional<std::vector<hash>> &proof, uint64_t old_size,
                                const hash &old_root, uint64_t new_size, const hash &new_root,
                                const std::string &new_where);

} // namespace reclaim::audit
