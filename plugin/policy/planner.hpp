// planner.hpp — from journalled events to stored plans: applies the policy,
// the mass-revocation guard and the approval requirements, handles
// reactivation (cancel what is pending, restore what ran) and contract end
// dates. Planning advances a cursor over the journal in the same
// transaction as the plans it writes, so each event is planned exactly once
// even across crashes and concurrent planners.
#pragma once

#include "config/config.hpp"
#include "store/journal.hpp"
#include "connectors/local_connector.hpp"
#include "base/log.hpp"
#include "store/plan_store.hpp"
#include "policy/rules.hpp"

#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <stdexcept>

namespace reclaim {

class approval_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Thrown by planning that must wait (see plan_restore); the event and the
// ones after it are planned on a later pass.
struct plan_later : std::runtime_error {
  using std::runtime_error::runtime_error;
};
inline constexpr std::chrono::minutes in_flight_wait{5};

// One dry-run plan that promote_dry_run looked at.
struct promotion {
  plan_row dry_plan;
  int64_t new_plan = 0;    // 0: not re-planned (see outcome)
  std::string outcome;     // the new plan's status, or "skipped: why"
  size_t actions = 0;      // of the new plan
};

class planner {
public:
  planner(const config &cfg, journal &j, const logger &log);

  // Plans every journalled event not planned yet, in batches of 1,000;
  // returns the events planned. stop (optional) is asked between batches, so
  // a host shutting down is not held up by a long backlog.
  size_t plan_pending(const std::function<bool()> &stop = {});

  // What would happen for a hypothetical transition; records nothing.
  std::vector<action_row> preview(const std::string &subject, state from, state to,
                                  const std::map<std::string, std::vector<std::string>> &attrs);

  // Two-person rule: the approver must differ from the requester. person
  // maps a recorded name to the person it is (access::resolver::canonical);
  // without it, names are compared as DNs or lower-cased text.
  void approve(int64_t plan_id, const std::string &approver,
               const std::function<std::string(const std::string &)> &person = {});
  void reject(int64_t plan_id, const std::string &by, const std::string &reason);

  // Switching from dry_run to enforce: the dry-run plans made since a time
  // that nothing executed are superseded and their events planned again
  // under this (enforce) config, through the guard as one burst: all their
  // departures are counted before any plan is decided. A plan whose person
  // has moved on (rehired, back from leave) is skipped. The re-plans are
  // requested by `by` (the two-person rule applies to them). Throws
  // approval_error when this config is itself dry_run.
  std::vector<promotion> promote_dry_run(time_point since, const std::string &by);

  plan_store &store() { return store_; }

private:
  void plan_event(const event_record &ev);
  // count_departure false: the caller counted it already (promote_dry_run).
  std::optional<int64_t> plan_reclaim(const event_record &ev, const plan_input &in, const std::string &key, state to,
                                      std::vector<planned_action> actions, bool count_departure = true,
                                      const std::string &requested_by = "");
  std::optional<std::string> why_not_promote(const plan_row &p, const event_record &ev,
                                             const std::vector<planned_action> &planned);
  void plan_restore(const event_record &ev, const plan_input &in);
  // The person is entitled to these applications again: pending transfer
  // reclaims of them are cancelled, executed ones stop counting as live.
  void reentitle(const event_record &ev, const std::set<std::string> &apps);
  // Why an executed action is not granted back on reactivation (its
  // restore_within has passed), or nullopt.
  std::optional<std::string> beyond_restore_window(const action_row &done) const;
  // departure_at: the time a departure is judged at (the guard's window ends there).
  std::string decide_status(const plan_row &p, const std::vector<action_row> &actions,
                            std::optional<time_point> departure_at);
  std::vector<action_row> to_rows(const std::string &subject, std::vector<planned_action> &&planned);
  const application *find_app(std::string_view id) const; // cfg_'s, found without a scan
  void price(const std::string &subject, std::vector<action_row> &rows, plan_row &plan);

  const config &cfg_;
  journal &journal_;
  plan_store store_;
  const logger &log_;
  std::unordered_map<std::string_view, const application *> apps_; // id → cfg_.policy.applications
  std::unordered_map<std::string_view, const policy_rule *> rules_; // name → the first rule of that name
  // The guard's population (live people), counted once per planning
  // transaction: counting reads every person (and subject_log).
  std::optional<int64_t> population_;
};

} // namespace reclaim
