// audit_fixture.cpp — see audit_fixture.hpp.
#include "audit_fixture.hpp"

#include "audit/canonical_json.hpp"
#include "test_env.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace reclaim::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string make_key(const fs::path &pem, const std::string &name) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  FILE *f = std::fopen(pem.c_str(), "w");
  if (!k || !f || PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("cannot write test key");
  std::fclose(f);
  EVP_PKEY_free(k);
  fs::permissions(pem, fs::perms::owner_read | fs::perms::owner_write);
  return audit::signer::from_pem_file(pem, name).verifier_key();
}

audit_fixture::audit_fixture() {
  pem = dir / "sign.pem";
  vkey = make_key(pem, origin);
  write_text_file(dir / "pseudonym.key", "0123456789abcdef0123456789abcdef-test-pseudonym-key");
  log = dir / "audit" / "audit.jsonl";
  cps = dir / "audit" / "audit.jsonl.checkpoints";
  state_db = dir / "state.sqlite3";
  backup = dir / "backup";
  cfg.enabled = true;
  cfg.path = log;
  cfg.checkpoint_dir = cps;
  cfg.key_file = pem;
  cfg.origin = origin;
  cfg.checkpoint_every = 10;
  cfg.pseudonym_key_file = dir / "pseudonym.key";
  cfg.key_store = dir / "subject-keys.sqlite3";
  session(12);
  fs::create_directories(backup);
  fs::copy(dir / "audit", backup / "audit", fs::copy_options::recursive);
  session(12, 100);
}

void audit_fixture::session(int n, int first_id) {
  audit::appender a(cfg, state_db, quiet);
  for (int i = 0; i < n; ++i)
    a.append({{"type", "event_journalled"},
              {"actor", "engine"},
              {"subject_id", "uid=user" + std::to_string(first_id + i)},
              {"personal", {{"name", "User " + std::to_string(first_id + i)}}},
              {"ids", {{"event", first_id + i}}},
              {"assets", json::array({{{"app", "crm"}, {"sku", "CRM-PRO"}, {"cost_cents", 4200}}})},
              {"outcome", "journalled"}});
}

std::vector<std::string> audit_fixture::lines() const {
  std::ifstream in(log);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

void audit_fixture::write_lines(const std::vector<std::string> &l) const {
  std::ofstream out(log, std::ios::trunc | std::ios::binary);
  for (const auto &x : l) out << x << '\n';
}

std::vector<fs::path> audit_fixture::checkpoints() const {
  std::vector<fs::path> out;
  for (const auto &e : fs::directory_iterator(cps)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string audit_fixture::sign(const std::string &text) const {
  return text + "\n" + audit::signer::from_pem_file(pem, origin).signature_line(text);
}

void audit_fixture::rechain(std::vector<std::string> &l, size_t from) const {
  audit::hasher h;
  for (size_t j = std::max<size_t>(from, 1); j < l.size(); ++j) {
    auto rec = json::parse(l[j]);
    rec["prev"] = audit::to_hex(h.leaf(l[j - 1]));
    l[j] = audit::canonical(rec);
  }
}

process_result audit_fixture::ctl(std::vector<std::string> args) const {
  args.insert(args.begin(), reclaimctl_path().string());
  return run_process(args, std::chrono::seconds(60));
}

process_result audit_fixture::verify(std::vector<std::string> extra) const {
  std::vector<std::string> args = {"audit", "verify", "--log", log.string(), "--origin", origin,
                                   "--key", vkey};
  args.insert(args.end(), extra.begin(), extra.end());
  return ctl(args);
}

} // namespace reclaim::test
