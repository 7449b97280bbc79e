// costs.hpp — what a licence action is worth per month, from the catalogue:
// planned (what the person is known to hold, else what the action names)
// and reclaimed (what the connector reports it removed, in the action's
// before image). Plans show both, so a failed reclaim is not counted as
// money saved; finance's notification names the SKUs it is about.
#pragma once

#include "policy/policy_model.hpp"
#include "store/plan_store.hpp"

#include <string>
#include <vector>

namespace reclaim {

bool is_licence_action(action_kind k);

// The catalogue SKUs a licence action is expected to take: its own SKU,
// else those of the application the person is known to hold (held: the
// local inventory's SKUs for this application), else the application's
// only SKU; empty when it cannot be told (several SKUs, none known).
std::vector<std::string> expected_skus(const application &app, const action_row &a,
                                       const std::vector<std::string> &held);

// Sum of the catalogue's monthly costs of these SKUs (unknown ones: 0);
// currency is set from the first SKU found when empty.
double skus_cost(const application &app, const std::vector<std::string> &skus, std::string &currency);

// Planned monthly cost of an action (0 for other kinds); a downgrade is
// worth the difference.
double planned_cost(const application &app, const action_row &a, const std::vector<std::string> &held,
                    std::string &currency);

// What an executed action really reclaimed: status done, the before
// image's catalogue_skus (or, from the local connector, its skus). 0 for
// anything else, including failed, dead and already_done actions.
double reclaimed_cost(const application &app, const action_row &a, std::string &currency);

} // namespace reclaim
