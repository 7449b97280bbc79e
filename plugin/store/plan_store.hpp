// plan_store.hpp — plans and actions in the SQLite state store, beside the
// journal: the due-time queue the scheduler works from, approvals, legal
// holds, extensions and the planner's cursor over the journal. All times are
// UTC milliseconds; statuses are words, readable in the sqlite3 shell.
#pragma once

#include "base/clock.hpp"
#include "policy/policy_model.hpp"
#include "store/sqlite.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace reclaim {

// Plan statuses: active, held (guard), awaiting_approval, rejected,
// cancelled, done, superseded (a dry-run plan re-planned in enforce mode).
// Action statuses: pending, held (its plan is held), on_hold (legal hold),
// running, done, already_done, failed (permanent), dead (retries
// exhausted), cancelled, dry_run, superseded.
struct plan_row {
  int64_t id = 0;
  std::string plan_key;
  int64_t event_seq = 0;
  std::string subject_id, subject_name;
  std::string from_state, to_state;
  std::string kind = "reclaim"; // reclaim | restore | contract
  std::string status;
  std::string reason;
  std::string requested_by, approved_by;
  bool dry_run = false;
  double monthly_cost = 0;
  std::string currency;
  time_point created{};
};

struct action_row {
  int64_t id = 0;
  int64_t plan_id = 0;
  std::string subject_id;
  std::string app;
  action_kind kind = action_kind::revoke_access;
  std::string sku, to_sku, target;
  time_point due{};
  std::string status;
  int attempts = 0;
  time_point next_attempt{};
  std::string idempotency_key;
  std::string outcome;
  std::string before_image; // JSON, what the connector took away
  std::string rule;
  int64_t restores = 0; // for restore actions: the action they reverse
  time_point updated{};  // last change of status (when it ran, for executed actions)
  // Not stored with the action: the person as the plan's event saw them,
  // filled in by the scheduler for connectors that address people by an
  // attribute (mail, userPrincipalName).
  std::string subject_name;
  std::string subject_attrs = "{}"; // JSON, attribute → value(s)
};

struct hold_row {
  std::string subject_id, reason, added_by;
  time_point added{};
};

struct extension_row {
  int64_t id = 0;
  std::string subject_id, app, approver, reason;
  time_point expires{}, added{};
};

std::string live_key(const std::string &app, action_kind kind, const std::string &target);

class plan_store {
public:
  explicit plan_store(sqlite::database &db);

  int64_t planned_upto();
  void set_planned_upto(int64_t seq);

  // Inserts a plan (unique plan_key) and its actions, which must all be for
  // the plan's subject (logic_error otherwise, before anything is written);
  // returns the plan id, or nullopt when the key exists (planned already).
  std::optional<int64_t> insert_plan(plan_row &p, std::vector<action_row> &actions);

  std::optional<plan_row> plan(int64_t id);
  std::vector<plan_row> plans(const std::string &status_filter, const std::string &subject);
  std::vector<action_row> actions(const std::string &status_filter, const std::string &subject, int64_t plan_id);
  void set_plan_status(int64_t id, const std::string &status, const std::string &reason,
                       const std::string &approved_by);
  // Moves a plan's actions from one status to another; returns how many.
  int64_t move_actions(int64_t plan_id, const std::string &from, const std::string &to, const std::string &outcome);

  // Equivalent actions of this person that still count, as
  // live_key(app, kind, target): open ones, and executed ones since the
  // person was last entitled to the application again (retire_executed).
  std::set<std::string> live_actions(const std::string &subject);
  // Is an equivalent action already planned or done for this person?
  bool has_live_action(const std::string &subject, const std::string &app, action_kind kind,
                       const std::string &target);
  // An open action equivalent to a newly planned one becomes due no later
  // than `due` (a termination during a transfer's or a leave's grace);
  // returns how many moved.
  int64_t advance_open_due(const std::string &subject, const std::string &app, action_kind kind,
                           const std::string &target, time_point due, const std::string &why);
  // After a person's open actions were cancelled: their plans left with
  // nothing open are closed — held and awaiting_approval ones become
  // cancelled (nothing left to approve), active ones complete as usual.
  void close_emptied_plans(const std::string &subject, const std::string &why);
  // Cancels every not-yet-executed action of a person; returns them.
  std::vector<action_row> cancel_open_actions(const std::string &subject, const std::string &why);
  // Cancels the open actions (not notifications) of a person's plans of
  // these kinds ("reclaim|contract", "restore") — only plans to to_state
  // unless "" — for these applications (every one when empty); returns them.
  std::vector<action_row> cancel_open_for(const std::string &subject, const std::set<std::string> &apps,
                                          const std::string &plan_kinds, const std::string &to_state,
                                          const std::string &why);
  // The person is entitled to these applications again (every one when
  // empty) from event_seq on: their executed reclamations stop counting as
  // live, so a later departure plans them again. Restores made before stay
  // valid (restored_by < 0 marks "retired by event -n"). Returns how many.
  int64_t retire_executed(const std::string &subject, const std::set<std::string> &apps, int64_t event_seq);
  // A new contract end date replaces the plans for earlier ones.
  int64_t cancel_other_contract_plans(const std::string &subject, const std::string &keep_key, const std::string &why);
  // Executed reclamations of a person not yet restored.
  std::vector<action_row> restorable_actions(const std::string &subject);
  // True while an action that a restore would undo is being executed.
  bool restorable_in_flight(const std::string &subject);

  // Departures (terminations, deletions, contract ends) for the guard, each
  // at its own time: how many in (after, upto], exactly. count_departure
  // records one and drops those no window of this length can reach.
  int64_t departures_between(time_point after, time_point upto);
  void count_departure(time_point at, std::chrono::milliseconds window);
  int64_t population();

  // Dry-run plans made since a time that nothing has executed: every action
  // is dry_run, held or cancelled (reclaim and contract plans, still open).
  std::vector<plan_row> dry_run_plans_since(time_point since);
  // Retires a plan for a re-plan under the same key: its key gets the suffix
  // "|superseded:<id>", it and its dry_run/held actions become superseded.
  void supersede_plan(int64_t id, const std::string &why);

  // Scheduler queue.
  // What claim_due would hand out at t, in its order, without claiming.
  std::vector<action_row> due_actions(time_point t, size_t limit);
  std::optional<action_row> claim_due(time_point now);
  // Claims up to n more due actions of these applications (never notify
  // actions), for a connector that works in batches.
  std::vector<action_row> claim_due_for_apps(time_point now, const std::vector<std::string> &apps, size_t n);
  // The subject name and journalled attributes of a plan's event.
  std::pair<std::string, std::string> plan_subject(int64_t plan_id);
  void finish(int64_t action_id, const std::string &status, const std::string &outcome,
              const std::string &before_image);
  void retry_later(int64_t action_id, time_point next, const std::string &outcome);
  void defer(int64_t action_id, const std::string &status, time_point due, const std::string &outcome);
  int64_t requeue_running(); // after a crash
  void complete_plan_if_finished(int64_t plan_id);

  // Exceptions.
  void add_hold(const hold_row &h);
  bool remove_hold(const std::string &subject);
  std::optional<hold_row> hold(const std::string &subject);
  std::vector<hold_row> holds();
  int64_t add_extension(const extension_row &e);
  bool remove_extension(int64_t id);
  std::vector<extension_row> extensions(const std::string &subject);
  std::optional<extension_row> active_extension(const std::string &subject, const std::string &app, time_point now);

private:
  sqlite::database &db_;
};

} // namespace reclaim
