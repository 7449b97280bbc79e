// store_health.hpp — whether the state store on disk is the one reclaim can
// trust: a schema this version understands, not corrupt, not deleted or
// replaced under the running engine, not silently started afresh over a
// store that had history, and a WAL that does not grow without bound.
#pragma once

#include "store/sqlite.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace reclaim::store {

// The newest state-store schema (PRAGMA user_version) this reclaim reads.
inline constexpr int64_t schema_version = 1;

// Throws store_error naming both versions when the store was written by a
// newer reclaim (a user_version above schema_version).
void refuse_newer_schema(sqlite::database &db, const std::filesystem::path &path);

// PRAGMA quick_check for at most `budget`: the problem SQLite reports, or
// nullopt when none was found (*finished says whether the check ran to the
// end or was cut at the budget).
std::optional<std::string> quick_check(sqlite::database &db, std::chrono::milliseconds budget,
                                       bool *finished = nullptr);

// True when the file this connection has open was deleted, renamed or
// replaced since it was opened (SQLITE_FCNTL_HAS_MOVED).
bool file_has_moved(sqlite::database &db);

// Size of the store's write-ahead log (0 when there is none).
uint64_t wal_bytes(const std::filesystem::path &store);

// Checkpoints the WAL into the database and truncates it when no reader
// holds an older snapshot; never waits for other connections. True when
// the WAL was emptied.
bool checkpoint(sqlite::database &db);

// The history marker: a small file beside the store, written when the
// store's first baseline is recorded (or an older store is opened). A store
// without a baseline beside a marker means the old store is gone: a new
// baseline would silently forget its plans, so it needs `reclaimctl store
// rebaseline`, which removes the marker.
std::filesystem::path history_marker(const std::filesystem::path &store);
void write_history_marker(const std::filesystem::path &store);
// Why a baseline must not be recorded silently ("" when it may).
std::string history_without_store(const std::filesystem::path &store);

} // namespace reclaim::store
