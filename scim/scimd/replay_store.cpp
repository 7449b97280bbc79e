// replay_store.cpp — one row per accepted SAML message ID. The insert is
// durable (synchronous=FULL) before the request is answered, so a crash
// after the answer cannot forget the ID.
#include "replay_store.hpp"

#include "resource_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <string>

namespace reclaim::scimd {
namespace {

std::int64_t unix_ms(saml::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

struct statement {
  sqlite3_stmt *s = nullptr;
  statement(sqlite3 *db, const char *sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      throw store_error(std::string("replay store: ") + sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(s); }
  statement(const statement &) = delete;
  statement &operator=(const statement &) = delete;
};

void step_done(sqlite3 *db, statement &st) {
  if (sqlite3_step(st.s) != SQLITE_DONE) throw store_error(std::string("replay store: ") + sqlite3_errmsg(db));
}

} // namespace

replay_store::replay_store(const std::filesystem::path &state_dir) {
  // resource_store created the file (0600) and set WAL before this opens it.
  const auto path = (state_dir / "scim.sqlite3").string();
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  char *err = nullptr;
  if (sqlite3_exec(db_,
                   "PRAGMA synchronous=FULL;"
                   "CREATE TABLE IF NOT EXISTS saml_replay(id TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL)",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error("replay store: " + msg);
  }
}

replay_store::~replay_store() { sqlite3_close(db_); }

bool replay_store::remember_once(std::string_view id, saml::time_point expires) {
  std::lock_guard lock(mu_);
  {
    statement prune(db_, "DELETE FROM saml_replay WHERE expires_ms < ?1");
    sqlite3_bind_int64(prune.s, 1, unix_ms(std::chrono::system_clock::now()));
    step_done(db_, prune);
  }
  statement ins(db_, "INSERT OR IGNORE INTO saml_replay(id, expires_ms) VALUES(?1, ?2)");
  sqlite3_bind_text(ins.s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(ins.s, 2, unix_ms(expires));
  step_done(db_, ins);
  return sqlite3_changes(db_) == 1;
}

void replay_store::forget(std::string_view id) {
  std::lock_guard lock(mu_);
  statement del(db_, "DELETE FROM saml_replay WHERE id = ?1");
  sqlite3_bind_text(del.s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  step_done(db_, del);
}

saml::remember_once_fn replay_store::function() {
  return [this](std::string_view id, saml::time_point expires) { return remember_once(id, expires); };
}

} // namespace reclaim::scimd
