// audit_points.cpp — the records of docs/audit.md "Record types", built from
// the engine's own rows. Personal data (the subject's name) goes into
// "personal", which the appender encrypts under the subject's key.
#include "audit/audit_points.hpp"

#include "audit/audit_log.hpp"
#include "base/states.hpp"

#include <cctype>
#include <cmath>

namespace reclaim::audit {
namespace {

using json = nlohmann::json;

json asset(const action_row &a, const config &cfg) {
  json out = {{"app", a.app}, {"action", action_kind_name(a.kind)}};
  if (!a.sku.empty()) out["sku"] = a.sku;
  if (!a.to_sku.empty()) out["to_sku"] = a.to_sku;
  if (!a.target.empty()) out["target"] = a.target;
  if (const auto *app = cfg.policy.find_app(a.app))
    for (const auto &s : app->skus)
      if (s.id == a.sku) out["monthly_cost_cents"] = static_cast<int64_t>(std::llround(s.monthly_cost * 100));
  return out;
}

} // namespace

void record_event(sqlite::database &db, const config &cfg, const event_record &ev) {
  if (!cfg.audit.enabled) return;
  json body = {{"type", "event_journalled"}, {"actor", ev.actor.empty() ? "engine" : ev.actor},
               {"subject_id", ev.subject_id}, {"ids", {{"event", ev.seq}}},
               {"data", {{"source", ev.source}, {"from", state_name(ev.previous)}, {"to", state_name(ev.current)}}}};
  if (!ev.subject_name.empty()) body["personal"] = {{"name", ev.subject_name}};
  enqueue(db, std::move(body));
}

void record_plan(sqlite::database &db, const config &cfg, int64_t plan_id, const plan_row &p,
                 const std::vector<action_row> &actions) {
  if (!cfg.audit.enabled) return;
  json assets = json::array();
  for (const auto &a : actions) assets.push_back(asset(a, cfg));
  json body = {{"type", p.status == "held" ? "guard_trip" : "plan_made"}, {"actor", "engine"},
               {"subject_id", p.subject_id}, {"ids", {{"event", p.event_seq}, {"plan", plan_id}}},
               {"assets", assets}, {"outcome", p.status}, {"reason", p.reason},
               {"policy", {{"config_sha256", cfg.sha256}}},
               {"data", {{"kind", p.kind}, {"from", p.from_state}, {"to", p.to_state}, {"dry_run", p.dry_run},
                         {"monthly_cost_cents", static_cast<int64_t>(std::llround(p.monthly_cost * 100))}}}};
  if (!p.subject_name.empty()) body["personal"] = {{"name", p.subject_name}};
  enqueue(db, std::move(body));
}

void record_attempt(sqlite::database &db, const config &cfg, const action_row &a) {
  if (!cfg.audit.enabled) return;
  enqueue(db, {{"type", "action_attempted"}, {"actor", "engine"}, {"subject_id", a.subject_id},
               {"ids", {{"plan", a.plan_id}, {"action", a.id}}},
               {"assets", json::array({asset(a, cfg)})}, {"data", {{"attempt", a.attempts}}}});
}

// The HTTP status a connector quotes ("HTTP 404", "(412)", "status 400"),
// or 0.
static int quoted_status(const std::string &message) {
  auto digit = [&](size_t i) { return i < message.size() && std::isdigit(static_cast<unsigned char>(message[i])); };
  for (const std::string_view mark : {"HTTP ", "(", "status "})
    for (size_t at = message.find(mark); at != std::string::npos; at = message.find(mark, at + 1)) {
      const size_t d = at + mark.size();
      if (!digit(d) || !digit(d + 1) || !digit(d + 2) || digit(d + 3)) continue;
      if (mark == "(" && (d + 3 >= message.size() || message[d + 3] != ')')) continue; // "(412 bytes)"
      const int status = std::stoi(message.substr(d, 3));
      if (status >= 400 && status <= 599) return status;
    }
  return 0;
}

std::string_view reason_code(const std::string &outcome, const std::string &message, bool throttled) {
  if (outcome == "done" || outcome == "already_done") return "ok";
  const int status = quoted_status(message);
  if (throttled || status == 429 || status == 503) return "throttled";
  if (status == 404 || status == 410) return "not_found";
  if (status == 401 || status == 403) return "unauthorized";
  if (status == 409 || status == 412) return "conflict";
  if (status >= 500) return "vendor_error";
  if (status >= 400) return "refused";
  if (message.find("answer") != std::string::npos) return "bad_answer";
  if (message.find("certificate") != std::string::npos || message.find("SSL") != std::string::npos ||
      message.find("TLS") != std::string::npos)
    return "tls";
  if (outcome == "permanent_failure" &&
      (message.find("credential") != std::string::npos || message.find("token") != std::string::npos))
    return "unauthorized";
  if (outcome == "transient_failure") return "transport";
  if (outcome == "permanent_failure") return "refused";
  return "failed";
}

void record_outcome(sqlite::database &db, const config &cfg, const action_row &a, const std::string &outcome,
                    const std::string &message, bool throttled) {
  if (!cfg.audit.enabled) return;
  json body = {{"type", "action_outcome"}, {"actor", "engine"}, {"subject_id", a.subject_id},
               {"ids", {{"plan", a.plan_id}, {"action", a.id}}}, {"assets", json::array({asset(a, cfg)})},
               {"outcome", outcome}, {"reason", reason_code(outcome, message, throttled)}};
  if (!message.empty()) body["personal"] = {{"message", message}};
  enqueue(db, std::move(body));
}

void record_decision(sqlite::database &db, const config &cfg, const std::string &type, const std::string &actor,
                     const std::string &subject_id, int64_t plan_id, const std::string &reason) {
  if (!cfg.audit.enabled) return;
  json body = {{"type", type}, {"actor", actor}, {"reason", reason}};
  if (!subject_id.empty()) body["subject_id"] = subject_id;
  if (plan_id > 0) body["ids"] = {{"plan", plan_id}};
  create_outbox(db);
  enqueue(db, std::move(body));
}

void record_config_load(sqlite::database &db, const config &cfg) {
  if (!cfg.audit.enabled) return;
  create_outbox(db);
  enqueue(db, {{"type", "config_loaded"}, {"actor", "engine"},
               {"policy", {{"config_sha256", cfg.sha256}}}, {"data", {{"path", cfg.path.string()}}}});
}

void record_promotion(sqlite::database &db, const config &cfg, const std::string &actor, const plan_row &dry_plan,
                      int64_t new_plan, const std::string &outcome) {
  if (!cfg.audit.enabled) return;
  json body = {{"type", "plan_promoted"}, {"actor", actor}, {"subject_id", dry_plan.subject_id},
               {"ids", {{"event", dry_plan.event_seq}, {"plan", new_plan > 0 ? new_plan : dry_plan.id}}},
               {"outcome", outcome}, {"policy", {{"config_sha256", cfg.sha256}}},
               {"data", {{"supersedes_plan", dry_plan.id}, {"mode", "enforce"}, {"kind", dry_plan.kind},
                         {"from", dry_plan.from_state}, {"to", dry_plan.to_state}}}};
  create_outbox(db);
  enqueue(db, std::move(body));
}

} // namespace reclaim::audit
