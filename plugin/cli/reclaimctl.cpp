// reclaimctl — the administrator's command line: the journal, plans and
// actions, approvals, exceptions, dispatch, the inventory, config checks.
// Exit codes: 0 ok, 1 failure, 2 usage error (bad argument, refused
// approval), 3 not found; messages on stderr. --json prints JSON on stdout.
#include "config/config.hpp"
#include "store/journal.hpp"
#include "policy/planner.hpp"
#include "reclaim/reclaim.h"
#include "cli/reclaimctl_audit.hpp"
#include "cli/reclaimctl_policy.hpp"
#include "cli/reclaimctl_store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace {

using json = nlohmann::json;

json event_json(const reclaim::event_record &e) {
  json attrs = json::parse(e.attributes_json, nullptr, false);
  if (attrs.is_discarded()) attrs = json::object();
  return {{"seq", e.seq},
          {"time", reclaim::format_utc(e.time)},
          {"recorded", reclaim::format_utc(e.recorded)},
          {"subject_id", e.subject_id},
          {"subject_name", e.subject_name},
          {"source", e.source},
          {"previous_state", reclaim::state_name(e.previous)},
          {"state", reclaim::state_name(e.current)},
          {"idempotency_key", e.idempotency_key},
          {"actor", e.actor},
          {"attributes", attrs}};
}

void print_events(const std::vector<reclaim::event_record> &events, bool as_json) {
  if (as_json) {
    json out = json::array();
    for (const auto &e : events) out.push_back(event_json(e));
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
    return;
  }
  std::cout << fmt::format("{:>5}  {:<24}  {:<40}  {:<12}  {:<31}  {}\n", "SEQ", "TIME (UTC)",
                           "SUBJECT", "SOURCE", "CHANGE", "KEY");
  for (const auto &e : events) {
    const auto change = fmt::format("{} -> {}", reclaim::state_name(e.previous),
                                    reclaim::state_name(e.current));
    std::cout << fmt::format("{:>5}  {:<24}  {:<40}  {:<12}  {:<31}  {}\n", e.seq,
                             reclaim::format_utc(e.time),
                             e.subject_name.empty() ? e.subject_id : e.subject_name, e.source,
                             change, e.idempotency_key);
  }
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"reclaimctl — inspect and operate reclaim"};
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "config file (default: $RECLAIM_CONFIG, else /etc/reclaim/reclaim.toml)");
  app.set_version_flag("--version", "reclaimctl " RECLAIM_VERSION);

  auto *events = app.add_subcommand("events", "the journal of lifecycle events");
  events->require_subcommand(1);
  auto *list = events->add_subcommand("list", "list journalled events, oldest first");
  bool as_json = false;
  std::string subject;
  int64_t limit = -1, after = 0;
  list->add_flag("--json", as_json, "print a JSON array");
  list->add_option("--subject", subject, "only this subject id");
  list->add_option("--limit", limit, "at most N events")->check(CLI::NonNegativeNumber);
  list->add_option("--after", after, "only events with seq > N")->check(CLI::NonNegativeNumber);

  auto *config_cmd = app.add_subcommand("config", "configuration");
  config_cmd->require_subcommand(1);
  auto *check = config_cmd->add_subcommand("check", "load and validate the config, then exit");

  reclaim::ctl::policy_args policy;
  reclaim::ctl::add_policy_commands(app, policy);
  auto audit = reclaim::ctl::add_audit_commands(app);
  const auto store = reclaim::ctl::add_store_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (auto rc = reclaim::ctl::run_audit_command(config_path, *audit)) return *rc;
  try {
    const auto path = reclaim::resolve_config_path(config_path.c_str());
    const auto cfg = reclaim::load_config(path);
    if (check->parsed()) {
      std::cout << fmt::format("{}: ok (sha256 {})\n", path.string(), cfg.sha256);
      return 0;
    }
    if (list->parsed()) {
      reclaim::event_filter f;
      if (!subject.empty()) f.subject_id = subject;
      f.limit = limit;
      f.after_seq = after;
      f.by_time = true;
      print_events(reclaim::read_events(cfg.journal_path(), f), as_json);
      return 0;
    }
    if (reclaim::ctl::run_store_command(cfg, store)) {
      reclaim::ctl::drain_audit(cfg);
      return 0;
    }
    reclaim::ctl::run_policy_command(cfg, policy);
    reclaim::ctl::drain_audit(cfg); // what the command recorded, unless the engine holds the log
    return 0;
  } catch (const reclaim::ctl::usage_error &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 2;
  } catch (const reclaim::approval_error &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return std::string(e.what()).rfind("no plan", 0) == 0 ? 3 : 2;
  } catch (const reclaim::ctl::not_found_error &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 3;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 1;
  }
}
