// reclaimctl_audit.cpp — the audit subcommands of reclaimctl. verify needs
// only the log, the checkpoints and trusted public keys, so an auditor can run
// it on a copy with --log/--checkpoints/--origin/--key and no config.
#include "cli/reclaimctl_audit.hpp"

#include "audit/audit_consistency.hpp"
#include "cli/reclaimctl_forget.hpp"

#include "audit/audit_log.hpp"
#include "audit/audit_prune.hpp"
#include "audit/audit_verify.hpp"
#include "audit/witness.hpp"
#include "base/clock.hpp"
#include "config/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>

namespace reclaim::ctl {

struct audit_args {
  CLI::App *verify{}, *prove{}, *verify_record{}, *show{}, *export_{}, *forget{}, *rotate{},
      *drain{}, *public_key{}, *prune{}, *witness{};
  std::string trusted_checkpoint, state, keys_file, log, checkpoints, origin, max_gap, bundle,
      from, to, format = "json", subject, actor = "reclaimctl", new_key, out_dir;
  std::vector<std::string> keys;
  std::vector<std::string> witnesses; // verify --witness
  size_t witness_quorum = 0;
  std::string witness_max_age;
  uint64_t seq = 0;
  CLI::App *consistency{}, *verify_consistency{}; // i15-proofs
  std::string old_tree, new_tree;
  bool as_json = false, resolve = false;
};

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

void add_key_options(CLI::App *c, audit_args &a) {
  c->add_option("--key", a.keys, "trusted verifier key name+keyid+base64 (repeatable)");
  c->add_option("--keys", a.keys_file, "file of trusted verifier keys (default: audit.trusted_keys)");
  c->add_option("--origin", a.origin, "the log's origin (default: audit.origin)");
}

struct setup {
  std::optional<config> cfg;
  audit::verify_options vo;
};

setup load(const std::string &config_path, const audit_args &a, bool need_config, bool need_log = true) {
  setup s;
  const auto path = resolve_config_path(config_path.empty() ? nullptr : config_path.c_str());
  if (need_config || (need_log && a.log.empty()) || a.origin.empty()) {
    s.cfg = load_config(path);
    if (!s.cfg->audit.enabled) throw std::invalid_argument(path.string() + ": the [audit] table is absent or disabled");
    s.vo.log = s.cfg->audit.path;
    s.vo.checkpoint_dir = s.cfg->audit.checkpoint_dir;
    s.vo.origin = s.cfg->audit.origin;
    s.vo.max_gap = s.cfg->audit.checkpoint_interval * 2;
    if (a.keys_file.empty() && a.keys.empty() && !s.cfg->audit.trusted_keys.empty())
      s.vo.keys = audit::read_key_file(s.cfg->audit.trusted_keys);
  }
  if (!a.log.empty()) s.vo.log = a.log;
  if (!a.checkpoints.empty()) s.vo.checkpoint_dir = a.checkpoints;
  else if (!a.log.empty()) s.vo.checkpoint_dir = a.log + ".checkpoints";
  if (!a.origin.empty()) s.vo.origin = a.origin;
  if (!a.keys_file.empty()) s.vo.keys = audit::read_key_file(a.keys_file);
  for (const auto &k : a.keys) s.vo.keys.push_back(audit::parse_verifier_key(k));
  return s;
}

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::invalid_argument(p + ": cannot read");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// verify --witness: the options, or nullopt when no witness is named.
std::optional<audit::witness_check_options> witness_check_options(const audit::verify_options &vo,
                                                                  const audit_args &a) {
  if (a.witnesses.empty()) {
    if (a.witness_quorum || !a.witness_max_age.empty())
      throw std::invalid_argument("--witness-quorum/--witness-max-age need --witness KEY");
    return std::nullopt;
  }
  audit::witness_check_options o;
  o.checkpoint_dir = vo.checkpoint_dir;
  o.origin = vo.origin;
  o.log_keys = vo.keys;
  for (const auto &w : a.witnesses) {
    try {
      o.witnesses.push_back(audit::read_cosigner_key(w));
    } catch (const audit::note_error &e) {
      throw std::invalid_argument(fmt::format("--witness {}: {}", w, e.what()));
    }
  }
  if (a.witness_quorum > o.witnesses.size())
    throw std::invalid_argument(fmt::format("--witness-quorum {} is more than the {} witness(es) named",
                                            a.witness_quorum, o.witnesses.size()));
  o.quorum = a.witness_quorum;
  if (!a.witness_max_age.empty()) {
    const auto d = parse_duration(a.witness_max_age);
    if (!d || d->count() < 1000) throw std::invalid_argument("--witness-max-age: not an ISO 8601 duration of 1 s or more");
    o.max_age = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  return o;
}

bool report_witnesses(const audit::witness_check_options &o) {
  const auto w = audit::check_witnesses(o);
  for (const auto &p : w.problems) std::cout << "NOT WITNESSED: " << p << '\n';
  if (w.problems.empty())
    std::cout << fmt::format("checkpoint {} cosigned by {}\n", w.size, fmt::join(w.cosigned, ", "));
  return w.problems.empty();
}

// Sends the newest checkpoint to the configured witnesses now (the engine
// does it on its own thread; this is for sites without it, and for tests).
int run_witness(const std::string &cp, audit_args &a, const logger &log) {
  auto s = load(cp, a, true);
  if (s.cfg->audit.witnesses.empty()) throw std::invalid_argument("no witnesses configured (audit.witnesses)");
  audit::witness_sender sender(s.cfg->audit, log);
  const auto done = sender.run_once(true);
  for (const auto &st : sender.status())
    std::cout << fmt::format("{} {}: {}\n", st.name, st.url,
                             st.error.empty() ? fmt::format("cosigned tree size {} at {}", st.cosigned_size, st.last_ok)
                                              : st.error);
  return done == s.cfg->audit.witnesses.size() ? 0 : 5;
}

int run_verify(const std::string &cp, audit_args &a) {
  auto s = load(cp, a, false);
  if (s.vo.keys.empty()) throw std::invalid_argument("no trusted keys: give --key, --keys or audit.trusted_keys");
  if (!a.trusted_checkpoint.empty()) s.vo.trusted_checkpoint = slurp(a.trusted_checkpoint);
  s.vo.state_file = a.state;
  if (!a.max_gap.empty()) {
    auto d = parse_duration(a.max_gap);
    if (!d) throw std::invalid_argument("--max-gap: not an ISO 8601 duration");
    s.vo.max_gap = *d;
  }
  const auto witness_options = witness_check_options(s.vo, a);
  const auto r = audit::verify_log(s.vo);
  for (const auto &p : r.problems)
    std::cout << fmt::format("{}: {}: {}\n", p.error ? "TAMPERED" : "WARNING", p.where, p.message);
  std::cout << fmt::format("{}: {} records{}, {} bytes, {} checkpoints, {} erased record(s); {} error(s), {} warning(s)\n",
                           s.vo.log.string(), r.records,
                           r.pruned ? fmt::format(" ({} archived by prune)", r.pruned) : std::string(), r.bytes,
                           r.checkpoints, r.erased, r.errors(), r.warnings());
  const bool witnessed = !witness_options || report_witnesses(*witness_options);
  return r.errors() ? 1 : !witnessed ? 5 : r.warnings() ? 4 : 0;
}

int run_verify_record(const std::string &cp, audit_args &a) {
  auto s = load(cp, a, false, false);
  if (s.vo.keys.empty()) throw std::invalid_argument("no trusted keys: give --key, --keys or audit.trusted_keys");
  const auto text = a.bundle == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : slurp(a.bundle);
  const auto b = json::parse(text, nullptr, false);
  if (!b.is_object()) throw std::invalid_argument(a.bundle + ": not a JSON proof bundle");
  const auto problems = audit::verify_bundle(b, s.vo.origin, s.vo.keys);
  for (const auto &p : problems) std::cout << "TAMPERED: " << p << '\n';
  if (problems.empty())
    std::cout << fmt::format("record {} is in the log of tree size {} signed by a trusted key\n",
                             b.value("seq", 0), b.value("tree_size", 0));
  return problems.empty() ? 0 : 1;
}

// Exit 0 printed; 1 a checkpoint does not verify or the log does not match
// it; 2 usage (OLD > NEW); 3 no such checkpoint.
int run_consistency(const std::string &cp, audit_args &a) {
  auto s = load(cp, a, false);
  if (s.vo.keys.empty()) throw std::invalid_argument("no trusted keys: give --key, --keys or audit.trusted_keys");
  std::cout << audit::consistency_bundle(s.vo, a.old_tree, a.new_tree).dump(2) << '\n';
  return 0;
}

// Exit 0 consistent; 1 a checkpoint does not verify; 2 not a bundle;
// 5 both checkpoints verify but the proof does not join them.
int run_verify_consistency(const std::string &cp, audit_args &a) {
  auto s = load(cp, a, false, false);
  if (s.vo.keys.empty()) throw std::invalid_argument("no trusted keys: give --key, --keys or audit.trusted_keys");
  const auto text = a.bundle == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : slurp(a.bundle);
  const auto b = json::parse(text, nullptr, false);
  if (!b.is_object()) throw std::invalid_argument(a.bundle + ": not a JSON consistency bundle");
  bool inconsistent = false;
  const auto problems = audit::verify_consistency_bundle(b, s.vo.origin, s.vo.keys, inconsistent);
  for (const auto &p : problems) std::cout << (inconsistent ? "INCONSISTENT: " : "TAMPERED: ") << p << '\n';
  if (problems.empty())
    std::cout << fmt::format("tree size {} is a prefix of tree size {}; both checkpoints signed by a trusted key\n",
                             b["old_size"].get<uint64_t>(), b["new_size"].get<uint64_t>());
  return problems.empty() ? 0 : inconsistent ? 5 : 1;
}

// Decrypts personal data of a record when the caller can open the key store.
void resolve(json &rec, audit::pseudonymizer *p) {
  if (!rec.contains("pii")) return;
  const auto plain = p ? p->open(rec.value("subject", ""), rec["pii"].get<std::string>()) : std::nullopt;
  if (plain) rec["personal"] = json::parse(*plain);
  else if (p) rec["personal"] = "erased";
}

bool in_range(const json &rec, const std::string &from, const std::string &to) {
  auto cmp = [&](const std::string &bound) {
    if (!bound.empty() && bound.find_first_not_of("0123456789") == std::string::npos) {
      const auto seq = audit::parse_u64(bound);
      if (!seq) throw std::invalid_argument("--from/--to: " + bound + " is above the largest sequence number");
      return rec.value("seq", uint64_t(0)) <=> *seq;
    }
    return rec.value("time", std::string()) <=> bound;
  };
  return (from.empty() || cmp(from) >= 0) && (to.empty() || cmp(to) <= 0);
}

std::string csv_field(std::string v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int run_show(const std::string &cp, audit_args &a, bool is_export) {
  auto s = load(cp, a, true);
  std::unique_ptr<audit::pseudonymizer> p;
  if (a.resolve) p = std::make_unique<audit::pseudonymizer>(s.cfg->audit.pseudonym_key_file, s.cfg->audit.key_store);
  std::ifstream in(s.vo.log);
  std::string line;
  json all = json::array();
  if (is_export && a.format == "csv") std::cout << "seq,time,type,actor,subject,outcome,reason,personal\n";
  while (std::getline(in, line)) {
    auto rec = json::parse(line, nullptr, false);
    if (rec.is_discarded() || !in_range(rec, a.from, a.to)) continue;
    resolve(rec, p.get());
    if (is_export && a.format == "csv") {
      std::cout << fmt::format("{},{},{},{},{},{},{},{}\n", rec.value("seq", 0), rec.value("time", ""),
                               rec.value("type", ""), csv_field(rec.value("actor", "")), rec.value("subject", ""),
                               csv_field(rec.value("outcome", "")), csv_field(rec.value("reason", "")),
                               csv_field(rec.contains("personal") ? rec["personal"].dump() : ""));
    } else if (is_export || a.as_json) {
      all.push_back(rec);
    } else {
      std::cout << fmt::format("{:>7}  {}  {:<18} {:<12} {}\n", rec.value("seq", 0), rec.value("time", ""),
                               rec.value("type", ""), rec.value("actor", ""),
                               rec.contains("personal") ? rec["personal"].dump() : rec.value("subject", ""));
    }
  }
  if (is_export && !a.out_dir.empty()) {
    fs::create_directories(a.out_dir + "/checkpoints");
    for (const auto &e : fs::directory_iterator(s.vo.checkpoint_dir))
      fs::copy_file(e.path(), a.out_dir + "/checkpoints/" + e.path().filename().string(),
                    fs::copy_options::overwrite_existing);
  }
  if ((is_export && a.format == "json") || (!is_export && a.as_json)) std::cout << all.dump(2) << '\n';
  return 0;
}

// Writes what reclaimctl queued into the log unless the engine holds it
// (then the engine's audit thread drains it within a second).
void drain_now(const config &cfg, const logger &log) {
  {
    sqlite::database db(cfg.journal_path(), sqlite::durability::normal);
    audit::create_outbox(db);
    auto st = db.prepare("SELECT 1 FROM audit_outbox LIMIT 1");
    if (!st.step()) return; // nothing queued: leave the log alone
  }
  if (auto ap = audit::appender::try_open(cfg.audit, cfg.journal_path(), log)) ap->drain();
}

// Works without an audit log too: the stores still hold the person.
int run_forget(const std::string &cp, audit_args &a, const logger &log) {
  const auto cfg = load_config(resolve_config_path(cp.empty() ? nullptr : cp.c_str()));
  try {
    const auto r = forget_person(cfg, a.subject, a.actor, log);
    if (cfg.audit.enabled) drain_now(cfg, log);
    std::cout << fmt::format("{}: erased from the state store ({} events, {} plans, {} actions, {} other rows); "
                             "{}\n",
                             a.subject, r.events, r.plans, r.actions, r.other_rows,
                             r.pseudonym.empty() && !r.legacy_key
                                 ? "no audit key held"
                                 : "pseudonym and key deleted; personal data in the audit log erased");
    return 0;
  } catch (const forget_refused &e) {
    std::fprintf(stderr, "reclaimctl: refused: %s\n", e.what());
    return 2;
  }
}

// Records older than audit.retention (or before --before) go to the archive.
int run_prune(const std::string &cp, audit_args &a) {
  auto s = load(cp, a, true);
  uint64_t before = a.seq;
  if (before == 0) {
    const auto cutoff = format_utc(now() - s.cfg->audit.retention);
    std::ifstream in(s.vo.log);
    for (std::string line; std::getline(in, line);) {
      const auto rec = json::parse(line, nullptr, false);
      if (rec.is_object() && rec.value("type", "") == "checkpoint" && rec.value("time", "") < cutoff)
        before = rec.value("seq", uint64_t(0)) + 1;
    }
  }
  if (before == 0) {
    std::cout << "nothing older than the retention period\n";
    return 0;
  }
  const auto r = audit::prune(s.cfg->audit, before, a.out_dir);
  std::cout << fmt::format("records {}..{} archived in {} (verify it with --log {}/audit.jsonl)\n", r.from,
                           r.to - 1, r.archive.string(), r.archive.string());
  return 0;
}

int run_rotate(const std::string &cp, audit_args &a, const logger &log) {
  auto s = load(cp, a, true);
  auto next = audit::signer::from_pem_file(a.new_key, s.cfg->audit.origin);
  const auto new_key = next.verifier_key();
  std::string old_key;
  {
    audit::appender ap(s.cfg->audit, s.cfg->journal_path(), log);
    old_key = ap.signers().front().verifier_key();
    ap.append({{"type", "key_rotation"}, {"actor", a.actor},
               {"data", {{"old_key", old_key}, {"new_key", new_key}}}});
    ap.add_signer(std::move(next)); // every checkpoint from here on carries both signatures
  } // closing: log_stop and a final checkpoint, signed by both keys
  uint64_t at = 0;
  for (const auto &e : fs::directory_iterator(s.cfg->audit.checkpoint_dir)) {
    const auto name = e.path().filename().string();
    if (const auto size = audit::parse_u64(name)) at = std::max(at, *size); // else not a checkpoint
  }
  std::cout << fmt::format("# checkpoint {} is signed by both keys. Trusted keys from now on:\n{} 0 {}\n{} {}\n"
                           "# now set audit.key_file to {}\n",
                           at, old_key, at, new_key, at, a.new_key);
  return 0;
}

} // namespace

std::shared_ptr<audit_args> add_audit_commands(CLI::App &app) {
  auto a = std::make_shared<audit_args>();
  auto *audit = app.add_subcommand("audit", "the signed, tamper-evident audit log");
  audit->require_subcommand(1);
  a->verify = audit->add_subcommand("verify", "verify the whole log (exit 0 ok, 1 tampered, 4 warnings only, 5 not witnessed)");
  add_key_options(a->verify, *a);
  a->verify->add_option("--trusted-checkpoint", a->trusted_checkpoint, "a checkpoint kept elsewhere (signed note): the log must "
                         "contain it and be consistent with it (RFC 9162 proof)");
  a->verify->add_option("--state", a->state, "saved state: checked against, updated when clean");
  a->verify->add_option("--log", a->log, "the log file (default: audit.path)");
  a->verify->add_option("--checkpoints", a->checkpoints, "the checkpoint directory");
  a->verify->add_option("--max-gap", a->max_gap, "warn when checkpoints are further apart (ISO 8601)");
  a->verify->add_option("--witness", a->witnesses,
                        "require a cosignature on the newest checkpoint by this witness (vkey or file; repeatable; "
                        "exit 5 when missing or invalid)");
  a->verify->add_option("--witness-quorum", a->witness_quorum, "how many of the --witness keys must cosign (default all)");
  a->verify->add_option("--witness-max-age", a->witness_max_age,
                        "refuse cosignatures older than this (ISO 8601): catches a rollback to an old cosigned checkpoint");
  a->witness = audit->add_subcommand("witness", "send the newest checkpoint to audit.witnesses now and print their answers");
  a->prove = audit->add_subcommand("prove", "print a record with its inclusion proof and checkpoint (JSON)");
  a->prove->add_option("SEQ", a->seq, "record sequence number")->required();
  a->prove->add_option("--log", a->log, "the log file (default: audit.path)");
  a->prove->add_option("--checkpoints", a->checkpoints, "the checkpoint directory");
  a->prove->add_option("--origin", a->origin, "the log's origin (default: audit.origin)");
  a->verify_record = audit->add_subcommand("verify-record", "verify a bundle printed by prove");
  a->verify_record->add_option("BUNDLE", a->bundle, "bundle file, - for stdin")->required();
  add_key_options(a->verify_record, *a);
  a->consistency = audit->add_subcommand("consistency", "print an RFC 9162 consistency proof between two "
                                         "checkpoints (JSON)");
  a->consistency->add_option("OLD", a->old_tree, "tree size of a checkpoint in the directory, or a checkpoint file")
      ->required();
  a->consistency->add_option("NEW", a->new_tree, "tree size of a checkpoint in the directory, or a checkpoint file")
      ->required();
  a->consistency->add_option("--log", a->log, "the log file (default: audit.path)");
  a->consistency->add_option("--checkpoints", a->checkpoints, "the checkpoint directory");
  add_key_options(a->consistency, *a);
  a->verify_consistency = audit->add_subcommand("verify-consistency", "verify a bundle printed by consistency "
                                                "(exit 0 consistent, 1 bad checkpoint, 5 inconsistent)");
  a->verify_consistency->add_option("BUNDLE", a->bundle, "bundle file, - for stdin")->required();
  add_key_options(a->verify_consistency, *a);
  for (auto **c : {&a->show, &a->export_}) {
    const bool ex = c == &a->export_;
    *c = audit->add_subcommand(ex ? "export" : "show", ex ? "export records (json or csv)" : "list records");
    (*c)->add_option("--from", a->from, "first seq or UTC time");
    (*c)->add_option("--to", a->to, "last seq or UTC time");
    (*c)->add_flag("--resolve", a->resolve, "decrypt personal data (needs the key store)");
  }
  a->show->add_flag("--json", a->as_json, "print a JSON array");
  a->export_->add_option("--format", a->format, "json or csv")->check(CLI::IsMember({"json", "csv"}));
  a->export_->add_option("--archive", a->out_dir, "also copy the checkpoints into DIR/checkpoints");
  a->forget = audit->add_subcommand("forget", "erase a person from every store; their audit records become "
                                              "unlinkable (refused under a legal hold)");
  a->forget->add_option("SUBJECT", a->subject, "subject id (entryUUID) or DN")->required();
  a->rotate = audit->add_subcommand("rotate-key", "record a new signing key and sign with both");
  a->rotate->add_option("--new-key", a->new_key, "PEM Ed25519 private key (0600)")->required();
  a->drain = audit->add_subcommand("drain", "write queued records now (unless the engine holds the log)");
  a->public_key = audit->add_subcommand("public-key", "print the verifier key of the signing key");
  a->prune = audit->add_subcommand("prune", "archive records older than audit.retention (engine stopped)");
  a->prune->add_option("--before", a->seq, "prune up to the newest checkpoint at or below this tree size");
  a->prune->add_option("--archive", a->out_dir, "archive directory")->required();
  return a;
}

void set_audit_actor(audit_args &a, const std::string &actor) { a.actor = actor; }

void drain_audit(const config &cfg) {
  if (!cfg.audit.enabled) return;
  static const logger quiet;
  drain_now(cfg, quiet);
}

std::optional<int> run_audit_command(const std::string &cp, audit_args &a) {
  static const logger log(
      [](int level, const char *msg, void *) {
        if (level <= 1) std::fprintf(stderr, "reclaimctl: %s\n", msg);
      },
      nullptr, log_level::warning);
  try {
    if (a.verify->parsed()) return run_verify(cp, a);
    if (a.verify_record->parsed()) return run_verify_record(cp, a);
    if (a.consistency->parsed()) return run_consistency(cp, a);
    if (a.verify_consistency->parsed()) return run_verify_consistency(cp, a);
    if (a.show->parsed()) return run_show(cp, a, false);
    if (a.export_->parsed()) return run_show(cp, a, true);
    if (a.forget->parsed()) return run_forget(cp, a, log);
    if (a.rotate->parsed()) return run_rotate(cp, a, log);
    if (a.prune->parsed()) return run_prune(cp, a);
    if (a.witness->parsed()) return run_witness(cp, a, log);
    if (a.prove->parsed()) {
      auto s = load(cp, a, false);
      std::cout << audit::prove(s.vo.log, s.vo.checkpoint_dir, a.seq).dump(2) << '\n';
      return 0;
    }
    if (a.drain->parsed()) {
      auto s = load(cp, a, true);
      drain_now(*s.cfg, log);
      return 0;
    }
    if (a.public_key->parsed()) {
      auto s = load(cp, a, true);
      std::cout << audit::signer::from_pem_file(s.cfg->audit.key_file, s.cfg->audit.origin).verifier_key() << '\n';
      return 0;
    }
  } catch (const std::invalid_argument &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 2;
  } catch (const std::out_of_range &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 3;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 1;
  }
  return std::nullopt;
}

} // namespace reclaim::ctl
