// audit_log.hpp — the audit log's writing side. Whoever decides or acts puts
// the record into the `audit_outbox` table of the state store, in the same
// transaction as the change it describes (enqueue). One appender at a time
// (an exclusive flock on the log file) drains the outbox into the JSON Lines
// log, chains and hashes the records and signs checkpoints (docs/audit.md).
#pragma once

#include "audit/audit_config.hpp"
#include "audit/canonical_json.hpp"
#include "base/clock.hpp"
#include "audit/merkle.hpp"
#include "audit/note.hpp"
#include "audit/pseudonym.hpp"
#include "base/log.hpp"
#include "store/sqlite.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace reclaim::audit {

void create_outbox(sqlite::database &db);
// Queues a record. body holds "type" and "actor" and any of "subject_id",
// "personal" (object: name, mail, dn — encrypted on append), "ids",
// "assets", "outcome", "reason", "policy", "data"; "time" defaults to now.
// Runs inside the caller's transaction when one is open.
void enqueue(sqlite::database &db, nlohmann::json body);
// enqueue() on its own connection (for callers without a database handle).
void enqueue(const std::filesystem::path &state_db, nlohmann::json body);

class appender {
public:
  // Takes the lock without waiting; nullptr when another process holds it.
  static std::unique_ptr<appender> try_open(const audit_config &cfg,
                                            const std::filesystem::path &state_db,
                                            const logger &log);
  // Waits for the lock.
  appender(const audit_config &cfg, const std::filesystem::path &state_db, const logger &log);
  ~appender(); // drains for at most cfg.stop_drain, appends log_stop, signs a final checkpoint
  appender(const appender &) = delete;
  appender &operator=(const appender &) = delete;

  // Moves committed outbox rows into the log; returns how many. With a
  // deadline it stops between chunks once the deadline has passed (what is
  // left stays in the outbox for the next drain).
  size_t drain(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  // Appends one record directly (the log's own records).
  void append(nlohmann::json body);
  // Signs a checkpoint now (appending a checkpoint record first).
  void checkpoint();
  // A heartbeat checkpoint when checkpoint_interval has passed.
  void tick();
  uint64_t size() const { return range_.size(); }
  pseudonymizer &pseudonyms() { return *pseudo_; }
  // Adds a signer for the overlap of a key rotation.
  void add_signer(signer s) { signers_.push_back(std::move(s)); }
  const std::vector<signer> &signers() const { return signers_; }

private:
  appender(const audit_config &cfg, const std::filesystem::path &state_db, const logger &log,
           bool wait);
  void recover();
  std::string read_complete(std::string &cut);
  void resign_lost_notes(const std::vector<std::pair<uint64_t, hash>> &signed_sizes);
  void append_line(const nlohmann::json &body, int64_t outbox_id);
  void append_raw(std::string_view body, int64_t outbox_id);
  void flush();
  void queue_checkpoint();
  void write_pending_notes();
  void maybe_checkpoint();

  audit_config cfg_;
  const logger &log_;
  int fd_ = -1;
  bool locked_ = false;
  std::unique_ptr<sqlite::database> db_;
  std::unique_ptr<pseudonymizer> pseudo_;
  std::vector<signer> signers_;
  hasher hasher_;
  compact_range range_;
  hash last_leaf_{};
  int64_t last_outbox_ = 0;
  uint64_t since_checkpoint_ = 0;
  uint64_t last_checkpoint_size_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_time_;
  std::string buffer_;
  std::vector<std::pair<uint64_t, hash>> pending_notes_; // signed after the records are durable
  std::unordered_map<std::string, std::string> pseudonym_cache_;
  std::string last_time_; // quoted JSON string of the newest record's time
  time_point last_now_{};
  std::string origin_json_;
  std::vector<member_span> scratch_top_;
  std::vector<std::pair<std::string_view, std::string_view>> scratch_members_;
  std::string failure_; // last write failure, recorded once writing works again
};

} // namespace reclaim::audit
