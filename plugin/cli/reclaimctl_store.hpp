// reclaimctl_store.hpp — `reclaimctl store …`: the state store's health
// (schema, integrity, WAL, history marker) and an explicit fresh start.
#pragma once

#include "config/config.hpp"

#include <CLI/CLI.hpp>

namespace reclaim::ctl {

struct store_args {
  CLI::App *check = nullptr;
  CLI::App *rebaseline = nullptr;
};

store_args add_store_commands(CLI::App &app);
// Runs the store command that was parsed as actor (the authenticated
// operator); false when none was.
bool run_store_command(const config &cfg, const store_args &a, const std::string &actor);

} // namespace reclaim::ctl
