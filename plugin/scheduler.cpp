// scheduler.cpp — one action at a time: claim, check exceptions, act,
// record. A crash between the connector's effect and the record leaves the
// action "running"; requeue_running() puts it back and the connector's
// check-before-act turns the replay into "already done".
#include "scheduler.hpp"

#include "audit/audit_log.hpp"
#include "audit/audit_points.hpp"
#include "local_connector.hpp"

#include <fmt/format.h>

namespace reclaim {

scheduler::scheduler(const config &cfg, const logger &log) : cfg_(cfg), log_(log) {
  // NORMAL in WAL mode survives a crash of the process; after a power loss
  // an action may be found "running" or "pending" again, and the
  // connector's check-before-act makes the replay "already done".
  db_ = std::make_unique<sqlite::database>(cfg.journal_path(), sqlite::durability::normal);
  store_ = std::make_unique<plan_store>(*db_);
  connectors_["local"] = std::make_shared<local_connector>(*db_);
  if (cfg.audit.enabled) audit::create_outbox(*db_);
}

scheduler::~scheduler() = default;

void scheduler::set_connector(const std::string &name, std::shared_ptr<connector> c) {
  connectors_[name] = std::move(c);
}

int64_t scheduler::requeue_running() { return store_->requeue_running(); }

std::chrono::milliseconds scheduler::backoff(int attempts) {
  const auto &s = cfg_.policy.scheduler;
  double ms = static_cast<double>(s.retry_initial.count());
  for (int i = 1; i < attempts && ms < static_cast<double>(s.retry_max.count()); ++i) ms *= 2;
  ms = std::min(ms, static_cast<double>(s.retry_max.count()));
  // Jitter: a uniformly random point in [ms/2, ms], so retries of many
  // actions failing together spread out.
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(ms * jitter(rng_)));
}

bool scheduler::run_one(time_point t) {
  auto claimed = store_->claim_due(t);
  if (!claimed) return false;
  const auto &a = *claimed;
  const auto *app = cfg_.policy.find_app(a.app);
  if (app == nullptr) {
    store_->finish(a.id, "failed", fmt::format("application \"{}\" is no longer configured", a.app), "");
    log_.log(log_level::error, "ALERT action {} failed: application \"{}\" is no longer configured", a.id, a.app);
    return true;
  }
  if (touches_data(a.kind)) {
    if (const auto h = store_->hold(a.subject_id)) {
      store_->defer(a.id, "on_hold", a.due,
                    fmt::format("waiting: legal hold by {} ({}); access actions go ahead", h->added_by, h->reason));
      return true;
    }
  }
  if (const auto ext = store_->active_extension(a.subject_id, a.app, t)) {
    store_->defer(a.id, "pending", ext->expires,
                  fmt::format("extended until {} (approved by {}: {})", format_utc(ext->expires), ext->approver,
                              ext->reason));
    return true;
  }
  auto it = connectors_.find(app->connector);
  if (it == connectors_.end()) {
    store_->finish(a.id, "failed", fmt::format("connector \"{}\" is not available", app->connector), "");
    return true;
  }
  try {
    audit::record_attempt(*db_, cfg_, a); // committed before any external effect
  } catch (const std::exception &e) {
    log_.log(log_level::error, "ALERT action {} not attempted: its audit record failed: {}", a.id, e.what());
    store_->retry_later(a.id, t + backoff(a.attempts), fmt::format("audit record failed: {}", e.what()));
    return true;
  }
  connector_result r;
  try {
    r = it->second->execute(a, *app);
  } catch (const std::exception &e) {
    r = {connector_result::outcome::transient, e.what(), "{}"};
  }
  switch (r.what) {
  case connector_result::outcome::done:
    store_->finish(a.id, "done", r.message, r.before_image);
    log_.log(log_level::info, "action {} {} on {} for {}: done: {}", a.id, action_kind_name(a.kind), a.app,
             a.subject_id, r.message);
    break;
  case connector_result::outcome::already_done:
    store_->finish(a.id, "already_done", r.message, r.before_image);
    break;
  case connector_result::outcome::permanent:
    store_->finish(a.id, "failed", r.message, "");
    log_.log(log_level::error, "ALERT action {} {} on {} failed permanently: {}", a.id, action_kind_name(a.kind),
             a.app, r.message);
    break;
  case connector_result::outcome::transient:
    if (a.attempts >= cfg_.policy.scheduler.max_attempts) {
      store_->finish(a.id, "dead", fmt::format("dead-lettered after {} attempts: {}", a.attempts, r.message), "");
      log_.log(log_level::error, "ALERT action {} {} on {} dead-lettered after {} attempts: {}", a.id,
               action_kind_name(a.kind), a.app, a.attempts, r.message);
    } else {
      const auto next = t + backoff(a.attempts);
      store_->retry_later(a.id, next, fmt::format("attempt {} failed: {}; retry at {}", a.attempts, r.message,
                                                  format_utc(next)));
    }
    break;
  }
  static constexpr const char *outcomes[] = {"done", "already_done", "transient_failure", "permanent_failure"};
  audit::record_outcome(*db_, cfg_, a, outcomes[static_cast<int>(r.what)], r.message);
  store_->complete_plan_if_finished(a.plan_id);
  return true;
}

size_t scheduler::run_due(time_point t, size_t max) {
  size_t n = 0;
  while (n < max && run_one(t)) ++n;
  return n;
}

} // namespace reclaim
