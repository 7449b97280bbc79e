// sqlite.cpp — SQLite connections in WAL mode with a busy timeout, so the
// engine's writer thread, the host's thread and reclaimctl can share one
// store file safely.
#include "store/sqlite.hpp"

#include "base/private_files.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace reclaim::sqlite {

database::database(const std::filesystem::path &path, durability d, bool read_only)
    : path_(path.string()) {
  // SQLite would create the file (and later its -wal and -shm, which take
  // the database file's mode) with the umask's 0644; a store names people.
  if (!read_only && !path_.empty() && path_ != ":memory:" && path_.rfind("file:", 0) != 0) {
    try {
      files::prepare_database(path);
    } catch (const files::file_error &e) {
      throw store_error(e.what());
    }
  }
  const int flags = read_only ? SQLITE_OPEN_READONLY
                              : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path_.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error(fmt::format("{}: cannot open: {}", path_, msg));
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    configure(d, read_only);
  } catch (...) {
    // The destructor does not run for a constructor that throws: close here,
    // or every failed open (a corrupt store, retried) leaks a connection.
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

void database::configure(durability d, bool read_only) {
  if (!read_only) {
    exec("PRAGMA journal_mode=WAL");
    exec(d == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    // Checkpoint every 4,000 pages (16 MB of WAL) instead of 1,000: the
    // journal rewrites the same index and subject pages batch after batch,
    // and a checkpoint copies each page once however often it changed
    // (measured: checkpoints were a fifth of the journal writer's CPU).
    exec("PRAGMA wal_autocheckpoint=4000");
    // After a checkpoint that resets the WAL, cut the file back to 64 MiB:
    // without this it keeps its largest size until the last connection
    // closes (530 MB was measured after a burst).
    exec("PRAGMA journal_size_limit=67108864");
    // Grow the database file 8 MiB at a time (fallocate): a checkpoint
    // that appends pages then writes into space already allocated, so on
    // ext4 (data=ordered) the directory's own fsyncs do not wait for our
    // new blocks' data to reach the disk first.
    int chunk = 8 << 20;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
  }
  exec("PRAGMA foreign_keys=ON");
}

database::~database() {
  cache_.clear(); // finalize statements before closing
  sqlite3_close(db_);
}

statement &database::cached(const std::string &sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end())
    it = cache_.emplace(sql, std::make_unique<statement>(*this, sql)).first;
  it->second->reset();
  return *it->second;
}

void database::fail(std::string_view what) const {
  throw store_error(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

void database::exec(const char *sql) {
  char *err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw store_error(fmt::format("{}: {}: {}", path_, sql, msg));
  }
}

statement database::prepare(std::string_view sql) { return statement(*this, sql); }

int64_t database::changes() const { return sqlite3_changes(db_); }

void database::set_busy_timeout(std::chrono::milliseconds wait) {
  sqlite3_busy_timeout(db_, static_cast<int>(wait.count()));
}

bool database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

statement::statement(database &db, std::string_view sql) : db_(&db) {
  if (sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &st_, nullptr) != SQLITE_OK)
    db.fail(fmt::format("prepare \"{}\"", sql));
}

statement::~statement() { sqlite3_finalize(st_); }

statement::statement(statement &&other) noexcept : db_(other.db_), st_(other.st_) {
  other.st_ = nullptr;
}

statement &statement::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}

statement &statement::bind_static(int i, std::string_view v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}

statement &statement::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) db_->fail("bind");
  return *this;
}

statement &statement::bind_double(int i, double v) {
  if (sqlite3_bind_double(st_, i, v) != SQLITE_OK) db_->fail("bind");
  return *this;
}

double statement::real(int col) const { return sqlite3_column_double(st_, col); }

statement &statement::bind_null(int i) {
  if (sqlite3_bind_null(st_, i) != SQLITE_OK) db_->fail("bind");
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string sql = sqlite3_sql(st_) ? sqlite3_sql(st_) : "";
  sqlite3_reset(st_);
  db_->fail(fmt::format("step \"{}\"", sql));
}

void statement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string statement::text(int col) const {
  const auto *p = sqlite3_column_text(st_, col);
  return p ? std::string(reinterpret_cast<const char *>(p),
                         static_cast<size_t>(sqlite3_column_bytes(st_, col)))
           : std::string{};
}

int64_t statement::integer(int col) const { return sqlite3_column_int64(st_, col); }

bool statement::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

transaction::transaction(database &db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

transaction::~transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

} // namespace reclaim::sqlite
