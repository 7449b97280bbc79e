// test_audit_merkle.cpp — plugin/audit/merkle against the RFC 6962 test
// vectors published with Certificate Transparency (transparency-dev/merkle
// testonly/constants.go): roots for sizes 0..8, inclusion and consistency
// proofs, plus every proof of every tree up to 40 leaves round-tripped.
#include "audit/merkle.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace reclaim::audit;

namespace {

std::string unhex(const std::string &h) {
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}
hash H(const std::string &h) { return *hash_from_hex(h); }

const std::vector<std::string> leaf_data = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                            "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> roots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

std::vector<hash> ct_leaves(hasher &h) {
  std::vector<hash> out;
  for (const auto &d : leaf_data) out.push_back(h.leaf(unhex(d)));
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(audit_merkle)

BOOST_AUTO_TEST_CASE(roots_match_rfc6962_vectors) {
  hasher h;
  BOOST_TEST(to_hex(empty_root()) == roots[0]);
  const auto leaves = ct_leaves(h);
  compact_range r;
  BOOST_TEST(to_hex(r.root(h)) == roots[0]);
  for (size_t n = 1; n <= 8; ++n) {
    r.append(h, leaves[n - 1]);
    BOOST_TEST(to_hex(r.root(h)) == roots[n], "compact range, size " << n);
    BOOST_TEST(to_hex(tree_root(h, leaves, 0, n)) == roots[n], "recursive MTH, size " << n);
  }
}

BOOST_AUTO_TEST_CASE(inclusion_proofs_match_vectors) {
  hasher h;
  const auto leaves = ct_leaves(h);
  struct row {
    uint64_t index, size;
    std::vector<std::string> proof;
  };
  const std::vector<row> rows = {
      {0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}}};
  for (const auto &r : rows) {
    std::vector<hash> want;
    for (const auto &p : r.proof) want.push_back(H(p));
    BOOST_TEST((inclusion_proof(h, leaves, r.index, r.size) == want));
    BOOST_TEST(verify_inclusion(h, leaves[r.index], r.index, r.size, want, H(roots[r.size])));
    BOOST_TEST(!verify_inclusion(h, leaves[r.index], r.index + 1, r.size, want, H(roots[r.size])));
  }
}

BOOST_AUTO_TEST_CASE(consistency_proofs_match_vectors) {
  hasher h;
  const auto leaves = ct_leaves(h);
  struct row {
    uint64_t m, n;
    std::vector<std::string> proof;
  };
  const std::vector<row> rows = {
      {2, 8, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}}};
  for (const auto &r : rows) {
    std::vector<hash> want;
    for (const auto &p : r.proof) want.push_back(H(p));
    BOOST_TEST((consistency_proof(h, leaves, r.m, r.n) == want), r.m << "->" << r.n);
    BOOST_TEST(verify_consistency(h, r.m, r.n, H(roots[r.m]), H(roots[r.n]), want));
    BOOST_TEST(!verify_consistency(h, r.m, r.n, H(roots[r.m - 1]), H(roots[r.n]), want));
  }
}

BOOST_AUTO_TEST_CASE(all_proofs_round_trip_and_tampering_fails) {
  hasher h;
  std::vector<hash> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(h.leaf(std::string(1, static_cast<char>(i))));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const auto root = tree_root(h, leaves, 0, n);
    for (uint64_t i = 0; i < n; ++i) {
      auto p = inclusion_proof(h, leaves, i, n);
      BOOST_TEST_REQUIRE(verify_inclusion(h, leaves[i], i, n, p, root));
      if (!p.empty()) {
        p[0][0] ^= 1;
        BOOST_TEST_REQUIRE(!verify_inclusion(h, leaves[i], i, n, p, root));
      }
    }
    for (uint64_t m = 1; m < n; ++m) {
      const auto p = consistency_proof(h, leaves, m, n);
      BOOST_TEST_REQUIRE(verify_consistency(h, m, n, tree_root(h, leaves, 0, m), root, p));
      BOOST_TEST_REQUIRE(!verify_consistency(h, m, n, tree_root(h, leaves, 0, m), leaves[0], p));
    }
  }
}

// Bad consistency proofs: every proof one hash short, one too long, each
// hash changed in turn, sizes swapped; equal sizes only with an empty proof.
BOOST_AUTO_TEST_CASE(consistency_proofs_of_wrong_length_or_changed_hash_fail) {
  hasher h;
  std::vector<hash> leaves;
  for (int i = 0; i < 24; ++i) leaves.push_back(h.leaf(std::string(1, static_cast<char>(i))));
  for (uint64_t n = 2; n <= leaves.size(); ++n) {
    const auto root = tree_root(h, leaves, 0, n);
    for (uint64_t m = 1; m < n; ++m) {
      const auto old_root = tree_root(h, leaves, 0, m);
      const auto p = consistency_proof(h, leaves, m, n);
      auto shorter = p;
      shorter.pop_back();
      BOOST_TEST_REQUIRE(!verify_consistency(h, m, n, old_root, root, shorter), m << "->" << n);
      auto longer = p;
      longer.push_back(p.front());
      BOOST_TEST_REQUIRE(!verify_consistency(h, m, n, old_root, root, longer), m << "->" << n);
      for (size_t k = 0; k < p.size(); ++k) {
        auto changed = p;
        changed[k][31] ^= 0x80;
        BOOST_TEST_REQUIRE(!verify_consistency(h, m, n, old_root, root, changed), m << "->" << n << " @" << k);
      }
      BOOST_TEST_REQUIRE(!verify_consistency(h, n, m, root, old_root, p));
    }
    BOOST_TEST(verify_consistency(h, n, n, root, root, {}));
    BOOST_TEST(!verify_consistency(h, n, n, root, root, {root}));
  }
}

BOOST_AUTO_TEST_CASE(consistency_ranges_are_the_proof) {
  hasher h;
  std::vector<hash> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(h.leaf(std::string(1, static_cast<char>(i))));
  for (uint64_t n = 1; n <= leaves.size(); ++n)
    for (uint64_t m = 0; m <= n; ++m) {
      std::vector<hash> from_ranges;
      uint64_t last_end = 0;
      auto ranges = consistency_ranges(m, n);
      for (const auto &[b, e] : ranges) from_ranges.push_back(tree_root(h, leaves, b, e));
      BOOST_TEST_REQUIRE((from_ranges == consistency_proof(h, leaves, m, n)), m << "->" << n);
      std::sort(ranges.begin(), ranges.end());
      for (const auto &[b, e] : ranges) {
        BOOST_TEST_REQUIRE(b >= last_end); // disjoint
        last_end = e;
      }
    }
}

BOOST_AUTO_TEST_CASE(an_internal_node_is_not_a_leaf) {
  hasher h;
  const auto leaves = ct_leaves(h);
  const auto node01 = h.node(leaves[0], leaves[1]);
  std::string both(reinterpret_cast<const char *>(leaves[0].data()), 32);
  both.append(reinterpret_cast<const char *>(leaves[1].data()), 32);
  BOOST_TEST((h.leaf(both) != node01)); // domain separation 0x00 / 0x01
  // The node's own path (its siblings above level 1) must not verify it as leaf 0 of 4.
  const auto path = inclusion_proof(h, leaves, 0, 8);
  std::vector<hash> upper(path.begin() + 1, path.end());
  BOOST_TEST(!verify_inclusion(h, h.leaf(both), 0, 4, upper, H(roots[8])));
}

BOOST_AUTO_TEST_CASE(strict_base64) {
  BOOST_TEST(base64("hello") == "aGVsbG8=");
  BOOST_TEST(unbase64("aGVsbG8=").value() == "hello");
  BOOST_TEST(!unbase64("aGVsbG8"));   // missing padding
  BOOST_TEST(!unbase64("_-8="));      // URL-safe alphabet
  BOOST_TEST(!unbase64("aGVs bG8="));  // whitespace
  BOOST_TEST(unbase64("/+8=").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
