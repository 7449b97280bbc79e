// planner.cpp — plans, the guard and approvals. A plan is held when the
// departures made in the guard's (exact) window exceed its count or percentage,
// and awaits approval when an application requires it or its monthly cost
// passes the threshold; either way no action runs until a second person
// approves. Reactivation cancels what is still pending and plans restores
// of what already ran, limited to what the current role is entitled to.
#include "policy/planner.hpp"

#include "policy/costs.hpp"

#include "audit/audit_points.hpp"

#include "ldap/ldap_entry.hpp"
#include "connectors/local_connector.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace reclaim {
namespace {

bool is_departure(state s) {
  return s == state::terminated || s == state::deleted || s == state::contract_ended;
}

// Who someone is, for the two-person rule: a DN in canonical form (so
// spelling and spacing do not matter), any other name lower-cased.
std::string identity(const std::string &who) {
  if (auto dn = ldap::normalize_dn(who); dn && who.find('=') != std::string::npos) return *dn;
  return ldap::lower_ascii(who);
}

} // namespace

planner::planner(const config &cfg, journal &j, const logger &log)
    : cfg_(cfg), journal_(j), store_(j.db()), log_(log) {
  ensure_inventory_schema(j.db()); // licence costs come from the inventory
  for (const auto &a : cfg_.policy.applications) apps_.emplace(a.id, &a);
  for (const auto &r : cfg_.policy.rules) rules_.emplace(r.name, &r);
}

std::optional<std::string> planner::beyond_restore_window(const action_row &done) const {
  restore_spec spec = cfg_.policy.restore;
  const auto rule = rules_.find(done.rule);
  const auto *app = find_app(done.app);
  if (rule != rules_.end() && rule->second->restore.how != restore_spec::kind::inherit) spec = rule->second->restore;
  else if (app != nullptr && app->restore.how != restore_spec::kind::inherit) spec = app->restore;
  if (spec.how == restore_spec::kind::never) return std::string("restore_within = \"never\"");
  if (spec.how != restore_spec::kind::within) return std::nullopt;
  const auto age = now() - done.updated;
  if (age <= spec.within) return std::nullopt;
  return fmt::format("executed {} ago, restore_within {}", format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(age)),
                     format_duration(spec.within));
}

const application *planner::find_app(std::string_view id) const {
  const auto it = apps_.find(id);
  return it == apps_.end() ? nullptr : it->second;
}

size_t planner::plan_pending(const std::function<bool()> &stop) {
  size_t planned = 0;
  for (;;) {
    if (stop && stop()) return planned;
    sqlite::transaction tx(journal_.db());
    population_.reset();
    event_filter f;
    f.after_seq = store_.planned_upto();
    f.limit = 1000;
    const auto events = journal_.events(f);
    if (events.empty()) return planned;
    int64_t upto = store_.planned_upto();
    for (const auto &ev : events) {
      // A host shutting down waits for one event, not for a whole batch.
      if (stop && planned > 0 && stop()) break;
      try {
        plan_event(ev);
      } catch (const sqlite::store_error &) {
        throw;
      } catch (const plan_later &e) {
        // This event and those after it wait for the next pass, in order.
        log_.log(log_level::debug, "event {}: {}", ev.seq, e.what());
        store_.set_planned_upto(upto);
        tx.commit();
        return planned;
      } catch (const std::exception &e) {
        log_.log(log_level::error, "event {} not planned: {}", ev.seq, e.what());
      }
      upto = ev.seq;
      ++planned;
    }
    store_.set_planned_upto(upto);
    tx.commit();
  }
}

std::vector<action_row> planner::to_rows(const std::string &subject, std::vector<planned_action> &&planned) {
  std::vector<action_row> rows(planned.size());
  for (size_t i = 0; i < planned.size(); ++i) {
    auto &p = planned[i];
    auto &a = rows[i];
    a.subject_id = subject;
    a.app = std::move(p.app);
    a.kind = p.kind;
    a.sku = std::move(p.sku);
    a.to_sku = std::move(p.to_sku);
    a.target = std::move(p.target);
    a.due = p.due;
    a.rule = std::move(p.rule);
  }
  return rows;
}

// Planned cost from what the person is known to hold (the local
// inventory), else, for vendor applications, from the catalogue; a notification about an application
// names the SKUs its licence actions in this plan are expected to take.
void planner::price(const std::string &subject, std::vector<action_row> &rows, plan_row &plan) {
  std::map<std::string, std::vector<std::string>> held; // app → SKUs
  for (const auto &h : inventory_list(journal_.db(), subject))
    if (!h.sku.empty()) held[h.app].push_back(h.sku);
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto &a : rows) {
    const auto *app = find_app(a.app);
    if (app == nullptr || !is_licence_action(a.kind)) continue;
    const auto &mine = held[a.app];
    // The local inventory is the whole truth for its applications.
    if (mine.empty() && a.sku.empty() && app->connector == "local") continue;
    plan.monthly_cost += planned_cost(*app, a, mine, plan.currency);
    for (auto &sku : expected_skus(*app, a, mine)) {
      auto &list = expected[a.app];
      if (std::find(list.begin(), list.end(), sku) == list.end()) list.push_back(std::move(sku));
    }
  }
  for (auto &a : rows)
    if (a.kind == action_kind::notify && a.sku.empty())
      if (const auto it = expected.find(a.app); it != expected.end()) a.sku = fmt::format("{}", fmt::join(it->second, ","));
}

std::string planner::decide_status(const plan_row &p, const std::vector<action_row> &actions,
                                   std::optional<time_point> departure_at) {
  const auto &g = cfg_.policy.guard;
  if (departure_at && (g.max_events > 0 || g.max_percent > 0)) {
    // The window ends at the departure's own time, so changes recovered by
    // catch-up are judged by when they happened (docs/policy.md).
    const int64_t count = store_.departures_between(*departure_at - g.window, *departure_at);
    if (!population_) population_ = store_.population();
    const int64_t population = *population_;
    const double percent = population > 0 ? 100.0 * static_cast<double>(count) / static_cast<double>(population) : 0;
    const bool over_count = g.max_events > 0 && count > g.max_events;
    const bool over_percent = g.max_percent > 0 && population >= std::max<int64_t>(1, g.percent_min_population) &&
                              percent > g.max_percent;
    if (over_count || over_percent) {
      const auto window = [ms = g.window.count()] {
        constexpr std::pair<int64_t, const char *> units[] = {
            {86400000, "d"}, {3600000, "h"}, {60000, "min"}, {1000, "s"}};
        for (const auto &[size, name] : units)
          if (ms % size == 0) return fmt::format("{} {}", ms / size, name);
        return fmt::format("{} ms", ms);
      }();
      const auto span = p.created - *departure_at < std::chrono::minutes(1)
                            ? fmt::format("in the last {}", window)
                            : fmt::format("in the {} up to {} (when the change was made)", window,
                                          format_utc(*departure_at));
      return fmt::format("held|mass-revocation guard: {} departures {} ({:.1f}% of {}) exceed the limit "
                         "({} departures, {:.1f}%); a second person must approve",
                         count, span, percent, population, g.max_events, g.max_percent);
    }
  }
  for (const auto &a : actions)
    if (const auto *app = find_app(a.app); app && app->require_approval)
      return fmt::format("awaiting_approval|application \"{}\" requires approval", a.app);
  if (g.approval_cost_above > 0 && p.monthly_cost > g.approval_cost_above)
    return fmt::format("awaiting_approval|monthly cost {:.2f} {} exceeds {:.2f}", p.monthly_cost, p.currency,
                       g.approval_cost_above);
  return "active|";
}

std::optional<int64_t> planner::plan_reclaim(const event_record &ev, const plan_input &in, const std::string &key,
                                             state to, std::vector<planned_action> planned, bool count_departure,
                                             const std::string &requested_by) {
  // An action already planned or done for this person and application
  // (a termination followed by a deletion, say) is not planned again.
  // Two matching rules (a general one and one with a `where`) may name the
  // same action: the first wins.
  if (planned.empty()) return std::nullopt;
  std::vector<planned_action> fresh;
  fresh.reserve(planned.size());
  // An equivalent open action due later (a transfer's or a leave's grace)
  // is brought forward to this event's time instead.
  auto seen = store_.live_actions(in.subject_id);
  for (auto &p : planned) {
    if (seen.insert(live_key(p.app, p.kind, p.target)).second) {
      fresh.push_back(std::move(p));
    } else if (store_.advance_open_due(in.subject_id, p.app, p.kind, p.target, p.due,
                                       fmt::format("due {} since event {} ({})", format_utc(p.due), ev.seq,
                                                   state_name(to))) > 0) {
      log_.log(log_level::info, "{} {} brought forward to {} by event {}", p.app,
               action_kind_name(p.kind), format_utc(p.due), ev.seq);
    }
  }
  if (fresh.empty()) return std::nullopt;
  plan_row plan;
  plan.plan_key = key;
  plan.event_seq = ev.seq;
  plan.subject_id = ev.subject_id;
  plan.subject_name = ev.subject_name;
  plan.from_state = state_name(ev.previous);
  plan.to_state = state_name(to);
  plan.kind = key.rfind("contract:", 0) == 0 ? "contract" : "reclaim";
  plan.requested_by = requested_by.empty() ? ev.actor : requested_by;
  plan.created = now();
  auto rows = to_rows(in.subject_id, std::move(fresh));
  const bool licences = std::any_of(rows.begin(), rows.end(), [](const action_row &a) {
    return a.kind == action_kind::reclaim_licence || a.kind == action_kind::downgrade_licence;
  });
  if (licences) price(in.subject_id, rows, plan);
  // A contract plan is made when the end date is learnt, long before the
  // departure; it does not count towards the mass-revocation guard.
  // A departure counts at the time it was made (a catch-up's too, not when
  // it was planned); a promotion's were counted now, as one burst.
  std::optional<time_point> departure_at;
  if (is_departure(to) && plan.kind != "contract")
    departure_at = count_departure ? std::min(ev.time, plan.created) : plan.created;
  if (departure_at && count_departure) store_.count_departure(*departure_at, cfg_.policy.guard.window);
  const auto decided = decide_status(plan, rows, departure_at);
  plan.status = decided.substr(0, decided.find('|'));
  plan.reason = decided.substr(decided.find('|') + 1);
  for (auto &a : rows) {
    const auto *app = find_app(a.app);
    const bool dry = cfg_.policy.dry_run || (app && app->dry_run);
    plan.dry_run = plan.dry_run || dry;
    a.status = plan.status != "active" ? "held" : dry ? "dry_run" : "pending";
    if (dry && plan.status == "active") a.outcome = "dry run: computed, not executed";
  }
  const auto id = store_.insert_plan(plan, rows);
  if (!id) return std::nullopt;
  audit::record_plan(journal_.db(), cfg_, *id, plan, rows);
  if (plan.status == "held")
    log_.log(log_level::error, "ALERT guard tripped: plan {} for event {} held: {}", *id, ev.seq, plan.reason);
  log_.log(log_level::info, "plan {} ({}): event {} {} -> {}: {} actions, {}", *id, plan.kind, ev.seq,
           plan.from_state, plan.to_state, rows.size(), plan.status);
  return id;
}

void planner::plan_restore(const event_record &ev, const plan_input &in) {
  // An action being executed right now can be neither cancelled nor (yet)
  // restored: plan this reactivation once it has finished. A dispatcher
  // that died mid-action leaves it "running" until the next start, so the
  // wait is bounded.
  if (store_.restorable_in_flight(ev.subject_id) && now() - ev.recorded < in_flight_wait)
    throw plan_later(fmt::format("{}: an action of this person is being executed; reactivation planned after it",
                                 ev.subject_name));
  const auto cancelled = store_.cancel_open_actions(
      ev.subject_id, fmt::format("cancelled: {} reactivated (event {})", ev.subject_name, ev.seq));
  if (!cancelled.empty()) {
    log_.log(log_level::info, "event {}: {} pending actions cancelled by reactivation", ev.seq, cancelled.size());
    store_.close_emptied_plans(ev.subject_id, fmt::format("cancelled: {} reactivated (event {})", ev.subject_name, ev.seq));
  }
  const auto entitled = entitled_apps(cfg_.policy, in.attrs);
  std::vector<action_row> rows;
  size_t too_old = 0;
  for (const auto &done : store_.restorable_actions(ev.subject_id)) {
    if (entitled && !entitled->count(done.app)) continue; // the current role does not hold it
    const auto kind = restore_kind(done.kind);
    if (!kind) continue;
    if (const auto why = beyond_restore_window(done)) {
      log_.log(log_level::debug, "{}: {} {} not restored: {}", ev.subject_name, done.app, action_kind_name(done.kind), *why);
      ++too_old;
      continue;
    }
    action_row a;
    a.subject_id = ev.subject_id;
    a.app = done.app;
    a.kind = *kind;
    a.due = now();
    a.before_image = done.before_image;
    a.restores = done.id;
    a.rule = "restore";
    rows.push_back(std::move(a));
  }
  if (too_old > 0)
    log_.log(log_level::info, "event {}: {} executed actions not restored (beyond restore_within; the joiner process grants)",
             ev.seq, too_old);
  // What ran before this reactivation no longer stands for what the person
  // holds: a later departure plans everything again.
  store_.retire_executed(ev.subject_id, {}, ev.seq);
  if (rows.empty()) return;
  plan_row plan;
  plan.plan_key = fmt::format("restore:{}", ev.seq);
  plan.event_seq = ev.seq;
  plan.subject_id = ev.subject_id;
  plan.subject_name = ev.subject_name;
  plan.from_state = state_name(ev.previous);
  plan.to_state = state_name(ev.current);
  plan.kind = "restore";
  plan.requested_by = ev.actor;
  plan.created = now();
  const auto decided = decide_status(plan, rows, std::nullopt);
  plan.status = decided.substr(0, decided.find('|'));
  plan.reason = decided.substr(decided.find('|') + 1);
  for (auto &a : rows) {
    const auto *app = find_app(a.app);
    const bool dry = cfg_.policy.dry_run || (app && app->dry_run);
    a.status = plan.status != "active" ? "held" : dry ? "dry_run" : "pending";
  }
  if (const auto id = store_.insert_plan(plan, rows)) {
    audit::record_plan(journal_.db(), cfg_, *id, plan, rows);
    log_.log(log_level::info, "plan {} (restore): event {} reactivated: {} actions", *id, ev.seq, rows.size());
  }
}

void planner::reentitle(const event_record &ev, const std::set<std::string> &apps) {
  const auto cancelled = store_.cancel_open_for(
      ev.subject_id, apps, "reclaim", "transferred",
      fmt::format("cancelled: {} is entitled to it again (event {})", ev.subject_name, ev.seq));
  if (!cancelled.empty())
    log_.log(log_level::info, "event {}: {} pending transfer reclaims cancelled, the role holds them again",
             ev.seq, cancelled.size());
  store_.retire_executed(ev.subject_id, apps, ev.seq);
}

void planner::plan_event(const event_record &ev) {
  audit::record_event(journal_.db(), cfg_, ev);
  // Most events (hires, changes that keep a person active) match no rule:
  // skip parsing their attributes.
  const bool any_rule = std::any_of(cfg_.policy.rules.begin(), cfg_.policy.rules.end(),
                                    [&](const policy_rule &r) { return r.to.count(ev.current) > 0; });
  const auto &hold_cfg = cfg_.policy.legal_hold;
  if (!any_rule && ev.current != state::reactivated && cfg_.policy.end_date_attribute.empty() &&
      hold_cfg.attribute.empty())
    return;
  auto in = plan_input_from(ev);
  // The directory's hold value, before any action of this event can run.
  // Only holds it placed are lifted by it; one set with reclaimctl stays.
  const auto hold_now = legal_hold_signal(cfg_.policy, in);
  const auto held = hold_now == hold_signal::none ? std::nullopt : store_.hold(ev.subject_id);
  const std::string by_directory = fmt::format("directory: {} = {}", hold_cfg.attribute, hold_cfg.value);
  if (hold_now == hold_signal::present && !held) {
    const auto reason = fmt::format("{} (event {})", by_directory, ev.seq);
    store_.add_hold({ev.subject_id, reason, ev.actor, now()});
    audit::record_decision(journal_.db(), cfg_, "hold_added", ev.actor, ev.subject_id, 0, reason);
    log_.log(log_level::info, "event {}: legal hold placed by {} ({})", ev.seq, ev.actor, reason);
  } else if (hold_now == hold_signal::removed && held && held->reason.rfind(by_directory, 0) == 0) {
    store_.remove_hold(ev.subject_id);
    audit::record_decision(journal_.db(), cfg_, "hold_removed", ev.actor, ev.subject_id, 0,
                           fmt::format("{} removed (event {})", by_directory, ev.seq));
    log_.log(log_level::info, "event {}: legal hold lifted by {} ({} removed)", ev.seq, ev.actor, by_directory);
  }
  if (ev.current == state::reactivated) {
    plan_restore(ev, in);
    return;
  }
  // A change that kept a person who has left, or is away, in their state
  // (a legal hold set or lifted in the directory): nothing new to plan.
  if (ev.previous == ev.current && (is_departure(ev.current) || ev.current == state::leave)) return;
  // Due times count from the HR effective time; a value that does not
  // parse is reported and the event planned from its own time.
  const auto effective = effective_time(cfg_.policy, in);
  if (!effective.problem.empty())
    log_.log(log_level::warning, "event {}: {}; due times count from the event time {}", ev.seq,
             effective.problem, format_utc(ev.time));
  in.effective = effective.time;
  // A date before the person's last return or rehire belongs to an earlier
  // change HR left on the entry, not to this one.
  if (in.effective && *in.effective < ev.time) {
    event_filter f;
    f.subject_id = ev.subject_id;
    for (const auto &earlier : journal_.events(f)) {
      if (earlier.seq >= ev.seq) break;
      if (earlier.current != state::reactivated || earlier.time <= *in.effective) continue;
      log_.log(log_level::warning, "event {}: {} {} is before the reactivation of event {} ({}): left from an "
               "earlier change; due times count from the event time", ev.seq,
               cfg_.policy.effective_date_attribute, format_utc(*in.effective), earlier.seq, format_utc(earlier.time));
      in.effective.reset();
      break;
    }
  }
  // One rule for entitlement: what the person is entitled to again loses
  // its pending reclaims; what they leave loses its pending grants.
  if (ev.current == state::transferred || ev.current == state::active) {
    if (const auto entitled = entitled_apps(cfg_.policy, in.attrs)) reentitle(ev, *entitled);
  } else if (is_departure(ev.current) || ev.current == state::leave) {
    const auto n = store_.cancel_open_for(ev.subject_id, {}, "restore", "",
                                          fmt::format("cancelled: {} is {} (event {})", ev.subject_name,
                                                      state_name(ev.current), ev.seq));
    if (!n.empty()) log_.log(log_level::info, "event {}: {} pending restores cancelled", ev.seq, n.size());
  }
  plan_reclaim(ev, in, fmt::format("event:{}", ev.seq), ev.current, plan_actions(cfg_.policy, in));
  // A future contract end date schedules the contract_ended plan for then.
  if (ev.current == state::active || ev.current == state::transferred) {
    if (const auto end = contract_end(cfg_.policy, in, now())) {
      auto contract = in;
      contract.effective.reset();
      contract.from = ev.current == state::transferred ? state::active : ev.current;
      contract.to = state::contract_ended;
      contract.time = *end;
      const auto key = fmt::format("contract:{}:{}", ev.subject_id, to_unix_ms(*end));
      if (const auto n = store_.cancel_other_contract_plans(
              ev.subject_id, key, fmt::format("cancelled: contract end moved to {}", format_utc(*end))))
        log_.log(log_level::info, "event {}: contract end moved; {} actions of the earlier date cancelled", ev.seq, n);
      plan_reclaim(ev, contract, key, state::contract_ended, plan_actions(cfg_.policy, contract));
    } else if (!cfg_.policy.end_date_attribute.empty()) {
      // The end date was removed (or no longer parses): its pending plan goes.
      if (const auto n = store_.cancel_other_contract_plans(ev.subject_id, "", "cancelled: contract end date removed"))
        log_.log(log_level::info, "event {}: contract end removed; {} actions cancelled", ev.seq, n);
    }
  }
}

std::optional<std::string> planner::why_not_promote(const plan_row &p, const event_record &ev,
                                                    const std::vector<planned_action> &planned) {
  if (p.kind == "reclaim") {
    // A later event that left the plan's state (a rehire, a return from
    // leave) makes the plan stale; a termination followed by a deletion
    // does not.
    event_filter f;
    f.subject_id = p.subject_id;
    f.after_seq = ev.seq;
    const auto later = journal_.events(f);
    if (!later.empty()) {
      const auto &last = later.back();
      const auto to = parse_state(p.to_state);
      const bool same = to && (last.current == *to || (is_departure(last.current) && is_departure(*to)));
      if (!same)
        return fmt::format("skipped: {} is {} since event {}", ev.subject_name, state_name(last.current), last.seq);
    }
  }
  const bool enforced = std::any_of(planned.begin(), planned.end(), [&](const planned_action &a) {
    const auto *app = find_app(a.app);
    return app != nullptr && !app->dry_run;
  });
  if (!enforced) return std::string("skipped: every application it names is still dry_run = true");
  return std::nullopt;
}

std::vector<promotion> planner::promote_dry_run(time_point since, const std::string &by) {
  if (cfg_.policy.dry_run)
    throw approval_error(fmt::format("{} still says mode = \"dry_run\": set [engine] mode = \"enforce\" first "
                                     "(and restart the directory server, so its engine enforces too)",
                                     cfg_.path.string()));
  if (by.empty()) throw approval_error("a name is required");
  sqlite::transaction tx(journal_.db());
  population_.reset();
  struct replan {
    size_t index;
    event_record ev;
    plan_input in;
    state to;
    std::vector<planned_action> actions;
  };
  std::vector<promotion> out;
  std::vector<replan> work;
  for (auto &p : store_.dry_run_plans_since(since)) {
    promotion pr;
    pr.dry_plan = std::move(p);
    const auto &dp = pr.dry_plan;
    event_filter f;
    f.after_seq = dp.event_seq - 1;
    f.limit = 1;
    auto found = journal_.events(f);
    if (found.empty() || found[0].seq != dp.event_seq) {
      pr.outcome = fmt::format("skipped: event {} is no longer in the journal", dp.event_seq);
      out.push_back(std::move(pr));
      continue;
    }
    replan r{out.size(), std::move(found[0]), {}, state::none, {}};
    r.in = plan_input_from(r.ev);
    r.in.effective = effective_time(cfg_.policy, r.in).time; // as plan_event (its warning was logged then)
    r.to = r.ev.current;
    if (dp.kind == "contract") {
      // Key contract:<subject>:<end, unix ms>, as plan_event makes it.
      const auto colon = dp.plan_key.rfind(':');
      r.in.from = r.ev.current == state::transferred ? state::active : r.ev.current;
      r.in.to = r.to = state::contract_ended;
      r.in.time = from_unix_ms(std::stoll(dp.plan_key.substr(colon + 1)));
      r.in.effective.reset(); // the end date is the contract plan's own time
    }
    r.actions = plan_actions(cfg_.policy, r.in);
    if (auto why = why_not_promote(dp, r.ev, r.actions)) {
      pr.outcome = *why;
      out.push_back(std::move(pr));
      continue;
    }
    out.push_back(std::move(pr));
    work.push_back(std::move(r));
  }
  // One burst for the guard: every departure is counted before any plan
  // is decided, so the whole promotion is judged by its size.
  for (const auto &r : work)
    if (is_departure(r.to) && out[r.index].dry_plan.kind != "contract")
      store_.count_departure(now(), cfg_.policy.guard.window);
  for (auto &r : work) {
    auto &pr = out[r.index];
    store_.supersede_plan(pr.dry_plan.id, fmt::format("superseded: re-planned in enforce mode by {}", by));
    const auto id = plan_reclaim(r.ev, r.in, pr.dry_plan.plan_key, r.to, std::move(r.actions), false, by);
    if (!id) {
      pr.outcome = "superseded: nothing left to plan (already planned or done elsewhere)";
    } else {
      pr.new_plan = *id;
      pr.outcome = store_.plan(*id)->status;
      pr.actions = store_.actions("", "", *id).size();
    }
    audit::record_promotion(journal_.db(), cfg_, by, pr.dry_plan, pr.new_plan, pr.outcome);
  }
  tx.commit();
  log_.log(log_level::info, "{} dry-run plans since {} re-planned in enforce mode by {} ({} looked at)", work.size(),
           format_utc(since), by, out.size());
  return out;
}

std::vector<action_row> planner::preview(const std::string &subject, state from, state to,
                                         const std::map<std::string, std::vector<std::string>> &attrs) {
  plan_input in;
  in.subject_id = subject;
  in.from = from;
  in.to = to;
  in.time = now();
  in.attrs = attrs;
  auto rows = to_rows(subject, plan_actions(cfg_.policy, in));
  for (auto &a : rows) {
    const auto *app = find_app(a.app);
    a.status = (cfg_.policy.dry_run || (app && app->dry_run)) ? "dry_run" : "would_run";
    if (store_.has_live_action(subject, a.app, a.kind, a.target)) a.status = "already_planned";
  }
  return rows;
}

void planner::approve(int64_t plan_id, const std::string &approver,
                      const std::function<std::string(const std::string &)> &person) {
  if (approver.empty()) throw approval_error("an approver name is required");
  sqlite::transaction tx(journal_.db());
  const auto p = store_.plan(plan_id);
  if (!p) throw approval_error(fmt::format("no plan {}", plan_id));
  if (p->status != "held" && p->status != "awaiting_approval")
    throw approval_error(fmt::format("plan {} is {}; only held or awaiting_approval plans can be approved",
                                     plan_id, p->status));
  const std::function<std::string(const std::string &)> same = person ? person : identity;
  if (same(approver) == same(p->requested_by))
    throw approval_error(fmt::format("two-person rule: \"{}\" requested plan {} and cannot approve it",
                                     approver, plan_id));
  store_.set_plan_status(plan_id, "active", fmt::format("approved by {}", approver), approver);
  const bool dry_all = cfg_.policy.dry_run;
  if (dry_all) {
    store_.move_actions(plan_id, "held", "dry_run", fmt::format("approved by {}; dry run", approver));
  } else {
    for (const auto &a : store_.actions("held", "", plan_id)) {
      const auto *app = find_app(a.app);
      const bool dry = app && app->dry_run;
      journal_.db()
          .cached("UPDATE actions SET status = ?2, outcome = ?3 WHERE id = ?1")
          .bind(1, a.id).bind(2, dry ? "dry_run" : "pending").bind(3, fmt::format("approved by {}", approver))
          .run();
    }
  }
  audit::record_decision(journal_.db(), cfg_, "approval", approver, p->subject_id, plan_id, p->reason);
  tx.commit();
  log_.log(log_level::info, "plan {} approved by {} (requested by {})", plan_id, approver, p->requested_by);
}

void planner::reject(int64_t plan_id, const std::string &by, const std::string &reason) {
  if (by.empty()) throw approval_error("a name is required");
  sqlite::transaction tx(journal_.db());
  const auto p = store_.plan(plan_id);
  if (!p) throw approval_error(fmt::format("no plan {}", plan_id));
  if (p->status != "held" && p->status != "awaiting_approval")
    throw approval_error(fmt::format("plan {} is {}; only held or awaiting_approval plans can be rejected",
                                     plan_id, p->status));
  store_.set_plan_status(plan_id, "rejected", fmt::format("rejected by {}: {}", by, reason), by);
  store_.move_actions(plan_id, "held", "cancelled", fmt::format("plan rejected by {}", by));
  audit::record_decision(journal_.db(), cfg_, "rejection", by, p->subject_id, plan_id, reason);
  tx.commit();
  log_.log(log_level::info, "plan {} rejected by {}: {}", plan_id, by, reason);
}

} // namespace reclaim
