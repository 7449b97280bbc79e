// audit_throughput.cpp — the audit log's cost, measured in one run: records
// queued in the outbox (SQLite, 1,000 per transaction) and drained by the
// appender into the log with a signed checkpoint every 1,000 records; then
// the whole log verified, side by side with `sha256sum` over the same file
// (the physical limit of verification: every byte must be hashed).
// Usage: audit_throughput [records] [dir]
#include "audit/audit_log.hpp"
#include "audit/audit_verify.hpp"
#include "store/sqlite.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;
using json = nlohmann::json;

double since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

reclaim::audit::audit_config make_config(const fs::path &dir) {
  const auto pem = dir / "audit.pem";
  EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  FILE *f = std::fopen(pem.c_str(), "w");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  EVP_PKEY_free(k);
  fs::permissions(pem, fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(dir / "pseudo.key") << std::string(40, 'p');
  fs::permissions(dir / "pseudo.key", fs::perms::owner_read | fs::perms::owner_write);
  reclaim::audit::audit_config c;
  c.enabled = true;
  c.path = dir / "audit.jsonl";
  c.checkpoint_dir = dir / "audit.jsonl.checkpoints";
  c.key_file = pem;
  c.origin = "bench.example/audit";
  c.checkpoint_every = 1000;
  c.pseudonym_key_file = dir / "pseudo.key";
  c.key_store = dir / "keys.sqlite3";
  return c;
}

// A typical action outcome record.
json record(int i) {
  return {{"type", "action_outcome"},
          {"actor", "engine"},
          {"subject_id", fmt::format("uid=user{:06},ou=People,dc=example,dc=com", i % 50000)},
          {"ids", {{"event", i / 4}, {"plan", i / 4}, {"action", i}}},
          {"assets", json::array({{{"app", "m365"}, {"action", "reclaim_licence"}, {"sku", "M365_E5"},
                                   {"monthly_cost_cents", 5700}}})},
          {"outcome", "done"},
          {"reason", "licence M365_E5 removed; 1 seat returned to the pool"}};
}

} // namespace

int main(int argc, char **argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200000;
  const fs::path dir = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path() / "reclaim-audit-bench";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto cfg = make_config(dir);
  const auto state = dir / "state.sqlite3";
  reclaim::logger quiet;
  reclaim::sqlite::database db(state, reclaim::sqlite::durability::full);
  reclaim::audit::create_outbox(db);

  auto t = clock_type::now();
  for (int i = 0; i < n; i += 1000) {
    reclaim::sqlite::transaction tx(db);
    for (int k = i; k < std::min(n, i + 1000); ++k) reclaim::audit::enqueue(db, record(k));
    tx.commit();
  }
  const double enqueue_s = since(t);
  t = clock_type::now();
  const auto cpu0 = std::clock();
  std::string vkey;
  {
    reclaim::audit::appender a(cfg, state, quiet);
    a.drain();
    vkey = a.signers().front().verifier_key();
  }
  const double drain_s = since(t);
  const double drain_cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const auto bytes = fs::file_size(cfg.path);
  size_t cps = 0;
  for ([[maybe_unused]] const auto &e : fs::directory_iterator(cfg.checkpoint_dir)) ++cps;
  fmt::print("records {}  log {:.1f} MB  checkpoints {}\n", n, static_cast<double>(bytes) / 1e6, cps);
  fmt::print("enqueue (outbox, 1000/txn)  {:.3f} s  {:>10.0f} records/s\n", enqueue_s, n / enqueue_s);
  fmt::print("append  (drain + sign)      {:.3f} s  {:>10.0f} records/s  (CPU {:.3f} s)\n", drain_s, n / drain_s,
             drain_cpu);
  fmt::print("end to end                  {:.3f} s  {:>10.0f} records/s\n", enqueue_s + drain_s,
             n / (enqueue_s + drain_s));

  reclaim::audit::verify_options o;
  o.log = cfg.path;
  o.checkpoint_dir = cfg.checkpoint_dir;
  o.origin = cfg.origin;
  o.keys.push_back(reclaim::audit::parse_verifier_key(vkey));
  // Warm the page cache equally for both readers.
  { std::ifstream in(cfg.path, std::ios::binary); std::string buf(1 << 20, '\0'); while (in.read(buf.data(), buf.size())) {} }
  t = clock_type::now();
  const auto r = reclaim::audit::verify_log(o);
  const double verify_s = since(t);
  t = clock_type::now();
  const int rc = std::system(fmt::format("sha256sum '{}' > /dev/null", cfg.path.string()).c_str());
  const double sha_s = since(t);
  const double mb = static_cast<double>(bytes) / 1e6;
  fmt::print("verify                      {:.3f} s  {:>10.0f} records/s  {:>7.1f} MB/s  ({} errors, {} warnings)\n",
             verify_s, static_cast<double>(r.records) / verify_s, mb / verify_s, r.errors(), r.warnings());
  fmt::print("sha256sum                   {:.3f} s  {:>10.0f} records/s  {:>7.1f} MB/s  (exit {})\n", sha_s,
             static_cast<double>(r.records) / sha_s, mb / sha_s, rc);
  fmt::print("verify / sha256sum throughput: {:.2f}\n", sha_s / verify_s);
  fs::remove_all(dir);
  return r.errors() == 0 && rc == 0 ? 0 : 1;
}
