// resource_store.cpp — SQLite C API directly (the host links nothing of the
// engine). The resource JSON is stored as sent (after normalisation), with
// the indexed columns copied out of it.
#include "resource_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reclaim::scimd {
namespace {

const char *table_of(resource_kind k) { return k == resource_kind::user ? "users" : "groups"; }

std::string text_at(const nlohmann::json &r, const char *key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct stmt {
  sqlite3_stmt *s = nullptr;
  ~stmt() { sqlite3_finalize(s); }
};

} // namespace

resource_store::resource_store(const std::filesystem::path &state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  const auto path = (state_dir / "scim.sqlite3").string();
  // Create it 0600 before SQLite does (SQLite would apply the umask).
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw store_error("cannot create " + path);
  ::fchmod(fd, 0600);
  ::close(fd);
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS users(id TEXT PRIMARY KEY, user_name TEXT NOT NULL COLLATE NOCASE UNIQUE, "
         "external_id TEXT, json TEXT NOT NULL, version INTEGER NOT NULL, created TEXT NOT NULL, "
         "last_modified TEXT NOT NULL)");
    exec("CREATE INDEX IF NOT EXISTS users_external_id ON users(external_id)");
    exec("CREATE TABLE IF NOT EXISTS groups(id TEXT PRIMARY KEY, display_name TEXT NOT NULL COLLATE NOCASE, "
         "external_id TEXT, json TEXT NOT NULL, version INTEGER NOT NULL, created TEXT NOT NULL, "
         "last_modified TEXT NOT NULL)");
    exec("CREATE INDEX IF NOT EXISTS groups_display_name ON groups(display_name)");
    exec("CREATE INDEX IF NOT EXISTS groups_external_id ON groups(external_id)");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
  for (const char *suffix : {"-wal", "-shm"}) ::chmod((path + suffix).c_str(), 0600);
}

resource_store::~resource_store() { sqlite3_close(db_); }

void resource_store::exec(const char *sql) {
  char *err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw store_error(std::string(sql).substr(0, 40) + ": " + msg);
  }
}

void resource_store::begin() { exec("BEGIN IMMEDIATE"); }
void resource_store::commit() { exec("COMMIT"); }
void resource_store::rollback() {
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

std::vector<stored_resource> resource_store::query(const std::string &sql, const std::vector<std::string> &args) {
  stmt st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) throw store_error(sqlite3_errmsg(db_));
  for (std::size_t i = 0; i < args.size(); ++i)
    sqlite3_bind_text(st.s, static_cast<int>(i + 1), args[i].data(), static_cast<int>(args[i].size()), SQLITE_TRANSIENT);
  std::vector<stored_resource> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    stored_resource r;
    r.id = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 0));
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 1));
    r.resource = nlohmann::json::parse(text, text + sqlite3_column_bytes(st.s, 1));
    r.version = sqlite3_column_int64(st.s, 2);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) throw store_error(sqlite3_errmsg(db_));
  return out;
}

std::optional<stored_resource> resource_store::get(resource_kind kind, const std::string &id) {
  auto rows = query(std::string("SELECT id, json, version FROM ") + table_of(kind) + " WHERE id = ?1", {id});
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::optional<std::vector<stored_resource>> resource_store::find_indexed(resource_kind kind, const std::string &attribute,
                                                                         const std::string &value) {
  const bool user = kind == resource_kind::user;
  const char *column = nullptr;
  if (attribute == "id") column = "id";
  else if (attribute == "externalId") column = "external_id";
  else if (user && attribute == "userName") column = "user_name";
  else if (!user && attribute == "displayName") column = "display_name";
  if (column == nullptr) return std::nullopt;
  return query(std::string("SELECT id, json, version FROM ") + table_of(kind) + " WHERE " + column +
                   " = ?1 ORDER BY rowid",
               {value});
}

std::vector<stored_resource> resource_store::all(resource_kind kind) {
  return query(std::string("SELECT id, json, version FROM ") + table_of(kind) + " ORDER BY rowid", {});
}

std::int64_t resource_store::count(resource_kind kind) {
  stmt st;
  const std::string sql = std::string("SELECT count(*) FROM ") + table_of(kind);
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK || sqlite3_step(st.s) != SQLITE_ROW)
    throw store_error(sqlite3_errmsg(db_));
  return sqlite3_column_int64(st.s, 0);
}

void resource_store::write(resource_kind kind, const stored_resource &r, bool insert) {
  const bool user = kind == resource_kind::user;
  const std::string key = user ? text_at(r.resource, "userName") : text_at(r.resource, "displayName");
  const std::string external = text_at(r.resource, "externalId");
  std::string created, modified;
  if (auto meta = r.resource.find("meta"); meta != r.resource.end()) {
    created = text_at(*meta, "created");
    modified = text_at(*meta, "lastModified");
  }
  const std::string json = r.resource.dump();
  std::string sql = insert ? std::string("INSERT INTO ") + table_of(kind) + "(id, " + (user ? "user_name" : "display_name") +
                                 ", external_id, json, version, created, last_modified) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                           : std::string("UPDATE ") + table_of(kind) + " SET " + (user ? "user_name" : "display_name") +
                                 " = ?2, external_id = ?3, json = ?4, version = ?5, created = ?6, last_modified = ?7 "
                                 "WHERE id = ?1";
  stmt st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) throw store_error(sqlite3_errmsg(db_));
  sqlite3_bind_text(st.s, 1, r.id.data(), static_cast<int>(r.id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  if (external.empty()) sqlite3_bind_null(st.s, 3);
  else sqlite3_bind_text(st.s, 3, external.data(), static_cast<int>(external.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 4, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 5, r.version);
  sqlite3_bind_text(st.s, 6, created.data(), static_cast<int>(created.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 7, modified.data(), static_cast<int>(modified.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.s);
  if (rc == SQLITE_CONSTRAINT) throw uniqueness_error("userName \"" + key + "\" is already taken");
  if (rc != SQLITE_DONE) throw store_error(sqlite3_errmsg(db_));
}

void resource_store::insert(resource_kind kind, const stored_resource &r) { write(kind, r, true); }
void resource_store::update(resource_kind kind, const stored_resource &r) { write(kind, r, false); }

void resource_store::remove(resource_kind kind, const std::string &id) {
  stmt st;
  const std::string sql = std::string("DELETE FROM ") + table_of(kind) + " WHERE id = ?1";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) throw store_error(sqlite3_errmsg(db_));
  sqlite3_bind_text(st.s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) throw store_error(sqlite3_errmsg(db_));
}

} // namespace reclaim::scimd
