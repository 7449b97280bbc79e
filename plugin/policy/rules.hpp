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

// The reverse of an executed action, for a restore plan (nullopt: none).
std::optional<action_kind> restore_kind(action_kind k);

} // namespace reclaim
