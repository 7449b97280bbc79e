// reclaimctl — the administrator's command line: the journal, plans and
// actions, approvals, exceptions, dispatch, the inventory, config checks.
// Exit codes: 0 ok, 1 failure, 2 usage error (bad argument, refused
// approval), 3 not found, 5 refused by [access] (the operator lacks the
// role); messages on stderr. --json prints JSON on stdout.
#include "config/config.hpp"
#include "store/journal.hpp"
#include "policy/planner.hpp"
#include "reclaim/reclaim.h"
#include "cli/reclaimctl_access.hpp"
#include "cli/reclaimctl_audit.hpp"
#include "cli/reclaimctl_ingest.hpp"
#include "cli/reclaimctl_policy.hpp"
#include "cli/reclaimctl_store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
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

// The engine records the config it loaded as the audit log's config_loaded
// record (at every start); the newest one is near the end of the log, so
// the file is read backwards in blocks until one is found.
std::optional<json> last_config_loaded(const std::filesystem::path &log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return std::nullopt;
  in.seekg(0, std::ios::end);
  auto end = static_cast<int64_t>(in.tellg());
  std::string tail; // the bytes after `end`, starting at a line start (or the file's start)
  constexpr int64_t block = 1 << 20;
  while (end > 0 || !tail.empty()) {
    const int64_t start = std::max<int64_t>(0, end - block);
    std::string chunk(static_cast<size_t>(end - start), '\0');
    in.seekg(start);
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    std::string text = chunk + tail;
    size_t first = 0;
    if (start > 0) { // the first line may be cut: keep it for the next block
      first = text.find('\n');
      if (first == std::string::npos) {
        tail = std::move(text);
        end = start;
        continue;
      }
      ++first;
    }
    size_t stop = text.size();
    while (stop > first) {
      size_t line = text.rfind('\n', stop - 1);
      line = line == std::string::npos || line < first ? first : line + 1;
      const std::string_view l(text.data() + line, stop - line);
      if (l.find("\"config_loaded\"") != std::string_view::npos) {
        auto j = json::parse(l, nullptr, false);
        if (!j.is_discarded() && j.value("type", "") == "config_loaded") return j;
      }
      stop = line > first ? line - 1 : first;
    }
    tail = text.substr(0, first);
    end = start;
    if (start == 0) break;
  }
  return std::nullopt;
}

int config_show(const reclaim::config &cfg, bool as_json) {
  const auto changed = reclaim::config_changed_on_disk(cfg);
  const auto on_disk = changed ? *changed : cfg.sha256;
  std::optional<json> loaded;
  if (cfg.audit.enabled) loaded = last_config_loaded(cfg.audit.path);
  const std::string engine_sha =
      loaded ? loaded->value("policy", json::object()).value("config_sha256", "") : "";
  const std::string engine_time = loaded ? loaded->value("time", "") : "";
  const char *mode = cfg.policy.dry_run ? "dry_run" : "enforce";
  if (as_json) {
    std::cout << json{{"path", cfg.path.string()},
                      {"sha256_on_disk", on_disk},
                      {"mode_on_disk", mode},
                      {"in_process", cfg.policy.scheduler.in_process},
                      {"engine_sha256", engine_sha.empty() ? json(nullptr) : json(engine_sha)},
                      {"engine_loaded", engine_time.empty() ? json(nullptr) : json(engine_time)},
                      {"matches", !engine_sha.empty() && engine_sha == on_disk}}
                     .dump(2)
              << '\n';
    return 0;
  }
  std::cout << fmt::format("file:            {}\n", cfg.path.string());
  std::cout << fmt::format("sha256 on disk:  {}\n", on_disk);
  std::cout << fmt::format("mode on disk:    {}; [scheduler] in_process = {}\n", mode, cfg.policy.scheduler.in_process);
  if (!cfg.audit.enabled) {
    std::cout << "engine loaded:   unknown (the engine records it in the audit log, and [audit] is off)\n";
  } else if (engine_sha.empty()) {
    std::cout << fmt::format("engine loaded:   unknown (no config_loaded record in {})\n", cfg.audit.path.string());
  } else {
    std::cout << fmt::format("engine loaded:   {} (at {}, config_loaded in the audit log)\n", engine_sha, engine_time);
    if (engine_sha != on_disk)
      std::cout << "the file differs from what the engine last loaded: the engine reads its config only at start; "
                   "restart the directory server to apply it\n";
  }
  return 0;
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
  auto *show = config_cmd->add_subcommand(
      "show", "the file's SHA-256 and mode beside the SHA-256 of the config the engine last loaded");
  bool show_json = false;
  show->add_flag("--json", show_json, "print JSON");

  reclaim::ctl::policy_args policy;
  reclaim::ctl::add_policy_commands(app, policy);
  auto audit = reclaim::ctl::add_audit_commands(app);
  const auto store = reclaim::ctl::add_store_commands(app);
  const auto ingest = reclaim::ctl::add_ingest_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  // Who acts comes from the OS (getuid), never from a flag; see config/access.hpp.
  std::string actor;
  try {
    const auto g = reclaim::ctl::check_access(config_path, reclaim::ctl::parsed_verb(app));
    if (g.exit_code) return *g.exit_code;
    actor = g.actor;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reclaimctl: %s\n", e.what());
    return 1;
  }
  reclaim::ctl::set_audit_actor(*audit, actor);
  if (auto rc = reclaim::ctl::run_audit_command(config_path, *audit)) return *rc;
  try {
    const auto path = reclaim::resolve_config_path(config_path.c_str());
    const auto cfg = reclaim::load_config(path);
    if (check->parsed()) {
      try {
        reclaim::access::check_accounts(cfg.access);
      } catch (const std::invalid_argument &e) { // an unknown Unix user or group in [access]
        std::fprintf(stderr, "reclaimctl: %s: %s\n", path.c_str(), e.what());
        return 2;
      }
      std::cout << fmt::format("{}: ok (sha256 {}, mode {})\n", path.string(), cfg.sha256,
                               cfg.policy.dry_run ? "dry_run" : "enforce");
      return 0;
    }
    if (show->parsed()) return config_show(cfg, show_json);
    if (list->parsed()) {
      reclaim::event_filter f;
      if (!subject.empty()) f.subject_id = subject;
      f.limit = limit;
      f.after_seq = after;
      f.by_time = true;
      print_events(reclaim::read_events(cfg.journal_path(), f), as_json);
      return 0;
    }
    if (auto rc = reclaim::ctl::run_ingest_command(cfg, *ingest, actor)) return *rc;
    if (reclaim::ctl::run_store_command(cfg, store, actor)) {
      reclaim::ctl::drain_audit(cfg);
      return 0;
    }
    policy.actor = actor;
    const reclaim::access::resolver who(cfg.access);
    reclaim::ctl::run_policy_command(cfg, policy, who);
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
