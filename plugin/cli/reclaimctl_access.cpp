// reclaimctl_access.cpp — authorises a parsed reclaimctl command: the verb
// table and resolver are in config/access.cpp; here the operator is read
// from the OS and a refusal is printed, recorded (access_refused) and
// turned into exit code 77 (EX_NOPERM).
#include "cli/reclaimctl_access.hpp"

#include "audit/audit_log.hpp"
#include "cli/reclaimctl_audit.hpp"
#include "config/access.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace reclaim::ctl {
namespace {

void record_refusal(const config &cfg, const std::string &verb, const access::decision &d) {
  if (!cfg.audit.enabled) {
    std::fprintf(stderr, "reclaimctl: [audit] is off: this refusal is not recorded\n");
    return;
  }
  try {
    audit::enqueue(cfg.journal_path(),
                   {{"type", "access_refused"}, {"actor", d.actor}, {"outcome", "refused"},
                    {"reason", fmt::format("reclaimctl {} needs role {}", verb,
                                           d.needed ? access::role_name(*d.needed) : "?")},
                    {"data", {{"verb", verb}, {"role", d.needed ? access::role_name(*d.needed) : ""}}}});
    drain_audit(cfg);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reclaimctl: the refusal could not be recorded: %s\n", e.what());
  }
}

} // namespace

std::string parsed_verb(const CLI::App &app) {
  std::string verb;
  const CLI::App *c = &app;
  for (;;) {
    const auto subs = c->get_subcommands();
    if (subs.empty()) break;
    c = subs.front();
    verb += (verb.empty() ? "" : " ") + c->get_name();
  }
  if (verb == "dispatch" && c->count("--at") > 0 && c->count("--execute") == 0) verb += " --at";
  if (verb == "audit show" && c->count("--resolve") > 0) verb += " --resolve";
  return verb;
}

gate check_access(const std::string &config_path, const std::string &verb) {
  gate g;
  std::optional<access::role> needed;
  try {
    needed = access::role_for_verb(verb);
  } catch (const std::out_of_range &e) { // fail closed: a verb nobody mapped acts for nobody
    std::fprintf(stderr, "reclaimctl: refused: %s\n", e.what());
    g.exit_code = exit_refused;
    return g;
  }
  if (!needed) return g;
  const auto cfg = load_config(resolve_config_path(config_path.c_str()));
  try {
    access::check_accounts(cfg.access);
  } catch (const std::invalid_argument &e) {
    std::fprintf(stderr, "reclaimctl: %s: %s\n", cfg.path.c_str(), e.what());
    g.exit_code = 2;
    return g;
  }
  const access::resolver res(cfg.access);
  const auto who = access::current_identity();
  const auto d = access::authorize(cfg.access, res, who, verb);
  g.actor = d.actor;
  if (!d.allowed) {
    std::fprintf(stderr, "reclaimctl: %s\n", d.message.c_str());
    record_refusal(cfg, verb, d);
    g.exit_code = exit_refused;
  }
  return g;
}

} // namespace reclaim::ctl
