// plan_store.cpp — schema and queries of plans, actions and exceptions.
// Claiming a due action is one UPDATE … RETURNING, so two dispatchers
// sharing the store never run the same action at once.
#include "store/plan_store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace reclaim {
namespace {

constexpr const char *schema = R"sql(
CREATE TABLE IF NOT EXISTS planner_progress(id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);
INSERT OR IGNORE INTO planner_progress VALUES (1, 0);
CREATE TABLE IF NOT EXISTS plans(
  id INTEGER PRIMARY KEY,
  plan_key TEXT NOT NULL UNIQUE,
  event_seq INTEGER NOT NULL DEFAULT 0,
  subject_id TEXT NOT NULL,
  subject_name TEXT NOT NULL DEFAULT '',
  from_state TEXT NOT NULL DEFAULT '',
  to_state TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  requested_by TEXT NOT NULL DEFAULT '',
  approved_by TEXT NOT NULL DEFAULT '',
  dry_run INTEGER NOT NULL DEFAULT 0,
  monthly_cost REAL NOT NULL DEFAULT 0,
  currency TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  decided_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS plans_subject ON plans(subject_id);
DROP INDEX IF EXISTS plans_departures; -- unused: the guard counts guard_departures
CREATE TABLE IF NOT EXISTS actions(
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plans(id),
  subject_id TEXT NOT NULL,
  app TEXT NOT NULL,
  kind TEXT NOT NULL,
  sku TEXT NOT NULL DEFAULT '',
  to_sku TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '',
  due_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_ms INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT NOT NULL, -- reclaim/<plan id>/<ordinal>/…: unique by construction
  outcome TEXT NOT NULL DEFAULT '',
  before_image TEXT NOT NULL DEFAULT '',
  rule TEXT NOT NULL DEFAULT '',
  restores INTEGER NOT NULL DEFAULT 0,
  restored_by INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL DEFAULT 0);
-- The due queue holds only what a dispatcher may claim or must requeue:
-- done, cancelled, held… actions leave it. A person's actions are found
-- through plans_subject and actions_plan (an action's subject is its plan's),
-- which spares every action insert a third, randomly placed index entry.
DROP INDEX IF EXISTS actions_due;
DROP INDEX IF EXISTS actions_subject;
CREATE INDEX IF NOT EXISTS actions_queue ON actions(status, due_ms) WHERE status = 'pending' OR status = 'running';
CREATE INDEX IF NOT EXISTS actions_plan ON actions(plan_id, status);
-- One row per departure at the time it happened, for the guard's exact
-- sliding window (docs/policy.md); rows no window can reach are pruned.
CREATE TABLE IF NOT EXISTS guard_departures(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS guard_departures_at ON guard_departures(at_ms);
CREATE TABLE IF NOT EXISTS legal_holds(
  subject_id TEXT PRIMARY KEY, reason TEXT NOT NULL, added_by TEXT NOT NULL, added_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS extensions(
  id INTEGER PRIMARY KEY, subject_id TEXT NOT NULL, app TEXT NOT NULL, approver TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '', expires_ms INTEGER NOT NULL, added_ms INTEGER NOT NULL);
)sql";

constexpr const char *action_cols =
    "id, plan_id, subject_id, app, kind, sku, to_sku, target, due_ms, status, attempts, next_ms,"
    " idempotency_key, outcome, before_image, rule, restores, updated_ms";

action_row read_action(sqlite::statement &st) {
  action_row a;
  a.id = st.integer(0);
  a.plan_id = st.integer(1);
  a.subject_id = st.text(2);
  a.app = st.text(3);
  a.kind = parse_action_kind(st.text(4)).value_or(action_kind::notify);
  a.sku = st.text(5);
  a.to_sku = st.text(6);
  a.target = st.text(7);
  a.due = from_unix_ms(st.integer(8));
  a.status = st.text(9);
  a.attempts = static_cast<int>(st.integer(10));
  a.next_attempt = from_unix_ms(st.integer(11));
  a.idempotency_key = st.text(12);
  a.outcome = st.text(13);
  a.before_image = st.text(14);
  a.rule = st.text(15);
  a.restores = st.integer(16);
  a.updated = from_unix_ms(st.integer(17));
  return a;
}

constexpr const char *plan_cols =
    "id, plan_key, event_seq, subject_id, subject_name, from_state, to_state, kind, status, reason,"
    " requested_by, approved_by, dry_run, monthly_cost, currency, created_ms";

plan_row read_plan(sqlite::statement &st) {
  plan_row p;
  p.id = st.integer(0);
  p.plan_key = st.text(1);
  p.event_seq = st.integer(2);
  p.subject_id = st.text(3);
  p.subject_name = st.text(4);
  p.from_state = st.text(5);
  p.to_state = st.text(6);
  p.kind = st.text(7);
  p.status = st.text(8);
  p.reason = st.text(9);
  p.requested_by = st.text(10);
  p.approved_by = st.text(11);
  p.dry_run = st.integer(12) != 0;
  p.monthly_cost = st.real(13);
  p.currency = st.text(14);
  p.created = from_unix_ms(st.integer(15));
  return p;
}

// reclaim/<plan id>/<ordinal>/<app>/<kind>: unique by construction.
std::string idempotency_key(int64_t plan_id, size_t ordinal, const std::string &app, action_kind kind) {
  std::string key = "reclaim/";
  key.append(std::to_string(plan_id)).append(1, '/').append(std::to_string(ordinal)).append(1, '/');
  key.append(app).append(1, '/').append(action_kind_name(kind));
  return key;
}

// Open = not executed and not finally decided.
// The plans of the person ?1; their actions are found through actions_plan.
constexpr const char *subject_plans = "(SELECT id FROM plans WHERE subject_id = ?1)";
constexpr const char *open_statuses = "('pending','held','on_hold','running')";

// Older stores counted departures per minute (guard_minutes): each
// becomes a row at the last millisecond of its minute, the latest it can
// have happened, so no window that could have seen it misses it.
void upgrade_guard(sqlite::database &db) {
  {
    auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'guard_minutes'");
    if (!st.step() || st.integer(0) == 0) return;
  } // finalised: an open statement would lock the table against DROP
  db.exec("SAVEPOINT guard_upgrade;"
          "INSERT INTO guard_departures(at_ms)"
          " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
          "   WHERE i < (SELECT coalesce(max(departures), 0) FROM guard_minutes))"
          " SELECT minute * 60000 + 59999 FROM guard_minutes JOIN n ON n.i <= departures ORDER BY minute;"
          "DROP TABLE guard_minutes;"
          "RELEASE guard_upgrade;");
}

} // namespace

plan_store::plan_store(sqlite::database &db) : db_(db) {
  db_.exec(schema);
  upgrade_guard(db_);
}

int64_t plan_store::planned_upto() {
  auto &st = db_.cached("SELECT last_seq FROM planner_progress WHERE id = 1");
  const int64_t v = st.step() ? st.integer(0) : 0;
  st.reset();
  return v;
}

void plan_store::set_planned_upto(int64_t seq) {
  db_.cached("UPDATE planner_progress SET last_seq = ?1 WHERE id = 1 AND last_seq < ?1").bind(1, seq).run();
}

std::optional<int64_t> plan_store::insert_plan(plan_row &p, std::vector<action_row> &actions) {
  // Each person's actions are found through their plans (see the schema).
  for (const auto &a : actions)
    if (a.subject_id != p.subject_id)
      throw std::logic_error(fmt::format("plan {}: action for \"{}\" in a plan for \"{}\"", p.plan_key,
                                         a.subject_id, p.subject_id));
  auto &st = db_.cached(
      "INSERT OR IGNORE INTO plans(plan_key, event_seq, subject_id, subject_name, from_state, to_state,"
      " kind, status, reason, requested_by, dry_run, monthly_cost, currency, created_ms)"
      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
  st.bind_static(1, p.plan_key).bind(2, p.event_seq).bind_static(3, p.subject_id).bind_static(4, p.subject_name);
  st.bind_static(5, p.from_state).bind_static(6, p.to_state).bind_static(7, p.kind).bind_static(8, p.status);
  st.bind_static(9, p.reason).bind_static(10, p.requested_by).bind(11, int64_t{p.dry_run});
  st.bind_double(12, p.monthly_cost).bind_static(13, p.currency).bind(14, to_unix_ms(p.created));
  st.run();
  if (db_.changes() == 0) return std::nullopt;
  p.id = db_.last_insert_rowid();
  // One single-row INSERT per action: a multi-row one must be able to undo
  // its first rows when a later one fails (the foreign key, NOT NULL), so
  // SQLite gives it a statement journal — a copy of every page it touches,
  // spilled to a temporary file — which costs more than it saves.
  auto &ins = db_.cached(
      "INSERT INTO actions(plan_id, subject_id, updated_ms, app, kind, sku, to_sku, target, due_ms,"
      " status, idempotency_key, rule, restores, outcome, before_image)"
      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
  const int64_t updated = to_unix_ms(now());
  for (size_t index = 0; index < actions.size(); ++index) {
    auto &a = actions[index];
    a.plan_id = p.id;
    a.idempotency_key = idempotency_key(p.id, index, a.app, a.kind);
    ins.bind(1, p.id).bind_static(2, p.subject_id).bind(3, updated).bind_static(4, a.app);
    ins.bind_static(5, action_kind_name(a.kind)).bind_static(6, a.sku).bind_static(7, a.to_sku);
    ins.bind_static(8, a.target).bind(9, to_unix_ms(a.due)).bind_static(10, a.status);
    ins.bind_static(11, a.idempotency_key).bind_static(12, a.rule).bind(13, a.restores);
    ins.bind_static(14, a.outcome).bind_static(15, a.before_image);
    ins.run();
    a.id = db_.last_insert_rowid();
  }
  return p.id;
}

std::optional<plan_row> plan_store::plan(int64_t id) {
  auto &st = db_.cached(fmt::format("SELECT {} FROM plans WHERE id = ?1", plan_cols));
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  auto p = read_plan(st);
  st.reset();
  return p;
}

std::vector<plan_row> plan_store::plans(const std::string &status, const std::string &subject) {
  auto st = db_.prepare(fmt::format(
      "SELECT {} FROM plans WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR subject_id = ?2) ORDER BY id",
      plan_cols));
  st.bind(1, status).bind(2, subject);
  std::vector<plan_row> out;
  while (st.step()) out.push_back(read_plan(st));
  return out;
}

std::vector<action_row> plan_store::actions(const std::string &status, const std::string &subject, int64_t plan_id) {
  auto st = db_.prepare(fmt::format(
      "SELECT {} FROM actions WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR subject_id = ?2)"
      " AND (?3 = 0 OR plan_id = ?3) ORDER BY id",
      action_cols));
  st.bind(1, status).bind(2, subject).bind(3, plan_id);
  std::vector<action_row> out;
  while (st.step()) out.push_back(read_action(st));
  return out;
}

void plan_store::set_plan_status(int64_t id, const std::string &status, const std::string &reason,
                                 const std::string &approved_by) {
  db_.cached("UPDATE plans SET status = ?2, reason = ?3, approved_by = ?4, decided_ms = ?5 WHERE id = ?1")
      .bind(1, id).bind(2, status).bind(3, reason).bind(4, approved_by).bind(5, to_unix_ms(now())).run();
}

int64_t plan_store::move_actions(int64_t plan_id, const std::string &from, const std::string &to,
                                 const std::string &outcome) {
  db_.cached("UPDATE actions SET status = ?3, outcome = ?4, updated_ms = ?5 WHERE plan_id = ?1 AND status = ?2")
      .bind(1, plan_id).bind(2, from).bind(3, to).bind(4, outcome).bind(5, to_unix_ms(now())).run();
  return db_.changes();
}

std::set<std::string> plan_store::live_actions(const std::string &subject) {
  // Open actions, and executed ones not yet retired by a re-entitlement
  // (retire_executed) or reversed by a restore.
  auto &st = db_.cached(
      "SELECT a.app, a.kind, a.target FROM plans p JOIN actions a ON a.plan_id = p.id WHERE p.subject_id = ?1"
      " AND a.restored_by = 0 AND p.kind != 'restore'"
      " AND a.status IN ('pending','held','on_hold','running','done','already_done')");
  st.bind(1, subject);
  std::set<std::string> out;
  while (st.step()) out.insert(live_key(st.text(0), parse_action_kind(st.text(1)).value_or(action_kind::notify), st.text(2)));
  st.reset();
  return out;
}

std::string live_key(const std::string &app, action_kind kind, const std::string &target) {
  const auto k = action_kind_name(kind);
  std::string key;
  key.reserve(app.size() + k.size() + target.size() + 2);
  key.append(app).append(1, '\x1f').append(k).append(1, '\x1f').append(target);
  return key;
}

bool plan_store::has_live_action(const std::string &subject, const std::string &app, action_kind kind,
                                 const std::string &target) {
  return live_actions(subject).count(live_key(app, kind, target)) > 0;
}

int64_t plan_store::advance_open_due(const std::string &subject, const std::string &app, action_kind kind,
                                     const std::string &target, time_point due, const std::string &why) {
  db_.cached(fmt::format(
                 "UPDATE actions SET due_ms = ?5, outcome = ?6, updated_ms = ?7 WHERE plan_id IN {} AND app = ?2"
                 " AND kind = ?3 AND target = ?4 AND status IN ('pending','held','on_hold') AND due_ms > ?5"
                 " AND plan_id NOT IN (SELECT id FROM plans WHERE subject_id = ?1 AND kind = 'restore')",
                 subject_plans))
      .bind(1, subject).bind(2, app).bind_static(3, action_kind_name(kind)).bind(4, target)
      .bind(5, to_unix_ms(due)).bind(6, why).bind(7, to_unix_ms(now())).run();
  return db_.changes();
}

void plan_store::close_emptied_plans(const std::string &subject, const std::string &why) {
  const auto emptied = fmt::format("subject_id = ?1 AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.plan_id = plans.id"
                                   " AND a.status IN {})", open_statuses);
  db_.cached(fmt::format("UPDATE plans SET status = 'cancelled', reason = ?2, decided_ms = ?3 WHERE {}"
                         " AND status IN ('held','awaiting_approval')", emptied))
      .bind(1, subject).bind(2, why).bind(3, to_unix_ms(now())).run();
  auto st = db_.prepare(fmt::format("SELECT id FROM plans WHERE {} AND status = 'active'", emptied));
  st.bind(1, subject);
  std::vector<int64_t> active;
  while (st.step()) active.push_back(st.integer(0));
  for (const auto id : active) complete_plan_if_finished(id);
}

std::vector<action_row> plan_store::cancel_open_actions(const std::string &subject, const std::string &why) {
  auto &st = db_.cached(fmt::format(
      "UPDATE actions SET status = 'cancelled', outcome = ?2, updated_ms = ?3"
      " WHERE plan_id IN {} AND status IN ('pending','held','on_hold') RETURNING {}",
      subject_plans, action_cols));
  st.bind(1, subject).bind(2, why).bind(3, to_unix_ms(now()));
  std::vector<action_row> out;
  while (st.step()) out.push_back(read_action(st));
  st.reset();
  return out;
}

std::vector<action_row> plan_store::cancel_open_for(const std::string &subject, const std::set<std::string> &apps,
                                                    const std::string &plan_kinds, const std::string &to_state,
                                                    const std::string &why) {
  auto &st = db_.cached(fmt::format(
      "UPDATE actions SET status = 'cancelled', outcome = ?2, updated_ms = ?3"
      " WHERE plan_id IN (SELECT id FROM plans WHERE subject_id = ?1 AND instr(?4, '|' || kind || '|') > 0"
      " AND (?5 = '' OR to_state = ?5)) AND status IN ('pending','held','on_hold') AND kind != 'notify'"
      " AND (?6 = '' OR app = ?6) RETURNING {}",
      action_cols));
  std::vector<action_row> out;
  auto run = [&](const std::string &app) {
    st.bind(1, subject).bind(2, why).bind(3, to_unix_ms(now())).bind(4, "|" + plan_kinds + "|");
    st.bind(5, to_state).bind(6, app);
    while (st.step()) out.push_back(read_action(st));
    st.reset();
  };
  if (apps.empty()) run("");
  for (const auto &app : apps) run(app);
  return out;
}

int64_t plan_store::retire_executed(const std::string &subject, const std::set<std::string> &apps, int64_t event_seq) {
  int64_t n = 0;
  auto &st = db_.cached(
      "UPDATE actions SET restored_by = ?2 WHERE plan_id IN (SELECT id FROM plans WHERE subject_id = ?1"
      " AND kind != 'restore') AND restored_by = 0 AND status IN ('done','already_done') AND (?3 = '' OR app = ?3)");
  if (apps.empty()) {
    st.bind(1, subject).bind(2, -event_seq).bind(3, "").run();
    return db_.changes();
  }
  for (const auto &app : apps) {
    st.bind(1, subject).bind(2, -event_seq).bind(3, app).run();
    n += db_.changes();
  }
  return n;
}

int64_t plan_store::cancel_other_contract_plans(const std::string &subject, const std::string &keep_key,
                                                const std::string &why) {
  db_.cached("UPDATE actions SET status = 'cancelled', outcome = ?3, updated_ms = ?4 WHERE status IN"
             " ('pending','held','on_hold') AND plan_id IN (SELECT id FROM plans WHERE subject_id = ?1"
             " AND kind = 'contract' AND plan_key != ?2)")
      .bind(1, subject).bind(2, keep_key).bind(3, why).bind(4, to_unix_ms(now())).run();
  const auto n = db_.changes();
  db_.cached("UPDATE plans SET status = 'cancelled', reason = ?3 WHERE subject_id = ?1 AND kind = 'contract'"
             " AND plan_key != ?2 AND status IN ('active','held','awaiting_approval')")
      .bind(1, subject).bind(2, keep_key).bind(3, why).run();
  return n;
}

bool plan_store::restorable_in_flight(const std::string &subject) {
  auto &st = db_.cached(fmt::format(
      "SELECT 1 FROM actions WHERE plan_id IN {} AND status = 'running'"
      " AND kind IN ('suspend_access','revoke_access','reclaim_licence','downgrade_licence') LIMIT 1",
      subject_plans));
  st.bind(1, subject);
  const bool running = st.step();
  st.reset();
  return running;
}

std::vector<action_row> plan_store::restorable_actions(const std::string &subject) {
  auto &st = db_.cached(fmt::format(
      "SELECT {} FROM actions WHERE plan_id IN {} AND status = 'done' AND restored_by = 0 AND restores = 0"
      " AND kind IN ('suspend_access','revoke_access','reclaim_licence','downgrade_licence') ORDER BY id",
      action_cols, subject_plans));
  st.bind(1, subject);
  std::vector<action_row> out;
  while (st.step()) out.push_back(read_action(st));
  st.reset();
  return out;
}

int64_t plan_store::departures_between(time_point after, time_point upto) {
  auto &st = db_.cached("SELECT count(*) FROM guard_departures WHERE at_ms > ?1 AND at_ms <= ?2");
  st.bind(1, to_unix_ms(after));
  st.bind(2, to_unix_ms(upto));
  const int64_t n = st.step() ? st.integer(0) : 0;
  st.reset();
  return n;
}

void plan_store::count_departure(time_point at, std::chrono::milliseconds window) {
  db_.cached("INSERT INTO guard_departures(at_ms) VALUES (?1)").bind(1, to_unix_ms(at)).run();
  // A day beyond the window keeps what a change arriving late and out of
  // order (a catch-up) may still need.
  const int64_t keep = std::chrono::duration_cast<std::chrono::milliseconds>(window + std::chrono::days(1)).count();
  const int64_t ms = to_unix_ms(at);
  if (ms > std::numeric_limits<int64_t>::min() + keep)
    db_.cached("DELETE FROM guard_departures WHERE at_ms <= ?1").bind(1, ms - keep).run();
}

int64_t plan_store::population() {
  auto &st = db_.cached("SELECT count(*) FROM subjects_now WHERE state != 'deleted'");
  const int64_t n = st.step() ? st.integer(0) : 0;
  st.reset();
  return n;
}

std::vector<plan_row> plan_store::dry_run_plans_since(time_point since) {
  auto st = db_.prepare(fmt::format(
      "SELECT {} FROM plans WHERE dry_run = 1 AND created_ms >= ?1 AND kind IN ('reclaim','contract')"
      " AND status IN ('active','held','awaiting_approval') AND NOT EXISTS (SELECT 1 FROM actions a"
      " WHERE a.plan_id = plans.id AND a.status NOT IN ('dry_run','held','cancelled')) ORDER BY id",
      plan_cols));
  st.bind(1, to_unix_ms(since));
  std::vector<plan_row> out;
  while (st.step()) out.push_back(read_plan(st));
  return out;
}

void plan_store::supersede_plan(int64_t id, const std::string &why) {
  const int64_t t = to_unix_ms(now());
  db_.cached("UPDATE plans SET status = 'superseded', plan_key = plan_key || '|superseded:' || id, reason = ?2,"
             " decided_ms = ?3 WHERE id = ?1")
      .bind(1, id).bind(2, why).bind(3, t).run();
  db_.cached("UPDATE actions SET status = 'superseded', outcome = ?2, updated_ms = ?3"
             " WHERE plan_id = ?1 AND status IN ('dry_run','held')")
      .bind(1, id).bind(2, why).bind(3, t).run();
}

std::vector<action_row> plan_store::due_actions(time_point t, size_t limit) {
  auto &st = db_.cached(fmt::format("SELECT {} FROM actions WHERE status = 'pending' AND due_ms <= ?1 AND next_ms <= ?1"
                                    " ORDER BY due_ms, id LIMIT ?2",
                                    action_cols));
  st.bind(1, to_unix_ms(t)).bind(2, static_cast<int64_t>(std::min(limit, static_cast<size_t>(INT64_MAX))));
  std::vector<action_row> out;
  while (st.step()) out.push_back(read_action(st));
  st.reset();
  return out;
}

std::optional<action_row> plan_store::claim_due(time_point t) {
  auto &st = db_.cached(fmt::format(
      "UPDATE actions SET status = 'running', attempts = attempts + 1, updated_ms = ?1"
      " WHERE id = (SELECT id FROM actions WHERE status = 'pending' AND due_ms <= ?1 AND next_ms <= ?1"
      " ORDER BY due_ms, id LIMIT 1) RETURNING {}",
      action_cols));
  st.bind(1, to_unix_ms(t));
  if (!st.step()) return std::nullopt;
  auto a = read_action(st);
  st.step(); // finish the statement so the write completes
  st.reset();
  return a;
}

std::vector<action_row> plan_store::claim_due_for_apps(time_point t, const std::vector<std::string> &apps, size_t n) {
  std::vector<action_row> out;
  if (n == 0 || apps.empty()) return out;
  auto &st = db_.cached(fmt::format(
      "UPDATE actions SET status = 'running', attempts = attempts + 1, updated_ms = ?1"
      " WHERE id IN (SELECT id FROM actions WHERE status = 'pending' AND due_ms <= ?1 AND next_ms <= ?1"
      " AND kind != 'notify' AND app IN (SELECT value FROM json_each(?2)) ORDER BY due_ms, id LIMIT ?3)"
      " RETURNING {}",
      action_cols));
  st.bind(1, to_unix_ms(t)).bind(2, nlohmann::json(apps).dump()).bind(3, static_cast<int64_t>(n));
  while (st.step()) out.push_back(read_action(st));
  st.reset();
  std::sort(out.begin(), out.end(), [](const action_row &a, const action_row &b) { return a.id < b.id; });
  return out;
}

std::pair<std::string, std::string> plan_store::plan_subject(int64_t plan_id) {
  auto &st = db_.cached("SELECT p.subject_name, COALESCE(e.attributes, '{}') FROM plans p"
                        " LEFT JOIN events e ON e.seq = p.event_seq WHERE p.id = ?1");
  st.bind(1, plan_id);
  std::pair<std::string, std::string> out{"", "{}"};
  if (st.step()) out = {st.text(0), st.text(1)};
  st.reset();
  return out;
}

void plan_store::finish(int64_t id, const std::string &status, const std::string &outcome,
                        const std::string &before_image) {
  db_.cached("UPDATE actions SET status = ?2, outcome = ?3, before_image = ?4, updated_ms = ?5 WHERE id = ?1")
      .bind(1, id).bind(2, status).bind(3, outcome).bind(4, before_image).bind(5, to_unix_ms(now())).run();
  // A restore that ran marks what it reversed.
  db_.cached("UPDATE actions SET restored_by = ?1 WHERE id = (SELECT restores FROM actions WHERE id = ?1)"
             " AND ?2 IN ('done','already_done')")
      .bind(1, id).bind(2, status).run();
}

void plan_store::retry_later(int64_t id, time_point next, const std::string &outcome) {
  db_.cached("UPDATE actions SET status = 'pending', next_ms = ?2, outcome = ?3, updated_ms = ?4 WHERE id = ?1")
      .bind(1, id).bind(2, to_unix_ms(next)).bind(3, outcome).bind(4, to_unix_ms(now())).run();
}

void plan_store::defer(int64_t id, const std::string &status, time_point due, const std::string &outcome) {
  db_.cached("UPDATE actions SET status = ?2, due_ms = ?3, outcome = ?4, attempts = max(attempts - 1, 0),"
             " updated_ms = ?5 WHERE id = ?1")
      .bind(1, id).bind(2, status).bind(3, to_unix_ms(due)).bind(4, outcome).bind(5, to_unix_ms(now())).run();
}

int64_t plan_store::requeue_running() {
  db_.cached("UPDATE actions SET status = 'pending', outcome = 'requeued after restart' WHERE status = 'running'").run();
  return db_.changes();
}

// A plan is finished when none of its actions can still run. Its status
// then says what happened: done (nothing failed), done_with_failures (some
// actions failed or were dead-lettered, others took effect) or failed
// (nothing took effect), and the reason counts them: an operator reading
// `plans list` must not believe a licence went that did not.
void plan_store::complete_plan_if_finished(int64_t plan_id) {
  auto &st = db_.cached(fmt::format(
      "SELECT count(*), coalesce(sum(status IN ('failed','dead')), 0), coalesce(sum(status IN ('done','already_done')), 0),"
      " coalesce(sum(status IN {}), 0) FROM actions WHERE plan_id = ?1",
      open_statuses));
  st.bind(1, plan_id);
  int64_t total = 0, failed = 0, succeeded = 0, open = 0;
  if (st.step()) {
    total = st.integer(0);
    failed = st.integer(1);
    succeeded = st.integer(2);
    open = st.integer(3);
  }
  st.reset();
  if (open > 0) return;
  const char *status = failed == 0 ? "done" : succeeded > 0 ? "done_with_failures" : "failed";
  const auto summary =
      failed == 0 ? std::string() : fmt::format("{} of {} actions failed", failed, total);
  db_.cached("UPDATE plans SET status = ?2, decided_ms = ?3,"
             " reason = CASE WHEN ?4 = '' THEN reason WHEN reason = '' THEN ?4 ELSE reason || '; ' || ?4 END"
             " WHERE id = ?1 AND status = 'active'")
      .bind(1, plan_id).bind(2, status).bind(3, to_unix_ms(now())).bind(4, summary).run();
}

void plan_store::add_hold(const hold_row &h) {
  db_.cached("INSERT OR REPLACE INTO legal_holds VALUES (?1, ?2, ?3, ?4)")
      .bind(1, h.subject_id).bind(2, h.reason).bind(3, h.added_by).bind(4, to_unix_ms(h.added)).run();
}

bool plan_store::remove_hold(const std::string &subject) {
  db_.cached("DELETE FROM legal_holds WHERE subject_id = ?1").bind(1, subject).run();
  if (db_.changes() == 0) return false;
  // What waited for the hold becomes due now.
  db_.cached(fmt::format("UPDATE actions SET status = 'pending', outcome = 'legal hold lifted', updated_ms = ?2"
                         " WHERE plan_id IN {} AND status = 'on_hold'",
                         subject_plans))
      .bind(1, subject).bind(2, to_unix_ms(now())).run();
  return true;
}

std::optional<hold_row> plan_store::hold(const std::string &subject) {
  auto &st = db_.cached("SELECT subject_id, reason, added_by, added_ms FROM legal_holds WHERE subject_id = ?1");
  st.bind(1, subject);
  if (!st.step()) return std::nullopt;
  hold_row h{st.text(0), st.text(1), st.text(2), from_unix_ms(st.integer(3))};
  st.reset();
  return h;
}

std::vector<hold_row> plan_store::holds() {
  auto st = db_.prepare("SELECT subject_id, reason, added_by, added_ms FROM legal_holds ORDER BY added_ms");
  std::vector<hold_row> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), from_unix_ms(st.integer(3))});
  return out;
}

int64_t plan_store::add_extension(const extension_row &e) {
  db_.cached("INSERT INTO extensions(subject_id, app, approver, reason, expires_ms, added_ms) VALUES (?1,?2,?3,?4,?5,?6)")
      .bind(1, e.subject_id).bind(2, e.app).bind(3, e.approver).bind(4, e.reason)
      .bind(5, to_unix_ms(e.expires)).bind(6, to_unix_ms(e.added)).run();
  return db_.last_insert_rowid();
}

bool plan_store::remove_extension(int64_t id) {
  db_.cached("DELETE FROM extensions WHERE id = ?1").bind(1, id).run();
  return db_.changes() > 0;
}

std::vector<extension_row> plan_store::extensions(const std::string &subject) {
  auto st = db_.prepare("SELECT id, subject_id, app, approver, reason, expires_ms, added_ms FROM extensions"
                        " WHERE (?1 = '' OR subject_id = ?1) ORDER BY id");
  st.bind(1, subject);
  std::vector<extension_row> out;
  while (st.step())
    out.push_back({st.integer(0), st.text(1), st.text(2), st.text(3), st.text(4), from_unix_ms(st.integer(5)),
                   from_unix_ms(st.integer(6))});
  return out;
}

std::optional<extension_row> plan_store::active_extension(const std::string &subject, const std::string &app,
                                                          time_point t) {
  auto &st = db_.cached("SELECT id, subject_id, app, approver, reason, expires_ms, added_ms FROM extensions"
                        " WHERE subject_id = ?1 AND app = ?2 AND expires_ms > ?3 ORDER BY expires_ms DESC LIMIT 1");
  st.bind(1, subject).bind(2, app).bind(3, to_unix_ms(t));
  if (!st.step()) return std::nullopt;
  extension_row e{st.integer(0), st.text(1), st.text(2), st.text(3), st.text(4), from_unix_ms(st.integer(5)),
                  from_unix_ms(st.integer(6))};
  st.reset();
  return e;
}

} // namespace reclaim
