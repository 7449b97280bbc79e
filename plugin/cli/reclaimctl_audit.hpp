// reclaimctl_audit.hpp — `reclaimctl audit ...`: verify, prove,
// verify-record, show, export, forget, rotate-key, drain, public-key.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

namespace reclaim {
struct config;
}

namespace reclaim::ctl {

struct audit_args;

// Registers the subcommands; the returned state lives as long as app.
std::shared_ptr<audit_args> add_audit_commands(CLI::App &app);
// Runs a parsed audit command and returns its exit code; nullopt when no
// audit command was given. Exit codes: 0 ok, 1 tampered or failed,
// 2 usage, 3 not found, 4 warnings only.
std::optional<int> run_audit_command(const std::string &config_path, audit_args &a);
// The authenticated operator the acting commands record (access::resolver).
void set_audit_actor(audit_args &a, const std::string &actor);
// Writes queued audit records into the log when no engine holds it.
void drain_audit(const config &cfg);

} // namespace reclaim::ctl
