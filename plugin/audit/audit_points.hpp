// audit_points.hpp — one call per decision or act, used by the engine's
// layers (planner, scheduler, reclaimctl): each queues an audit record in the
// state store's outbox on the caller's connection (inside its transaction
// when one is open). All are no-ops when the [audit] table is absent.
#pragma once

#include "config/config.hpp"
#include "store/journal.hpp"
#include "store/plan_store.hpp"
#include "store/sqlite.hpp"

#include <string>
#include <vector>

namespace reclaim::audit {

void record_event(sqlite::database &db, const config &cfg, const event_record &ev);
// plan_made, or guard_trip when the plan was held by the guard.
void record_plan(sqlite::database &db, const config &cfg, int64_t plan_id, const plan_row &p,
                 const std::vector<action_row> &actions);
// Throws when the record cannot be queued: the action must not proceed.
void record_attempt(sqlite::database &db, const config &cfg, const action_row &a);
void record_outcome(sqlite::database &db, const config &cfg, const action_row &a, const std::string &outcome,
                    const std::string &message);
// approval, rejection, exception_added/removed, hold_added/removed, ...
void record_decision(sqlite::database &db, const config &cfg, const std::string &type, const std::string &actor,
                     const std::string &subject_id, int64_t plan_id, const std::string &reason);
void record_config_load(sqlite::database &db, const config &cfg);
// plan_promoted: a dry-run plan re-planned in enforce mode (`reclaimctl plans
// enforce`); new_plan 0 when nothing was left to plan.
void record_promotion(sqlite::database &db, const config &cfg, const std::string &actor, const plan_row &dry_plan,
                      int64_t new_plan, const std::string &outcome);

} // namespace reclaim::audit
