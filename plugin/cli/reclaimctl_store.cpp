// reclaimctl_store.cpp — `store check` reports what the engine checks at
// open and while it runs; `store rebaseline` lets the next catch-up record a
// fresh baseline where a store with history was, and records who did it
// (the authenticated operator, never a name given on the line).
#include "cli/reclaimctl_store.hpp"

#include "audit/audit_log.hpp"
#include "store/journal.hpp"
#include "store/store_health.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace reclaim::ctl {

store_args add_store_commands(CLI::App &app) {
  auto *store = app.add_subcommand("store", "the state store: health, a fresh start");
  store->require_subcommand(1);
  store_args a;
  a.check = store->add_subcommand("check", "schema version, full integrity check, WAL size, history marker");
  a.rebaseline = store->add_subcommand(
      "rebaseline", "allow the next catch-up to record a fresh baseline where a store with history was");
  return a;
}

bool run_store_command(const config &cfg, const store_args &a, const std::string &actor) {
  const auto path = cfg.journal_path();
  if (a.check->parsed()) {
    if (!std::filesystem::exists(path)) throw std::runtime_error(fmt::format("{}: no state store yet", path.string()));
    journal j(path, sqlite::durability::normal); // refuses a newer schema
    bool finished = true;
    const auto problem = store::quick_check(j.db(), std::chrono::hours(1), &finished);
    std::cout << fmt::format("{}: schema version {}, {}, WAL {} KiB, baseline {}, history marker {}\n", path.string(),
                             store::schema_version, problem ? "CORRUPT: " + *problem : "integrity ok",
                             store::wal_bytes(path) >> 10, j.has_baseline() ? "recorded" : "not yet",
                             std::filesystem::exists(store::history_marker(path)) ? "present" : "absent");
    if (problem) throw std::runtime_error("the state store is corrupt (see above)");
    return true;
  }
  if (a.rebaseline->parsed()) {
    const auto marker = store::history_marker(path);
    if (!std::filesystem::exists(marker))
      throw std::runtime_error(fmt::format("{} does not exist: a baseline is allowed already", marker.string()));
    {
      journal j(path, sqlite::durability::full);
      if (j.has_baseline())
        throw std::runtime_error(fmt::format("{} has a baseline: it is the store with history, nothing to do",
                                             path.string()));
    }
    const auto &who = actor;
    if (cfg.audit.enabled)
      audit::enqueue(path, {{"type", "store_rebaselined"}, {"actor", who},
                            {"reason", "explicit fresh baseline where a store with history was"},
                            {"data", {{"store", path.string()}}}});
    std::filesystem::remove(marker);
    std::cout << fmt::format("the next catch-up records a fresh baseline in {} (allowed by {})\n", path.string(), who);
    return true;
  }
  return false;
}

} // namespace reclaim::ctl
