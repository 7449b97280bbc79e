// journal.hpp — the durable journal of lifecycle events in the SQLite state
// store, plus what LDAP intake needs to resume: each subject's last known
// state, the last journalled entryCSN, and prepared deletes.
// The idempotency key is unique, so an event seen twice is stored once.
#pragma once

#include "base/clock.hpp"
#include "store/sqlite.hpp"
#include "base/states.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace reclaim {

struct event_record {
  int64_t seq = 0;
  std::string idempotency_key;
  std::string subject_id;
  std::string subject_name;
  std::string source;
  state current = state::none;
  state previous = state::none;
  time_point time{};
  time_point recorded{};
  std::string actor;
  std::string attributes_json = "{}";
  std::string position; // the source's own order within one millisecond (entryCSN)
  // Set by append when the event's person keys name two different people:
  // it is then journalled under its own subject id, not merged (log it).
  std::string person_conflict;
};

struct subject_record {
  std::string id;
  std::string name;
  state current = state::none;
  std::string transfer_key;
  std::string csn; // LDAP: entryCSN of the last change applied
  // LDAP: the normalised DN ("" once deleted) and the watched attributes as
  // last seen (JSON, ldap::entry_json): the copy a modification applies to.
  std::string ndn;
  std::string entry_json;
};

struct pending_delete {
  std::string subject_id;
  std::string dn;
  std::string entry_json; // the pre-image, for the deleted event
  time_point prepared{};
};

struct event_filter {
  std::optional<std::string> subject_id;
  int64_t after_seq = 0;
  int64_t limit = -1;
  bool by_time = false; // order by when it happened instead of by seq
};

class journal {
public:
  // Creates the store (and its directory, mode 0700) when missing.
  journal(const std::filesystem::path &path, sqlite::durability d);

  sqlite::database &db() { return db_; }
  const std::filesystem::path &path() const { return path_; }
  // Unique per journal object in this process (keys caches of its data).
  uint64_t instance() const { return instance_; }

  // Inserts unless the idempotency key exists; true when inserted. With
  // person keys (join_people), first resolves ev.subject_id to the person
  // an earlier event with a shared key value named.
  bool append(event_record &ev);

  // [engine] person_keys: attribute names whose values join one person's
  // events from every source (ldap, scim, hr) under one subject id.
  void join_people(const std::vector<std::string> &keys);

  std::optional<subject_record> subject(const std::string &id);
  // The live subject at a normalised DN (the newest, should two claim it).
  std::optional<subject_record> subject_by_dn(const std::string &ndn);
  void put_subject(const subject_record &s);
  // Live subjects without a DN (stores written before 0.2).
  int64_t subjects_without_copy();

  std::string resume_csn();
  void set_resume_csn(const std::string &csn); // keeps the maximum
  bool has_baseline();
  void mark_baseline();

  void put_pending_delete(const pending_delete &p);
  void remove_pending_delete(const std::string &subject_id);
  std::vector<pending_delete> pending_deletes();

  std::vector<event_record> events(const event_filter &f);
  int64_t event_count();

  // For the one connection that writes LDAP changes (the engine's writer):
  // remember up to max subjects in memory instead of reading each one back,
  // and write the resume CSN once per batch (flush_batch, before commit).
  // Whoever else writes subjects must call forget_subjects() on it (then
  // it reads subjects_now until its next fold).
  void cache_subjects(size_t max);
  void forget_subjects();
  void flush_batch();
  // Writes the newest subject_log row of each person into subjects and
  // removes the rows (in a transaction of its own unless one is open):
  // all of them, or the oldest at_most. flush_batch folds every
  // fold_interval or fold_rows rows, fold_chunk rows per batch.
  void fold(size_t at_most = 0);
  static constexpr auto fold_interval = std::chrono::seconds(5);
  // 20,000 rows bounds what a host thread's catch-up or refresh, which
  // folds first (engine::write_found), can find in the log. Measured with
  // the sqlite3 shell, 100,000 people, cold cache: folding 10,000 rows 0.4 s,
  // 50,000 rows 1.0 s; one read through subjects_now with 50,000 rows in the
  // log 90 ms.
  static constexpr size_t fold_rows = 20000;
  static constexpr size_t fold_chunk = 5000;

private:
  const char *subjects_source() const;
  void resolve_person(event_record &ev);
  std::vector<std::string> person_keys_; // lower case
  size_t log_rows_ = 0;
  bool read_log_ = true;
  std::chrono::steady_clock::time_point folded_at_ = std::chrono::steady_clock::now();
  sqlite::database db_;
  std::filesystem::path path_;
  uint64_t instance_;
  size_t cache_max_ = 0;
  std::unordered_map<std::string, subject_record> subjects_;
  std::unordered_map<std::string, std::string> subject_at_; // ndn -> id, for cached subjects
  void cache_subject(const subject_record &s);
  std::string pending_resume_;
};

// Opens an existing store read-only (for reclaimctl).
std::vector<event_record> read_events(const std::filesystem::path &path, const event_filter &f);

} // namespace reclaim
