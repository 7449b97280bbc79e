// test_audit_malformed.cpp — the audit log's own files when they are junk
// (issue 12): an oversized checkpoint size or file name, a pruned base with
// missing or mistyped keys, a mistyped proof bundle, a bad trusted-key file.
// Each is a reported problem or a clear error from reclaimctl and from the
// engine's appender, never an escaping exception or undefined behaviour.
#include "audit_fixture.hpp"

#include "audit/audit_prune.hpp"
#include "audit/note.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;

namespace {

void expect(const process_result &r, int code, const std::string &text) {
  BOOST_TEST(r.exit_code == code, "exit " << r.exit_code << " != " << code << "\n" << r.output());
  BOOST_TEST(r.output().find(text) != std::string::npos, "missing '" << text << "' in:\n" << r.output());
  for (const char *leak : {"stoull", "stoll", "json.exception"})
    BOOST_TEST(r.output().find(leak) == std::string::npos, "an exception escaped:\n" << r.output());
}

const std::string huge_size = "99999999999999999999"; // 20 digits, above 2^64-1

} // namespace

BOOST_FIXTURE_TEST_SUITE(audit_malformed_files, audit_fixture)

BOOST_AUTO_TEST_CASE(checkpoint_size_above_2_64_is_a_problem_not_an_abort) {
  const auto c = checkpoints().back();
  write_text_file(c, sign(origin + "\n" + huge_size + "\n" + audit::base64(std::string(32, 'a')) + "\n"));
  expect(verify(), 1, "malformed checkpoint: checkpoint size '" + huge_size + "' is larger than 2^64-1");
  // The engine's recovery signs the lost note again instead of failing to open the log.
  { audit::appender a(cfg, state_db, quiet); }
  const auto r = verify();
  BOOST_TEST(r.exit_code == 0, r.output());
}

BOOST_AUTO_TEST_CASE(checkpoint_file_name_above_2_64_is_a_problem) {
  const auto c = checkpoints().back();
  fs::copy_file(c, cps / ("0" + huge_size));
  expect(verify(), 1, "file name is not a tree size");
  // Prune skips it: it cannot be a checkpoint of this log.
  BOOST_CHECK_NO_THROW(audit::prune(cfg, 1000, dir / "archive"));
}

BOOST_AUTO_TEST_CASE(pruned_base_with_missing_keys_is_a_clear_error) {
  const fs::path base = log.string() + ".base";
  const std::pair<const char *, const char *> cases[] = {
      {R"({"last_line":"","size":1})", "no \"nodes\""},
      {R"({"last_line":1,"size":1,"nodes":[],"proof":[]})", "\"nodes\" do not fit \"size\""},
      {R"({"last_line":"","size":"1","nodes":[],"proof":[]})", "\"size\" is not a positive integer"},
      {R"({"last_line":"","size":0,"nodes":[],"proof":[]})", "\"size\" is not a positive integer"},
      {R"({"last_line":"","size":1,"nodes":[5],"proof":[]})", "\"nodes\" is not an array of hex hashes"},
      {R"({"size":1,"nodes":["0000000000000000000000000000000000000000000000000000000000000000"],"proof":[]})",
       "no \"last_line\""},
      {R"({"last_line":7,"size":1,"nodes":["0000000000000000000000000000000000000000000000000000000000000000"],"proof":[]})",
       "\"last_line\" is not a string"},
      {R"({"last_line":"","size":1,"nodes":["0000000000000000000000000000000000000000000000000000000000000000"],"proof":{}})",
       "\"proof\" is not an array of hex hashes"},
      {R"({"last_line":"","size":1,"nodes":["0000000000000000000000000000000000000000000000000000000000000000"],"proof":[],"outbox":-1})",
       "\"outbox\" is not a non-negative integer"},
      {R"([1,2])", "not a JSON object"},
  };
  for (const auto &[text, message] : cases) {
    BOOST_TEST_CONTEXT(text) {
      write_text_file(base, text);
      expect(verify(), 1, message);
      // The engine's appender reads the base when it opens the log (inside slapd).
      try {
        audit::appender a(cfg, state_db, quiet);
        BOOST_ERROR("the appender opened a log with a broken base");
      } catch (const std::runtime_error &e) {
        BOOST_TEST(std::string(e.what()).find(message) != std::string::npos, e.what());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(mistyped_proof_bundle_is_reported) {
  const auto bundle = dir / "bundle.json";
  const std::pair<const char *, const char *> cases[] = {
      {R"({"proof":6})", "TAMPERED: checkpoint: missing"},
      {R"({"checkpoint":1})", "TAMPERED: checkpoint: not a string"},
      {R"({"checkpoint":"","leaf":"","seq":-1,"tree_size":1,"proof":[]})", "TAMPERED: seq: not a record index"},
      {R"({"checkpoint":"","leaf":"","seq":1.5,"tree_size":1,"proof":[]})", "TAMPERED: seq: not a record index"},
      {R"({"checkpoint":"","leaf":"","seq":1,"tree_size":1,"proof":6})", "TAMPERED: proof: not an array"},
      {R"({"checkpoint":"","leaf":"","seq":1,"tree_size":1,"proof":[6]})", "TAMPERED: proof: malformed hash"},
  };
  for (const auto &[text, message] : cases) {
    BOOST_TEST_CONTEXT(text) {
      write_text_file(bundle, text);
      expect(ctl({"audit", "verify-record", bundle.string(), "--origin", origin, "--key", vkey}), 1, message);
    }
  }
}

BOOST_AUTO_TEST_CASE(trusted_key_file_with_a_bad_size_names_it) {
  const auto keys = dir / "keys";
  for (const auto &bad : {"abc", huge_size.c_str(), "-1"}) {
    write_text_file(keys, vkey + " 0 " + bad + "\n");
    expect(ctl({"audit", "verify", "--log", log.string(), "--origin", origin, "--keys", keys.string()}), 1,
           fmt::format("key size '{}' is not a decimal tree size", bad));
  }
}

BOOST_AUTO_TEST_SUITE_END()
