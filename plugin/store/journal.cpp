// journal.cpp — schema and queries of the journal. Times are stored as UTC
// milliseconds since the epoch; states by name, so the store reads well
// with the sqlite3 shell.
#include "store/journal.hpp"

#include "base/private_files.hpp"
#include "store/store_health.hpp"

#include "ldap/ldap_entry.hpp"

#include <atomic>
#include <map>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <limits>
#include <optional>
#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reclaim {
namespace {

constexpr const char *schema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  subject_name TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  previous_state TEXT NOT NULL,
  event_time_ms INTEGER NOT NULL,
  recorded_ms INTEGER NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}',
  position TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS subjects(
  subject_id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  transfer_key TEXT NOT NULL DEFAULT '',
  csn TEXT NOT NULL DEFAULT '',
  ndn TEXT NOT NULL DEFAULT '',
  entry TEXT NOT NULL DEFAULT '') WITHOUT ROWID; -- one b-tree to update per change, not two
CREATE TABLE IF NOT EXISTS subject_log(
  seq INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  transfer_key TEXT NOT NULL,
  csn TEXT NOT NULL,
  ndn TEXT NOT NULL,
  entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ldap_progress(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  resume_csn TEXT NOT NULL DEFAULT '',
  baseline_done INTEGER NOT NULL DEFAULT 0);
INSERT OR IGNORE INTO ldap_progress(id) VALUES (1);
CREATE TABLE IF NOT EXISTS ldap_pending_deletes(
  subject_id TEXT PRIMARY KEY,
  dn TEXT NOT NULL,
  entry TEXT NOT NULL,
  prepared_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS person_keys(
  key TEXT PRIMARY KEY, -- "<attribute, lower case>=<normalised value>"
  subject_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS person_keys_subject ON person_keys(subject_id);
PRAGMA user_version = 1;
)sql";

// Stores made by 0.1 lack the subjects' DN and watched attributes; the
// columns are added empty, and such a subject's first modification makes
// the host read the entry again (reclaim_ldap_refresh).
//
// Every write per change goes to the end of a b-tree (docs/journal.md,
// "Write pattern"): a b-tree keyed by something random (a person's id)
// costs a whole page in the WAL for each change, because each change of a
// batch lands on a different page. So
// - the idempotency key is unique through an index whose first column is
//   the key's part after the first "/" (for LDAP keys "<entryUUID>/<entryCSN>"
//   that is the CSN, which grows with time); uniqueness of (f(key), key) is
//   uniqueness of key. Stores made before 0.3 keep their plain UNIQUE index.
// - events have no index by person: reading one person's events scans.
// - subjects are written to subject_log (appended) and folded into
//   subjects every few seconds (journal::fold); subjects_now reads both.
void upgrade(sqlite::database &db) {
  const auto count = [&](const char *sql) {
    auto st = db.prepare(sql);
    return st.step() ? st.integer(0) : 0;
  };
  if (count("SELECT count(*) FROM pragma_table_info('subjects') WHERE name = 'ndn'") == 0)
    db.exec("ALTER TABLE subjects ADD COLUMN ndn TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE subjects ADD COLUMN entry TEXT NOT NULL DEFAULT '';");
  if (count("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_events_1'") == 0)
    db.exec("CREATE UNIQUE INDEX IF NOT EXISTS events_key"
            " ON events(substr(idempotency_key, instr(idempotency_key, '/') + 1), idempotency_key)");
  db.exec("DROP INDEX IF EXISTS events_subject;"
          "CREATE INDEX IF NOT EXISTS subjects_ndn ON subjects(ndn) WHERE ndn <> '';"
          "CREATE VIEW IF NOT EXISTS subjects_now AS"
          " SELECT subject_id, name, state, transfer_key, csn, ndn, entry FROM subjects"
          "  WHERE subject_id NOT IN (SELECT subject_id FROM subject_log)"
          " UNION ALL"
          " SELECT subject_id, name, state, transfer_key, csn, ndn, entry FROM subject_log"
          "  WHERE seq IN (SELECT max(seq) FROM subject_log GROUP BY subject_id);");
}

bool is_current(sqlite::database &db) {
  auto st = db.prepare(
      "SELECT (SELECT count(*) FROM sqlite_master WHERE name IN ('events', 'subjects', 'subject_log', 'ldap_progress',"
      " 'ldap_pending_deletes', 'subjects_ndn', 'subjects_now', 'person_keys')) = 8"
      " AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'events_subject')"
      " AND EXISTS (SELECT 1 FROM pragma_table_info('subjects') WHERE name = 'entry')");
  if (!st.step() || st.integer(0) == 0) return false;
  st.reset();
  auto progress = db.prepare("SELECT count(*) FROM ldap_progress"); // its one row
  return progress.step() && progress.integer(0) == 1;
}

state state_from_text(const std::string &s) { return parse_state(s).value_or(state::none); }

constexpr const char *select_events =
    "SELECT seq, idempotency_key, subject_id, subject_name, source, state, previous_state,"
    " event_time_ms, recorded_ms, actor, attributes, position FROM events";

std::vector<event_record> query_events(sqlite::database &db, const event_filter &f) {
  std::string sql = select_events;
  sql += " WHERE seq > ?1";
  if (f.subject_id) sql += " AND subject_id = ?2";
  // In the order the changes happened: time, then the source's own order
  // (entryCSN), then arrival. seq alone is arrival order, which concurrent
  // directory callbacks can invert.
  sql += f.by_time ? " ORDER BY event_time_ms, position, seq LIMIT ?3" : " ORDER BY seq LIMIT ?3";
  auto st = db.prepare(sql);
  st.bind(1, f.after_seq);
  if (f.subject_id) st.bind(2, *f.subject_id);
  st.bind(3, f.limit);
  std::vector<event_record> out;
  if (f.limit > 0) out.reserve(static_cast<size_t>(std::min<int64_t>(f.limit, 1000)));
  while (st.step()) {
    event_record e;
    e.seq = st.integer(0);
    e.idempotency_key = st.text(1);
    e.subject_id = st.text(2);
    e.subject_name = st.text(3);
    e.source = st.text(4);
    e.current = state_from_text(st.text(5));
    e.previous = state_from_text(st.text(6));
    e.time = from_unix_ms(st.integer(7));
    e.recorded = from_unix_ms(st.integer(8));
    e.actor = st.text(9);
    e.attributes_json = st.text(10);
    e.position = st.text(11);
    out.push_back(std::move(e));
  }
  return out;
}

// The state directory is reclaim's own: created 0700, and repaired at every
// open when something (an older reclaimctl, a hand-made mkdir) left it wider.
const std::filesystem::path &own_state_dir(const std::filesystem::path &path) {
  try {
    if (path.has_parent_path()) files::ensure_private_dir(path.parent_path());
  } catch (const files::file_error &e) {
    throw sqlite::store_error(fmt::format("the state directory: {}", e.what()));
  }
  return path;
}

} // namespace

journal::journal(const std::filesystem::path &path, sqlite::durability d)
    : db_(own_state_dir(path), d), instance_([] {
        static std::atomic<uint64_t> next{1};
        return next++;
      }()) {
  store::refuse_newer_schema(db_, path);
  path_ = path;
  // A current store is only read here: opening never waits for another
  // process's write lock (the engine may open on a directory operation
  // thread). Creating or upgrading one writes.
  if (!is_current(db_)) {
    db_.exec(schema);
    upgrade(db_);
  }
}

bool journal::append(event_record &ev) {
  if (!person_keys_.empty()) resolve_person(ev);
  auto &st = db_.cached(
      "INSERT OR IGNORE INTO events(idempotency_key, subject_id, subject_name, source, state,"
      " previous_state, event_time_ms, recorded_ms, actor, attributes, position)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  st.bind(1, ev.idempotency_key).bind(2, ev.subject_id).bind(3, ev.subject_name);
  st.bind(4, ev.source).bind(5, state_name(ev.current)).bind(6, state_name(ev.previous));
  st.bind(7, to_unix_ms(ev.time)).bind(8, to_unix_ms(ev.recorded));
  st.bind(9, ev.actor).bind(10, ev.attributes_json).bind(11, ev.position);
  st.step();
  if (db_.changes() == 0) return false;
  ev.seq = db_.last_insert_rowid();
  return true;
}

void journal::join_people(const std::vector<std::string> &keys) {
  person_keys_.clear();
  for (const auto &k : keys) person_keys_.push_back(ldap::lower_ascii(k));
}

namespace {
// "  Jane.Doe@Example.COM " and "jane.doe@example.com" are one value:
// ASCII case folded, runs of white space one space, none at the ends.
std::string person_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (const char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::vector<std::string> person_key_values(const std::string &attributes_json, const std::vector<std::string> &names) {
  std::vector<std::string> out;
  const auto attrs = nlohmann::json::parse(attributes_json, nullptr, false);
  if (!attrs.is_object()) return out;
  for (const auto &[name, values] : attrs.items()) {
    const auto lname = ldap::lower_ascii(name);
    if (std::find(names.begin(), names.end(), lname) == names.end()) continue;
    const auto add = [&](const nlohmann::json &v) {
      if (!v.is_string()) return;
      if (auto norm = person_value(v.get_ref<const std::string &>()); !norm.empty())
        out.push_back(fmt::format("{}={}", lname, norm));
    };
    if (values.is_array())
      for (const auto &v : values) add(v);
    else
      add(values);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
} // namespace

// The first subject a key value was seen with is the person's; later
// events sharing any key value are journalled under it. Keys that name two
// people, or an event of a person who has keys of their own resolving to
// another, are a conflict: never merged silently.
void journal::resolve_person(event_record &ev) {
  const auto keys = person_key_values(ev.attributes_json, person_keys_);
  if (keys.empty()) return;
  std::map<std::string, std::vector<std::string>> people; // subject -> keys naming it
  auto &find = db_.cached("SELECT subject_id FROM person_keys WHERE key = ?1");
  for (const auto &k : keys) {
    find.bind(1, k);
    if (find.step()) people[find.text(0)].push_back(k);
    find.reset();
  }
  std::string person = ev.subject_id;
  if (people.size() == 1 && people.begin()->first != ev.subject_id) {
    auto &own = db_.cached("SELECT EXISTS (SELECT 1 FROM person_keys WHERE subject_id = ?1)");
    own.bind(1, ev.subject_id);
    const bool has_own = own.step() && own.integer(0) != 0;
    own.reset();
    if (has_own) people[ev.subject_id].push_back("(its own keys)");
  }
  if (people.size() > 1) {
    std::string what;
    for (const auto &[subject, ks] : people)
      what += fmt::format("{}{} -> {}", what.empty() ? "" : "; ", fmt::join(ks, ", "), subject);
    ev.person_conflict = fmt::format("person keys of {} name different people ({}): not joined", ev.subject_id, what);
  } else if (people.size() == 1) {
    person = people.begin()->first;
  }
  auto attrs = nlohmann::json::parse(ev.attributes_json, nullptr, false);
  if (!ev.person_conflict.empty()) {
    attrs["person_conflict"] = ev.person_conflict;
    ev.attributes_json = attrs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  auto &put = db_.cached("INSERT OR IGNORE INTO person_keys(key, subject_id) VALUES (?1, ?2)");
  for (const auto &k : keys) put.bind(1, k).bind(2, person).run();
  if (person != ev.subject_id) {
    attrs["source_subject_id"] = ev.subject_id;
    ev.attributes_json = attrs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    ev.subject_id = person;
  }
}

void journal::cache_subjects(size_t max) {
  cache_max_ = max;
  forget_subjects();
  // What a crash left in subject_log. The engine may open on a directory
  // operation thread: if another process holds the store's write lock now,
  // do not wait for it — read through subjects_now until the writer's
  // first periodic fold.
  db_.set_busy_timeout(std::chrono::milliseconds(0));
  try {
    fold();
  } catch (const sqlite::store_error &) {
    read_log_ = true;
  }
  db_.set_busy_timeout(std::chrono::seconds(10));
}

void journal::forget_subjects() {
  subjects_.clear();
  subject_at_.clear();
  read_log_ = true; // until the next fold, subject_log may hold people the cache lacks
}

void journal::cache_subject(const subject_record &s) {
  if (cache_max_ == 0) return;
  if (subjects_.size() >= cache_max_ && !subjects_.contains(s.id)) {
    fold();
    forget_subjects();
    read_log_ = false;
  }
  auto [it, fresh] = subjects_.try_emplace(s.id, s);
  if (!fresh) {
    if (it->second.ndn != s.ndn) subject_at_.erase(it->second.ndn);
    it->second = s;
  }
  if (!s.ndn.empty()) subject_at_.insert_or_assign(s.ndn, s.id);
}

void journal::fold(size_t at_most) {
  std::optional<sqlite::transaction> tx;
  if (!db_.in_transaction()) tx.emplace(db_);
  // The oldest at_most rows (all when 0): seq <= upto.
  int64_t upto = std::numeric_limits<int64_t>::max();
  if (at_most > 0) {
    auto &first = db_.cached("SELECT min(seq) FROM subject_log");
    upto = first.step() && !first.is_null(0) ? first.integer(0) + static_cast<int64_t>(at_most) - 1 : 0;
    first.reset();
  }
  db_.cached("INSERT INTO subjects(subject_id, name, state, transfer_key, csn, ndn, entry)"
             " SELECT subject_id, name, state, transfer_key, csn, ndn, entry FROM subject_log"
             "  WHERE seq IN (SELECT max(seq) FROM subject_log WHERE seq <= ?1 GROUP BY subject_id)"
             " ON CONFLICT(subject_id) DO UPDATE SET name = excluded.name, state = excluded.state,"
             " transfer_key = excluded.transfer_key, csn = excluded.csn, ndn = excluded.ndn,"
             " entry = excluded.entry")
      .bind(1, upto)
      .run();
  db_.cached("DELETE FROM subject_log WHERE seq <= ?1").bind(1, upto).run();
  const auto folded = static_cast<size_t>(db_.changes());
  auto &rest = db_.cached("SELECT EXISTS (SELECT 1 FROM subject_log)");
  const bool empty = !(rest.step() && rest.integer(0) != 0);
  rest.reset();
  if (tx) tx->commit();
  log_rows_ -= std::min(log_rows_, folded);
  if (empty) {
    log_rows_ = 0;
    read_log_ = false;
    folded_at_ = std::chrono::steady_clock::now();
  }
}

void journal::flush_batch() {
  if (!pending_resume_.empty()) {
    auto &st = db_.cached("UPDATE ldap_progress SET resume_csn = ?1 WHERE id = 1 AND resume_csn < ?1");
    st.bind(1, pending_resume_);
    st.step();
    pending_resume_.clear();
  }
  // At most fold_chunk rows per batch: a fold holds the store's write lock
  // (a delete's pre-operation commit waits for it); until the log is empty
  // again, each batch folds the next chunk.
  if (log_rows_ >= fold_rows || std::chrono::steady_clock::now() - folded_at_ >= fold_interval) fold(fold_chunk);
}

namespace {
constexpr const char *subject_columns = "SELECT subject_id, name, state, transfer_key, csn, ndn, entry FROM ";

subject_record subject_from(sqlite::statement &st) {
  return {st.text(0), st.text(1), state_from_text(st.text(2)), st.text(3), st.text(4), st.text(5), st.text(6)};
}
} // namespace

// With the cache, everyone in subject_log since the last fold is cached: a
// miss reads subjects. Otherwise subjects_now (subjects with subject_log's
// newer rows over them).
const char *journal::subjects_source() const { return cache_max_ > 0 && !read_log_ ? "subjects" : "subjects_now"; }

std::optional<subject_record> journal::subject(const std::string &id) {
  if (cache_max_ > 0)
    if (auto it = subjects_.find(id); it != subjects_.end()) return it->second;
  auto &st = db_.cached(fmt::format("{}{} WHERE subject_id = ?1", subject_columns, subjects_source()));
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  auto r = subject_from(st);
  st.reset(); // a cached SELECT left mid-step would pin an old snapshot
  cache_subject(r);
  return r;
}

std::optional<subject_record> journal::subject_by_dn(const std::string &ndn) {
  if (ndn.empty()) return std::nullopt;
  if (cache_max_ > 0)
    if (auto at = subject_at_.find(ndn); at != subject_at_.end())
      if (auto it = subjects_.find(at->second); it != subjects_.end() && it->second.ndn == ndn) return it->second;
  auto &st = db_.cached(fmt::format("{}{} WHERE ndn = ?1 AND ndn <> '' ORDER BY csn DESC LIMIT 1", // the partial index
                                    subject_columns, subjects_source()));
  st.bind(1, ndn);
  if (!st.step()) return std::nullopt;
  auto r = subject_from(st);
  st.reset();
  // A cached person renamed away from this DN is not at it any more.
  if (cache_max_ > 0)
    if (auto it = subjects_.find(r.id); it != subjects_.end()) return it->second.ndn == ndn ? std::optional{it->second} : std::nullopt;
  cache_subject(r);
  return r;
}

void journal::put_subject(const subject_record &s) {
  auto &st = db_.cached("INSERT INTO subject_log(subject_id, name, state, transfer_key, csn, ndn, entry)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind(1, s.id).bind(2, s.name).bind(3, state_name(s.current)).bind(4, s.transfer_key).bind(5, s.csn);
  st.bind(6, s.ndn).bind(7, s.entry_json);
  st.step();
  ++log_rows_;
  cache_subject(s);
  // Without the cache every read goes through subjects_now, which costs in
  // proportion to subject_log: a host thread writing many people (baseline,
  // catch-up) folds as it goes.
  if (cache_max_ == 0 && log_rows_ >= 256) fold();
}

int64_t journal::subjects_without_copy() {
  auto &st = db_.cached(fmt::format("SELECT count(*) FROM {} WHERE ndn = '' AND state <> 'deleted'", subjects_source()));
  const int64_t n = st.step() ? st.integer(0) : 0;
  st.reset();
  return n;
}

std::string journal::resume_csn() {
  auto &st = db_.cached("SELECT resume_csn FROM ldap_progress WHERE id = 1");
  std::string csn = st.step() ? st.text(0) : std::string{};
  st.reset();
  return csn;
}

void journal::set_resume_csn(const std::string &csn) {
  // CSNs compare as strings (fixed-width timestamp first).
  if (cache_max_ > 0) {
    pending_resume_ = std::max(pending_resume_, csn);
    return;
  }
  auto &st = db_.cached("UPDATE ldap_progress SET resume_csn = ?1 WHERE id = 1 AND resume_csn < ?1");
  st.bind(1, csn);
  st.step();
}

bool journal::has_baseline() {
  auto &st = db_.cached("SELECT baseline_done FROM ldap_progress WHERE id = 1");
  const bool done = st.step() && st.integer(0) != 0;
  st.reset();
  return done;
}

void journal::mark_baseline() { db_.exec("UPDATE ldap_progress SET baseline_done = 1 WHERE id = 1"); }

void journal::put_pending_delete(const pending_delete &p) {
  auto &st = db_.cached(
      "INSERT OR REPLACE INTO ldap_pending_deletes(subject_id, dn, entry, prepared_ms)"
      " VALUES (?1, ?2, ?3, ?4)");
  st.bind(1, p.subject_id).bind(2, p.dn).bind(3, p.entry_json).bind(4, to_unix_ms(p.prepared));
  st.step();
}

void journal::remove_pending_delete(const std::string &subject_id) {
  auto &st = db_.cached("DELETE FROM ldap_pending_deletes WHERE subject_id = ?1");
  st.bind(1, subject_id);
  st.step();
}

std::vector<pending_delete> journal::pending_deletes() {
  auto &st = db_.cached("SELECT subject_id, dn, entry, prepared_ms FROM ldap_pending_deletes");
  std::vector<pending_delete> out;
  while (st.step())
    out.push_back({st.text(0), st.text(1), st.text(2), from_unix_ms(st.integer(3))});
  return out;
}

std::vector<event_record> journal::events(const event_filter &f) { return query_events(db_, f); }

int64_t journal::event_count() {
  auto &st = db_.cached("SELECT count(*) FROM events");
  const int64_t n = st.step() ? st.integer(0) : 0;
  st.reset();
  return n;
}

std::vector<event_record> read_events(const std::filesystem::path &path, const event_filter &f) {
  if (!std::filesystem::exists(path))
    throw sqlite::store_error(fmt::format("{}: no journal yet (nothing recorded)", path.string()));
  sqlite::database db(path, sqlite::durability::normal, true);
  store::refuse_newer_schema(db, path);
  return query_events(db, f);
}

} // namespace reclaim
