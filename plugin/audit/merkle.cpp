// merkle.cpp — RFC 6962 tree hashing and proofs. The algorithms follow RFC
// 9162 section 2.1 literally (MTH, PATH, SUBPROOF and the verification
// procedures of 2.1.3.2 and 2.1.4.2) so they can be compared line by line.
#include "audit/merkle.hpp"

#include <openssl/evp.h>

#include <bit>
#include <stdexcept>

namespace reclaim::audit {

struct hasher::impl {
  EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  ~impl() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  hash digest(uint8_t prefix, bool use_prefix, const void *a, size_t an, const void *b, size_t bn) {
    hash out{};
    unsigned len = 0;
    if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
        (use_prefix && EVP_DigestUpdate(ctx, &prefix, 1) != 1) ||
        EVP_DigestUpdate(ctx, a, an) != 1 || (bn && EVP_DigestUpdate(ctx, b, bn) != 1) ||
        EVP_DigestFinal_ex(ctx, out.data(), &len) != 1)
      throw std::runtime_error("SHA-256 failed");
    return out;
  }
};

hasher::hasher() : p_(std::make_unique<impl>()) {
  if (!p_->md || !p_->ctx) throw std::runtime_error("OpenSSL SHA-256 unavailable");
}
hasher::~hasher() = default;
hash hasher::sha256(std::string_view d) { return p_->digest(0, false, d.data(), d.size(), nullptr, 0); }
hash hasher::leaf(std::string_view d) { return p_->digest(0, true, d.data(), d.size(), nullptr, 0); }
hash hasher::node(const hash &l, const hash &r) { return p_->digest(1, true, l.data(), 32, r.data(), 32); }

hash empty_root() {
  hasher h;
  return h.sha256("");
}

void compact_range::append(hasher &h, const hash &leaf_hash) {
  hash carry = leaf_hash;
  // Merge with equal-sized subtrees: one per trailing 1 bit of size.
  for (uint64_t s = size_; s & 1; s >>= 1) {
    carry = h.node(nodes_.back(), carry);
    nodes_.pop_back();
  }
  nodes_.push_back(carry);
  ++size_;
}

hash compact_range::root(hasher &h) const {
  if (nodes_.empty()) return empty_root();
  hash acc = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) acc = h.node(nodes_[i], acc);
  return acc;
}

bool compact_range::restore(uint64_t size, std::vector<hash> nodes) {
  if (static_cast<size_t>(std::popcount(size)) != nodes.size()) return false;
  size_ = size;
  nodes_ = std::move(nodes);
  return true;
}

namespace {
// Largest power of two strictly less than n (n >= 2).
uint64_t split(uint64_t n) { return std::bit_floor(n - 1); }

void subproof(hasher &h, const std::vector<hash> &leaves, uint64_t m, uint64_t begin,
              uint64_t end, bool whole, std::vector<hash> &out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(tree_root(h, leaves, begin, end));
    return;
  }
  const uint64_t k = split(n);
  if (m <= k) {
    subproof(h, leaves, m, begin, begin + k, whole, out);
    out.push_back(tree_root(h, leaves, begin + k, end));
  } else {
    subproof(h, leaves, m - k, begin + k, end, false, out);
    out.push_back(tree_root(h, leaves, begin, begin + k));
  }
}
void subproof_ranges(uint64_t m, uint64_t begin, uint64_t end, bool whole,
                     std::vector<std::pair<uint64_t, uint64_t>> &out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.emplace_back(begin, end);
    return;
  }
  const uint64_t k = split(n);
  if (m <= k) {
    subproof_ranges(m, begin, begin + k, whole, out);
    out.emplace_back(begin + k, end);
  } else {
    subproof_ranges(m - k, begin + k, end, false, out);
    out.emplace_back(begin, begin + k);
  }
}
} // namespace

std::vector<std::pair<uint64_t, uint64_t>> consistency_ranges(uint64_t m, uint64_t n) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  if (m == 0 || m >= n) return out;
  subproof_ranges(m, 0, n, true, out);
  return out;
}

hash tree_root(hasher &h, const std::vector<hash> &leaves, uint64_t begin, uint64_t end) {
  if (end == begin) return empty_root();
  if (end - begin == 1) return leaves[begin];
  const uint64_t k = split(end - begin);
  return h.node(tree_root(h, leaves, begin, begin + k), tree_root(h, leaves, begin + k, end));
}

std::vector<hash> inclusion_proof(hasher &h, const std::vector<hash> &leaves, uint64_t index,
                                  uint64_t size) {
  std::vector<hash> out;
  uint64_t begin = 0, end = size;
  std::vector<hash> rev;
  while (end - begin > 1) {
    const uint64_t k = split(end - begin);
    if (index < begin + k) {
      rev.push_back(tree_root(h, leaves, begin + k, end));
      end = begin + k;
    } else {
      rev.push_back(tree_root(h, leaves, begin, begin + k));
      begin += k;
    }
  }
  out.assign(rev.rbegin(), rev.rend());
  return out;
}

bool verify_inclusion(hasher &h, const hash &leaf_hash, uint64_t index, uint64_t size,
                      const std::vector<hash> &proof, const hash &root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  hash r = leaf_hash;
  for (const auto &p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = h.node(p, r);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) fn >>= 1, sn >>= 1;
    } else {
      r = h.node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

std::vector<hash> consistency_proof(hasher &h, const std::vector<hash> &leaves, uint64_t m,
                                    uint64_t n) {
  std::vector<hash> out;
  if (m == 0 || m >= n) return out;
  subproof(h, leaves, m, 0, n, true, out);
  return out;
}

bool verify_consistency(hasher &h, uint64_t m, uint64_t n, const hash &old_root,
                        const hash &new_root, const std::vector<hash> &proof) {
  if (m > n) return false;
  if (m == n) return proof.empty() && old_root == new_root;
  if (m == 0) return proof.empty();
  std::vector<hash> path = proof;
  if (std::has_single_bit(m)) path.insert(path.begin(), old_root);
  if (path.empty()) return false;
  uint64_t fn = m - 1, sn = n - 1;
  while (fn & 1) fn >>= 1, sn >>= 1;
  hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = h.node(path[i], fr);
      sr = h.node(path[i], sr);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) fn >>= 1, sn >>= 1;
    } else {
      sr = h.node(sr, path[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

std::string to_hex(const hash &v) {
  static const char *d = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = d[v[i] >> 4];
    out[2 * i + 1] = d[v[i] & 15];
  }
  return out;
}

std::optional<hash> hash_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  hash out{};
  for (size_t i = 0; i < 64; ++i) {
    const char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;
    out[i / 2] = static_cast<uint8_t>(out[i / 2] | (i % 2 ? v : v << 4));
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  if (text.ends_with("==")) len -= 2;
  else if (text.ends_with("=")) len -= 1;
  out.resize(len);
  if (base64(out) != text) return std::nullopt;
  return out;
}

} // namespace reclaim::audit
