// store_health.cpp — see store_health.hpp. All checks are SQLite's own
// (user_version, quick_check, SQLITE_FCNTL_HAS_MOVED, wal_checkpoint).
#include "store/store_health.hpp"

#include "base/clock.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <fstream>
#include <system_error>

namespace reclaim::store {

void refuse_newer_schema(sqlite::database &db, const std::filesystem::path &path) {
  auto st = db.prepare("PRAGMA user_version");
  const int64_t found = st.step() ? st.integer(0) : 0;
  if (found > schema_version)
    throw sqlite::store_error(fmt::format(
        "{}: state store schema version {} is newer than this reclaim understands (version {}); it was written by "
        "a newer reclaim: run that version, or restore a backup made by this one",
        path.string(), found, schema_version));
}

std::optional<std::string> quick_check(sqlite::database &db, std::chrono::milliseconds budget, bool *finished) {
  struct deadline_t {
    std::chrono::steady_clock::time_point at;
  } deadline{std::chrono::steady_clock::now() + budget};
  sqlite3_progress_handler(
      db.handle(), 1000,
      [](void *p) { return std::chrono::steady_clock::now() > static_cast<deadline_t *>(p)->at ? 1 : 0; }, &deadline);
  std::optional<std::string> problem;
  bool done = true;
  sqlite3_stmt *st = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), "PRAGMA quick_check(5)", -1, &st, nullptr);
  std::string lines;
  if (rc == SQLITE_OK) rc = SQLITE_ROW;
  while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(st, 0));
    const std::string line = text ? text : "";
    if (line != "ok") lines += (lines.empty() ? "" : "; ") + line;
  }
  if (rc == SQLITE_INTERRUPT) {
    done = false;
  } else if (rc != SQLITE_DONE && rc != SQLITE_OK) {
    lines += (lines.empty() ? "" : "; ") + std::string(sqlite3_errstr(rc)) + ": " + sqlite3_errmsg(db.handle());
  }
  sqlite3_finalize(st);
  sqlite3_progress_handler(db.handle(), 0, nullptr, nullptr);
  if (!lines.empty()) problem = lines;
  if (finished) *finished = done;
  return problem;
}

bool file_has_moved(sqlite::database &db) {
  int moved = 0;
  if (sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK) return false;
  return moved != 0;
}

uint64_t wal_bytes(const std::filesystem::path &store) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(store.string() + "-wal", ec);
  return ec ? 0 : n;
}

bool checkpoint(sqlite::database &db) {
  int log = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db.handle(), "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &copied);
  return rc == SQLITE_OK && log == 0;
}

std::filesystem::path history_marker(const std::filesystem::path &store) {
  return store.parent_path() / "store-history";
}

void write_history_marker(const std::filesystem::path &store) {
  const auto path = history_marker(store);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return;
  std::ofstream out(path);
  out << "A baseline of the state store " << store.string() << " was recorded at " << format_utc(now())
      << ".\nWhile this file exists, reclaim refuses to record a new baseline into an empty store here\n"
         "(the old store, with its plans, would be silently forgotten). To start afresh on purpose:\n"
         "reclaimctl store rebaseline\n";
}

std::string history_without_store(const std::filesystem::path &store) {
  std::error_code ec;
  if (std::filesystem::exists(history_marker(store), ec))
    return fmt::format("{} exists: a store with history was here", history_marker(store).string());
  return {};
}

} // namespace reclaim::store
