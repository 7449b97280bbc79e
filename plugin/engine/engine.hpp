// engine.hpp — one reclaim engine: its configuration, the journal, and the
// writer thread that journals LDAP changes off the host's operation thread.
// The C ABI (c_api.cpp) is a thin shell over this class.
#pragma once

#include "audit/audit_log.hpp"
#include "audit/witness.hpp"
#include "config/config.hpp"
#include "store/journal.hpp"
#include "intake/ldap_intake.hpp"
#include "base/log.hpp"
#include "policy/planner.hpp"
#include "dispatch/scheduler.hpp"
#include "engine/engine_lease.hpp"

#include <atomic>
#include <sys/types.h>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace reclaim {

// A call the engine cannot serve in its mode (e.g. validate-only).
class usage_error : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

struct open_options {
  std::filesystem::path config_path;
  bool validate_only = false;
  log_sink sink = nullptr;
  void *sink_payload = nullptr;
  // A host's override of [engine] role (RECLAIM_OPEN_ROLE_*).
  std::optional<engine_role> role;
};

class engine {
public:
  explicit engine(const open_options &o);
  ~engine();
  engine(const engine &) = delete;
  engine &operator=(const engine &) = delete;

  const config &cfg() const { return cfg_; }
  // The role this process plays (cfg().engine.role after the host's override).
  engine_role role() const { return cfg_.engine.role; }
  const logger &log() const { return log_; }

  // Durable before return; true when new.
  bool submit(event_record ev);
  // All in one transaction, all or nothing; element i true when evs[i] was
  // new (a key repeated within evs counts once, for its first occurrence).
  std::vector<bool> submit_many(std::vector<event_record> evs);

  // Queues a committed change (or commits a delete's pre-image now).
  void ldap_submit(ldap::change c);
  size_t ldap_catch_up(const ldap::search_fn &search);
  // Reads again what the writer could not apply (see ldap::refresh); at
  // once when nothing is wanted.
  size_t ldap_refresh(const ldap::search_fn &search);
  // Whether ldap_refresh has anything to do (two atomic loads): every
  // operation's callback asks, so the answer "no" must cost nothing more.
  // (A validate-only engine answers yes, so ldap_refresh refuses it.)
  bool refresh_wanted() const noexcept {
    return validate_only_ || overflowed_.load(std::memory_order_acquire) || unread_wanted_.load(std::memory_order_acquire);
  }
  const std::vector<std::string> &ldap_attribute_names() const { return ldap_attrs_; }

  // Waits for the writer to drain and the planner to plan it; false on
  // timeout.
  bool flush(std::chrono::milliseconds timeout);

  // Wakes the planner and the dispatch workers.
  void kick();

  // Exceptions that left one of the engine's threads (each was logged and
  // the thread's loop started again).
  uint64_t thread_failures() const noexcept { return thread_failures_.load(std::memory_order_relaxed); }
  // The store's WAL size at the last look (every 5 s).
  uint64_t wal_bytes() const noexcept { return wal_bytes_.load(std::memory_order_relaxed); }
  // Whether the store file was deleted or replaced under the engine (asked
  // through `own`, a connection of the calling thread's).
  bool store_lost(sqlite::database &own);

private:
  void guarded(const char *what, bool drain_at_stop, const std::function<void()> &loop) noexcept;
  void thread_failed(const char *what, const char *reason, std::chrono::milliseconds backoff) noexcept;
  void stop_threads() noexcept;
  void background_thread(const std::string &name, bool idle, int nice_level);
  void leave_background_priority() noexcept;
  void check_store();
  sqlite::store_error corrupt_store(std::string_view detail) const;
  void say_store_lost() noexcept;
  void tend_wal(sqlite::database &db);
  void watch_config();
  void writer_loop();
  void open_audit(bool say_if_locked);
  void planner_loop();
  bool others_wrote(sqlite::database &db);
  void recover_running(bool at_start, journal *j);
  void requeue_stale(journal &j);
  bool act_once(scheduler &s);
  void watch_engines();
  void worker_loop(int index);
  void kick_workers();
  bool stopping();
  void write_batch(std::deque<ldap::change> &batch);
  void drop(const ldap::change &c);
  void hand_back(std::vector<ldap::change> &unread);
  size_t catch_up_overflow(const ldap::search_fn &search);
  size_t refresh_unread(const ldap::search_fn &search);
  size_t write_found(const std::function<size_t(journal &)> &write);
  journal &sync_journal();

  config cfg_;
  logger log_;
  std::vector<std::string> ldap_attrs_;
  bool validate_only_;

  std::mutex sync_mu_; // guards sync_ (host threads, synchronous commits)
  std::atomic<bool> subjects_changed_{false}; // catch-up wrote subjects: the writer forgets its cache
  std::unique_ptr<journal> sync_;

  std::mutex mu_; // guards the queue and counters
  std::condition_variable wake_, drained_;
  // A queued change: a modify packed into queue_buf_ at [offset, offset +
  // size) (the common case: no allocation per change on the host thread,
  // none freed across threads), or anything else as a change object. The
  // writer swaps both with its spares, whose capacity stays allocated.
  struct queued {
    uint32_t offset = 0, size = 0;
    std::unique_ptr<ldap::change> full;
  };
  std::vector<queued> queue_, spare_queue_;
  std::string queue_buf_, spare_buf_;
  size_t queue_bytes_ = 0; // approximate memory held by queue_
  uint64_t queued_ = 0, written_ = 0, dropped_ = 0;
  bool stop_ = false;
  std::unique_ptr<journal> writer_journal_;
  // Changes the writer had no copy of the entry for, by DN, until a host
  // thread reads them again (ldap_refresh).
  std::map<std::string, ldap::change> unread_;
  std::vector<ldap::change> retry_; // for the writer's next batch (hand_back)
  std::atomic<bool> unread_wanted_{false};
  // Changes dropped on a full queue: catch-up from the oldest one's entryCSN
  // ("" = from the resume point) once the queue is empty.
  std::optional<std::string> overflow_from_;
  std::atomic<bool> overflowed_{false};
  std::thread writer_;

  // Planning and dispatch (their own connections, their own threads).
  std::mutex work_mu_;
  std::condition_variable work_cv_, planned_cv_, dispatch_cv_;
  uint64_t kicks_ = 0, planned_kicks_ = 0;
  uint64_t dispatch_kicks_ = 0; // a worker that saw no work waits for a newer one (or the poll)
  std::atomic<bool> recovered_{false}; // interrupted actions requeued: workers may claim
  std::thread planner_thread_;
  int64_t data_version_ = -1; // planner thread only: PRAGMA data_version at the last look
  // This process's lease among the engines sharing the state_dir (roles all
  // and engine). Actions another engine left "running" are requeued only
  // when no other engine lives: a live one may be acting on them.
  std::unique_ptr<engine_lease> lease_;
  bool orphans_possible_ = false;                                // planner thread only
  std::chrono::steady_clock::time_point stale_checked_{};        // planner thread only
  std::chrono::steady_clock::time_point engines_checked_{};      // planner / writer thread
  std::optional<bool> engine_seen_;                              // intake: an engine lived at the last look
  // Workers pause while the planner requeues interrupted actions, so none of
  // this process's own running actions is requeued under it.
  std::mutex act_mu_;
  std::condition_variable act_cv_;
  int acting_ = 0;
  bool act_paused_ = false;
  std::vector<std::thread> workers_;
  std::mutex tids_mu_;
  std::vector<pid_t> tids_; // the engine's threads, for leave_background_priority
  // The audit log's single appender and its thread (absent when [audit] is).
  std::unique_ptr<audit::appender> audit_;
  std::thread audit_thread_;
  std::unique_ptr<audit::witness_sender> witnesses_; // its own thread: a witness never delays the log
  void audit_loop();
  std::atomic<uint64_t> thread_failures_{0};
  std::mutex stop_mu_; // with stop_cv_: a failed thread's backoff, cut short by a stop
  std::condition_variable stop_cv_;
  std::atomic<bool> store_lost_{false};
  std::atomic<uint64_t> lost_changes_{0};
  std::mutex lost_mu_;
  std::optional<std::chrono::steady_clock::time_point> lost_said_;
  std::atomic<uint64_t> wal_bytes_{0};
  std::chrono::steady_clock::time_point wal_checked_{}; // planner thread only
  std::chrono::steady_clock::time_point config_checked_{std::chrono::steady_clock::now()}; // planner thread only
  std::string config_said_;                                                                // planner thread only
};

// The journal queue holds at most [engine] queue_limit_bytes (approximately;
// plus the batch being written). A change that finds it full is not waited for — the
// directory's operation threads never wait for reclaim — but dropped, and
// the entryCSN it carried is remembered: once the queue has drained, the
// next operation's callback runs catch-up from that point (ldap_refresh),
// so the directory, the durable source, fills the gap.
// Approximate memory a queued change holds (for queue_limit_bytes).
size_t approx_bytes(const ldap::change &c);

// An action claimed ("running") longer ago than this, while other engine
// processes share the state_dir, was left by one that stopped.
inline constexpr std::chrono::minutes stale_running{15};

// Nice level of the engine's own threads (journal writer, planner,
// dispatch workers) relative to the host's.
inline constexpr int background_nice = 10;


} // namespace reclaim
