// local_connector.cpp — access and licence changes on the embedded
// inventory. Licence rows hold (subject, app, sku); access rows hold
// (subject, app, status active|suspended|revoked). Notifications and
// ownership transfers land in an outbox table.
#include "connectors/local_connector.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace reclaim {
namespace {

using json = nlohmann::json;

constexpr const char *schema = R"sql(
CREATE TABLE IF NOT EXISTS inventory_licences(
  subject_id TEXT NOT NULL, app TEXT NOT NULL, sku TEXT NOT NULL, assigned_ms INTEGER NOT NULL,
  PRIMARY KEY (subject_id, app, sku));
CREATE TABLE IF NOT EXISTS inventory_access(
  subject_id TEXT NOT NULL, app TEXT NOT NULL, status TEXT NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY (subject_id, app));
CREATE TABLE IF NOT EXISTS inventory_effects(
  idempotency_key TEXT PRIMARY KEY, outcome TEXT NOT NULL, before_image TEXT NOT NULL, applied_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, target TEXT NOT NULL,
  subject_id TEXT NOT NULL, app TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL);
)sql";

std::vector<std::string> licences(sqlite::database &db, const std::string &subject, const std::string &app) {
  auto &st = db.cached("SELECT sku FROM inventory_licences WHERE subject_id = ?1 AND app = ?2 ORDER BY sku");
  st.bind(1, subject).bind(2, app);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  st.reset();
  return out;
}

std::string access_status(sqlite::database &db, const std::string &subject, const std::string &app) {
  auto &st = db.cached("SELECT status FROM inventory_access WHERE subject_id = ?1 AND app = ?2");
  st.bind(1, subject).bind(2, app);
  std::string s = st.step() ? st.text(0) : std::string{};
  st.reset();
  return s;
}

void set_access(sqlite::database &db, const std::string &subject, const std::string &app, const std::string &status) {
  db.cached("INSERT INTO inventory_access VALUES (?1, ?2, ?3, ?4) ON CONFLICT(subject_id, app)"
            " DO UPDATE SET status = excluded.status, updated_ms = excluded.updated_ms")
      .bind(1, subject).bind(2, app).bind(3, status).bind(4, to_unix_ms(now())).run();
}

void remove_licence(sqlite::database &db, const std::string &subject, const std::string &app, const std::string &sku) {
  db.cached("DELETE FROM inventory_licences WHERE subject_id = ?1 AND app = ?2 AND sku = ?3")
      .bind(1, subject).bind(2, app).bind(3, sku).run();
}

void add_licence(sqlite::database &db, const std::string &subject, const std::string &app, const std::string &sku) {
  db.cached("INSERT OR IGNORE INTO inventory_licences VALUES (?1, ?2, ?3, ?4)")
      .bind(1, subject).bind(2, app).bind(3, sku).bind(4, to_unix_ms(now())).run();
}

connector_result ok(std::string msg, json before = json::object()) {
  return {connector_result::outcome::done, std::move(msg), before.dump()};
}

connector_result nothing(std::string msg) {
  return {connector_result::outcome::already_done, std::move(msg), "{}"};
}

connector_result access_change(sqlite::database &db, const action_row &a, const std::string &from_ok,
                               const std::string &to) {
  const auto current = access_status(db, a.subject_id, a.app);
  if (current.empty()) return nothing("no access recorded in the inventory");
  if (current == to) return nothing(fmt::format("access already {}", to));
  if (!from_ok.empty() && current != from_ok)
    return nothing(fmt::format("access is {}, not {}", current, from_ok));
  set_access(db, a.subject_id, a.app, to);
  return ok(fmt::format("access {} -> {}", current, to), json{{"access", current}});
}

} // namespace

void ensure_inventory_schema(sqlite::database &db) { db.exec(schema); }

local_connector::local_connector(sqlite::database &db) : db_(db) { ensure_inventory_schema(db_); }

connector_result local_connector::execute(const action_row &a, const application &app) {
  sqlite::transaction tx(db_);
  // Check before act: an effect recorded under this key happened already.
  auto &seen = db_.cached("SELECT outcome, before_image FROM inventory_effects WHERE idempotency_key = ?1");
  seen.bind(1, a.idempotency_key);
  if (seen.step()) {
    connector_result r{connector_result::outcome::already_done,
                       "already applied: " + seen.text(0), seen.text(1)};
    seen.reset();
    return r;
  }
  seen.reset();
  auto r = apply(a, app);
  if (r.what == connector_result::outcome::done || r.what == connector_result::outcome::already_done) {
    db_.cached("INSERT INTO inventory_effects VALUES (?1, ?2, ?3, ?4)")
        .bind(1, a.idempotency_key).bind(2, r.message).bind(3, r.before_image).bind(4, to_unix_ms(now())).run();
    tx.commit();
  }
  return r;
}

connector_result local_connector::apply(const action_row &a, const application &app) {
  switch (a.kind) {
  case action_kind::suspend_access: return access_change(db_, a, "active", "suspended");
  case action_kind::revoke_access: return access_change(db_, a, "", "revoked");
  case action_kind::resume_access: return access_change(db_, a, "suspended", "active");
  case action_kind::grant_access: return access_change(db_, a, "", "active");
  case action_kind::reclaim_licence: {
    auto held = licences(db_, a.subject_id, a.app);
    if (!a.sku.empty()) held.erase(std::remove_if(held.begin(), held.end(), [&](auto &s) { return s != a.sku; }), held.end());
    if (held.empty()) return nothing("no licence of this application assigned");
    for (const auto &s : held) remove_licence(db_, a.subject_id, a.app, s);
    return ok(fmt::format("reclaimed {}", fmt::join(held, ", ")), json{{"skus", held}});
  }
  case action_kind::downgrade_licence: {
    auto held = licences(db_, a.subject_id, a.app);
    std::vector<std::string> removed;
    for (const auto &s : held)
      if (s != a.to_sku) removed.push_back(s);
    if (removed.empty()) return nothing(held.empty() ? "no licence assigned" : "already on " + a.to_sku);
    if (!app.find_sku(a.to_sku)) return {connector_result::outcome::permanent, "unknown SKU " + a.to_sku, "{}"};
    for (const auto &s : removed) remove_licence(db_, a.subject_id, a.app, s);
    add_licence(db_, a.subject_id, a.app, a.to_sku);
    return ok(fmt::format("downgraded {} -> {}", fmt::join(removed, ", "), a.to_sku),
              json{{"skus", removed}, {"added", a.to_sku}});
  }
  case action_kind::assign_licence: {
    const auto image = json::parse(a.before_image.empty() ? "{}" : a.before_image, nullptr, false);
    std::vector<std::string> skus;
    if (image.is_object() && image.contains("skus")) skus = image["skus"].get<std::vector<std::string>>();
    if (skus.empty()) return nothing("nothing to assign");
    const auto held = licences(db_, a.subject_id, a.app);
    if (image.contains("added")) remove_licence(db_, a.subject_id, a.app, image["added"].get<std::string>());
    std::vector<std::string> added;
    for (const auto &s : skus)
      if (std::find(held.begin(), held.end(), s) == held.end()) {
        add_licence(db_, a.subject_id, a.app, s);
        added.push_back(s);
      }
    if (added.empty()) return nothing("licences already assigned");
    return ok(fmt::format("assigned {}", fmt::join(added, ", ")));
  }
  case action_kind::transfer_ownership:
  case action_kind::notify: {
    const json body{{"subject_id", a.subject_id}, {"app", a.app}, {"action", action_kind_name(a.kind)},
                    {"plan", a.plan_id}, {"target", a.target.empty() ? "manager" : a.target}};
    db_.cached("INSERT OR IGNORE INTO outbox(idempotency_key, kind, target, subject_id, app, body, created_ms)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, a.idempotency_key).bind(2, action_kind_name(a.kind)).bind(3, a.target.empty() ? "manager" : a.target)
        .bind(4, a.subject_id).bind(5, a.app).bind(6, body.dump()).bind(7, to_unix_ms(now())).run();
    return ok(fmt::format("{} queued for {}", action_kind_name(a.kind), a.target.empty() ? "manager" : a.target));
  }
  }
  return {connector_result::outcome::permanent, "unsupported action", "{}"};
}

void local_connector::assign(const std::string &subject, const std::string &app, const std::string &sku) {
  add_licence(db_, subject, app, sku);
}

void local_connector::grant(const std::string &subject, const std::string &app) {
  set_access(db_, subject, app, "active");
}

std::vector<assignment> inventory_list(sqlite::database &db, const std::string &subject) {
  auto &st = db.cached(
      "SELECT subject_id, app, sku, 'licence' FROM inventory_licences WHERE subject_id = ?1 OR ?1 = ''"
      " UNION ALL SELECT subject_id, app, '', status FROM inventory_access WHERE subject_id = ?1 OR ?1 = ''"
      " ORDER BY 1, 2, 3");
  st.bind(1, subject);
  std::vector<assignment> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.text(3)});
  st.reset();
  return out;
}

} // namespace reclaim
