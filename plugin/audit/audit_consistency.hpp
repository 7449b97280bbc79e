// audit_consistency.hpp — RFC 9162 consistency proofs between two signed
// checkpoints of the audit log: the bundle `reclaimctl audit consistency`
// prints, its verification (`audit verify-consistency`), and the check that
// `audit verify --trusted-checkpoint` makes against the log's newest tree.
#pragma once

#include "audit/audit_verify.hpp"
#include "audit/merkle.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
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

// verify --trusted-checkpoint: the trusted tree (old_size, old_root) must
// be a prefix of the newest signed tree, proved from the log's leaf hashes.
// Returns "" or the problem.
std::string trusted_consistency(const std::vector<hash> &leaves, uint64_t old_size, const hash &old_root,
                                uint64_t new_size, const hash &new_root, const std::string &new_where);

} // namespace reclaim::audit
