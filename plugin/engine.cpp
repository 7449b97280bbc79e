// engine.cpp — the engine's life: load config, open the store, run the
// writer thread. LDAP changes arrive from the host's operation threads and
// are only queued there; the writer maps and journals them in batches
// (one SQLite transaction per batch, synchronous=NORMAL), because the
// directory itself is the durable source and catch-up recovers a crash
// (docs/journal.md).
#include "engine.hpp"

#include <fmt/format.h>

namespace reclaim {

engine::engine(const open_options &o)
    : cfg_(load_config(o.config_path)), log_(o.sink, o.sink_payload, log_level::info),
      validate_only_(o.validate_only) {
  log_.set_level(cfg_.engine.level);
  ldap_attrs_ = ldap::needed_attributes(cfg_.ldap);
  if (validate_only_) return;
  writer_journal_ = std::make_unique<journal>(cfg_.journal_path(), sqlite::durability::normal);
  writer_ = std::thread([this] { writer_loop(); });
  log_.log(log_level::info, "engine started: config {} (sha256 {}), journal {}",
           cfg_.path.string(), cfg_.sha256, cfg_.journal_path().string());
}

engine::~engine() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

journal &engine::sync_journal() {
  if (!sync_) sync_ = std::make_unique<journal>(cfg_.journal_path(), sqlite::durability::full);
  return *sync_;
}

bool engine::submit(event_record ev) {
  if (validate_only_) throw std::logic_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  ev.recorded = now();
  std::lock_guard lock(sync_mu_);
  auto &j = sync_journal();
  sqlite::transaction tx(j.db());
  const bool inserted = j.append(ev);
  tx.commit();
  return inserted;
}

void engine::ldap_submit(ldap::change c) {
  if (validate_only_) throw std::logic_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  if (c.op == ldap::operation::remove && c.when == ldap::phase::prepare) {
    if (!c.before) return;
    std::lock_guard lock(sync_mu_);
    auto &j = sync_journal();
    sqlite::transaction tx(j.db());
    if (ldap::prepare_delete(j, cfg_.ldap, *c.before)) tx.commit();
    return;
  }
  if (c.when == ldap::phase::abort && c.op != ldap::operation::remove) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= max_queue) {
      if (dropped_++ % 10000 == 0)
        log_.log(log_level::error,
                 "journal queue full ({} changes): dropping; catch-up at next start recovers them",
                 queue_.size());
      return;
    }
    queue_.push_back(std::move(c));
    ++queued_;
  }
  wake_.notify_one();
}

size_t engine::ldap_catch_up(const ldap::search_fn &search) {
  if (validate_only_) throw std::logic_error("engine opened with RECLAIM_OPEN_VALIDATE_ONLY");
  std::lock_guard lock(sync_mu_);
  return ldap::catch_up(sync_journal(), cfg_.ldap, search, log_);
}

bool engine::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = queued_;
  auto done = [&] { return written_ >= target; };
  if (timeout.count() == 0) {
    drained_.wait(lock, done);
    return true;
  }
  return drained_.wait_for(lock, timeout, done);
}

void engine::writer_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    std::deque<ldap::change> batch;
    batch.swap(queue_);
    lock.unlock();
    const auto n = batch.size();
    write_batch(batch);
    lock.lock();
    written_ += n;
    drained_.notify_all();
  }
}

void engine::write_batch(std::deque<ldap::change> &batch) {
  for (int attempt = 1;; ++attempt) {
    try {
      auto &j = *writer_journal_;
      sqlite::transaction tx(j.db());
      for (const auto &c : batch) {
        try {
          ldap::apply_change(j, cfg_.ldap, c, log_);
        } catch (const sqlite::store_error &) {
          throw;
        } catch (const std::exception &e) {
          log_.log(log_level::error, "change to \"{}\" not journalled: {}",
                   c.after ? c.after->dn : c.before ? c.before->dn : "?", e.what());
        }
      }
      tx.commit();
      return;
    } catch (const std::exception &e) {
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
