// test_audit_openssl_recipe.cpp — the openssl recipe of docs/audit.md
// ("Checking a checkpoint with stock openssl"), taken from the document as
// it is and run with /bin/sh, for verifier keys whose base64 contains '+'
// and ends in '+' (keys are generated until both kinds turn up).
#include "audit_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;

namespace {

std::string documented_recipe() {
  const auto doc = read_text_file(fs::path(RECLAIM_TEST_AUDIT_DIR) / ".." / ".." / "docs" / "audit.md");
  const auto section = doc.find("### Checking a checkpoint with stock openssl");
  BOOST_REQUIRE(section != std::string::npos);
  const auto begin = doc.find("```sh\n", section);
  BOOST_REQUIRE(begin != std::string::npos);
  const auto end = doc.find("\n```", begin);
  return doc.substr(begin + 6, end - begin - 6) + "\n";
}

// The recipe with its cp= and vkey= lines set; nothing else is changed.
std::string with_values(const std::string &recipe, const fs::path &cp, const std::string &vkey) {
  std::istringstream in(recipe);
  std::string out;
  int replaced = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("cp=")) line = "cp='" + cp.string() + "'", ++replaced;
    else if (line.starts_with("vkey=")) line = "vkey='" + vkey + "'", ++replaced;
    out += line + "\n";
  }
  BOOST_REQUIRE(replaced == 2);
  return out;
}

std::string key_base64(const std::string &vkey) { return vkey.substr(vkey.find('+', vkey.find('+') + 1) + 1); }

} // namespace

BOOST_FIXTURE_TEST_SUITE(audit_openssl_recipe, audit_fixture)

BOOST_AUTO_TEST_CASE(documented_recipe_verifies_keys_with_plus) {
  const auto recipe = documented_recipe();
  std::string inside, at_end;
  for (int i = 0; i < 5000 && (inside.empty() || at_end.empty()); ++i) {
    const auto key_pem = dir / ("k" + std::to_string(i) + ".pem");
    const auto v = make_key(key_pem, origin);
    const auto b = key_base64(v);
    if (b.back() == '+' && at_end.empty()) at_end = key_pem.string();
    else if (b.find('+') != std::string::npos && b.back() != '+' && inside.empty()) inside = key_pem.string();
    else fs::remove(key_pem);
  }
  BOOST_REQUIRE(!inside.empty());
  BOOST_REQUIRE(!at_end.empty());
  for (const auto &k : {inside, at_end}) {
    BOOST_TEST_CONTEXT(k) {
      const auto sub = fs::path(k).replace_extension("");
      cfg.key_file = k;
      cfg.path = sub / "audit.jsonl";
      cfg.checkpoint_dir = sub / "audit.jsonl.checkpoints";
      state_db = sub / "state.sqlite3";
      fs::create_directories(sub);
      session(3);
      const auto v = audit::signer::from_pem_file(k, origin).verifier_key();
      log = cfg.path;
      cps = cfg.checkpoint_dir;
      const auto cp = checkpoints().back();
      const auto work = sub / "work";
      fs::create_directories(work);
      write_text_file(work / "recipe.sh", with_values(recipe, cp, v));
      const auto ok = run_process({"sh", "-c", "cd '" + work.string() + "' && sh ./recipe.sh"});
      BOOST_TEST(ok.exit_code == 0, v << "\n" << ok.output());
      BOOST_TEST(ok.output().find("Signature Verified Successfully") != std::string::npos, ok.output());
      // The same recipe refuses another log's signature for this key.
      write_text_file(work / "recipe.sh", with_values(recipe, cp, vkey));
      BOOST_TEST(run_process({"sh", "-c", "cd '" + work.string() + "' && sh ./recipe.sh"}).exit_code != 0);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
