// merkle.hpp — the RFC 6962 / RFC 9162 Merkle tree over audit records: leaf
// and node hashes with domain separation, an O(log n) compact range that
// appends leaves and yields the root at any size, inclusion and consistency
// proofs and their verification, plus hex/base64 helpers (OpenSSL).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reclaim::audit {

using hash = std::array<uint8_t, 32>;

// SHA-256 with a reusable OpenSSL context (one per thread of use).
class hasher {
public:
  hasher();
  ~hasher();
  hasher(const hasher &) = delete;
  hasher &operator=(const hasher &) = delete;
  hash sha256(std::string_view data);
  hash leaf(std::string_view data);            // SHA-256(0x00 || data)
  hash node(const hash &left, const hash &right); // SHA-256(0x01 || l || r)

private:
  struct impl;
  std::unique_ptr<impl> p_;
};

hash empty_root(); // SHA-256 of the empty string

// The right edge of a tree: one perfect subtree root per set bit of size.
class compact_range {
public:
  void append(hasher &h, const hash &leaf_hash);
  hash root(hasher &h) const;
  uint64_t size() const { return size_; }
  const std::vector<hash> &nodes() const { return nodes_; }
  // Restores a range from saved nodes; false if nodes do not fit size.
  bool restore(uint64_t size, std::vector<hash> nodes);

private:
  uint64_t size_ = 0;
  std::vector<hash> nodes_; // largest (leftmost) subtree first
};

// Merkle tree hash of leaves[begin, end) (RFC 6962 2.1).
hash tree_root(hasher &h, const std::vector<hash> &leaves, uint64_t begin, uint64_t end);
// Audit path for leaf index in the tree of the first size leaves (RFC 6962 2.1.1).
std::vector<hash> inclusion_proof(hasher &h, const std::vector<hash> &leaves, uint64_t index,
                                  uint64_t size);
bool verify_inclusion(hasher &h, const hash &leaf_hash, uint64_t index, uint64_t size,
                      const std::vector<hash> &proof, const hash &root);
// Consistency proof between the trees of sizes m <= n (RFC 6962 2.1.2).
std::vector<hash> consistency_proof(hasher &h, const std::vector<hash> &leaves, uint64_t m,
                                    uint64_t n);
// The subtrees [begin, end) whose roots are PROOF(m, D[n]), in proof order.
// They are disjoint, so a streaming pass can compute the proof in O(log n)
// memory.
std::vector<std::pair<uint64_t, uint64_t>> consistency_ranges(uint64_t m, uint64_t n);
bool verify_consistency(hasher &h, uint64_t m, uint64_t n, const hash &old_root,
                        const hash &new_root, const std::vector<hash> &proof);

std::string to_hex(const hash &v);
std::optional<hash> hash_from_hex(std::string_view hex);
std::string base64(std::string_view bytes);
// Strict standard base64 with padding: anything whose re-encoding differs
// (URL-safe alphabet, whitespace, missing padding) is refused.
std::optional<std::string> unbase64(std::string_view text);

} // namespace reclaim::audit
