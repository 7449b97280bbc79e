// engine.cpp — the engine's life: load config, open the store, run the
// writer thread. LDAP changes arrive from the host's operation threads and
// are only queued there; the writer maps and journals them in batches
// (one SQLite transaction per batch, synchronous=NORMAL), because the
// directory itself is the durable source and catch-up recovers a crash
// (docs/journal.md).
#include "engine/engine.hpp"

#include "store/store_health.hpp"

#include <algorithm>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>
#include <fmt/format.h>

namespace reclaim {
namespace {

// Names the calling thread (top -H, perf, gdb) and gives it idle
// priority (SCHED_IDLE): the engine's threads run inside the directory
// server, whose operation threads must win the CPU. They run whenever a CPU
// would otherwise idle; under saturation the journal lags (its queue is
// bounded, see queue_limit_bytes) instead of slowing every client. Where
// SCHED_IDLE is refused (or [engine] background_priority = "nice"), the
// thread runs at nice +10 instead.
} // namespace

void engine::background_thread(const std::string &name, bool idle, int nice_level) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  sched_param none{};
  if (!idle || pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) != 0)
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice_level); // Linux: per thread
  std::lock_guard lock(tids_mu_);
  tids_.push_back(gettid());
}

// A stop must not wait for threads the host starves: at idle priority on a
// saturated CPU the journal writer took more than 10 s to finish its last
// batch (slapd was then killed). Back to normal priority for the way out;
// where the host may not raise priority (RLIMIT_NICE) nothing changes.
void engine::leave_background_priority() noexcept {
  std::lock_guard lock(tids_mu_);
  for (const pid_t tid : tids_) {
    sched_param none{};
    ::sched_setscheduler(tid, SCHED_OTHER, &none);
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 0);
  }
}

engine::engine(const open_options &o)
    : cfg_(load_config(o.config_path)), log_(o.sink, o.sink_payload, log_level::info),
      validate_only_(o.validate_only) {
  if (o.role) cfg_.engine.role = *o.role;
  log_.set_level(cfg_.engine.level);
  ldap_attrs_ = ldap::needed_attributes(cfg_.ldap);
  if (validate_only_) return;
  try {
    writer_journal_ = std::make_unique<journal>(cfg_.journal_path(), sqlite::durability::normal);
    writer_journal_->join_people(cfg_.engine.person_keys);
  } catch (const sqlite::store_error &e) {
    const std::string_view what = e.what();
    if (what.find("malformed") != what.npos || what.find("not a database") != what.npos)
      throw corrupt_store(what);
    throw;
  }
  writer_journal_->cache_subjects(200000);
  // Pages the writer wrote stay in its cache: without this it read most of
  // them back from the WAL (pread copies were a fifth of its CPU).
  writer_journal_->db().exec("PRAGMA cache_size=-16384");
  check_store();
  const bool intake_only = cfg_.engine.role == engine_role::intake;
  if (!intake_only) lease_ = std::make_unique<engine_lease>(cfg_.engine.state_dir);
  else watch_engines();
  try {
    if (cfg_.audit.enabled && !intake_only) {
      // Opened here so a bad key or path stops the start with its message.
      // The engine may open on a directory operation thread, so it never
      // waits for the log's lock: if reclaimctl holds it right now, the audit
      // thread takes the log over when it is free (records wait in the
      // outbox meanwhile, and no action runs before its record is queued).
      // The witness sender runs beside the appender, so in the one process
      // that holds the log's lock (open_audit starts it).
      if (!cfg_.audit.witnesses.empty()) witnesses_ = std::make_unique<audit::witness_sender>(cfg_.audit, log_);
      open_audit(true);
      audit_thread_ = std::thread([this] { guarded("audit", false, [this] { audit_loop(); }); });
    }
    writer_ = std::thread([this] { guarded("journal writer", true, [this] { writer_loop(); }); });
    if (!intake_only)
      planner_thread_ = std::thread([this] { guarded("planner", false, [this] { planner_loop(); }); });
    if (cfg_.policy.scheduler.in_process && !intake_only)
      for (int i = 0; i < cfg_.policy.scheduler.workers; ++i)
        workers_.emplace_back([this, i] { guarded("dispatch worker", false, [this, i] { worker_loop(i); }); });
  } catch (...) {
    // A joinable std::thread destroyed during unwinding is std::terminate:
    // stop what started, then report the failure to the caller.
    stop_threads();
    throw;
  }
  log_.log(log_level::info, "engine started in {} mode{}, role {}{}: config {} (sha256 {}), journal {}",
           cfg_.policy.dry_run ? "dry_run" : "enforce",
           cfg_.policy.dry_run ? " (plans are recorded, no connector is called)" : "",
           engine_role_name(cfg_.engine.role),
           intake_only ? " (journals only: another process with role engine or all plans, dispatches and "
                         "appends the audit log)"
                       : "",
           cfg_.path.string(), cfg_.sha256, cfg_.journal_path().string());
}

engine::~engine() {
  stop_threads();
  audit_.reset(); // drains what is left, records the stop, signs
}

void engine::stop_threads() noexcept {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  {
    std::lock_guard lock(stop_mu_);
  }
  stop_cv_.notify_all();
  leave_background_priority();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(work_mu_);
    ++kicks_;
  }
  work_cv_.notify_all();
  if (planner_thread_.joinable()) planner_thread_.join();
  kick_workers();
  for (auto &w : workers_)
    if (w.joinable()) w.join();
  if (audit_thread_.joinable()) audit_thread_.join();
  if (witnesses_) witnesses_->stop(); // after the audit thread, which may start it
}

// At open: a corrupt store is refused with what to do (a bounded check: a
// very large store is checked for two seconds, then trusted); a store that
// has a baseline gets its history marker (stores made before 0.4 had none).
void engine::check_store() {
  bool finished = true;
  if (const auto problem = store::quick_check(writer_journal_->db(), std::chrono::seconds(2), &finished))
    throw corrupt_store("quick_check: " + *problem);
  if (!finished)
    log_.log(log_level::info, "state store integrity check stopped after 2 s (a large store); continuing");
  if (writer_journal_->has_baseline()) store::write_history_marker(cfg_.journal_path());
}

sqlite::store_error engine::corrupt_store(std::string_view detail) const {
  return sqlite::store_error(fmt::format(
      "{}: the state store is corrupt ({}). Stop the directory server, keep a copy of the file, then restore a "
      "backup, or salvage it with `sqlite3 {} .recover | sqlite3 recovered.sqlite3` and put that in its place",
      cfg_.journal_path().string(), detail, cfg_.journal_path().string()));
}

// The writer asks before every batch (a stat): a store deleted or replaced
// under the running engine would take every later write with it. The engine
// then stops writing, planning and dispatching, and says so every minute.
bool engine::store_lost(sqlite::database &own) {
  if (store_lost_.load(std::memory_order_acquire)) return true;
  if (!store::file_has_moved(own)) return false;
  store_lost_.store(true, std::memory_order_release);
  return true;
}

void engine::say_store_lost() noexcept {
  const auto t = std::chrono::steady_clock::now();
  std::lock_guard lock(lost_mu_);
  if (lost_said_ && t - *lost_said_ < std::chrono::minutes(1)) return;
  lost_said_ = t;
  try {
    log_.log(log_level::error,
             "ALERT: the state store {} was deleted or replaced while the engine runs: nothing is journalled, "
             "planned or dispatched any more ({} changes not journalled so far; catch-up finds them in the "
             "directory). Put the file back, or restart the directory server to open what is there now (an empty "
             "store is not baselined over a store that had history: see `reclaimctl store rebaseline`)",
             cfg_.journal_path().string(), lost_changes_.load());
  } catch (...) {
  }
}

// Every thread the engine starts runs its loop through here: an exception
// that leaves the loop (a store locked past its busy timeout, a full disk,
// memory) is logged and counted, and the loop starts again after a backoff
// (0.1 s doubling to 30 s, cut short by a stop). Nothing escapes the
// thread, so nothing reaches std::terminate in the host. The writer's loop
// runs again at a stop (up to twice) to drain what is queued.
void engine::guarded(const char *what, bool drain_at_stop, const std::function<void()> &loop) noexcept {
  auto backoff = std::chrono::milliseconds(100);
  int after_stop = 0;
  for (;;) {
    try {
      loop();
      return;
    } catch (const std::exception &e) {
      thread_failed(what, e.what(), backoff);
    } catch (...) {
      thread_failed(what, "unknown exception", backoff);
    }
    bool stopped;
    {
      std::unique_lock lock(stop_mu_);
      stopped = stop_cv_.wait_for(lock, backoff, [this] { return stopping(); });
    }
    if (stopped && (!drain_at_stop || ++after_stop > 2)) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
  }
}

void engine::thread_failed(const char *what, const char *reason, std::chrono::milliseconds backoff) noexcept {
  const auto n = thread_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  try {
    log_.log(log_level::error, "{} thread failed ({} thread failures so far), restarting in {} ms: {}", what, n,
             backoff.count(), reason);
  } catch (...) {
  }
}

// Drains the outbox about five times a second and signs heartbeat
// checkpoints; a failure is an ALERT and is retried (the rows stay queued).
// Each drain stops after 250 ms so a stop is seen even with a large backlog
// (a drain until the outbox was empty kept slapd from stopping for more than
// 10 s after a burst); with rows left it goes on without sleeping.
void engine::open_audit(bool say_if_locked) {
  audit_ = audit::appender::try_open(cfg_.audit, cfg_.journal_path(), log_);
  if (!audit_) {
    // Another engine sharing the state_dir appends (its lock is the lease);
    // this process's records reach the log through the shared outbox.
    if (say_if_locked)
      log_.log(log_level::info, "audit: another process holds {} and appends the records of every host sharing "
               "the state_dir; this one takes the log over when it is free", cfg_.audit.path.string());
    return;
  }
  if (witnesses_) witnesses_->start();
  audit_->append({{"type", "config_loaded"}, {"actor", "engine"},
                  {"policy", {{"config_sha256", cfg_.sha256}}}, {"data", {{"path", cfg_.path.string()}}}});
}

void engine::audit_loop() {
  background_thread("reclaim-audit", cfg_.engine.idle_priority, background_nice);
  while (!stopping()) {
    try {
      if (!audit_) open_audit(false);
      if (audit_) {
        const auto n = audit_->drain(std::chrono::steady_clock::now() + std::chrono::milliseconds(250));
        audit_->tick();
        if (n > 0) continue; // perhaps more: check for a stop, then drain on
      }
    } catch (const std::exception &e) {
      log_.log(log_level::error, "audit: ALERT: {}", e.what());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void engine::kick() {
  {
    std::lock_guard lock(work_mu_);
    ++kicks_;
  }
  work_cv_.notify_all();
}

bool engine::stopping() {
  std::lock_guard lock(mu_);
  return stop_;
}

void engine::planner_loop() {
  background_thread("reclaim-plan", cfg_.engine.idle_priority, background_nice);
  // Opened inside the loop's try: opening needs the store's write lock
  // (schema), which another connection may hold past the busy timeout.
  std::unique_ptr<journal> j;
  std::unique_ptr<planner> p;
  // Events journalled by another process sharing the state_dir (a plugin
  // with role intake, another host) come with no kick: every tick, between
  // the full passes of each poll interval, a pass runs when another
  // connection has committed (PRAGMA data_version, no I/O).
  const auto tick = std::min(cfg_.policy.scheduler.poll, std::chrono::milliseconds(100));
  auto last_pass = std::chrono::steady_clock::now();
  for (;;) {
    uint64_t seen;
    bool kicked;
    {
      std::unique_lock lock(work_mu_);
      kicked = work_cv_.wait_for(lock, tick, [&] { return kicks_ != planned_kicks_; });
      seen = kicks_;
    }
    bool external = false;
    if (!kicked && p && std::chrono::steady_clock::now() - last_pass < cfg_.policy.scheduler.poll) {
      try {
        external = others_wrote(j->db());
      } catch (const std::exception &e) {
        log_.log(log_level::warning, "planner: data_version unreadable: {}", e.what());
      }
      if (!external) {
        // Between passes, too: the other engines' leases (cheap: a
        // directory listing and one flock per engine every 2 s).
        if (recovered_.load(std::memory_order_acquire) &&
            std::chrono::steady_clock::now() - engines_checked_ >= std::chrono::seconds(2)) {
          try {
            recover_running(false, j.get());
          } catch (const std::exception &e) {
            log_.log(log_level::error, "requeuing interrupted actions failed (retried): {}", e.what());
          }
        }
        continue;
      }
    }
    last_pass = std::chrono::steady_clock::now();
    try {
      if (!p) {
        j = std::make_unique<journal>(cfg_.journal_path(), sqlite::durability::normal);
        p = std::make_unique<planner>(cfg_, *j, log_);
      }
      if (!recovered_.load(std::memory_order_acquire)) {
        // Actions a crash left "running" go back to the queue before any
        // worker claims one; connectors' check-before-act makes the replay
        // harmless. Here, not at open: it needs the write lock, which
        // another process may hold (the open must not fail or wait for it).
        recover_running(true, j.get());
        recovered_.store(true, std::memory_order_release);
        kick_workers();
      } else if (std::chrono::steady_clock::now() - engines_checked_ >= std::chrono::seconds(2)) {
        recover_running(false, j.get());
      }
      if (store_lost(j->db())) {
        say_store_lost();
      } else {
        // Another process's planner may have planned what this one's
        // workers can run: they look, too.
        if (p->plan_pending([this] { return stopping(); }) > 0 || external) kick_workers();
        tend_wal(j->db());
        watch_config();
      }
    } catch (const std::exception &e) {
      const auto n = thread_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
      log_.log(log_level::error, "planning failed (retried; {} failures so far): {}", n, e.what());
      if (!p) j.reset();
    }
    {
      std::lock_guard lock(work_mu_);
      planned_kicks_ = seen;
    }
    planned_cv_.notify_all();
    if (stopping()) return;
  }
}

// Actions left "running" by an engine that died (killed -9, power loss)
// are requeued once no other engine lives on the state_dir: a live one may
// be acting on its own running actions, which must not run twice. This
// process's workers pause meanwhile (their claims are not requeued either).
void engine::recover_running(bool at_start, journal *j) {
  engines_checked_ = std::chrono::steady_clock::now();
  int dead = 0;
  const int peers = live_engines(cfg_.engine.state_dir, lease_->name(), &dead);
  if (at_start || dead > 0) orphans_possible_ = true;
  if (!orphans_possible_) return;
  if (peers > 0) {
    if (at_start || dead > 0)
      log_.log(log_level::info,
               "{} other engine process(es) run on {}: actions left running by a stopped one are requeued when "
               "this is the only one, or once they have been running for {} minutes", peers,
               cfg_.engine.state_dir.string(), stale_running.count());
    if (j) requeue_stale(*j);
    return;
  }
  scheduler recover(cfg_, log_);
  int64_t n = 0;
  {
    std::unique_lock lock(act_mu_);
    act_paused_ = true;
    act_cv_.wait(lock, [&] { return acting_ == 0; });
  }
  try {
    n = recover.requeue_running();
  } catch (...) {
    std::lock_guard lock(act_mu_);
    act_paused_ = false;
    act_cv_.notify_all();
    throw;
  }
  {
    std::lock_guard lock(act_mu_);
    act_paused_ = false;
  }
  act_cv_.notify_all();
  orphans_possible_ = false;
  if (n > 0)
    log_.log(log_level::warning, "{} actions interrupted by a stop{} were requeued", n,
             at_start ? "" : " of another engine process on the state_dir");
  if (n > 0) kick_workers();
}

// With other engines alive, an action a dead one left running is told from
// theirs by its age: a claim older than stale_running is no call in flight
// (HTTP calls time out long before; a live engine records every outcome),
// and the connectors' check-before-act makes a rare replay harmless.
void engine::requeue_stale(journal &j) {
  const auto t = std::chrono::steady_clock::now();
  if (t - stale_checked_ < std::chrono::seconds(5)) return;
  stale_checked_ = t;
  const auto wall = now();
  auto &st = j.db().cached("UPDATE actions SET status = 'pending', outcome = 'requeued: left running by an engine "
                           "process that stopped', updated_ms = ?2 WHERE status = 'running' AND updated_ms < ?1");
  st.bind(1, to_unix_ms(wall - stale_running)).bind(2, to_unix_ms(wall)).run();
  if (const auto n = j.db().changes(); n > 0) {
    log_.log(log_level::warning, "{} actions running for more than {} minutes (their engine process stopped) were "
             "requeued", n, stale_running.count());
    kick_workers();
  }
}

bool engine::act_once(scheduler &s) {
  {
    std::unique_lock lock(act_mu_);
    act_cv_.wait(lock, [&] { return !act_paused_; });
    ++acting_;
  }
  struct done_acting {
    engine &e;
    ~done_acting() {
      {
        std::lock_guard lock(e.act_mu_);
        --e.acting_;
      }
      e.act_cv_.notify_all();
    }
  } done{*this};
  return s.run_one(now());
}

// Intake only, at open and once a minute on the writer's thread: journalled
// events wait unplanned while no engine process serves the state_dir.
void engine::watch_engines() {
  const auto t = std::chrono::steady_clock::now();
  if (engine_seen_ && t - engines_checked_ < std::chrono::minutes(1)) return;
  engines_checked_ = t;
  const bool seen = live_engines(cfg_.engine.state_dir, {}) > 0;
  if (engine_seen_ == seen) return;
  engine_seen_ = seen;
  if (seen)
    log_.log(log_level::info, "role intake: an engine process serves {}", cfg_.engine.state_dir.string());
  else
    log_.log(log_level::warning,
             "role intake: no engine process (role engine or all, e.g. reclaim-scimd) serves {} yet: events are "
             "journalled and wait for it to plan and dispatch them",
             cfg_.engine.state_dir.string());
}

bool engine::others_wrote(sqlite::database &db) {
  auto &st = db.cached("PRAGMA data_version");
  const int64_t v = st.step() ? st.integer(0) : 0;
  st.reset();
  const bool changed = v != data_version_;
  data_version_ = v;
  return changed;
}

void engine::kick_workers() {
  {
    std::lock_guard lock(work_mu_);
    ++dispatch_kicks_;
  }
  dispatch_cv_.notify_all();
}

// Once a minute on the planner's thread: the engine applies its config only
// at start, so an edited file is said once per new content.
void engine::watch_config() {
  const auto t = std::chrono::steady_clock::now();
  if (t - config_checked_ < std::chrono::minutes(1)) return;
  config_checked_ = t;
  const auto on_disk = config_changed_on_disk(cfg_);
  if (!on_disk || *on_disk == config_said_) return;
  config_said_ = *on_disk;
  log_.log(log_level::warning,
           "config {} changed on disk (sha256 {}, loaded {}): the engine applies its config only at start; restart "
           "the directory server to apply it (reclaimctl config show)",
           cfg_.path.string(), *on_disk, cfg_.sha256);
}

// Every 5 s on the planner's thread: a WAL past 64 MiB is checkpointed and
// truncated when no reader holds an older snapshot (never waiting for one),
// and its size is logged. SQLite's own checkpoints cannot reset a WAL that
// is written continuously; this one runs between planning passes.
void engine::tend_wal(sqlite::database &db) {
  const auto t = std::chrono::steady_clock::now();
  if (t - wal_checked_ < std::chrono::seconds(5)) return;
  wal_checked_ = t;
  const auto before = store::wal_bytes(cfg_.journal_path());
  wal_bytes_.store(before, std::memory_order_relaxed);
  if (before <= (64u << 20)) return;
  db.set_busy_timeout(std::chrono::milliseconds(0));
  const bool emptied = store::checkpoint(db);
  db.set_busy_timeout(std::chrono::seconds(10));
  const auto after = store::wal_bytes(cfg_.journal_path());
  wal_bytes_.store(after, std::memory_order_relaxed);
  log_.log(emptied ? log_level::info : log_level::warning, "state store WAL was {} MiB: checkpointed, now {} MiB{}",
           before >> 20, after >> 20, emptied ? "" : " (a reader holds an older snapshot; tried again in 5 s)");
}

void engine::worker_loop(int index) {
  background_thread(fmt::format("reclaim-act-{}", index), cfg_.engine.idle_priority, background_nice);
  std::unique_ptr<scheduler> s;
  for (;;) {
    // Work planned after this read wakes the wait below even when its kick
    // comes before the wait starts.
    uint64_t seen = 0;
    {
      std::lock_guard lock(work_mu_);
      seen = dispatch_kicks_;
    }
    try {
      if (!s && recovered_.load(std::memory_order_acquire)) s = std::make_unique<scheduler>(cfg_, log_);
      while (s && !stopping() && !store_lost_.load(std::memory_order_acquire) && act_once(*s)) {
      }
    } catch (const std::exception &e) {
      log_.log(log_level::error, "dispatch worker {} failed (retried): {}", index, e.what());
      s.reset();
    }
    if (stopping()) return;
    std::unique_lock lock(work_mu_);
    dispatch_cv_.wait_for(lock, cfg_.policy.scheduler.poll, [&] { return dispatch_kicks_ != seen; });
  }
}

journal &engine::sync_journal() {
  if (!sync_) {
    sync_ = std::make_unique<journal>(cfg_.journal_path(), sqlite::durability::full);
    sync_->join_people(cfg_.engine.person_keys);
  }
  return *sync_;
}

bool engine::submit(event_record ev) {
  std::vector<event_record> one;
  one.push_back(std::move(ev));
  return submit_many(std::move(one)).front();
}

std::vector<bool> engine::submit_many(std::vector<event_record> evs) {
  if (validate_only_) throw usage_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  const auto recorded = now();
  for (auto &ev : evs) ev.recorded = recorded;
  std::vector<bool> inserted(evs.size(), false);
  std::lock_guard lock(sync_mu_);
  auto &j = sync_journal();
  if (store_lost(j.db())) {
    say_store_lost();
    throw sqlite::store_error(fmt::format("{}: the state store was deleted or replaced while the engine runs; "
                                          "nothing is recorded until the directory server is restarted",
                                          cfg_.journal_path().string()));
  }
  sqlite::transaction tx(j.db());
  for (size_t i = 0; i < evs.size(); ++i) inserted[i] = j.append(evs[i]);
  tx.commit();
  for (const auto &ev : evs)
    if (!ev.person_conflict.empty()) log_.log(log_level::warning, "event {}: {}", ev.idempotency_key, ev.person_conflict);
  kick();
  return inserted;
}

void engine::ldap_submit(ldap::change c) {
  if (validate_only_) throw usage_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  if (c.op == ldap::operation::remove && c.when == ldap::phase::prepare) {
    if (!c.before) return;
    std::lock_guard lock(sync_mu_);
    auto &j = sync_journal();
    sqlite::transaction tx(j.db());
    if (ldap::prepare_delete(j, cfg_.ldap, *c.before)) tx.commit();
    return;
  }
  if (c.when == ldap::phase::abort && c.op != ldap::operation::remove) return;
  thread_local std::string packed;
  packed.clear();
  std::unique_ptr<ldap::change> full;
  if (!ldap::pack_modify(c, packed)) full = std::make_unique<ldap::change>(std::move(c));
  const size_t bytes = sizeof(queued) + (full ? approx_bytes(*full) : packed.size());
  bool was_empty = false;
  {
    std::lock_guard lock(mu_);
    if (queue_bytes_ + bytes > cfg_.engine.queue_limit_bytes) {
      drop(full ? *full : c);
      return;
    }
    was_empty = queue_.empty();
    queue_.push_back({static_cast<uint32_t>(queue_buf_.size()), static_cast<uint32_t>(packed.size()), std::move(full)});
    queue_buf_.append(packed);
    queue_bytes_ += bytes;
    ++queued_;
  }
  // The writer takes a batch some milliseconds after its first change.
  if (was_empty) wake_.notify_one();
}

// Called with mu_ held.
void engine::drop(const ldap::change &c) {
  const auto csn = ldap::change_csn(c);
  if (!overflow_from_ || csn.empty() || csn < *overflow_from_) overflow_from_ = csn;
  overflowed_ = true;
  if (dropped_++ % 10000 == 0)
    log_.log(log_level::warning,
             "journal queue full ({} changes, {} MiB): change dropped ({} so far); catch-up from entryCSN {} "
             "recovers them once the queue has drained",
             queue_.size(), queue_bytes_ >> 20, dropped_, overflow_from_->empty() ? "(resume point)" : *overflow_from_);
}

// Runs on a host thread (each operation's callback calls it), so it never
// waits: another thread refreshing or catching up is left to it, and the
// queue is checked before the store's connection is touched.
size_t engine::ldap_refresh(const ldap::search_fn &search) {
  if (validate_only_) throw usage_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  if (!refresh_wanted()) return 0;
  std::unique_lock sync(sync_mu_, std::try_to_lock);
  if (!sync) return 0;
  return catch_up_overflow(search) + refresh_unread(search);
}

// Writes what a host search found through the host threads' connection;
// the writer's cached copies of people are stale afterwards.
size_t engine::write_found(const std::function<size_t(journal &)> &write) {
  subjects_changed_ = true;
  auto &j = sync_journal();
  j.fold(); // its reads then find few people in subject_log (subjects_now)
  const size_t n = write(j);
  subjects_changed_ = true;
  kick();
  return n;
}

// Called with sync_mu_ held.
size_t engine::refresh_unread(const ldap::search_fn &search) {
  std::vector<ldap::change> wanted;
  {
    std::lock_guard queue_lock(mu_);
    for (auto &[dn, c] : unread_) wanted.push_back(std::move(c));
    unread_.clear();
    unread_wanted_ = false;
  }
  if (wanted.empty()) return 0;
  try {
    return write_found([&](journal &j) { return ldap::refresh(j, cfg_.ldap, wanted, search, log_); });
  } catch (...) {
    std::lock_guard queue_lock(mu_); // try again on a later call
    for (auto &c : wanted) unread_.try_emplace(c.dn, std::move(c));
    unread_wanted_ = true;
    throw;
  }
}

// After an overflow, once the writer has emptied the queue (the machine has
// time again): catch-up from the oldest dropped change. Called with
// sync_mu_ held.
size_t engine::catch_up_overflow(const ldap::search_fn &search) {
  std::optional<std::string> from;
  {
    std::lock_guard queue_lock(mu_);
    if (!overflowed_ || !queue_.empty() || !retry_.empty() || written_ < queued_) return 0;
    from = std::move(overflow_from_);
    overflow_from_.reset();
    overflowed_ = false;
  }
  try {
    return write_found([&](journal &j) {
      return ldap::catch_up(j, cfg_.ldap, search, log_, from->empty() ? std::nullopt : from);
    });
  } catch (...) {
    std::lock_guard queue_lock(mu_); // again on a later call
    if (!overflow_from_ || *from < *overflow_from_) overflow_from_ = from;
    overflowed_ = true;
    throw;
  }
}

size_t engine::ldap_catch_up(const ldap::search_fn &search) {
  if (validate_only_) throw usage_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  std::lock_guard lock(sync_mu_);
  return write_found([&](journal &j) { return ldap::catch_up(j, cfg_.ldap, search, log_); });
}

bool engine::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + (timeout.count() == 0 ? std::chrono::hours(24 * 365) : timeout);
  {
    std::unique_lock lock(mu_);
    const uint64_t target = queued_;
    if (!drained_.wait_until(lock, deadline, [&] { return written_ >= target; })) return false;
  }
  // Then one full planning pass over what was journalled (an intake-only
  // process has no planner: another process plans).
  if (cfg_.engine.role == engine_role::intake) return true;
  std::unique_lock lock(work_mu_);
  const uint64_t target = ++kicks_;
  work_cv_.notify_all();
  return planned_cv_.wait_until(lock, deadline, [&] { return planned_kicks_ >= target; });
}

void engine::writer_loop() {
  background_thread("reclaim-journal", cfg_.engine.idle_priority, background_nice);
  bool draining = false;
  std::unique_lock lock(mu_);
  for (;;) {
    if (retry_.empty()) wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && retry_.empty() && stop_) {
      // A clean stop leaves every person in subjects (subject_log empty).
      lock.unlock();
      try {
        writer_journal_->fold();
      } catch (const std::exception &e) {
        log_.log(log_level::warning, "journal: people not folded at stop (done at the next start): {}", e.what());
      }
      return;
    }
    // Let callbacks of operations committed just before arrive, so the batch
    // can be put in commit order (see write_batch), and let a busy directory
    // fill the batch: one SQLite commit per batch_window at most, not one per
    // change (each commit rewrites the same index pages into the WAL, and
    // its writes compete with the directory's own fsyncs). When stopping,
    // drain at once and at normal priority: the host waits for it.
    if (!stop_) {
      lock.unlock();
      std::this_thread::sleep_for(cfg_.engine.batch_window);
      lock.lock();
    }
    if (stop_ && !draining) {
      draining = true;
      sched_param none{};
      pthread_setschedparam(pthread_self(), SCHED_OTHER, &none);
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 0);
    }
    auto &taken = spare_queue_;
    auto &taken_buf = spare_buf_;
    taken.swap(queue_);
    taken_buf.swap(queue_buf_);
    queue_bytes_ = 0;
    std::deque<ldap::change> batch(std::make_move_iterator(retry_.begin()), std::make_move_iterator(retry_.end()));
    retry_.clear();
    lock.unlock();
    const auto n = taken.size() + batch.size();
    for (auto &q : taken) {
      try {
        batch.push_back(q.full ? std::move(*q.full)
                               : ldap::unpack_modify(std::string_view(taken_buf).substr(q.offset, q.size)));
      } catch (const std::exception &e) {
        log_.log(log_level::error, "queued change unreadable, skipped: {}", e.what());
      }
    }
    // Keep the spares' memory while it is used: freeing and regrowing a
    // large buffer every batch would map and unmap memory, which takes the
    // process's memory-map lock that slapd's threads need for page faults.
    // Give it back once a burst is over (this batch used under 1/16).
    if (taken_buf.capacity() > (4u << 20) && taken_buf.size() < taken_buf.capacity() / 16)
      std::string().swap(taken_buf);
    if (taken.capacity() > 65536 && taken.size() < taken.capacity() / 16) std::vector<queued>().swap(taken);
    taken.clear();
    taken_buf.clear();
    write_batch(batch);
    if (cfg_.engine.role == engine_role::intake) watch_engines();
    kick();
    lock.lock();
    written_ += n;
    drained_.notify_all();
  }
}

namespace {
size_t approx_bytes(const ldap::entry &e) {
  size_t n = 64 + e.dn.size();
  for (const auto &[name, values] : e.attrs) {
    n += 96 + name.size();
    for (const auto &v : values) n += 40 + v.size();
  }
  return n;
}
} // namespace

size_t approx_bytes(const ldap::change &c) {
  size_t n = sizeof c + c.actor.size() + c.source.size() + c.dn.size() + (c.before ? approx_bytes(*c.before) : 0) +
             (c.after ? approx_bytes(*c.after) : 0);
  for (const auto &m : c.mods) {
    n += sizeof m + m.type.size();
    for (const auto &v : m.values) n += sizeof v + v.size();
  }
  return n;
}


// Modifications of a person the journal has no copy of. The person's add
// may simply not have arrived yet (callbacks of an add and the next modify
// run on different threads and can queue out of order): such a change goes
// into the next batch again, where it is sorted after the add, for up to a
// second. Then the host reads the entry again (ldap_refresh).
void engine::hand_back(std::vector<ldap::change> &unread) {
  if (unread.empty()) return;
  std::lock_guard lock(mu_);
  const auto now = reclaim::now();
  for (auto &c : unread) {
    if (!stop_ && now - c.time < std::chrono::seconds(1)) {
      retry_.push_back(std::move(c));
      ++queued_; // flush() waits for it as for a queued change
    } else {
      unread_.try_emplace(c.dn, std::move(c));
      unread_wanted_ = true;
    }
  }
}

void engine::write_batch(std::deque<ldap::change> &batch) {
  // Callbacks of consecutive operations run on different threads and may
  // queue out of order (an add's after the same person's next modify).
  // Within a batch, journal in commit order (entryCSN). A delete has no CSN
  // of its own: it keeps its place after what arrived before it.
  std::vector<std::pair<std::string, ldap::change>> keyed;
  std::string last;
  bool complete = true;
  for (auto &c : batch) {
    auto csn = ldap::change_csn(c);
    if (csn.empty() && c.op != ldap::operation::remove) complete = false;
    if (csn.empty()) csn = last;
    last = std::max(last, csn);
    keyed.emplace_back(std::move(csn), std::move(c));
  }
  if (complete)
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
  batch.clear();
  for (auto &[k, c] : keyed) batch.push_back(std::move(c));
  if (store_lost(writer_journal_->db())) {
    lost_changes_ += batch.size();
    say_store_lost();
    return;
  }
  std::vector<ldap::change> unread;
  for (int attempt = 1;; ++attempt) {
    try {
      auto &j = *writer_journal_;
      sqlite::transaction tx(j.db());
      // Checked once the store is ours: a host thread sets the flag before
      // it writes people, so a write committed before BEGIN is seen here.
      if (subjects_changed_.exchange(false)) {
        j.forget_subjects();
        j.fold();
      }
      unread.clear();
      for (const auto &c : batch) {
        try {
          ldap::apply_change(j, cfg_.ldap, c, log_, &unread);
        } catch (const sqlite::store_error &) {
          throw;
        } catch (const std::exception &e) {
          log_.log(log_level::error, "change to \"{}\" not journalled: {}",
                   c.after ? c.after->dn : c.before ? c.before->dn : "?", e.what());
        }
      }
      j.flush_batch();
      tx.commit();
      hand_back(unread);
      return;
    } catch (const std::exception &e) {
      writer_journal_->forget_subjects(); // the rolled-back batch's states
      if (attempt >= 3) {
        log_.log(log_level::error,
                 "journal write failed, {} changes not journalled now (catch-up at next start "
                 "recovers them): {}",
                 batch.size(), e.what());
        return;
      }
      log_.log(log_level::warning, "journal write failed (attempt {}), retrying: {}", attempt, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    }
  }
}

} // namespace reclaim
