// make_seeds.cpp — writes the seed corpora of fuzz/corpus/ (committed; run
// it again after a format change: build-fuzz/fuzz/make_seeds fuzz/corpus).
// Logs, checkpoints and bundles are real: chained records, RFC 6962 roots,
// Ed25519 signatures by the fixed fuzzing key, a pruned base from prune().
#include "audit/audit_consistency.hpp"
#include "audit/audit_prune.hpp"
#include "audit/audit_verify.hpp"
#include "audit/canonical_json.hpp"
#include "audit/witness.hpp"
#include "base/clock.hpp"
#include "intake/ldap_intake.hpp"
#include "fuzz_support.hpp"

#include <fmt/format.h>

#include <iostream>
#include <iterator>

using namespace reclaim;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path root;

void seed(const std::string &corpus, const std::string &name, std::string_view bytes) {
  fs::create_directories(root / corpus);
  fuzz::write_file(root / corpus / name, bytes, 0644);
}

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string note(const audit::signer &s, uint64_t size, const audit::hash &r, std::vector<std::string> ext = {}) {
  const auto text = audit::checkpoint_text({std::string(fuzz::origin), size, r, std::move(ext)});
  return text + "\n" + s.signature_line(text);
}

struct log_builder {
  audit::hasher h;
  audit::compact_range range;
  audit::hash prev{};
  std::string text;
  std::vector<std::pair<uint64_t, std::string>> notes; // checkpoint file name size, note

  void add(json body) {
    body["v"] = 1;
    body["origin"] = fuzz::origin;
    body["seq"] = range.size();
    body["prev"] = range.size() == 0 ? std::string(64, '0') : audit::to_hex(prev);
    body["time"] = format_utc(from_unix_ms(1'800'000'000'000 + 1000 * static_cast<int64_t>(range.size())));
    const auto line = audit::canonical(body);
    prev = h.leaf(line);
    range.append(h, prev);
    text += line + "\n";
  }
  void checkpoint(const audit::signer &s) {
    add({{"type", "checkpoint"}, {"actor", "engine"}});
    notes.emplace_back(range.size(), note(s, range.size(), range.root(h)));
  }
};

// A cosignature/v1 line: "— name base64(keyid || timestamp || signature)\n".
std::string cosignature_line(const audit::signer &w, std::string_view note_text, uint64_t t) {
  // The cosigner key id, not the signer's log key id (type byte 0x04, not 0x01).
  const auto id = audit::cosigner_key_id(w.name(), w.public_key());
  std::string raw;
  for (int i = 24; i >= 0; i -= 8) raw += static_cast<char>((id >> i) & 0xff);
  for (int i = 56; i >= 0; i -= 8) raw += static_cast<char>((t >> i) & 0xff);
  return "\xE2\x80\x94 " + w.name() + " " + audit::base64(raw + w.sign(audit::cosigned_message(note_text, t))) + "\n";
}

std::string join(const std::vector<std::string> &parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(fuzz::part_separator) : "") + parts[i];
  return out;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds <fuzz/corpus>\n";
    return 2;
  }
  root = argv[1];
  const auto s = fuzz::fuzz_signer();

  // A log of 8 records with checkpoints at 3 and 8.
  log_builder b;
  b.add({{"type", "log_start"}, {"actor", "engine"}, {"data", {{"pid", 1}, {"size", 0}}}});
  b.add({{"type", "event_journalled"}, {"actor", "engine"}, {"subject", "hs256:0badc0de:ab"}, {"outbox", 1},
         {"ids", {{"event", 1}}}, {"data", {{"from", "active"}, {"to", "leaver"}, {"source", "ldap"}}}});
  b.checkpoint(s);
  b.add({{"type", "plan_made"}, {"actor", "engine"}, {"outbox", 2}, {"outcome", "pending"},
         {"reason", "t\u00e9st \"quoted\"\n"}, {"assets", json::array({{{"app", "m365"}, {"action", "revoke"}}})}});
  b.add({{"type", "forget"}, {"actor", "reclaimctl"}, {"subject", "hs256:0badc0de:ab"}, {"outcome", "key_deleted"}});
  b.add({{"type", "action_outcome"}, {"actor", "engine"}, {"outbox", 3}, {"outcome", "done"}, {"reason", ""}});
  b.add({{"type", "log_stop"}, {"actor", "engine"}});
  b.checkpoint(s);

  auto cp_part = [](uint64_t size, const std::string &n) { return fmt::format("{:020}\n{}", size, n); };
  const std::string state = json{{"origin", fuzz::origin}, {"size", 3}, {"root", audit::to_hex(b.range.root(b.h))}}.dump();
  seed("audit_log", "whole", join({b.text, "", "", cp_part(b.notes[0].first, b.notes[0].second),
                                   cp_part(b.notes[1].first, b.notes[1].second)}));
  seed("audit_log", "with-state", join({b.text, "", state, cp_part(b.notes[1].first, b.notes[1].second)}));
  seed("audit_log", "no-checkpoints", b.text);

  // The same log pruned at 3: a base and the remaining records.
  const auto dir = fuzz::temp_dir();
  audit::audit_config cfg;
  cfg.path = dir / "audit.jsonl";
  cfg.checkpoint_dir = dir / "audit.jsonl.checkpoints";
  fs::create_directories(cfg.checkpoint_dir);
  fuzz::write_file(cfg.path, b.text);
  for (const auto &[size, n] : b.notes) fuzz::write_file(cfg.checkpoint_dir / fmt::format("{:020}", size), n);

  // A bundle for record 4 (before pruning: prove refuses a pruned log).
  const auto bundle = audit::prove(cfg.path, cfg.checkpoint_dir, 4);
  seed("proof_bundle", "record-4", bundle.dump());
  seed("proof_bundle", "record-0", audit::prove(cfg.path, cfg.checkpoint_dir, 0).dump());
  seed("proof_bundle", "issue-proof-number", R"({"proof":6})");
  seed("proof_bundle", "issue-checkpoint-number", R"({"checkpoint":1})");

  // Consistency bundles between the checkpoints 3 and 8 (and 8 to 8).
  {
    audit::verify_options o;
    o.log = cfg.path;
    o.checkpoint_dir = cfg.checkpoint_dir;
    o.origin = std::string(fuzz::origin);
    o.keys = {audit::parse_verifier_key(s.verifier_key())};
    seed("consistency_bundle", "3-to-8", audit::consistency_bundle(o, "3", "8").dump());
    seed("consistency_bundle", "8-to-8", audit::consistency_bundle(o, "8", "8").dump());
    auto swapped = audit::consistency_bundle(o, "3", "8");
    std::swap(swapped["old_checkpoint"], swapped["new_checkpoint"]);
    seed("consistency_bundle", "swapped", swapped.dump());
  }

  // Witness answers and cosigned notes: vkey, note, answer lines, raw signature.
  {
    const auto w = fuzz::fuzz_witness_signer();
    const audit::cosigner_key wk{w.name(), audit::cosigner_key_id(w.name(), w.public_key()), w.public_key()};
    const auto &note8 = b.notes[1].second;
    const auto text8 = audit::parse_note(note8).text;
    const auto older = cosignature_line(w, text8, 1'800'000'000);
    const auto newer = cosignature_line(w, text8, 1'800'000'060);
    const auto sig = audit::parse_note(text8 + "\n" + newer).sigs.at(0).sig;
    seed("witness", "answer", join({wk.text(), note8, newer, sig}));
    seed("witness", "replace-older", join({wk.text() + "\n", audit::merge_cosignatures(note8, {older}), newer + s.signature_line(text8)}));
    seed("witness", "log-key", join({s.verifier_key(), note8, s.signature_line(text8)}));
    seed("witness", "vkey-only", wk.text());
  }

  audit::prune(cfg, 3, dir / "archive");
  seed("audit_log", "pruned", join({slurp(cfg.path), slurp(cfg.path.string() + ".base"), "",
                                    cp_part(b.notes[0].first, b.notes[0].second),
                                    cp_part(b.notes[1].first, b.notes[1].second)}));
  seed("audit_log", "issue-base-missing-keys",
       join({slurp(cfg.path), R"({"last_line":"","size":1})", "", cp_part(b.notes[1].first, b.notes[1].second)}));
  seed("audit_log", "issue-long-checkpoint-name",
       join({b.text, "", "", "000000000000000000008\n" + b.notes[1].second}));

  // Checkpoints and notes.
  seed("checkpoint", "size-3", b.notes[0].second);
  seed("checkpoint", "size-8", b.notes[1].second);
  seed("checkpoint", "extensions", note(s, 12345, b.range.root(b.h), {"ext one", "ext-two"}));
  seed("checkpoint", "verifier-key", s.verifier_key());
  seed("checkpoint", "issue-size-above-2-64", "a\n99999999999999999999\n");
  seed("checkpoint", "text", audit::checkpoint_text({"o", 18446744073709551615u, b.range.root(b.h), {}}));

  // Canonical JSON.
  size_t i = 0;
  for (std::string_view rest = b.text; !rest.empty(); ++i) {
    const auto nl = rest.find('\n');
    if (i == 1 || i == 3 || i == 4) seed("canonical", fmt::format("record-{}", i), rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  seed("canonical", "escapes", audit::canonical(json{{"\u00e9", "\x01\x1f\t"}, {"a", json::array({-9007199254740991, nullptr, true})}}));
  seed("canonical", "utf16-order", audit::canonical(json{{"\xef\xbf\xbd", 1}, {"\xf0\x9f\x98\x80", 2}}));

  // Times and durations (the last three: the issue's).
  const char *times[] = {"2026-11-27T23:01:02Z", "2026-11-27T23:01:02.123Z", "2000-02-29T00:00:00Z",
                         "9999-12-31T23:59:59.999Z", "1970-01-01T00:00:00Z", "P1W", "PT1H30M15S",
                         "PT0.5S", "P2W3D", "P99999999999999W", "2020-01-01T1x:00:00Z", "2020-01-01T-1:00:00Z",
                         "2020-01-01T00:00:00.-99Z"};
  i = 0;
  for (const char *t : times) seed("time", fmt::format("seed-{:02}", i++), t);

  // Release schedules (the forms docs/policy.md shows, and refused ones).
  const char *schedules[] = {"02:00", "0 2 * * MON", "0 2 1W * *", "0 2 * * MON#1", "0 2 1-7 * MON",
                             "*/15 9-17 * * MON-FRI", "0,30 1 1,15 JAN-jun/2 *", "0 2 29 2 *", "31W * * * *",
                             "61 * * * *", "*/0 * * * *", "0 2 30 2 *", "0 2 * * FRI-MON"};
  i = 0;
  for (const char *e : schedules) seed("release_schedule", fmt::format("seed-{:02}", i++), e);

  // Configuration files.
  seed("config", "minimal", "[ldap]\nbase = \"dc=example,dc=com\"\n");
  seed("config", "packaging", slurp(fs::path(RECLAIM_SOURCE_DIR) / "packaging/config/reclaim.toml"));

  // Packed modifies.
  ldap::change c;
  c.dn = "uid=ada,ou=people,dc=example,dc=com";
  c.actor = "cn=admin,dc=example,dc=com";
  c.time = from_unix_ms(1'800'000'000'000);
  c.mods = {{2, "employeeStatus", {"terminated"}}, {2, "entryCSN", {"20270101000000.000000Z#000000#000#000000"}},
            {0, "description", {"a", "b"}}, {1, "mail", {}}};
  seed("packed_modify", "modify", ldap::pack_modify(c));
  c.replicated = true;
  c.mods.clear();
  c.source = "scim";
  seed("packed_modify", "replicated-no-mods", ldap::pack_modify(c));
  std::cout << "seeds written to " << root.string() << '\n';
  return 0;
}
