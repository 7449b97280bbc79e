// scheduler.hpp — runs due actions: claims from the store's due-time queue
// (one action, or a batch of actions for a connector that takes several
// at once), checks legal holds and extensions, calls the connector, and
// records each outcome; transient failures are retried after the vendor's
// Retry-After or with exponential backoff and jitter, and after
// max_attempts the action is dead-lettered with an alert. Runs on the
// engine's worker threads, or once from `reclaimctl dispatch`.
#pragma once

#include "config/config.hpp"
#include "dispatch/connector.hpp"
#include "base/log.hpp"
#include "store/plan_store.hpp"

#include <memory>
#include <random>

namespace reclaim {

class scheduler {
public:
  // Uses its own connection to the store at cfg.journal_path().
  scheduler(const config &cfg, const logger &log);
  ~scheduler();

  // Runs one due action (or one batch) if there is one; false when none is due at t.
  bool run_one(time_point t);
  // Runs until nothing is due at t or max actions ran; returns how many.
  size_t run_due(time_point t, size_t max = SIZE_MAX);
  int64_t requeue_running();

  // For tests: replace the connector used for one connector name.
  void set_connector(const std::string &name, std::shared_ptr<connector> c);

  std::chrono::milliseconds backoff(int attempts);

private:
  // Due actions of one connector claimed together (checks and "attempted"
  // records in one transaction); a batching connector gets its batch size.
  static constexpr size_t group_size = 8;

  size_t run_batch(time_point t, size_t limit);
  bool admit(const action_row &a, const application *app, time_point t);
  connector *route(const action_row &a, const application &app, std::string &name);
  void record(const action_row &a, const connector_result &r, time_point t);

  const config &cfg_;
  const logger &log_;
  std::unique_ptr<sqlite::database> db_;
  std::unique_ptr<plan_store> store_;
  std::map<std::string, std::shared_ptr<connector>> connectors_;
  std::mt19937_64 rng_{std::random_device{}()};
};

} // namespace reclaim
