// rules.hpp — pure planning: given a journalled event, the configuration
// and what the store knows about the person, which actions on which
// applications, due when. No I/O here, so every rule kind, delay and
// exception is unit-testable with a table and a fixed clock.
#pragma once

#include "base/clock.hpp"
#include "store/journal.hpp"
#include "policy/policy_model.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace reclaim {

struct planned_action {
  std::string app;
  action_kind kind = action_kind::revoke_access;
  std::string sku;    // licence actions: one SKU, or "" for all the app's SKUs the person holds
  std::string to_sku; // downgrade target
  std::string target; // notify target
  time_point due{};
  std::string rule;   // which rule planned it
};

// The event as the planner sees it: states plus the attribute values
// journalled with it ("before" holds the values before the change).
struct plan_input {
  int64_t event_seq = 0;
  std::string subject_id;
  state from = state::none;
  state to = state::none;
  time_point time{};
  std::map<std::string, std::vector<std::string>> attrs;  // lower-cased names
  std::map<std::string, std::vector<std::string>> before; // lower-cased names
  // The HR effective time (effective_time()), set by the planner for the
  // event's own plan: due times count from it instead of `time`.
  std::optional<time_point> effective;
};

plan_input plan_input_from(const event_record &ev);

// Which rules match (from, to, where) — in file order.
std::vector<const policy_rule *> matching_rules(const policy_config &cfg, const plan_input &in);

// When an action of an application with delay spec d becomes due.
time_point due_time(const policy_config &cfg, const application &app, const delay_spec &d, time_point base);

// Applications a role value is entitled to; nullopt when no role matrix or
// the value is unknown.
std::optional<std::set<std::string>> entitled_apps(const policy_config &cfg,
                                                   const std::map<std::string, std::vector<std::string>> &attrs);

// The actions for a reclamation event (not for reactivation: see restore).
// For a transfer with a role matrix, only applications the old role had and
// the new role lacks.
std::vector<planned_action> plan_actions(const policy_config &cfg, const plan_input &in);

// The contract end, if the end-date attribute holds a date in the future
// (days since epoch, or generalizedTime): end of that day in the configured
// offset.
std::optional<time_point> contract_end(const policy_config &cfg, const plan_input &in, time_point now);

// The HR effective time the event carries in the configured attribute and
// format. A date without a time means the start of that day in the person's
// zone (time_zone_attribute) or the policy's; a time without an offset is
// local time there too. Unparseable or outside 1970..9999: no time, and
// `problem` says why (the planner logs it and counts from the event time).
struct effective_result {
  std::optional<time_point> time;
  std::string problem; // "" when fine or when there is no value
};
effective_result effective_time(const policy_config &cfg, const plan_input &in);

// Parses one effective-date value (exposed for the table tests).
effective_result parse_effective(std::string_view text, date_format format, const zone &z);

// Whether a legal hold defers this action: transfer_ownership, and licence
// reclaims of applications whose reclaim deletes data (or whose rule says
// so per action); access actions, notifications and restores never wait.
bool held_by_legal_hold(const policy_config &cfg, const application &app, action_kind kind,
                        const std::string &rule);

// What the event says about the [legal_hold] directory value: present now,
// removed by this change (it was there before and is gone), or nothing
// (not configured, never there, or not journalled with the event).
enum class hold_signal { none, present, removed };
hold_signal legal_hold_signal(const policy_config &cfg, const plan_input &in);

// The reverse of an executed action, for a restore plan (nullopt: none).
std::optional<action_kind> restore_kind(action_kind k);

} // namespace reclaim
