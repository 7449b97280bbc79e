// audit_consistency.cpp — consistency bundles between two checkpoints. The
// printer checks what it prints (both notes with the trusted keys, both roots
// against the log) so a bundle from a tampered log is never produced; the
// checker needs only the bundle and the public keys.
#include "audit/audit_consistency.hpp"

#include "audit/audit_prune.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace reclaim::audit {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::invalid_argument(p.string() + ": cannot read");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

struct opened {
  std::string bytes, where;
  checkpoint cp;
};

// A tree size names the checkpoint of that size in the directory; anything
// else must be a checkpoint file.
opened open_arg(const verify_options &o, const std::string &arg, const char *which) {
  opened out;
  if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string::npos) {
    const auto size = parse_u64(arg);
    if (!size) throw std::invalid_argument(fmt::format("{}: {} is not a tree size", which, arg));
    const auto file = o.checkpoint_dir / fmt::format("{:020}", *size);
    if (!fs::exists(file))
      throw std::out_of_range(fmt::format("{}: no checkpoint of tree size {} in {}", which, *size,
                                          o.checkpoint_dir.string()));
    out.where = fmt::format("checkpoint {}", file.filename().string());
    out.bytes = slurp(file);
  } else {
    if (!fs::is_regular_file(arg))
      throw std::invalid_argument(fmt::format("{}: {} is neither a tree size nor a checkpoint file", which, arg));
    out.where = arg;
    out.bytes = slurp(arg);
  }
  if (auto err = open_checkpoint(out.bytes, o.origin, o.keys, out.cp); !err.empty())
    throw note_error(fmt::format("{} ({}): {}", which, out.where, err));
  return out;
}

std::vector<hash> read_leaves(const fs::path &log) {
  if (read_base(log))
    throw std::out_of_range(log.string() + " is pruned: prove consistency from its archive");
  std::ifstream in(log, std::ios::binary);
  if (!in) throw std::runtime_error(log.string() + ": cannot read the audit log");
  hasher h;
  std::vector<hash> leaves;
  for (std::string line; std::getline(in, line);)
    if (!in.eof()) leaves.push_back(h.leaf(line)); // a last line without LF is not a record
  return leaves;
}

std::string b64(const hash &x) { return base64(std::string_view(reinterpret_cast<const char *>(x.data()), 32)); }

} // namespace

json consistency_bundle(const verify_options &o, const std::string &from, const std::string &to) {
  const auto old_cp = open_arg(o, from, "OLD");
  const auto new_cp = open_arg(o, to, "NEW");
  const uint64_t m = old_cp.cp.size, n = new_cp.cp.size;
  if (m > n)
    throw std::invalid_argument(fmt::format("OLD (tree size {}) is larger than NEW (tree size {}): a consistency "
                                            "proof goes from the older tree to the newer", m, n));
  const auto leaves = read_leaves(o.log);
  if (n > leaves.size())
    throw std::runtime_error(fmt::format("the log has {} records, fewer than the {} of {} (truncation or rollback)",
                                         leaves.size(), n, new_cp.where));
  hasher h;
  for (const auto *c : {&old_cp, &new_cp})
    if (tree_root(h, leaves, 0, c->cp.size) != c->cp.root)
      throw std::runtime_error(fmt::format("{}: root for tree size {} does not match the log (the log was "
                                           "rewritten)", c->where, c->cp.size));
  const auto proof = consistency_proof(h, leaves, m, n);
  if (!verify_consistency(h, m, n, old_cp.cp.root, new_cp.cp.root, proof))
    throw std::logic_error("consistency proof does not verify"); // a bug in merkle.cpp, never input
  json hashes = json::array();
  for (const auto &p : proof) hashes.push_back(b64(p));
  return {{"format", "reclaim-audit-consistency/1"}, {"old_size", m}, {"new_size", n},
          {"old_root", b64(old_cp.cp.root)}, {"new_root", b64(new_cp.cp.root)}, {"proof", hashes},
          {"old_checkpoint", old_cp.bytes}, {"new_checkpoint", new_cp.bytes}};
}

std::vector<std::string> verify_consistency_bundle(const json &b, const std::string &origin,
                                                   const std::vector<verifier_key> &keys, bool &inconsistent) {
  inconsistent = false;
  if (!b.is_object()) return {"bundle: not a JSON object"};
  for (const char *k : {"old_checkpoint", "new_checkpoint"})
    if (!b.contains(k) || !b[k].is_string()) return {fmt::format("{}: missing or not a string", k)};
  if (!b.contains("proof") || !b["proof"].is_array()) return {"proof: missing or not an array"};
  if (!b.contains("format") || b["format"] != "reclaim-audit-consistency/1")
    return {"format: not reclaim-audit-consistency/1"};
  std::vector<std::string> out;
  checkpoint c[2];
  const char *names[2] = {"old_checkpoint", "new_checkpoint"};
  for (int i = 0; i < 2; ++i)
    if (auto err = open_checkpoint(b[names[i]].get_ref<const std::string &>(), origin, keys, c[i]); !err.empty())
      out.push_back(fmt::format("{}: {}", names[i], err));
  if (!out.empty()) return out;
  for (const auto &[key, size] : {std::pair{"old_size", c[0].size}, std::pair{"new_size", c[1].size}})
    if (!b.contains(key) || !b[key].is_number_unsigned() || b[key].get<uint64_t>() != size)
      out.push_back(fmt::format("{}: missing or differs from the checkpoint's tree size {}", key, size));
  if (c[0].size > c[1].size)
    out.push_back(fmt::format("old checkpoint (tree size {}) is larger than the new one ({})", c[0].size, c[1].size));
  std::vector<hash> proof;
  for (size_t i = 0; i < b["proof"].size(); ++i) {
    const auto &p = b["proof"][i];
    const auto raw = p.is_string() ? unbase64(p.get_ref<const std::string &>()) : std::nullopt;
    if (!raw || raw->size() != 32) return {fmt::format("proof[{}]: not a base64 SHA-256 hash", i)};
    hash x;
    std::copy(raw->begin(), raw->end(), reinterpret_cast<char *>(x.data()));
    proof.push_back(x);
  }
  if (!out.empty()) return out;
  hasher h;
  if (!verify_consistency(h, c[0].size, c[1].size, c[0].root, c[1].root, proof)) {
    inconsistent = true;
    out.push_back(fmt::format("the proof ({} hashes) does not show tree size {} to be a prefix of tree size {} "
                              "(wrong length, changed hash, or the log was rolled back or forked)",
                              proof.size(), c[0].size, c[1].size));
  }
  return out;
}

streaming_proof::streaming_proof(uint64_t m, uint64_t n) : ranges_(consistency_ranges(m, n)) {
  order_.resize(ranges_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return ranges_[a].first < ranges_[b].first; });
  roots_.resize(ranges_.size());
}

void streaming_proof::add(hasher &h, uint64_t index, const hash &leaf) {
  if (next_ >= order_.size()) return;
  const auto [begin, end] = ranges_[order_[next_]];
  if (index < begin) return;
  cur_.append(h, leaf);
  if (index + 1 == end) {
    roots_[order_[next_++]] = cur_.root(h);
    ++done_;
    cur_ = compact_range();
  }
}

std::optional<std::vector<hash>> streaming_proof::proof() const {
  if (done_ != ranges_.size()) return std::nullopt;
  return roots_;
}

std::string trusted_consistency(const std::optional<std::vector<hash>> &proof, uint64_t old_size,
                                const hash &old_root, uint64_t new_size, const hash &new_root,
                                const std::string &new_where) {
  if (old_size > new_size)
    return fmt::format("tree size {} is newer than the log's newest checkpoint ({}, tree size {}): the log was "
                       "rolled back", old_size, new_where, new_size);
  if (!proof) return {}; // the log is shorter than new_size: reported as truncation by that checkpoint
  hasher h;
  if (!verify_consistency(h, old_size, new_size, old_root, new_root, *proof))
    return fmt::format("not consistent with {} (tree size {}): the RFC 9162 consistency proof fails, the log "
                       "was rewritten (fork) below tree size {}", new_where, new_size, old_size);
  return {};
}

} // namespace reclaim::audit
