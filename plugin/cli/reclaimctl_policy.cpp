// reclaimctl_policy.cpp — the policy commands of reclaimctl: plans and
// actions, approve/reject (two-person rule), `plans enforce` (re-plan dry-run
// plans after the switch to enforce), legal holds, extensions, the dry
// preview `plan`, `dispatch` (plan and run what is due, once; with --at a
// preview unless --execute) and the local inventory. Each command opens the
// state store itself; nothing here needs the directory server to be running.
#include "cli/reclaimctl_policy.hpp"

#include "policy/costs.hpp"

#include "audit/audit_points.hpp"
#include "connectors/local_connector.hpp"
#include "policy/planner.hpp"
#include "policy/rules.hpp"
#include "dispatch/scheduler.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>

namespace reclaim::ctl {
namespace {

using json = nlohmann::json;

json plan_json(const plan_row &p) {
  return {{"id", p.id},           {"key", p.plan_key},        {"event_seq", p.event_seq},
          {"subject_id", p.subject_id}, {"subject_name", p.subject_name}, {"from", p.from_state},
          {"to", p.to_state},     {"kind", p.kind},           {"status", p.status},
          {"reason", p.reason},   {"requested_by", p.requested_by}, {"approved_by", p.approved_by},
          {"dry_run", p.dry_run}, {"monthly_cost", p.monthly_cost}, {"currency", p.currency},
          {"created", format_utc(p.created)}};
}

json action_json(const action_row &a) {
  return {{"id", a.id},         {"plan_id", a.plan_id},   {"subject_id", a.subject_id},
          {"app", a.app},       {"action", action_kind_name(a.kind)}, {"sku", a.sku},
          {"to_sku", a.to_sku}, {"target", a.target},     {"due", format_utc(a.due)},
          {"status", a.status}, {"attempts", a.attempts}, {"idempotency_key", a.idempotency_key},
          {"outcome", a.outcome}, {"rule", a.rule},        {"restores", a.restores}};
}

void print_json(const json &j) { std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n'; }

void print_actions(const std::vector<action_row> &rows, bool as_json) {
  if (as_json) {
    json out = json::array();
    for (const auto &a : rows) out.push_back(action_json(a));
    return print_json(out);
  }
  std::cout << fmt::format("{:>5} {:>5}  {:<20} {:<12} {:<14} {:<24} {:<8} {}\n", "ID", "PLAN", "ACTION", "APP",
                           "STATUS", "DUE (UTC)", "ATTEMPTS", "OUTCOME");
  for (const auto &a : rows)
    std::cout << fmt::format("{:>5} {:>5}  {:<20} {:<12} {:<14} {:<24} {:<8} {}\n", a.id, a.plan_id,
                             action_kind_name(a.kind), a.app, a.status, format_utc(a.due), a.attempts, a.outcome);
}

time_point parse_time_arg(const std::string &text, const char *what) {
  if (text.empty()) return now();
  if (auto t = parse_utc(text)) return *t;
  throw usage_error(fmt::format("{} \"{}\" is not a UTC time such as 2026-12-31T00:00:00Z", what, text));
}

state parse_state_arg(const std::string &text, const char *what) {
  const auto s = parse_state(text);
  if (!s) throw usage_error(fmt::format("{} \"{}\" is not a lifecycle state", what, text));
  return *s;
}

// `dispatch --at T` without --execute: the pending actions that would be
// claimed at T, in the scheduler's order, with what would make one wait.
// Read only: nothing is planned, claimed or recorded.
void preview_dispatch(const config &cfg, time_point at, size_t max, bool as_json) {
  journal j(cfg.journal_path(), sqlite::durability::full);
  plan_store store(j.db());
  int64_t unplanned = 0;
  {
    auto &st = j.db().cached("SELECT count(*) FROM events WHERE seq > ?1");
    st.bind(1, store.planned_upto());
    if (st.step()) unplanned = st.integer(0);
    st.reset();
  }
  json out = json::array();
  for (const auto &a : store.due_actions(at, max)) {
    std::string waits;
    const auto *app = cfg.policy.find_app(a.app);
    if (app != nullptr && held_by_legal_hold(cfg.policy, *app, a.kind, a.rule))
      if (const auto h = store.hold(a.subject_id)) waits = fmt::format("legal hold ({})", h->reason);
    if (const auto ext = store.active_extension(a.subject_id, a.app, at))
      waits = fmt::format("extended until {}", format_utc(ext->expires));
    const auto who = store.plan_subject(a.plan_id).first;
    out.push_back({{"id", a.id}, {"plan_id", a.plan_id}, {"action", action_kind_name(a.kind)}, {"app", a.app},
                   {"subject_id", a.subject_id}, {"subject_name", who}, {"due", format_utc(a.due)},
                   {"would", waits.empty() ? "run" : "wait: " + waits}});
  }
  if (as_json) return print_json({{"at", format_utc(at)}, {"preview", true}, {"unplanned_events", unplanned},
                                  {"actions", out}});
  std::cout << fmt::format("preview at {}: {} actions due (nothing was changed; --execute runs them)\n",
                           format_utc(at), out.size());
  std::cout << fmt::format("{:>5} {:>5}  {:<20} {:<12} {:<40} {:<24} {}\n", "ID", "PLAN", "ACTION", "APP", "SUBJECT",
                           "DUE (UTC)", "WOULD");
  for (const auto &r : out)
    std::cout << fmt::format("{:>5} {:>5}  {:<20} {:<12} {:<40} {:<24} {}\n", r["id"].get<int64_t>(),
                             r["plan_id"].get<int64_t>(), r["action"].get<std::string>(), r["app"].get<std::string>(),
                             r["subject_name"].get<std::string>().empty() ? r["subject_id"].get<std::string>()
                                                                          : r["subject_name"].get<std::string>(),
                             r["due"].get<std::string>(), r["would"].get<std::string>());
  if (unplanned > 0)
    std::cout << fmt::format("({} journalled events are not planned yet; the engine plans them as they arrive)\n",
                             unplanned);
}

void print_promotions(const std::vector<promotion> &done, time_point since, bool as_json) {
  json out = json::array();
  size_t replanned = 0, held = 0;
  for (const auto &p : done) {
    out.push_back({{"dry_run_plan", p.dry_plan.id}, {"event_seq", p.dry_plan.event_seq},
                   {"subject_id", p.dry_plan.subject_id}, {"subject_name", p.dry_plan.subject_name},
                   {"transition", fmt::format("{} -> {}", p.dry_plan.from_state, p.dry_plan.to_state)},
                   {"new_plan", p.new_plan}, {"outcome", p.outcome}, {"actions", p.actions}});
    if (p.new_plan > 0) ++replanned;
    if (p.outcome == "held" || p.outcome == "awaiting_approval") ++held;
  }
  if (as_json) return print_json(out);
  std::cout << fmt::format("{} dry-run plans since {}: {} re-planned in enforce mode ({} held for approval)\n",
                           done.size(), format_utc(since), replanned, held);
  for (const auto &r : out)
    std::cout << fmt::format("  plan {} ({}, {}) -> {}: {}\n", r["dry_run_plan"].get<int64_t>(),
                             r["subject_name"].get<std::string>(), r["transition"].get<std::string>(),
                             r["new_plan"].get<int64_t>() > 0 ? fmt::format("plan {}", r["new_plan"].get<int64_t>())
                                                              : std::string("no new plan"),
                             r["outcome"].get<std::string>());
}

struct store_handle {
  explicit store_handle(const config &cfg) : j(cfg.journal_path(), sqlite::durability::full), p(cfg, j, log) {}
  logger log;
  journal j;
  planner p;
};

} // namespace

void add_policy_commands(CLI::App &app, policy_args &a) {
  auto *plans = app.add_subcommand("plans", "reclamation and restore plans");
  plans->require_subcommand(1);
  a.plans_list = plans->add_subcommand("list", "list plans");
  a.plans_list->add_option("--status", a.status, "only plans in this status (held, awaiting_approval, active, …)");
  a.plans_list->add_option("--subject", a.subject, "only this subject id");
  a.plans_list->add_flag("--json", a.as_json, "print JSON");

  a.plans_enforce = plans->add_subcommand(
      "enforce", "after switching [engine] mode to enforce: re-plan the dry-run plans made since a time, "
                 "through the guard (held for approval when they exceed it)");
  a.plans_enforce->add_option("--since", a.since, "dry-run plans made at or after this time (UTC)")->required();
  a.plans_enforce->add_flag("--json", a.as_json, "print JSON");

  auto *actions = app.add_subcommand("actions", "scheduled actions");
  actions->require_subcommand(1);
  a.actions_list = actions->add_subcommand("list", "list actions");
  a.actions_list->add_option("--state", a.status, "only actions in this state (pending, done, dead, …)");
  a.actions_list->add_option("--subject", a.subject, "only this subject id");
  a.actions_list->add_option("--plan", a.plan_id, "only this plan");
  a.actions_list->add_flag("--json", a.as_json, "print JSON");

  a.approve = app.add_subcommand("approve", "approve a held plan (role iam; not the person who requested it)");
  a.approve->add_option("id", a.plan_id, "plan id")->required();
  a.reject = app.add_subcommand("reject", "reject a held plan; its actions are cancelled");
  a.reject->add_option("id", a.plan_id, "plan id")->required();
  a.reject->add_option("--reason", a.reason, "why");

  auto *exc = app.add_subcommand("exceptions", "temporary extensions for one person and application");
  exc->require_subcommand(1);
  a.exc_add = exc->add_subcommand("add", "delay a person's actions on an application until a time");
  a.exc_add->add_option("--subject", a.subject, "subject id")->required();
  a.exc_add->add_option("--app", a.app, "application id")->required();
  a.exc_add->add_option("--until", a.until, "expiry, UTC (2026-12-31T00:00:00Z)")->required();
  a.exc_add->add_option("--reason", a.reason, "why");
  a.exc_list = exc->add_subcommand("list", "list extensions");
  a.exc_list->add_option("--subject", a.subject, "only this subject id");
  a.exc_list->add_flag("--json", a.as_json, "print JSON");
  a.exc_remove = exc->add_subcommand("remove", "remove an extension");
  a.exc_remove->add_option("id", a.plan_id, "extension id")->required();

  auto *hold = app.add_subcommand("hold", "legal holds: access still goes, data-affecting actions wait");
  hold->require_subcommand(1);
  a.hold_add = hold->add_subcommand("add", "put a person on legal hold");
  a.hold_add->add_option("--subject", a.subject, "subject id")->required();
  a.hold_add->add_option("--reason", a.reason, "case reference")->required();
  a.hold_remove = hold->add_subcommand("remove", "lift a legal hold; waiting actions become due");
  a.hold_remove->add_option("--subject", a.subject, "subject id")->required();
  a.hold_remove->add_option("--reason", a.reason, "case reference or why it is lifted");
  a.hold_list = hold->add_subcommand("list", "list legal holds");
  a.hold_list->add_flag("--json", a.as_json, "print JSON");

  a.preview = app.add_subcommand("plan", "show what a change would do; records nothing");
  a.preview->add_option("--subject", a.subject, "subject id")->required();
  a.preview->add_option("--from", a.from, "state before")->required();
  a.preview->add_option("--to", a.to, "state after")->required();
  a.preview->add_option("--attr", a.attrs, "attribute=value (repeatable), for rule filters and roles");
  a.preview->add_flag("--json", a.as_json, "print JSON");

  a.dispatch = app.add_subcommand(
      "dispatch", "plan journalled events and run the actions due now, then exit (only with [scheduler] "
                  "in_process = false); --at TIME previews what would run then");
  a.dispatch->add_option("--at", a.until, "preview what would be due at this time (UTC); changes nothing");
  a.dispatch->add_flag("--execute", a.execute,
                       "with --at: run what is due at that time now (in_process = false only)");
  a.dispatch->add_option("--max", a.max, "run (or list) at most N actions");
  a.dispatch->add_flag("--json", a.as_json, "with a preview: print JSON");

  auto *inv = app.add_subcommand("inventory", "the local licence inventory");
  inv->require_subcommand(1);
  a.inv_assign = inv->add_subcommand("assign", "assign a licence");
  a.inv_assign->add_option("--subject", a.subject, "subject id")->required();
  a.inv_assign->add_option("--app", a.app, "application id")->required();
  a.inv_assign->add_option("--sku", a.sku, "SKU id")->required();
  a.inv_grant = inv->add_subcommand("grant", "record active access to an application");
  a.inv_grant->add_option("--subject", a.subject, "subject id")->required();
  a.inv_grant->add_option("--app", a.app, "application id")->required();
  a.inv_list = inv->add_subcommand("list", "list licences and access");
  a.inv_list->add_option("--subject", a.subject, "only this subject id");
  a.inv_list->add_flag("--json", a.as_json, "print JSON");
}

bool run_policy_command(const config &cfg, policy_args &a, const access::resolver &who) {
  auto need_app = [&](const std::string &id) -> const application & {
    const auto *app = cfg.policy.find_app(id);
    if (app == nullptr) throw usage_error(fmt::format("unknown application \"{}\"", id));
    return *app;
  };
  if (a.plans_list->parsed()) {
    store_handle h(cfg);
    const auto rows = h.p.store().plans(a.status, a.subject);
    // Reclaimed: what executed licence actions really removed.
    std::map<int64_t, double> reclaimed;
    for (const auto &act : h.p.store().actions("done", a.subject, 0))
      if (const auto *app = cfg.policy.find_app(act.app)) {
        std::string currency;
        reclaimed[act.plan_id] += reclaimed_cost(*app, act, currency);
      }
    if (a.as_json) {
      json out = json::array();
      for (const auto &p : rows) {
        out.push_back(plan_json(p));
        out.back()["reclaimed_cost"] = reclaimed[p.id];
      }
      print_json(out);
    } else {
      std::cout << fmt::format("{:>5}  {:<40} {:<26} {:<18} {:>10} {:>10}  {}\n", "ID", "SUBJECT", "TRANSITION",
                               "STATUS", "PLANNED/MO", "RECLAIMED", "REASON");
      for (const auto &p : rows)
        std::cout << fmt::format("{:>5}  {:<40} {:<26} {:<18} {:>10.2f} {:>10.2f}  {}\n", p.id,
                                 p.subject_name.empty() ? p.subject_id : p.subject_name,
                                 fmt::format("{} -> {}", p.from_state, p.to_state), p.status, p.monthly_cost,
                                 reclaimed[p.id], p.reason);
    }
  } else if (a.plans_enforce->parsed()) {
    const auto since = parse_time_arg(a.since, "--since");
    store_handle h(cfg);
    const auto done = h.p.promote_dry_run(since, a.actor);
    print_promotions(done, since, a.as_json);
  } else if (a.actions_list->parsed()) {
    store_handle h(cfg);
    print_actions(h.p.store().actions(a.status, a.subject, a.plan_id), a.as_json);
  } else if (a.approve->parsed()) {
    store_handle h(cfg);
    h.p.approve(a.plan_id, a.actor, [&](const std::string &name) {
      if (name.empty()) return std::string("nobody"); // no requester recorded: nobody to differ from
      auto key = who.canonical(name);
      if (key.rfind("unknown:", 0) == 0)
        throw approval_error(fmt::format(
            "two-person rule: plan {} was requested by \"{}\", which [access] maps to no person, so reclaim "
            "cannot tell whether you are them; add it to a person in [access] (docs/admin.md, \"Who may do what\")",
            a.plan_id, name));
      return key;
    });
    std::cout << fmt::format("plan {} approved by {}\n", a.plan_id, a.actor);
  } else if (a.reject->parsed()) {
    store_handle h(cfg);
    h.p.reject(a.plan_id, a.actor, a.reason);
    std::cout << fmt::format("plan {} rejected by {}\n", a.plan_id, a.actor);
  } else if (a.exc_add->parsed()) {
    need_app(a.app);
    const auto until = parse_time_arg(a.until, "--until");
    if (until <= now()) throw usage_error("--until must be in the future");
    store_handle h(cfg);
    const auto id = h.p.store().add_extension({0, a.subject, a.app, a.actor, a.reason, until, now()});
    audit::record_decision(h.j.db(), cfg, "exception_added", a.actor, a.subject, 0,
                           fmt::format("extension {} of {} until {}: {}", id, a.app, format_utc(until), a.reason));
    std::cout << fmt::format("extension {}: {} keeps {} until {}\n", id, a.subject, a.app, format_utc(until));
  } else if (a.exc_list->parsed()) {
    store_handle h(cfg);
    json out = json::array();
    for (const auto &e : h.p.store().extensions(a.subject))
      out.push_back({{"id", e.id}, {"subject_id", e.subject_id}, {"app", e.app}, {"approver", e.approver},
                     {"reason", e.reason}, {"expires", format_utc(e.expires)}});
    if (a.as_json) print_json(out);
    else for (const auto &e : out) std::cout << e.dump() << '\n';
  } else if (a.exc_remove->parsed()) {
    store_handle h(cfg);
    if (!h.p.store().remove_extension(a.plan_id)) throw not_found_error(fmt::format("no extension {}", a.plan_id));
    audit::record_decision(h.j.db(), cfg, "exception_removed", a.actor, "", 0, fmt::format("extension {}", a.plan_id));
    std::cout << fmt::format("extension {} removed\n", a.plan_id);
  } else if (a.hold_add->parsed()) {
    store_handle h(cfg);
    h.p.store().add_hold({a.subject, a.reason, a.actor, now()});
    audit::record_decision(h.j.db(), cfg, "hold_added", a.actor, a.subject, 0, a.reason);
    std::cout << fmt::format("legal hold on {} ({})\n", a.subject, a.reason);
  } else if (a.hold_remove->parsed()) {
    store_handle h(cfg);
    if (!h.p.store().remove_hold(a.subject)) throw not_found_error(fmt::format("no legal hold on {}", a.subject));
    audit::record_decision(h.j.db(), cfg, "hold_removed", a.actor, a.subject, 0, a.reason);
    std::cout << fmt::format("legal hold on {} lifted\n", a.subject);
  } else if (a.hold_list->parsed()) {
    store_handle h(cfg);
    json out = json::array();
    for (const auto &x : h.p.store().holds())
      out.push_back({{"subject_id", x.subject_id}, {"reason", x.reason}, {"added_by", x.added_by},
                     {"added", format_utc(x.added)}});
    if (a.as_json) print_json(out);
    else for (const auto &e : out) std::cout << e.dump() << '\n';
  } else if (a.preview->parsed()) {
    std::map<std::string, std::vector<std::string>> attrs;
    for (const auto &kv : a.attrs) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw usage_error(fmt::format("--attr \"{}\" is not name=value", kv));
      std::string name = kv.substr(0, eq);
      for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      attrs[name].push_back(kv.substr(eq + 1));
    }
    const auto from = parse_state_arg(a.from, "--from");
    const auto to = parse_state_arg(a.to, "--to");
    // Read-only: preview in a transaction that is rolled back.
    store_handle h(cfg);
    std::vector<action_row> rows;
    {
      sqlite::transaction tx(h.j.db());
      rows = h.p.preview(a.subject, from, to, attrs);
    }
    print_actions(rows, a.as_json);
  } else if (a.dispatch->parsed()) {
    if (!a.until.empty() && !a.execute) {
      preview_dispatch(cfg, parse_time_arg(a.until, "--at"), a.max > 0 ? static_cast<size_t>(a.max) : SIZE_MAX,
                       a.as_json);
      return true;
    }
    if (cfg.policy.scheduler.in_process)
      throw usage_error(fmt::format(
          "refused: {} has [scheduler] in_process = true: the engine inside the directory server dispatches, "
          "and a second dispatcher would act on a config the engine may not have loaded. Preview with "
          "`reclaimctl dispatch --at TIME`; to dispatch from reclaimctl, set in_process = false and restart",
          cfg.path.string()));
    const auto at = parse_time_arg(a.until, "--at");
    set_fixed_now(at);
    logger log(
        [](int, const char *m, void *) { std::fprintf(stderr, "reclaimctl: %s\n", m); }, nullptr,
        cfg.engine.level);
    journal j(cfg.journal_path(), sqlite::durability::full);
    planner p(cfg, j, log);
    const auto planned = p.plan_pending();
    scheduler s(cfg, log);
    s.requeue_running();
    const auto ran = s.run_due(at, a.max > 0 ? static_cast<size_t>(a.max) : SIZE_MAX);
    std::cout << fmt::format("planned {} events, ran {} actions at {}\n", planned, ran, format_utc(at));
  } else if (a.inv_assign->parsed()) {
    const auto &app = need_app(a.app);
    if (!app.find_sku(a.sku)) throw usage_error(fmt::format("application \"{}\" has no SKU \"{}\"", a.app, a.sku));
    store_handle h(cfg);
    local_connector(h.j.db()).assign(a.subject, a.app, a.sku);
    std::cout << fmt::format("{} holds {} / {}\n", a.subject, a.app, a.sku);
  } else if (a.inv_grant->parsed()) {
    need_app(a.app);
    store_handle h(cfg);
    local_connector(h.j.db()).grant(a.subject, a.app);
    std::cout << fmt::format("{} has access to {}\n", a.subject, a.app);
  } else if (a.inv_list->parsed()) {
    store_handle h(cfg);
    json out = json::array();
    for (const auto &x : inventory_list(h.j.db(), a.subject))
      out.push_back({{"subject_id", x.subject_id}, {"app", x.app}, {"sku", x.sku}, {"status", x.status}});
    if (a.as_json) print_json(out);
    else for (const auto &e : out) std::cout << e.dump() << '\n';
  } else {
    return false;
  }
  return true;
}

} // namespace reclaim::ctl
