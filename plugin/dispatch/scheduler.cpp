// scheduler.cpp — claim, check exceptions, act, record. A crash between the
// connector's effect and the record leaves the action "running";
// requeue_running() puts it back and the connector's check-before-act turns
// the replay into "already done". Connectors that batch (Graph) get up to
// their batch size of due actions of the applications they serve.
#include "dispatch/scheduler.hpp"
#include "store/store_health.hpp"

#include "audit/audit_log.hpp"
#include "audit/audit_points.hpp"
#include "connectors/connector_factory.hpp"
#include "connectors/local_connector.hpp"
#include "policy/rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace reclaim {

scheduler::scheduler(const config &cfg, const logger &log) : cfg_(cfg), log_(log) {
  // NORMAL in WAL mode survives a crash of the process; after a power loss
  // an action may be found "running" or "pending" again, and the
  // connector's check-before-act makes the replay "already done".
  db_ = std::make_unique<sqlite::database>(cfg.journal_path(), sqlite::durability::normal);
  store::refuse_newer_schema(*db_, cfg.journal_path());
  store_ = std::make_unique<plan_store>(*db_);
  connectors_["local"] = std::make_shared<local_connector>(*db_);
  if (cfg.audit.enabled) audit::create_outbox(*db_);
  for (const auto &[name, settings] : cfg.connectors) {
    try {
      connectors_[name] = shared_connector(cfg, settings, log);
    } catch (const std::exception &e) {
      log_.log(log_level::error, "ALERT connector {} cannot start: {}", name, e.what());
    }
  }
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

// Records what stops an action before its connector; true when it may run.
bool scheduler::admit(const action_row &a, const application *app, time_point t) {
  if (app == nullptr) {
    store_->finish(a.id, "failed", fmt::format("application \"{}\" is no longer configured", a.app), "");
    log_.log(log_level::error, "ALERT action {} failed: application \"{}\" is no longer configured", a.id, a.app);
    return false;
  }
  // Holds preserve data: only actions that would delete or move it wait;
  // access revocation and reclaims that keep the data go ahead.
  if (held_by_legal_hold(cfg_.policy, *app, a.kind, a.rule)) {
    if (const auto h = store_->hold(a.subject_id)) {
      store_->defer(a.id, "on_hold", a.due,
                    fmt::format("waiting: legal hold by {} ({}); access actions and reclaims that keep data go ahead",
                                h->added_by, h->reason));
      return false;
    }
  }
  if (const auto ext = store_->active_extension(a.subject_id, a.app, t)) {
    store_->defer(a.id, "pending", ext->expires,
                  fmt::format("extended until {} (approved by {}: {})", format_utc(ext->expires), ext->approver,
                              ext->reason));
    return false;
  }
  return true;
}

// Notifications go to a webhook connector serving their target, else to
// the local outbox; everything else to the application's connector.
connector *scheduler::route(const action_row &a, const application &app, std::string &name) {
  if (a.kind == action_kind::notify) {
    const auto target = a.target.empty() ? std::string("manager") : a.target;
    for (const auto &[n, c] : connectors_) {
      const auto targets = c->notify_targets();
      if (std::find(targets.begin(), targets.end(), target) != targets.end()) {
        name = n;
        return c.get();
      }
    }
    // No webhook serves this target: the local outbox keeps it (a vendor
    // connector has nobody to notify).
    name = "local";
    return connectors_.at("local").get();
  }
  name = app.connector;
  const auto it = connectors_.find(app.connector);
  return it == connectors_.end() ? nullptr : it->second.get();
}

void scheduler::record(const action_row &a, const connector_result &r, time_point t) {
  switch (r.what) {
  case connector_result::outcome::done:
    store_->finish(a.id, "done", r.message, r.before_image);
    log_.log(log_level::info, "action {} {} on {} (plan {}): done", a.id, action_kind_name(a.kind), a.app, a.plan_id);
    log_.log(log_level::debug, "action {}: {}", a.id, r.message); // may quote the person
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
    if (r.retry_after) {
      // The vendor throttled us and said when to come back: flow control,
      // not a failed attempt, so it does not count towards max_attempts.
      const auto next = t + *r.retry_after;
      store_->defer(a.id, "pending", std::max(next, a.due),
                    fmt::format("throttled by the vendor ({}); retry at {}", r.message, format_utc(next)));
    } else if (a.attempts >= cfg_.policy.scheduler.max_attempts) {
      store_->finish(a.id, "dead", fmt::format("dead-lettered after {} attempts: {}", a.attempts, r.message), "");
      log_.log(log_level::error, "ALERT action {} {} on {} dead-lettered after {} attempts: {}", a.id,
               action_kind_name(a.kind), a.app, a.attempts, r.message);
    } else {
      const auto next = t + (r.retry_after ? *r.retry_after : backoff(a.attempts));
      store_->retry_later(a.id, next, fmt::format("attempt {} failed: {}; retry at {}", a.attempts, r.message,
                                                  format_utc(next)));
    }
    break;
  }
  static constexpr const char *outcomes[] = {"done", "already_done", "transient_failure", "permanent_failure"};
  audit::record_outcome(*db_, cfg_, a, outcomes[static_cast<int>(r.what)], r.message, r.retry_after.has_value());
}

// One claim, one transaction for the checks and "attempted" records of the
// whole group (committed before any external effect), then per connector
// call one transaction for its outcomes: about one write transaction per
// action instead of five. A connector that does not batch still gets a
// group of its due actions, called one at a time.
size_t scheduler::run_batch(time_point t, size_t limit) {
  auto claimed = store_->claim_due(t);
  if (!claimed) return 0;
  std::vector<action_row> batch{*claimed};
  const auto *first_app = cfg_.policy.find_app(claimed->app);
  std::string name;
  connector *c = first_app ? route(*claimed, *first_app, name) : nullptr;
  const size_t per_call = c != nullptr ? std::max<size_t>(c->batch_size(), 1) : 1;
  if (c != nullptr && claimed->kind != action_kind::notify) {
    std::vector<std::string> apps;
    for (const auto &app : cfg_.policy.applications)
      if (app.connector == name) apps.push_back(app.id);
    auto more = store_->claim_due_for_apps(t, apps, std::min(std::max(per_call, group_size), limit) - 1);
    batch.insert(batch.end(), more.begin(), more.end());
  }
  std::vector<action_row> ready;
  std::vector<const application *> apps;
  {
    sqlite::transaction tx(*db_);
    for (auto &a : batch) {
      const auto *app = cfg_.policy.find_app(a.app);
      if (!admit(a, app, t)) continue;
      if (c == nullptr) {
        store_->finish(a.id, "failed", fmt::format("connector \"{}\" is not available", app->connector), "");
        log_.log(log_level::error, "ALERT action {} failed: connector \"{}\" is not available", a.id,
                 app->connector);
        store_->complete_plan_if_finished(a.plan_id);
        continue;
      }
      try {
        audit::record_attempt(*db_, cfg_, a); // committed before any external effect
      } catch (const std::exception &e) {
        log_.log(log_level::error, "ALERT action {} not attempted: its audit record failed: {}", a.id, e.what());
        store_->retry_later(a.id, t + backoff(a.attempts), fmt::format("audit record failed: {}", e.what()));
        continue;
      }
      std::tie(a.subject_name, a.subject_attrs) = store_->plan_subject(a.plan_id);
      ready.push_back(a);
      apps.push_back(app);
    }
    tx.commit();
  }
  for (size_t from = 0; from < ready.size(); from += per_call) {
    const auto n = std::min(per_call, ready.size() - from);
    const std::vector<action_row> call(ready.begin() + static_cast<std::ptrdiff_t>(from),
                                       ready.begin() + static_cast<std::ptrdiff_t>(from + n));
    const std::vector<const application *> call_apps(apps.begin() + static_cast<std::ptrdiff_t>(from),
                                                     apps.begin() + static_cast<std::ptrdiff_t>(from + n));
    std::vector<connector_result> results;
    try {
      results = c->execute_batch(call, call_apps);
    } catch (const std::exception &e) {
      results.assign(n, {connector_result::outcome::transient, e.what(), "{}"});
    }
    if (results.size() != n) // a connector bug: retry every action, none is lost
      results.assign(n, {connector_result::outcome::transient, "connector returned no result", "{}"});
    sqlite::transaction tx(*db_);
    std::set<int64_t> plans;
    for (size_t i = 0; i < n; ++i) {
      record(call[i], results[i], t);
      plans.insert(call[i].plan_id);
    }
    for (const auto id : plans) store_->complete_plan_if_finished(id);
    tx.commit();
  }
  return batch.size();
}

bool scheduler::run_one(time_point t) { return run_batch(t, SIZE_MAX) > 0; }

size_t scheduler::run_due(time_point t, size_t max) {
  size_t n = 0;
  while (n < max) {
    const auto k = run_batch(t, max - n);
    if (k == 0) break;
    n += k;
  }
  return n;
}

} // namespace reclaim
