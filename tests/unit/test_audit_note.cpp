// test_audit_note.cpp — plugin/audit/note against the published examples of
// the C2SP signed-note format (the PeterNeumann key and note of Go's
// golang.org/x/mod/sumdb/note, from which the C2SP spec was written), and the
// strict parsing of tlog-checkpoint notes.
#include "audit/audit_verify.hpp"
#include "audit/note.hpp"

#include <boost/test/unit_test.hpp>

using namespace reclaim::audit;

namespace {
const std::string vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string skey_b64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; // 0x01 || seed
const std::string text = "If you think cryptography is the answer to your problem,\n"
                         "then you don't know what your problem is.\n";
const std::string sig_line = "\xE2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

signer peter() { return signer::from_seed(unbase64(skey_b64)->substr(1), "PeterNeumann"); }
} // namespace

BOOST_AUTO_TEST_SUITE(audit_note)

BOOST_AUTO_TEST_CASE(signing_matches_the_reference_note) {
  const auto s = peter();
  BOOST_TEST(s.id() == 0xc74f20a3u);
  BOOST_TEST(s.verifier_key() == vkey);
  BOOST_TEST(s.signature_line(text) == sig_line);
}

BOOST_AUTO_TEST_CASE(reference_note_parses_and_verifies) {
  const auto k = parse_verifier_key(vkey);
  BOOST_TEST(k.name == "PeterNeumann");
  BOOST_TEST(k.id == 0xc74f20a3u);
  const auto n = parse_note(text + "\n" + sig_line);
  BOOST_TEST(n.text == text);
  BOOST_REQUIRE(n.sigs.size() == 1u);
  BOOST_TEST(n.sigs[0].id == k.id);
  BOOST_TEST(ed25519_verify(k.pub, n.text, n.sigs[0].sig));
  BOOST_TEST(!ed25519_verify(k.pub, n.text + "x", n.sigs[0].sig));
}

BOOST_AUTO_TEST_CASE(malformed_notes_are_refused) {
  const std::string good = text + "\n" + sig_line;
  auto refused = [](const std::string &bytes, const std::string &msg) {
    try {
      parse_note(bytes);
    } catch (const note_error &e) {
      BOOST_TEST(std::string(e.what()).find(msg) != std::string::npos, e.what() << " lacks " << msg);
      return;
    }
    BOOST_FAIL("accepted: " << bytes);
  };
  std::string crlf = good;
  crlf.insert(crlf.find('\n'), "\r");
  refused(crlf, "CR");
  refused(text + "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
          "hyphen");
  refused(good.substr(0, good.size() - 1), "newline");
  std::string url = good;
  url.replace(url.find("x08go/"), 6, "x08go_");
  refused(url, "base64");
  refused(text + sig_line, "blank line");
  std::string many = text + "\n";
  for (int i = 0; i < 101; ++i) many += sig_line;
  refused(many, "more than 100 signatures");
  refused(std::string(70000, 'a') + "\n\n" + sig_line, "larger than");
}

BOOST_AUTO_TEST_CASE(checkpoint_text_round_trips_and_is_strict) {
  checkpoint c{"example.com/log", 8, *hash_from_hex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"), {}};
  const auto t = checkpoint_text(c);
  BOOST_TEST(t == "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  const auto back = parse_checkpoint_text(t);
  BOOST_TEST(back.size == 8u);
  BOOST_TEST((back.root == c.root));
  for (const std::string bad : {"example.com/log\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
                                "example.com/log\n+8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
                                "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",
                                "example.com/log\n8\nXcnaeacGWamtVZy3Ad7Zoqud\n", "\n8\nAA==\n",
                                "example.com/log\n8\n"})
    BOOST_CHECK_THROW(parse_checkpoint_text(bad), note_error);
}

// Issue 12: 20 digits pass the canonical-decimal check, but std::stoull
// threw std::out_of_range above 2^64-1, past callers that catch note_error.
BOOST_AUTO_TEST_CASE(checkpoint_size_above_2_64_is_a_note_error) {
  BOOST_CHECK_THROW(parse_checkpoint_text("a\n99999999999999999999\n"), note_error); // the issue's input
  const auto root = base64(std::string(32, 'r'));
  try {
    parse_checkpoint_text("a\n99999999999999999999\n" + root + "\n");
    BOOST_FAIL("accepted");
  } catch (const note_error &e) {
    BOOST_TEST(std::string(e.what()).find("larger than 2^64-1") != std::string::npos, e.what());
  }
  BOOST_TEST(parse_checkpoint_text("a\n18446744073709551615\n" + root + "\n").size == UINT64_MAX);
  BOOST_CHECK_THROW(parse_checkpoint_text("a\n18446744073709551616\n" + root + "\n"), note_error);
}

BOOST_AUTO_TEST_CASE(parse_u64_takes_digits_that_fit) {
  BOOST_TEST(*parse_u64("0") == 0u);
  BOOST_TEST(*parse_u64("00000000000000000012") == 12u);
  BOOST_TEST(*parse_u64("18446744073709551615") == UINT64_MAX);
  for (const char *bad : {"", "18446744073709551616", "099999999999999999999", "-1", "+1", "1 ", " 1", "0x1", "1e3"})
    BOOST_TEST(!parse_u64(bad).has_value(), bad);
}

// Issue 12: value() on a mistyped member threw nlohmann::type_error.
BOOST_AUTO_TEST_CASE(mistyped_bundles_are_problems_not_exceptions) {
  const std::vector<verifier_key> keys{parse_verifier_key(vkey)};
  const std::pair<const char *, const char *> rows[] = {
      {R"({"proof":6})", "checkpoint: missing"},
      {R"({"checkpoint":1})", "checkpoint: not a string"},
      {R"({"checkpoint":"","leaf":1,"seq":0,"tree_size":1,"proof":[]})", "leaf: not a string"},
      {R"({"checkpoint":"","leaf":"","seq":"0","tree_size":1,"proof":[]})", "seq: not a record index"},
      {R"({"checkpoint":"","leaf":"","seq":0,"tree_size":-1,"proof":[]})", "tree_size: not a tree size"},
      {R"({"checkpoint":"","leaf":"","seq":0,"tree_size":1,"proof":6})", "proof: not an array"},
      {R"({"checkpoint":"","leaf":"","seq":0,"tree_size":1,"proof":[null]})", "proof: malformed hash"},
      {R"([])", "bundle: not a JSON object"},
  };
  for (const auto &[text, message] : rows) {
    BOOST_TEST_CONTEXT(text) {
      std::vector<std::string> problems;
      BOOST_CHECK_NO_THROW(problems = verify_bundle(nlohmann::json::parse(text), "o", keys));
      BOOST_TEST_REQUIRE(problems.size() == 1u);
      BOOST_TEST(problems[0] == message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
