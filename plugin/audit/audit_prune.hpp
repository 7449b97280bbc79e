// audit_prune.hpp — retention: move the oldest records (up to a signed
// checkpoint) into an archive that verifies on its own, and keep in the live
// log a "base" — the RFC 6962 compact range at the prune point plus its last
// record with an inclusion proof — so what remains still verifies against
// the same signed checkpoints.
#pragma once

#include "audit/audit_config.hpp"
#include "audit/merkle.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::audit {

struct pruned_base {
  uint64_t size = 0;        // records before the live log's first line
  std::vector<hash> nodes;  // compact range of the tree of that size
  std::string last_line;    // record size-1, for the prev chain
  std::vector<hash> proof;  // its inclusion proof in the tree of that size
  int64_t outbox = 0;       // highest outbox id already in the log
};

// <log>.base; nullopt when the log was never pruned. Throws when unreadable.
std::optional<pruned_base> read_base(const std::filesystem::path &log);
// Checks a base against the root signed for its size; "" when it holds.
std::string check_base(const pruned_base &b, const hash &signed_root);

struct prune_result {
  uint64_t from = 0, to = 0; // archived records [from, to)
  std::filesystem::path archive;
};

// Prunes up to the newest checkpoint of size <= before. Refuses while another
// process holds the log (stop the engine first).
prune_result prune(const audit_config &cfg, uint64_t before, const std::filesystem::path &archive_dir);

} // namespace reclaim::audit
