// reclaimctl_policy.hpp — subcommands of reclaimctl that act on plans,
// actions, exceptions and the inventory (reclaimctl_policy.cpp).
#pragma once

#include "config/access.hpp"
#include "config/config.hpp"

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclaim::ctl {

// Bad arguments: exit code 2.
class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};
// The named item does not exist: exit code 3.
class not_found_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct policy_args {
  CLI::App *plans_list{}, *plans_enforce{}, *actions_list{}, *approve{}, *reject{}, *exc_add{}, *exc_list{}, *exc_remove{},
      *hold_add{}, *hold_remove{}, *hold_list{}, *preview{}, *dispatch{}, *inv_assign{}, *inv_grant{},
      *inv_list{};
  std::string actor; // the authenticated operator (access::resolver::actor), never from a flag
  std::string status, subject, reason, app, sku, until, from, to, since;
  std::vector<std::string> attrs;
  int64_t plan_id = 0;
  int64_t max = 0;
  bool as_json = false;
  bool execute = false; // dispatch --execute
};

void add_policy_commands(CLI::App &app, policy_args &a);
// Runs the parsed policy command as a.actor; false when none was parsed.
// who decides the two-person rule of approve.
bool run_policy_command(const config &cfg, policy_args &a, const access::resolver &who);

} // namespace reclaim::ctl
