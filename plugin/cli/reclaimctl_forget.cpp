// reclaimctl_forget.cpp — erasure that erases. The person's rows keep their
// shape (plans, actions and counts still add up) under a random tag that
// nothing maps back to them; names, DNs, entries and connector texts go;
// every text cell of every SQLite file under state_dir that still holds the
// id, a DN or a mail address is rewritten; VACUUM and a truncated WAL leave
// no old page image behind. Refusals happen before anything is written.
#include "cli/reclaimctl_forget.hpp"

#include "audit/audit_log.hpp"
#include "audit/pseudonym.hpp"
#include "base/clock.hpp"
#include "intake/ldap_intake.hpp"
#include "ldap/ldap_entry.hpp"
#include "store/sqlite.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace reclaim::ctl {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using ldap::entry_from_json;
using ldap::lower_ascii;
using ldap::normalize_dn;

bool has_table(sqlite::database &db, const std::string &name) {
  auto st = db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?");
  st.bind(1, name);
  return st.step();
}

std::vector<std::string> texts(sqlite::database &db, const std::string &sql, const std::string &arg) {
  auto st = db.prepare(sql);
  if (!arg.empty()) st.bind(1, arg);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

int64_t count(sqlite::database &db, const std::string &sql, const std::string &arg) {
  auto st = db.prepare(sql);
  st.bind(1, arg);
  return st.step() ? st.integer(0) : 0;
}

std::string quoted(const std::string &name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::optional<std::string> normalized(std::string dn) {
  while (!dn.empty() && (dn.back() == '.' || dn.back() == ' ')) dn.pop_back(); // "dc=com." is the same entry
  return dn.empty() ? std::nullopt : normalize_dn(dn);
}

// The journal's subject ids for SUBJECT: itself when it is one, else every
// subject whose DN (in any spelling) is the same.
std::set<std::string> resolve(sqlite::database &db, const std::string &subject) {
  std::set<std::string> ids;
  const std::vector<std::pair<std::string, std::string>> by_id = {
      {"subjects_now", "subject_id"}, {"events", "subject_id"}, {"plans", "subject_id"},
      {"legal_holds", "subject_id"}, {"inventory_access", "subject_id"}, {"inventory_licences", "subject_id"}};
  for (const auto &candidate : std::vector<std::string>{subject, lower_ascii(subject)})
    for (const auto &[table, col] : by_id)
      if (has_table(db, table) &&
          count(db, fmt::format("SELECT count(*) FROM {} WHERE {} = ?", table, col), candidate) > 0)
        ids.insert(candidate);
  if (!ids.empty()) return ids;
  const auto ndn = normalized(subject);
  if (!ndn) return ids;
  if (has_table(db, "subjects_now"))
    for (const auto &id : texts(db, "SELECT subject_id FROM subjects_now WHERE ndn = ?", *ndn)) ids.insert(id);
  // Departed people have no ndn any more; their DN is in their events and plans.
  for (const auto &[table, col] : std::vector<std::pair<std::string, std::string>>{
           {"events", "subject_name"}, {"plans", "subject_name"}, {"ldap_pending_deletes", "dn"}}) {
    if (!has_table(db, table)) continue;
    auto st = db.prepare(fmt::format("SELECT DISTINCT subject_id, {} FROM {} WHERE {} <> ''", col, table, col));
    while (st.step())
      if (normalized(st.text(1)) == ndn) ids.insert(st.text(0));
  }
  return ids;
}

// Values of the person's address attributes (mail, and what connectors
// match users by) in an entry or event attributes (JSON): they go into the
// store-wide sweep. Other values (uid, cn) would match other people's text,
// so they leave only with the person's own rows.
void collect_addresses(const json &j, const std::set<std::string> &attributes, std::set<std::string> &out) {
  if (!j.is_object()) return;
  for (const auto &[k, v] : j.items()) {
    if (k == "attributes" || k == "before") {
      collect_addresses(v, attributes, out);
    } else if (attributes.count(lower_ascii(k)) && v.is_array()) {
      for (const auto &x : v)
        if (x.is_string() && x.get<std::string>().size() >= 5) out.insert(x.get<std::string>());
    }
  }
}

// Everything that names the person: id, DNs as written and normalised, mail.
std::set<std::string> needles_of(sqlite::database &db, const config &cfg, const std::string &id) {
  std::set<std::string> dns, out = {id};
  std::set<std::string> addresses = {"mail", "mailalternateaddress", "userprincipalname", "proxyaddresses"};
  for (const auto &[name, c] : cfg.connectors)
    if (!c.user_attribute.empty()) addresses.insert(lower_ascii(c.user_attribute));
  auto add_json = [&](const std::string &text) {
    const auto j = json::parse(text, nullptr, false);
    if (!j.is_object()) return;
    collect_addresses(j, addresses, out);
    for (const char *k : {"dn", "previous_dn"})
      if (j.contains(k) && j[k].is_string()) dns.insert(j[k].get<std::string>());
  };
  if (has_table(db, "subjects_now"))
    for (const auto &q : {"SELECT name FROM subjects_now WHERE subject_id = ?", "SELECT ndn FROM subjects_now WHERE subject_id = ?"})
      for (const auto &v : texts(db, q, id)) dns.insert(v);
  if (has_table(db, "subjects_now"))
    for (const auto &e : texts(db, "SELECT entry FROM subjects_now WHERE subject_id = ?", id)) add_json(e);
  if (has_table(db, "subject_log"))
    for (const auto &e : texts(db, "SELECT entry FROM subject_log WHERE subject_id = ?", id)) add_json(e);
  if (has_table(db, "ldap_pending_deletes")) {
    for (const auto &v : texts(db, "SELECT dn FROM ldap_pending_deletes WHERE subject_id = ?", id)) dns.insert(v);
    for (const auto &e : texts(db, "SELECT entry FROM ldap_pending_deletes WHERE subject_id = ?", id)) add_json(e);
  }
  if (has_table(db, "events")) {
    for (const auto &v : texts(db, "SELECT DISTINCT subject_name FROM events WHERE subject_id = ?", id)) dns.insert(v);
    for (const auto &a : texts(db, "SELECT attributes FROM events WHERE subject_id = ?", id)) add_json(a);
  }
  if (has_table(db, "plans"))
    for (const auto &v : texts(db, "SELECT DISTINCT subject_name FROM plans WHERE subject_id = ?", id)) dns.insert(v);
  for (const auto &dn : dns) {
    if (dn.size() < 3) continue;
    out.insert(dn);
    if (const auto n = normalized(dn)) out.insert(*n);
  }
  return out;
}

// A legal hold stands: the holds table, or the directory's [legal_hold]
// value on the journal's copy of the entry (placed before the planner saw it).
void refuse_if_held(sqlite::database &db, const config &cfg, const std::string &subject, const std::string &id) {
  if (has_table(db, "legal_holds")) {
    auto st = db.prepare("SELECT added_by, added_ms, reason FROM legal_holds WHERE subject_id = ?");
    st.bind(1, id);
    if (st.step())
      throw forget_refused(fmt::format("{} is on legal hold, placed by {} at {} ({}); nothing was erased. "
                                       "Lift the hold first (reclaimctl hold remove)",
                                       subject, st.text(0), format_utc(from_unix_ms(st.integer(1))), st.text(2)));
  }
  const auto &h = cfg.policy.legal_hold;
  if (h.attribute.empty() || !has_table(db, "subjects_now")) return;
  for (const auto &text : texts(db, "SELECT entry FROM subjects_now WHERE subject_id = ?", id)) {
    if (text.empty()) continue;
    const auto e = entry_from_json(text);
    const auto *values = e.find(h.attribute);
    if (!values) continue;
    for (const auto &v : *values) {
      if (lower_ascii(v) != lower_ascii(h.value)) continue;
      std::string who = "the directory", when = "?";
      if (has_table(db, "events")) {
        auto ev = db.prepare("SELECT actor, recorded_ms, seq FROM events WHERE subject_id = ? ORDER BY seq DESC LIMIT 1");
        ev.bind(1, id);
        if (ev.step()) {
          who = ev.text(0).empty() ? who : ev.text(0);
          when = fmt::format("{} (event {})", format_utc(from_unix_ms(ev.integer(1))), ev.integer(2));
        }
      }
      throw forget_refused(fmt::format("{} is on legal hold placed in the directory ({} = {}), by {} at {}; "
                                       "nothing was erased. Remove the value in the directory first",
                                       subject, h.attribute, v, who, when));
    }
  }
}

void refuse_if_open(sqlite::database &db, const std::string &subject, const std::string &id) {
  if (!has_table(db, "actions")) return;
  const auto open = texts(db, "SELECT id FROM actions WHERE subject_id = ? AND status IN"
                              " ('pending', 'held', 'on_hold', 'running') ORDER BY id", id);
  if (open.empty()) return;
  std::string list;
  for (size_t i = 0; i < open.size() && i < 10; ++i) list += (i ? ", " : "") + open[i];
  throw forget_refused(fmt::format("{} has {} open action(s) ({}{}); nothing was erased. Let them run "
                                   "(reclaimctl dispatch) or reject their plan first",
                                   subject, open.size(), list, open.size() > 10 ? ", …" : ""));
}

int64_t audit_rows_naming(sqlite::database &db, const std::set<std::string> &needles) {
  if (!has_table(db, "audit_outbox")) return 0;
  int64_t n = 0;
  for (const auto &x : needles) n += count(db, "SELECT count(*) FROM audit_outbox WHERE instr(body, ?) > 0", x);
  return n;
}

// Queued audit records naming the person must reach the log (where they
// are pseudonymous and sealed) before the key goes: written here when no
// engine holds the log, else waited for while the engine's thread drains.
void drain_person(sqlite::database &db, const config &cfg, const std::set<std::string> &needles,
                  const logger &log, std::chrono::milliseconds wait, const char *state) {
  if (audit_rows_naming(db, needles) == 0) return;
  if (auto ap = audit::appender::try_open(cfg.audit, cfg.journal_path(), log)) ap->drain();
  const auto until = std::chrono::steady_clock::now() + wait;
  while (audit_rows_naming(db, needles) > 0) {
    if (std::chrono::steady_clock::now() >= until)
      throw std::runtime_error(fmt::format("{} queued audit record(s) of this person are not in the log yet "
                                           "(is the engine's audit thread stuck?); {}",
                                           audit_rows_naming(db, needles), state));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string random_tag() {
  unsigned char b[8];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string out = "forgotten-";
  for (unsigned char c : b) out += fmt::format("{:02x}", c);
  return out;
}

// The person's own rows: structure kept under the tag, personal columns cleared.
int64_t scrub_rows(sqlite::database &db, const std::string &id, const std::string &tag, forget_report &r) {
  int64_t other = 0;
  auto run = [&](const std::string &table, const std::string &sql) -> int64_t {
    if (!has_table(db, table)) return 0;
    auto st = db.prepare(sql);
    st.bind(1, id);
    if (sql.find("?2") != std::string::npos) st.bind(2, tag);
    st.run();
    return db.changes();
  };
  // Effects and outbox first: they are found through the actions' keys.
  other += run("inventory_effects", "UPDATE inventory_effects SET before_image = '', outcome = '(erased)'"
                                    " WHERE idempotency_key IN (SELECT idempotency_key FROM actions WHERE subject_id = ?1)"
                                    "");
  r.events = run("events", "UPDATE events SET subject_id = ?2, subject_name = '', attributes = '{}',"
                           " idempotency_key = ?2 || '/' || seq WHERE subject_id = ?1");
  r.plans = run("plans", "UPDATE plans SET subject_id = ?2, subject_name = '',"
                         " reason = CASE WHEN reason = '' THEN '' ELSE '(erased)' END WHERE subject_id = ?1");
  r.actions = run("actions", "UPDATE actions SET subject_id = ?2, before_image = '',"
                             " outcome = CASE WHEN outcome = '' THEN '' ELSE '(erased)' END WHERE subject_id = ?1");
  other += run("subjects", "DELETE FROM subjects WHERE subject_id = ?1");
  other += run("subject_log", "DELETE FROM subject_log WHERE subject_id = ?1");
  other += run("ldap_pending_deletes", "DELETE FROM ldap_pending_deletes WHERE subject_id = ?1");
  other += run("person_keys", "DELETE FROM person_keys WHERE subject_id = ?1"); // [engine] person_keys values
  other += run("inventory_licences", "UPDATE inventory_licences SET subject_id = ?2 WHERE subject_id = ?1");
  other += run("inventory_access", "UPDATE inventory_access SET subject_id = ?2 WHERE subject_id = ?1");
  other += run("outbox", "UPDATE outbox SET subject_id = ?2, body = '{\"erased\":true}' WHERE subject_id = ?1");
  other += run("extensions", "UPDATE extensions SET subject_id = ?2, reason = '' WHERE subject_id = ?1");
  return other;
}

// Every text cell of every table that still contains one of the needles:
// one UPDATE (one scan) per table, whatever the number of columns and needles.
int64_t sweep(sqlite::database &db, const std::set<std::string> &needles, const std::string &tag) {
  std::map<std::string, std::vector<std::string>> columns;
  {
    auto st = db.prepare("SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c"
                         " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'");
    while (st.step()) columns[st.text(0)].push_back(st.text(1));
  }
  const std::vector<std::string> list(needles.begin(), needles.end());
  const auto tag_param = fmt::format("?{}", list.size() + 1);
  int64_t n = 0;
  for (const auto &[table, cols] : columns) {
    std::string set, where;
    for (const auto &c : cols) {
      std::string value = quoted(c), match;
      for (size_t i = 0; i < list.size(); ++i) {
        value = fmt::format("replace({}, ?{}, {})", value, i + 1, tag_param);
        match += fmt::format("{}instr({}, ?{}) > 0", match.empty() ? "" : " OR ", quoted(c), i + 1);
      }
      set += fmt::format("{}{} = CASE WHEN typeof({}) = 'text' THEN {} ELSE {} END", set.empty() ? "" : ", ",
                         quoted(c), quoted(c), value, quoted(c));
      where += fmt::format("{}(typeof({}) = 'text' AND ({}))", where.empty() ? "" : " OR ", quoted(c), match);
    }
    auto st = db.prepare(fmt::format("UPDATE {} SET {} WHERE {}", quoted(table), set, where));
    for (size_t i = 0; i < list.size(); ++i) st.bind(static_cast<int>(i + 1), list[i]);
    st.bind(static_cast<int>(list.size() + 1), tag);
    st.run();
    n += db.changes();
  }
  return n;
}

// Rewrites the whole file (no free page keeps a deleted row) and truncates
// the WAL (no frame keeps an old page). The file is truncated to its exact
// size, not to the engine's 8 MiB allocation chunk, whose tail could still
// hold old pages.
void compact(sqlite::database &db, const fs::path &path) {
  int no_chunk = 0;
  sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_CHUNK_SIZE, &no_chunk);
  db.exec("VACUUM");
  auto st = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  if (st.step() && st.integer(0) != 0)
    throw std::runtime_error(path.string() + ": the WAL could not be truncated (a reader held it for 10 s); "
                             "run forget again to finish");
}

bool is_sqlite(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  char head[16] = {};
  return in.read(head, sizeof head) && std::string(head, 15) == "SQLite format 3";
}

} // namespace

forget_report forget_person(const config &cfg, const std::string &subject, const std::string &actor,
                            const logger &log, std::chrono::milliseconds outbox_wait) {
  if (subject.empty()) throw std::invalid_argument("forget: SUBJECT is empty");
  forget_report r;
  std::optional<sqlite::database> db;
  std::set<std::string> ids;
  if (fs::exists(cfg.journal_path())) {
    db.emplace(cfg.journal_path(), sqlite::durability::full);
    ids = resolve(*db, subject);
  }
  std::optional<audit::pseudonymizer> keys; // none without an audit log: only the stores to scrub
  if (cfg.audit.enabled) keys.emplace(cfg.audit.pseudonym_key_file, cfg.audit.key_store);
  if (ids.empty() && keys && (keys->find(subject) || keys->find(lower_ascii(subject))))
    ids.insert(keys->find(subject) ? subject : lower_ascii(subject)); // only the audit log knows them
  if (ids.empty())
    throw std::out_of_range(fmt::format("no person \"{}\" (subject id or DN) in the state store or the "
                                        "audit key store; nothing was erased", subject));
  if (ids.size() > 1) {
    std::string list;
    for (const auto &i : ids) list += (list.empty() ? "" : ", ") + i;
    throw forget_refused(fmt::format("{} names {} subjects ({}); give the subject id; nothing was erased",
                                     subject, ids.size(), list));
  }
  r.subject_id = *ids.begin();
  const std::string tag = random_tag();
  std::set<std::string> needles = {r.subject_id};
  if (db) {
    refuse_if_held(*db, cfg, subject, r.subject_id);
    refuse_if_open(*db, subject, r.subject_id);
    needles = needles_of(*db, cfg, r.subject_id);
    if (cfg.audit.enabled) drain_person(*db, cfg, needles, log, outbox_wait, "nothing was erased, try again");
  }
  std::vector<json> records;
  if (keys) {
    const auto pseudonym = keys->find(r.subject_id);
    const auto legacy = keys->legacy_pseudonym(r.subject_id);
    if (pseudonym) records.push_back({{"type", "forget"}, {"actor", actor}, {"subject", *pseudonym}, {"outcome", "erased"}});
    if (keys->holds_key(legacy)) // records of an older log carry the hs256 pseudonym
      records.push_back({{"type", "forget"}, {"actor", actor}, {"subject", legacy}, {"outcome", "erased"}});
    if (records.empty()) records.push_back({{"type", "forget"}, {"actor", actor}, {"outcome", "erased"}});
  }
  if (db) {
    db->exec("PRAGMA secure_delete=ON");
    db->exec("BEGIN IMMEDIATE");
    try {
      r.other_rows = scrub_rows(*db, r.subject_id, tag, r);
      r.other_rows += sweep(*db, needles, tag);
      for (auto &rec : records) {
        rec["data"] = {{"events", r.events}, {"plans", r.plans}, {"actions", r.actions}, {"other_rows", r.other_rows}};
        audit::enqueue(*db, rec);
      }
      db->exec("COMMIT");
    } catch (...) {
      db->exec("ROLLBACK");
      throw;
    }
  } else if (!records.empty()) {
    db.emplace(cfg.journal_path(), sqlite::durability::full);
    for (const auto &rec : records) audit::enqueue(*db, rec);
  }
  // The key goes after the rows: a failure in between leaves the person
  // findable through the key store, so forget can be run again.
  if (keys) {
    const auto f = keys->forget(r.subject_id);
    r.pseudonym = f.pseudonym.value_or("");
    r.legacy_key = f.legacy_key;
  }
  // The forget records name the pseudonym: into the log (the one place it
  // may stay) before the compaction wipes the outbox rows they were.
  if (db) {
    std::set<std::string> tokens;
    for (const auto &rec : records)
      if (rec.contains("subject")) tokens.insert(rec["subject"].get<std::string>());
    drain_person(*db, cfg, tokens, log, outbox_wait,
                 "the person is erased, but the outbox still names their pseudonym: run "
                 "`reclaimctl audit drain`, then `sqlite3 journal.sqlite3 VACUUM`");
    compact(*db, cfg.journal_path());
  }
  // Any other SQLite file under state_dir (the key store has no names in it,
  // but is swept and compacted too).
  const auto journal = fs::weakly_canonical(cfg.journal_path());
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(cfg.engine.state_dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec) && fs::weakly_canonical(it->path()) != journal && is_sqlite(it->path()))
      files.push_back(it->path());
  for (const auto &path : files) {
    sqlite::database other(path, sqlite::durability::full);
    other.exec("PRAGMA secure_delete=ON");
    other.exec("BEGIN IMMEDIATE");
    try {
      r.other_rows += sweep(other, needles, tag);
      other.exec("COMMIT");
    } catch (...) {
      other.exec("ROLLBACK");
      throw;
    }
    compact(other, path);
  }
  return r;
}

} // namespace reclaim::ctl
