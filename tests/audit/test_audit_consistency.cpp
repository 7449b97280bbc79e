// test_audit_consistency.cpp — `reclaimctl audit consistency` bundles checked
// by an independent Python implementation of RFC 9162 2.1.4.2
// (check_consistency.py), bad bundles and arguments refused with their exit
// codes, and rollback and fork re-signed with the host key caught by
// `audit verify --trusted-checkpoint`.
#include "audit_fixture.hpp"

#include "audit/audit_consistency.hpp"
#include "audit/canonical_json.hpp"
#include "audit/note.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path checker = fs::path(RECLAIM_TEST_AUDIT_DIR) / "check_consistency.py";

uint64_t cp_size(const fs::path &p) { return std::stoull(p.filename().string()); }

void expect(const process_result &r, int code, const std::string &text) {
  BOOST_TEST(r.exit_code == code, "exit " << r.exit_code << " != " << code << "\n" << r.output());
  BOOST_TEST(r.output().find(text) != std::string::npos, "missing '" << text << "' in:\n" << r.output());
}

struct consistency_fixture : audit_fixture {
  process_result consistency(const std::string &from, const std::string &to) const {
    return ctl({"audit", "consistency", from, to, "--log", log.string(), "--origin", origin, "--key", vkey});
  }
  fs::path bundle_file(const std::string &from, const std::string &to, const std::string &name = "bundle.json") {
    const auto r = consistency(from, to);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output());
    write_text_file(dir / name, r.out);
    return dir / name;
  }
  process_result python(const std::vector<fs::path> &bundles, bool with_log = true) const {
    std::vector<std::string> args = {"python3", checker.string(), "--origin", origin, "--key", vkey};
    if (with_log) args.insert(args.end(), {"--log", log.string()});
    for (const auto &b : bundles) args.push_back(b.string());
    return run_process(args);
  }
  process_result python(const fs::path &bundle, bool with_log = true) const {
    return python(std::vector<fs::path>{bundle}, with_log);
  }
  process_result verify_bundle(const fs::path &bundle) const {
    return ctl({"audit", "verify-consistency", bundle.string(), "--origin", origin, "--key", vkey});
  }
  // Sizes of the checkpoints in the directory, oldest first.
  std::vector<uint64_t> sizes() const {
    std::vector<uint64_t> out;
    for (const auto &c : checkpoints()) out.push_back(cp_size(c));
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(audit_consistency, consistency_fixture)

BOOST_AUTO_TEST_CASE(every_pair_of_checkpoints_checked_by_python) {
  // One checkpoint per record for a while: proofs for sizes of every shape
  // (powers of two, odd, equal, adjacent).
  cfg.checkpoint_every = 1;
  session(20, 200);
  const auto s = sizes();
  BOOST_REQUIRE(s.size() > 20);
  std::vector<fs::path> bundles;
  for (size_t i = 0; i < s.size(); i += 2)
    for (size_t j = i; j < s.size(); j += (j < i + 4 ? 1 : 7)) {
      const auto name = fmt::format("b-{}-{}.json", s[i], s[j]);
      bundles.push_back(bundle_file(std::to_string(s[i]), std::to_string(s[j]), name));
      if (bundles.size() % 8 == 1) expect(verify_bundle(bundles.back()), 0, "is a prefix of tree size " + std::to_string(s[j]));
    }
  BOOST_TEST(bundles.size() > 60u);
  const auto py = python(bundles);
  BOOST_TEST(py.exit_code == 0, py.output());
  BOOST_TEST(static_cast<size_t>(std::count(py.out.begin(), py.out.end(), '\n')) == bundles.size(), py.output());
  BOOST_TEST(py.out.find("inconsistent") == std::string::npos, py.output());
  // A checkpoint file works as well as a tree size.
  const auto b = bundle_file(checkpoints().front().string(), std::to_string(s.back()));
  BOOST_TEST(python(b).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(tampered_or_wrong_length_proof_refused_by_both) {
  session(40, 300);
  const auto s = sizes();
  BOOST_REQUIRE(s.size() >= 3);
  const auto good = bundle_file(std::to_string(s[0]), std::to_string(s.back()));
  const auto original = json::parse(read_text_file(good));
  BOOST_REQUIRE(original["proof"].size() >= 2);
  auto edit = [&](const std::string &name, auto change) {
    auto b = original;
    change(b);
    write_text_file(dir / name, b.dump());
    return dir / name;
  };
  const auto flipped = edit("flipped.json", [](json &b) {
    auto raw = *audit::unbase64(b["proof"][0].get<std::string>());
    raw[5] = static_cast<char>(raw[5] ^ 1);
    b["proof"][0] = audit::base64(raw);
  });
  const auto shorter = edit("shorter.json", [](json &b) { b["proof"].erase(b["proof"].size() - 1); });
  const auto longer = edit("longer.json", [](json &b) { b["proof"].push_back(b["proof"][0]); });
  const auto empty = edit("empty.json", [](json &b) { b["proof"] = json::array(); });
  for (const auto &f : {flipped, shorter, longer, empty}) {
    BOOST_TEST_CONTEXT(read_text_file(f)) {
      expect(python(f, false), 1, "inconsistent:");
      expect(verify_bundle(f), 5, "INCONSISTENT: the proof (");
    }
  }
  expect(verify_bundle(good), 0, "is a prefix");
}

BOOST_AUTO_TEST_CASE(bad_arguments_and_checkpoints) {
  const auto s = sizes();
  expect(consistency(std::to_string(s.back()), std::to_string(s.front())), 2, "is larger than NEW");
  expect(consistency("7", std::to_string(s.back())), 3, "no checkpoint of tree size 7");
  expect(consistency("nonsense", std::to_string(s.back())), 2, "neither a tree size nor a checkpoint file");
  // Another log's checkpoint, validly signed by its own key.
  make_key(dir / "other.pem", "other.example/audit");
  const auto other = audit::signer::from_pem_file(dir / "other.pem", "other.example/audit");
  const auto text = audit::checkpoint_text({"other.example/audit", s.front(), {}, {}});
  write_text_file(dir / "other-cp", text + "\n" + other.signature_line(text));
  expect(consistency((dir / "other-cp").string(), std::to_string(s.back())), 1, "another log's checkpoint");
  // A checkpoint whose signature fails.
  const auto good = bundle_file(std::to_string(s.front()), std::to_string(s.back()));
  auto note = read_text_file(checkpoints().back());
  note[note.size() - 10] = note[note.size() - 10] == 'A' ? 'B' : 'A';
  write_text_file(dir / "bad-sig", note);
  expect(consistency(std::to_string(s.front()), (dir / "bad-sig").string()), 1, "does not verify");
  auto b = json::parse(read_text_file(good));
  b["new_checkpoint"] = note;
  write_text_file(dir / "forged.json", b.dump());
  expect(verify_bundle(dir / "forged.json"), 1, "TAMPERED: new_checkpoint: signature by known key");
  BOOST_TEST(python(dir / "forged.json", false).exit_code == 1);
  write_text_file(dir / "junk.json", "[1,2]");
  expect(verify_bundle(dir / "junk.json"), 2, "not a JSON consistency bundle");
  // Nothing changed: the log still verifies, the bundle still checks.
  expect(verify(), 0, "0 error(s)");
  expect(verify_bundle(good), 0, "is a prefix");
}

BOOST_AUTO_TEST_CASE(any_json_value_is_refused_without_throwing) {
  const auto s = sizes();
  const auto good = json::parse(read_text_file(bundle_file(std::to_string(s.front()), std::to_string(s.back()))));
  const auto keys = std::vector<audit::verifier_key>{audit::parse_verifier_key(vkey)};
  std::vector<json> bad = {json(), json(1), json::array(), json::object()};
  for (const auto &key : {"format", "old_size", "new_size", "proof", "old_checkpoint", "new_checkpoint"})
    for (const json &value : {json(), json(-1), json(1.5), json("x"), json::array({1}), json::object()}) {
      auto b = good;
      b[key] = value;
      bad.push_back(b);
    }
  auto swapped = good;
  std::swap(swapped["old_checkpoint"], swapped["new_checkpoint"]);
  std::swap(swapped["old_size"], swapped["new_size"]);
  bad.push_back(swapped);
  for (const auto &b : bad) {
    bool inconsistent = false;
    std::vector<std::string> problems;
    BOOST_CHECK_NO_THROW(problems = audit::verify_consistency_bundle(b, origin, keys, inconsistent));
    BOOST_TEST(!problems.empty(), b.dump());
  }
  bool inconsistent = true;
  BOOST_TEST(audit::verify_consistency_bundle(good, origin, keys, inconsistent).empty());
  BOOST_TEST(!inconsistent);
}

BOOST_AUTO_TEST_CASE(rollback_resigned_with_host_key_caught_by_trusted_checkpoint) {
  const auto cps_before = checkpoints();
  fs::copy_file(cps_before.back(), dir / "trusted");
  const uint64_t keep = cp_size(cps_before.front());
  auto l = lines();
  l.resize(keep);
  write_lines(l);
  for (const auto &c : cps_before)
    if (cp_size(c) > keep) fs::remove(c);
  // The attacker holds the host key: the rolled-back log goes on, signed.
  session(3, 500);
  expect(verify(), 0, "0 error(s)");
  const auto r = verify({"--trusted-checkpoint", (dir / "trusted").string()});
  BOOST_TEST(r.exit_code == 1, r.output());
  BOOST_TEST(r.out.find("TAMPERED: trusted checkpoint: tree size " + std::to_string(cp_size(cps_before.back())) +
                        " is newer than the log's newest checkpoint") != std::string::npos, r.output());
  // Grown past the trusted size again: the proof itself fails.
  session(30, 600);
  expect(verify(), 0, "0 error(s)");
  expect(verify({"--trusted-checkpoint", (dir / "trusted").string()}), 1,
         "TAMPERED: trusted checkpoint: not consistent with checkpoint");
  expect(verify({"--trusted-checkpoint", (dir / "trusted").string()}), 1, "consistency proof fails");
}

BOOST_AUTO_TEST_CASE(fork_resigned_with_host_key_caught_by_trusted_checkpoint) {
  const auto cps_before = checkpoints();
  fs::copy_file(cps_before.back(), dir / "trusted");
  const uint64_t trusted_size = cp_size(cps_before.back());
  // Rewrite the tail: a record below the trusted size changes, the chain is
  // recomputed, and the host key signs the notes again.
  auto l = lines();
  const size_t at = trusted_size - 4;
  auto rec = json::parse(l[at]);
  rec["outcome"] = "forged";
  l[at] = audit::canonical(rec);
  rechain(l, at + 1);
  write_lines(l);
  for (const auto &c : cps_before)
    if (cp_size(c) > at) fs::remove(c);
  session(2, 700); // the appender re-signs the missing notes over the rewritten log
  expect(verify(), 0, "0 error(s)");
  BOOST_REQUIRE(fs::exists(cps / fmt::format("{:020}", trusted_size)));
  expect(verify({"--trusted-checkpoint", (dir / "trusted").string()}), 1, "consistency proof fails");
  expect(verify({"--trusted-checkpoint", (dir / "trusted").string()}), 1, "(fork)");
  // A trusted checkpoint from before the rewritten record is still a prefix.
  BOOST_REQUIRE(cp_size(cps_before.front()) <= at);
  expect(verify({"--trusted-checkpoint", cps_before.front().string()}), 0, "0 error(s)");
}

BOOST_AUTO_TEST_CASE(honest_log_passes_trusted_checkpoint) {
  fs::copy_file(checkpoints().front(), dir / "trusted");
  session(15, 800);
  expect(verify({"--trusted-checkpoint", (dir / "trusted").string()}), 0, "0 error(s)");
}

BOOST_AUTO_TEST_SUITE_END()
