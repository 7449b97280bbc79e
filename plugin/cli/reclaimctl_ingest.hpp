// reclaimctl_ingest.hpp — `reclaimctl ingest FILE...`: HR XML batch files
// (Workday worker data, HR-XML 3 terminations) journalled as lifecycle events.
#pragma once

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace reclaim::ctl {

struct ingest_args {
  CLI::App *cmd = nullptr;
  std::vector<std::string> files;
  bool as_json = false;
};

// Registers the subcommand; the returned state lives as long as app.
std::shared_ptr<ingest_args> add_ingest_command(CLI::App &app);
// Runs it as actor (the authenticated operator) when it was parsed: each
// file is parsed and its records journalled in one transaction, with one
// audit record; a refused file does not stop the others. Returns the exit
// code (0 all files ingested, 1 some refused), nullopt when not parsed.
std::optional<int> run_ingest_command(const config &cfg, const ingest_args &a, const std::string &actor);

} // namespace reclaim::ctl
