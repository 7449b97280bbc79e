// reclaimctl_access.hpp — the gate every reclaimctl command passes: which
// verb was parsed, the role it needs, and whether the operator (from the
// OS, never a flag) holds it. A refusal exits 5 and is an audit record.
#pragma once

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace reclaim::ctl {

inline constexpr int exit_refused = 77; // EX_NOPERM (sysexits.h): apart from every command's own codes

// "approve", "hold add", "dispatch --at" (a preview), "audit show --resolve"…
std::string parsed_verb(const CLI::App &app);

struct gate {
  std::optional<int> exit_code; // set: stop with it (refused, or a config error)
  std::string actor;            // the authenticated operator, for the records
};

// Reads need nothing; acting verbs load the config named by config_path,
// check [access] and the operator's roles.
gate check_access(const std::string &config_path, const std::string &verb);

} // namespace reclaim::ctl
