// audit_points.hpp — one call per decision or act, used by the engine's
// layers (planner, scheduler, reclaimctl): each queues an audit record in the
// state store's outbox on the caller's connection (inside its transaction
// when one is open). All are no-ops when the [audit] table is absent.
#pragma once

#include "config/config.hpp"
#include "store/journal.hpp"
#include "store/plan_store.hpp"
#include "store/sqlite.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::audit {

void record_event(sqlite::database &db, const config &cfg, const event_record &ev);
// plan_made, or guard_trip when the plan was held by the guard.
void record_plan(sqlite::database &db, const config &cfg, int64_t plan_id, const plan_row &p,
                 const std::vector<action_row> &actions);
// Throws when the record cannot be queued: the action must not proceed.
void record_attempt(sqlite::database &db, const config &cfg, const action_row &a);
// The connector's message goes into the subject's encrypted part
// (personal.message); only reason_code() of it stays in clear. throttled:
// the vendor asked us to come back later (Retry-After).
void record_outcome(sqlite::database &db, const config &cfg, const action_row &a, const std::string &outcome,
                    const std::string &message, bool throttled = false);

// Every `reason` an action_outcome may carry in clear (docs/audit.md
// "Reason codes"). Vendors' and transports' words quote people (a mail in a
// filter, a DN, a SCIM userName), so none of them is kept in clear.
inline constexpr std::array<std::string_view, 11> reason_codes = {
    "ok",          // done or already done
    "not_found",   // HTTP 404/410: no such user or licence at the vendor
    "unauthorized", // HTTP 401/403 or a credential refused
    "conflict",    // HTTP 409/412: changed by someone else meanwhile
    "throttled",   // HTTP 429/503 or Retry-After
    "refused",     // another 4xx, or a request reclaim refused to send
    "vendor_error", // HTTP 5xx
    "bad_answer",  // an answer that is not what the vendor documents
    "transport",   // no HTTP answer: connection, DNS, timeout, reset
    "tls",         // the vendor's certificate did not verify
    "failed",      // anything else
};
std::string_view reason_code(const std::string &outcome, const std::string &message, bool throttled);
// approval, rejection, exception_added/removed, hold_added/removed, ...
void record_decision(sqlite::database &db, const config &cfg, const std::string &type, const std::string &actor,
                     const std::string &subject_id, int64_t plan_id, const std::string &reason);
void record_config_load(sqlite::database &db, const config &cfg);
// plan_promoted: a dry-run plan re-planned in enforce mode (`reclaimctl plans
// enforce`); new_plan 0 when nothing was left to plan.
void record_promotion(sqlite::database &db, const config &cfg, const std::string &actor, const plan_row &dry_plan,
                      int64_t new_plan, const std::string &outcome);

} // namespace reclaim::audit
